"""The training script's checks (scripts/train_detector.py): leaving one writer out, a writer is
scored only by a model that never read them; writer-grouped folds (`--size-check`) never split a
writer; the n-gram floor and the pruning threshold are parameters the size check can vary."""

from __future__ import annotations

from types import SimpleNamespace
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


def test_writer_folds_never_split_a_writer() -> None:
    writers = [f"w{n % 7}" for n in range(70)]
    folds = train_detector.writer_folds(writers, 3, seed=0)
    assert sorted(i for fold in folds for i in fold) == list(range(70))
    owners = [{writers[i] for i in fold} for fold in folds]
    assert all(owners)  # seven writers over three folds: none empty
    for a in range(3):
        for b in range(a + 1, 3):
            assert not owners[a] & owners[b]
    assert train_detector.writer_folds(writers, 3, seed=0) == folds  # a fixed seed, the same folds


def test_the_ngram_floor_and_pruning_are_parameters() -> None:
    rows = [{"h1": 1.0, "h2": 1.0, "fn:x": 1.0}] * 3 + [{"h1": 1.0}] * 2
    assert train_detector.frequent_ngrams(rows, min_docs=4) == {"h1"}
    assert train_detector.frequent_ngrams(rows, min_docs=3) == {"h1", "h2"}

    import numpy as np  # dev-only, with scikit-learn

    # The three attributes export() reads from a fitted scikit-learn model; feature a's largest
    # weight is 0.5, feature b's 0.28.
    fitted = SimpleNamespace(
        classes_=[0, 1], coef_=np.array([[0.5, 0.28], [-0.2, 0.1]]), intercept_=[0.0, 0.0]
    )
    kept_25, _ = train_detector.export(fitted, ["a", "b"], 2, prune=0.25)
    kept_30, _ = train_detector.export(fitted, ["a", "b"], 2, prune=0.3)
    assert set(kept_25) == {"a", "b"}  # b's largest weight, 0.28, clears 0.25
    assert set(kept_30) == {"a"}
