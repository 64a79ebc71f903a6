"""The committed detector model on the held-out splits: the targets of issue 15.

`test` carries every target; `test2` to `test6` (each by two writers who never saw the corpus)
carry the accuracy and calibration targets too, and a floor for the share of unambiguous messages
answered with confidence.

The same pure-Python metrics as `make eval` (scripts/eval_detector.py): a model that falls below
a target fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from scripts import eval_detector as ev

# Every held-out split but `test`: the ones by writers who never saw the corpus.
NEWCOMER_SPLITS = tuple(split for split in ev.HELD_OUT if split != "test")


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return ev.metrics(ev.load_split("test"), ev.trained)


@pytest.fixture(scope="module")
def old() -> dict[str, Any]:
    return ev.metrics(ev.load_split("test"), ev.baseline)


@pytest.fixture(scope="module")
def newcomers() -> dict[str, dict[str, Any]]:
    return {split: ev.metrics(ev.load_split(split), ev.trained) for split in NEWCOMER_SPLITS}


@pytest.mark.parametrize("part", ["tone", "pace", "intent"])
def test_accuracy_targets(result: dict[str, Any], part: str) -> None:
    assert result["parts"][part]["accuracy"] >= ev.TARGETS[part]


def test_intent_accuracy_floor(result: dict[str, Any]) -> None:
    # Measured 0.918 on the committed model (round 22; 0.925 in round 18, 0.931 in round 12, 0.843 in
    # round 6, 0.774 in round 1): a retrained model may not fall back towards the target.
    assert result["parts"]["intent"]["accuracy"] >= 0.91


@pytest.mark.parametrize("part", ["tone", "pace", "intent"])
def test_calibration_error_per_part(result: dict[str, Any], part: str) -> None:
    assert result["parts"][part]["ece"] <= ev.MAX_ECE


def test_every_unambiguous_message_is_confident(result: dict[str, Any]) -> None:
    # Round 22: all 86 (round 18: 85; round 12: 82). The least confident one is at 0.504, so this is
    # met narrowly: docs/detection.md.
    assert result["unambiguous"] >= 80
    assert result["unambiguous_confident"] == 1.0


def test_most_messages_the_writer_did_not_flag_are_confident(result: dict[str, Any]) -> None:
    # The definition of rounds 1-3 (the writer's flag alone): round 22 0.971 of 138 (round 18: 0.978;
    # round 17: 0.942; round 12: 0.920).
    assert result["writer_unambiguous_confident"] >= 0.96


@pytest.mark.parametrize("split", NEWCOMER_SPLITS)
@pytest.mark.parametrize("part", ["tone", "pace", "intent"])
def test_new_writers_accuracy(newcomers: dict[str, dict[str, Any]], split: str, part: str) -> None:
    # Round 22, tone / pace / intent: test2 0.935 / 0.975 / 0.920 (round 6: 0.850 / 0.965 / 0.775),
    # test3 0.895 / 0.990 / 0.900 (round 8: 0.815 / 0.980 / 0.860), test4 0.900 / 0.995 / 0.905
    # (round 12: 0.800 / 0.990 / 0.870), test5 0.945 / 0.990 / 0.910 (first scored with the round-17
    # model: 0.915 / 0.995 / 0.885), test6 0.905 / 1.000 / 0.880 (first scored with the round-18
    # model: 0.905 / 1.000 / 0.870).
    assert newcomers[split]["parts"][part]["accuracy"] >= ev.TARGETS[part]


@pytest.mark.parametrize("split", NEWCOMER_SPLITS)
@pytest.mark.parametrize("part", ["tone", "pace", "intent"])
def test_new_writers_calibration(newcomers: dict[str, dict[str, Any]], split: str, part: str) -> None:
    assert newcomers[split]["parts"][part]["ece"] <= ev.MAX_ECE


@pytest.mark.parametrize("split", NEWCOMER_SPLITS)
def test_new_writers_confident_floor(newcomers: dict[str, dict[str, Any]], split: str) -> None:
    # Round 22: 0.970 of test2's 133 unambiguous messages (round 6: 0.835), 0.908 of test3's 109,
    # 0.942 of test4's 120, 0.964 of test5's 137, 0.932 of test6's 148.
    assert newcomers[split]["unambiguous"] >= 100
    assert newcomers[split]["unambiguous_confident"] >= 0.9


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
