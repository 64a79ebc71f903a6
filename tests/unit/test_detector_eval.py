"""The committed detector model on the held-out splits: the targets of issue 15.

`test` carries the targets; `test2` (two writers who never saw the corpus) carries the same
targets where the model meets them and floors where it does not yet.

The same pure-Python metrics as `make eval` (scripts/eval_detector.py). A model that falls
below a met target fails here. Targets the committed model does not reach yet are strict
xfails: they are reported on every run, and the day a model meets them the xfail turns into
a failure that asks for it to become a plain assertion.
"""

from __future__ import annotations

from typing import Any

import pytest

from scripts import eval_detector as ev


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return ev.metrics(ev.load_split("test"), ev.trained)


@pytest.fixture(scope="module")
def old() -> dict[str, Any]:
    return ev.metrics(ev.load_split("test"), ev.baseline)


@pytest.fixture(scope="module")
def second() -> dict[str, Any]:
    return ev.metrics(ev.load_split("test2"), ev.trained)


@pytest.mark.parametrize("part", ["tone", "pace", "intent"])
def test_accuracy_targets(result: dict[str, Any], part: str) -> None:
    assert result["parts"][part]["accuracy"] >= ev.TARGETS[part]


def test_intent_accuracy_floor(result: dict[str, Any]) -> None:
    # Measured 0.843 on the committed model (round 6; 0.855, 0.862, 0.824, 0.786 and 0.774 before):
    # a retrained model may not fall back towards the target.
    assert result["parts"]["intent"]["accuracy"] >= 0.83


@pytest.mark.parametrize("part", ["tone", "pace", "intent"])
def test_calibration_error_per_part(result: dict[str, Any], part: str) -> None:
    assert result["parts"][part]["ece"] <= ev.MAX_ECE


@pytest.mark.xfail(strict=True, reason="95% of unambiguous test messages, not all, get > 0.5 on every part")
def test_every_unambiguous_message_is_confident(result: dict[str, Any]) -> None:
    assert result["unambiguous_confident"] == 1.0


def test_most_unambiguous_messages_are_confident(result: dict[str, Any]) -> None:
    # Round 6: 0.953 (82 of 86; writer and second annotator agree, neither flags a part), and
    # 0.949 by the writer's flag alone (0.884/0.891 in round 4; 0.870, 0.848, 0.862 before).
    assert result["unambiguous"] >= 80
    assert result["unambiguous_confident"] >= 0.94
    assert result["writer_unambiguous_confident"] >= 0.94


@pytest.mark.parametrize("part", ["tone", "pace"])
def test_second_split_accuracy_targets(second: dict[str, Any], part: str) -> None:
    # Round 6: tone 0.850, pace 0.965 on writers the model never saw (round 4 had tone 0.780).
    assert second["parts"][part]["accuracy"] >= ev.TARGETS[part]


@pytest.mark.xfail(strict=True, reason="intent on test2 is 0.775 (target 0.80): other writers' intents")
def test_second_split_intent_target(second: dict[str, Any]) -> None:
    assert second["parts"]["intent"]["accuracy"] >= ev.TARGETS["intent"]


def test_second_split_floors(second: dict[str, Any]) -> None:
    # Round 6 on test2: intent 0.775, unambiguous confident 0.835 (133 messages); round 4 had
    # 0.755 and 0.774. English tone (0.700) is the weakest reading: docs/detection.md.
    assert second["parts"]["intent"]["accuracy"] >= 0.76
    assert second["unambiguous"] >= 120
    assert second["unambiguous_confident"] >= 0.82


@pytest.mark.parametrize("part", ["tone", "pace", "intent"])
def test_second_split_calibration(second: dict[str, Any], part: str) -> None:
    assert second["parts"][part]["ece"] <= ev.MAX_ECE


@pytest.mark.parametrize("part", ["tone", "pace", "intent"])
def test_better_than_the_lexicon_detector(result: dict[str, Any], old: dict[str, Any], part: str) -> None:
    assert result["parts"][part]["macro_f1"] > old["parts"][part]["macro_f1"] + 0.1
    assert result["parts"][part]["ece"] < old["parts"][part]["ece"]


def test_the_metrics_can_fail() -> None:
    # A detector that always answers the first value scores at chance level.
    records = ev.load_split("test")
    constant = ev.metrics(records, lambda _: {p: (v[0], 0.9) for p, v in ev.VOCABULARY.items()})
    assert constant["parts"]["tone"]["accuracy"] < 0.3
    assert constant["parts"]["tone"]["ece"] > 0.5


def test_calibration_and_f1_by_hand() -> None:
    ece, table = ev.calibration([0.95, 0.95, 0.15, 0.15], [True, False, False, False])
    assert table == [(0.15, 0.0, 2), (0.95, 0.5, 2)]
    assert ece == pytest.approx(0.5 * 0.15 + 0.5 * 0.45)
    assert ev.macro_f1(["a", "a", "b"], ["a", "b", "b"], ("a", "b", "c")) == pytest.approx(
        (2 / 3 + 2 / 3) / 2
    )
