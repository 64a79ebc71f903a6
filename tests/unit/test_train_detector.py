"""The training script's leave-one-writer-out check (scripts/train_detector.py): a writer is
scored only by a model that never read them."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("sklearn")  # a dev-only dependency: make venv installs it

from scripts import train_detector


def _settings() -> dict[str, dict[str, Any]]:
    setting = {"C": 4.0, "class_weight": None, "second_weight": 0.0}
    return {part: dict(setting) for part in ("tone", "pace", "intent")}


def test_each_writer_is_scored_by_a_model_that_never_read_them() -> None:
    # w1, w2 and w4 write "cue" for label 0; w3 writes it for label 1. Any fold that let w3's own
    # messages into the fit would get some of w3 right; leaving w3 out gets none of them. Label 2
    # ("other") reads the same for everybody (three classes: the shipped models are multinomial).
    rows: list[dict[str, float]] = []
    writers: list[str] = []
    labels: list[int] = []
    for writer, cue_label in (("w1", 0), ("w2", 0), ("w3", 1), ("w4", 0)):
        for k in range(12):
            has_cue = k % 2 == 0
            rows.append({"bias": 1.0, "fn:cue": 1.0} if has_cue else {"bias": 1.0})
            labels.append(cue_label if has_cue else 1 - cue_label)
            writers.append(writer)
        for _ in range(6):
            rows.append({"bias": 1.0, "fn:other": 1.0})
            labels.append(2)
            writers.append(writer)
    per_part = {part: list(labels) for part in ("tone", "pace", "intent")}
    result = train_detector.by_writer(rows, per_part, per_part, writers, _settings(), seed=0)
    for part in ("tone", "pace", "intent"):
        for agreeing in ("w1", "w2", "w4"):  # the two others outvote w3
            assert result[part][agreeing] == 1.0
        assert result[part]["w3"] == pytest.approx(6 / 18)  # only its "other" messages
        assert result[part]["all"] == pytest.approx(60 / 72)
