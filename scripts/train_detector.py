"""Train the key detector: one multinomial logistic regression per part (`make train`).

Reads data/train.jsonl and data/dev.jsonl (never data/test.jsonl: that split is for
`make eval` only). For each part it picks the regularisation strength C and the class
weighting by stratified k-fold cross-validation over train+dev, fits a temperature on the
out-of-fold logits (minimum negative log-likelihood: each message is scored by a model that
never saw it) and then a top-label calibration (logistic regression of "the answer was right" on
the logit of the top probability, on the same out-of-fold answers), then fits on all of
train+dev and writes the weights as sparse, rounded JSON to
src/core/persona/data/detector_model.json, which the Lambda evaluates in pure Python
(core/persona/inference.py). `--cv-only` prints the cross-validated numbers and leave-one-writer-out
accuracy (each writer scored by a model that never saw them), and writes nothing.

scikit-learn and numpy are dev-only dependencies (pyproject's dev extra).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

# One BLAS thread: on a busy 2-core machine threaded solvers spent 10x longer waiting than working.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from core.persona.detector_features import extract  # noqa: E402
from core.persona.vocabulary import PARTS, VOCABULARY  # noqa: E402
from scripts.eval_detector import calibration  # noqa: E402  (the same ECE and bins as `make eval`)

DATA = ROOT / "data"
MODEL_PATH = ROOT / "src" / "core" / "persona" / "data" / "detector_model.json"
C_GRID = (1.0, 4.0, 16.0, 64.0)
CLASS_WEIGHTS: tuple[str | None, ...] = (None, "balanced")
# Where the blind second annotator chose another value, that value can join the target with this
# weight (the writer's keeps the rest): a message two people read differently then teaches the
# model to share its belief instead of teaching one of them as certain. Chosen by cross-validation.
SECOND_WEIGHTS = (0.0, 0.5)
FOLDS = 5
# An n-gram seen in fewer training messages is mostly noise and makes the file big. Round 17 (8,784
# messages), in 10 folds that never split a writer (`--size-check`): 12 messages and PRUNE 0.3 read
# tone / intent within 0.002 of 5 and 0.25, in a 931 KiB file instead of 1,380 KiB; round 18 kept
# the same share of the corpus (9,824 messages: 14). Round 22 (12,294 messages, 2^24 buckets since):
# 16 is the lowest floor that keeps the file under 1 MiB (`--size-check`, docs/detection.md).
MIN_DOCS = 16
SCALE = 100  # weights ship as integers in hundredths
# A feature whose weights are all this small moves a probability by a few percent at most; pruning
# them keeps the file small and the scorer fast.
PRUNE = 0.3


def load_split(name: str) -> list[dict[str, Any]]:
    with (DATA / f"{name}.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def featurise(records: list[dict[str, Any]]) -> list[dict[str, float]]:
    return [extract(record["text"]).features for record in records]


def restrict(rows: list[dict[str, float]], keep: set[str]) -> list[dict[str, float]]:
    return [{k: v for k, v in row.items() if not k.startswith("h") or k in keep} for row in rows]


def frequent_ngrams(rows: list[dict[str, float]], min_docs: int = MIN_DOCS) -> set[str]:
    counts: dict[str, int] = {}
    for row in rows:
        for key in row:
            if key.startswith("h"):
                counts[key] = counts.get(key, 0) + 1
    return {key for key, n in counts.items() if n >= min_docs}


def nll(logits: list[list[float]], labels: list[int], temperature: float) -> float:
    total = 0.0
    for row, label in zip(logits, labels, strict=True):
        scaled = [v / temperature for v in row]
        top = max(scaled)
        log_sum = top + math.log(sum(math.exp(v - top) for v in scaled))
        total += log_sum - scaled[label]
    return total / len(labels)


def fit_temperature(logits: list[list[float]], labels: list[int]) -> float:
    grid = [round(0.25 + 0.01 * i, 2) for i in range(376)]  # 0.25 .. 4.0
    return min(grid, key=lambda t: nll(logits, labels, t))


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def fit_top_calibration(tops: list[float], right: list[bool]) -> tuple[float, float]:
    """(slope, intercept) of logit(P(right)) = slope * logit(top) + intercept, unregularised."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e6, max_iter=1000).fit([[_logit(t)] for t in tops], [int(r) for r in right])
    return round(float(model.coef_[0][0]), 4), round(float(model.intercept_[0]), 4)


def top_calibrated(top: float, slope: float, intercept: float) -> float:
    return 1.0 / (1.0 + math.exp(-(slope * _logit(top) + intercept)))


def calibration_check(tops: list[float], right: list[bool], clear: list[bool], seed: int) -> str:
    """Temperature alone (`tops`, the out-of-fold top probabilities) against temperature +
    top-label calibration, the second fitted and scored in 5 folds over the out-of-fold answers
    (so neither number saw its own messages twice)."""
    import random

    order = list(range(len(tops)))
    random.Random(seed).shuffle(order)
    calibrated = [0.0] * len(tops)
    for k in range(FOLDS):
        held = set(order[k::FOLDS])
        slope, intercept = fit_top_calibration(
            [tops[i] for i in order if i not in held], [right[i] for i in order if i not in held]
        )
        for i in held:
            calibrated[i] = top_calibrated(tops[i], slope, intercept)

    def confident(values: list[float]) -> float:
        return sum(v > 0.5 for v, c in zip(values, clear, strict=True) if c) / max(1, sum(clear))

    return (
        f"ECE temperature {calibration(tops, right)[0]:.3f} -> +top {calibration(calibrated, right)[0]:.3f}, "
        f"unambiguous > 0.5 {confident(tops):.3f} -> {confident(calibrated):.3f}"
    )


def folds(labels: list[int], k: int, seed: int) -> list[list[int]]:
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [list(test) for _, test in splitter.split([[0]] * len(labels), labels)]


def fit(
    x: Any, y: list[int], c: float, weight: str | None, seed: int, second: list[int], second_weight: float
) -> Any:
    """One logistic regression; messages whose second label differs appear twice when
    `second_weight` > 0: once with the writer's label (1 - w) and once with the second (w)."""
    import scipy.sparse
    from sklearn.linear_model import LogisticRegression

    sample_weight = [1.0] * len(y)
    differ = [k for k in range(len(y)) if second[k] != y[k]] if second_weight > 0 else []
    if differ:
        for k in differ:
            sample_weight[k] = 1.0 - second_weight
        x = scipy.sparse.vstack([x, x[differ]])
        y = y + [second[k] for k in differ]
        sample_weight += [second_weight] * len(differ)
    clf = LogisticRegression(C=c, class_weight=weight, solver="newton-cg", max_iter=1000, random_state=seed)
    return clf.fit(x, y, sample_weight=sample_weight)


def export(
    clf: Any, names: Any, n_classes: int, prune: float = PRUNE
) -> tuple[dict[str, list[int]], list[float]]:
    """Dense integer rows (weight x SCALE) per feature, pruned: smaller JSON than (index, weight)
    pairs, since L2 leaves most entries non-zero, and lists need no conversion at load."""
    known = [int(label) for label in clf.classes_]
    weights: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        row = [0] * n_classes
        for k, label in enumerate(known):
            row[label] = round(float(clf.coef_[k, j]) * SCALE)
        if any(abs(w) >= prune * SCALE for w in row):
            weights[str(name)] = row
    bias = [0.0] * n_classes
    for k, label in enumerate(known):
        bias[label] = round(float(clf.intercept_[k]), 3)
    return weights, bias


def vectorise(rows: list[dict[str, float]], min_docs: int = MIN_DOCS) -> tuple[Any, Any, set[str]]:
    """The fitting matrix of `rows` over their frequent n-grams, its feature names, and those n-grams."""
    from sklearn.feature_extraction import DictVectorizer

    keep = frequent_ngrams(rows, min_docs)
    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform(restrict(rows, keep))
    return x, vectorizer.get_feature_names_out(), keep


def prepare(
    rows: list[dict[str, float]], held_out: list[list[int]], min_docs: int = MIN_DOCS
) -> list[tuple[Any, ...]]:
    """Per fold: the fitting indices, the held indices, the fitted matrix, its feature names and
    the held rows; each fold keeps its own n-gram vocabulary."""
    prepared = []
    for held in held_out:
        held_set = set(held)
        fit_idx = [i for i in range(len(rows)) if i not in held_set]
        x_fit, names, keep = vectorise([rows[i] for i in fit_idx], min_docs)
        prepared.append((fit_idx, held, x_fit, names, restrict([rows[i] for i in held], keep)))
    return prepared


def out_of_fold(
    prepared: list[tuple[Any, ...]],
    part: str,
    y: list[int],
    second: list[int],
    setting: tuple[Any, ...],
    seed: int,
    prune: float = PRUNE,
) -> list[list[float]]:
    """Each message's logits from the shipped form (rounded, pruned weights) of a model fitted
    without its fold under `setting` = (C, class weight, second-label weight)."""
    c, weight, second_weight = setting
    logits: list[list[float]] = [[] for _ in y]
    for fit_idx, held, x_fit, names, held_rows in prepared:
        fit_y, fit_second = [y[i] for i in fit_idx], [second[i] for i in fit_idx]
        clf = fit(x_fit, fit_y, c, weight, seed, fit_second, second_weight)
        w, b = export(clf, names, len(VOCABULARY[part]), prune)
        for i, row in zip(held, held_rows, strict=True):
            logits[i] = _logits(row, w, b)
    return logits


def cross_validate(
    rows: list[dict[str, float]], labels: dict[str, list[int]], seconds: dict[str, list[int]], seed: int
) -> dict[str, dict[str, Any]]:
    """Per part: the best (C, class weight, second-label weight) by out-of-fold accuracy against
    the writer's labels, and the out-of-fold logits of the shipped form under that choice."""
    # Folds stratified on intent, the weakest part.
    prepared = prepare(rows, folds(labels["intent"], FOLDS, seed))
    out: dict[str, dict[str, Any]] = {}
    for part in PARTS:
        y = labels[part]
        best: dict[str, Any] | None = None
        for setting in itertools.product(C_GRID, CLASS_WEIGHTS, SECOND_WEIGHTS):
            logits = out_of_fold(prepared, part, y, seconds[part], setting, seed)
            accuracy = _accuracy(logits, y)
            loss = nll(logits, y, 1.0)
            c, weight, second_weight = setting
            print(
                f"  {part:7} C={c:<5} weight={weight!s:9} second={second_weight} cv accuracy {accuracy:.3f}",
                file=sys.stderr,
            )
            # Best accuracy; among equals, the lower loss.
            if best is None or (accuracy, -loss) > (best["accuracy"], -best["loss"]):
                best = {
                    "C": c,
                    "class_weight": weight,
                    "second_weight": second_weight,
                    "accuracy": accuracy,
                    "loss": loss,
                    "logits": logits,
                }
        assert best is not None
        out[part] = best
    return out


def by_writer(
    rows: list[dict[str, float]],
    labels: dict[str, list[int]],
    seconds: dict[str, list[int]],
    writers: list[str],
    chosen: dict[str, dict[str, Any]],
    seed: int,
) -> dict[str, dict[str, float]]:
    """Leave-one-writer-out accuracy per part under the chosen settings: each writer's messages
    scored by a model fitted on everybody else's, the nearest estimate train+dev gives of how the
    detector reads a new person (stratified folds share every writer between fit and held)."""
    names = sorted(set(writers))
    prepared = prepare(rows, [[i for i, w in enumerate(writers) if w == name] for name in names])
    out: dict[str, dict[str, float]] = {}
    for part in PARTS:
        best = chosen[part]
        setting = (best["C"], best["class_weight"], best["second_weight"])
        logits = out_of_fold(prepared, part, labels[part], seconds[part], setting, seed)
        right = [_argmax(row) == label for row, label in zip(logits, labels[part], strict=True)]
        out[part] = {"all": sum(right) / len(right)}
        for name in names:
            mine = [ok for ok, w in zip(right, writers, strict=True) if w == name]
            out[part][name] = sum(mine) / len(mine)
    return out


def writer_folds(writers: list[str], k: int, seed: int) -> list[list[int]]:
    """k folds of whole writers (shuffled, dealt round-robin): no writer on both sides."""
    import random

    names = sorted(set(writers))
    random.Random(seed).shuffle(names)
    fold_of = {name: n % k for n, name in enumerate(names)}
    return [[i for i, w in enumerate(writers) if fold_of[w] == fold] for fold in range(k)]


def targets(records: list[dict[str, Any]]) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Per part, each message's value index by its writer and by the second annotator."""
    labels: dict[str, list[int]] = {
        part: [list(VOCABULARY[part]).index(r[part]) for r in records] for part in PARTS
    }
    seconds: dict[str, list[int]] = {
        part: [list(VOCABULARY[part]).index(r["second"][part]) for r in records] for part in PARTS
    }
    return labels, seconds


def shipped_settings() -> dict[str, tuple[Any, ...]]:
    """Per part, the committed model's (C, class weight, second-label weight)."""
    parts = json.loads(MODEL_PATH.read_text(encoding="utf-8"))["parts"]
    return {
        part: (parts[part]["C"], parts[part]["class_weight"], parts[part]["second_weight"]) for part in PARTS
    }


def size_check(choices: list[tuple[int, float]], seed: int = 0) -> None:
    """Per (MIN_DOCS, PRUNE): accuracy per part in 10 writer-grouped folds under the committed
    model's settings, and the size of the weights a fit on all of train+dev would ship."""
    settings = shipped_settings()
    records = load_split("train") + load_split("dev")
    rows = featurise(records)
    labels, seconds = targets(records)
    held_out = writer_folds([str(r["writer"]) for r in records], 10, seed)
    for min_docs, prune in choices:
        prepared = prepare(rows, held_out, min_docs)
        x_all, names, _ = vectorise(rows, min_docs)
        for part in PARTS:
            y, second = labels[part], seconds[part]
            logits = out_of_fold(prepared, part, y, second, settings[part], seed, prune)
            c, weight, second_weight = settings[part]
            clf = fit(x_all, y, c, weight, seed, second, second_weight)
            w, _ = export(clf, names, len(VOCABULARY[part]), prune)
            size = len(json.dumps(w, separators=(",", ":"))) / 1024
            print(
                f"MIN_DOCS {min_docs:3} PRUNE {prune:.2f} {part:7} writer-grouped accuracy "
                f"{_accuracy(logits, y):.4f}  weights {size:.0f} KiB",
                file=sys.stderr,
            )


def print_by_writer(
    records: list[dict[str, Any]],
    rows: list[dict[str, float]],
    labels: dict[str, list[int]],
    seconds: dict[str, list[int]],
    chosen: dict[str, dict[str, Any]],
    seed: int,
) -> None:
    writers = [str(r["writer"]) for r in records]
    for part, accuracy in by_writer(rows, labels, seconds, writers, chosen, seed).items():
        each = " ".join(f"{name} {value:.2f}" for name, value in accuracy.items() if name != "all")
        print(f"{part:7} leave-one-writer-out accuracy {accuracy['all']:.3f} ({each})", file=sys.stderr)


def shipped_by_writer(seed: int = 0) -> None:
    """Leave-one-writer-out accuracy under the committed model's settings (no settings search)."""
    records = load_split("train") + load_split("dev")
    labels, seconds = targets(records)
    chosen = {
        part: dict(zip(("C", "class_weight", "second_weight"), setting, strict=True))
        for part, setting in shipped_settings().items()
    }
    print_by_writer(records, featurise(records), labels, seconds, chosen, seed)


def train(seed: int = 0, cv_only: bool = False) -> dict[str, Any] | None:
    records = load_split("train") + load_split("dev")
    rows = featurise(records)
    labels, seconds = targets(records)
    chosen = cross_validate(rows, labels, seconds, seed)

    x_all, names, _ = vectorise(rows)
    calibrated: dict[str, list[float]] = {}  # per part, each message's out-of-fold confidence
    model: dict[str, Any] = {"format": 2, "scale": SCALE, "parts": {}, "trained_on": {}}
    for part in PARTS:
        best = chosen[part]
        y = labels[part]
        temperature = fit_temperature(best["logits"], y)
        langs = {}
        for lang in ("ko", "en", "mixed"):
            idx = [i for i, r in enumerate(records) if r["lang"] == lang]
            langs[lang] = sum(_argmax(best["logits"][i]) == y[i] for i in idx) / max(1, len(idx))
        clear = [not r["ambiguous"] for r in records]
        tops = [_top_probability(row, temperature) for row in best["logits"]]
        right = [_argmax(row) == label for row, label in zip(best["logits"], y, strict=True)]
        slope, intercept = fit_top_calibration(tops, right)
        print(
            f"{part:7} C={best['C']:<5} weight={best['class_weight']!s:9} second={best['second_weight']} "
            f"cv accuracy {best['accuracy']:.3f} "
            f"(ko {langs['ko']:.3f}, en {langs['en']:.3f}, mixed {langs['mixed']:.3f})  "
            f"temperature {temperature:.2f}  top calibration {slope:.2f}, {intercept:+.2f}\n"
            f"        cv {calibration_check(tops, right, clear, seed)}",
            file=sys.stderr,
        )
        calibrated[part] = [top_calibrated(top, slope, intercept) for top in tops]
        if cv_only:
            continue
        clf = fit(x_all, y, best["C"], best["class_weight"], seed, seconds[part], best["second_weight"])
        weights, bias = export(clf, names, len(VOCABULARY[part]))
        model["parts"][part] = {
            "classes": list(VOCABULARY[part]),
            "bias": bias,
            "temperature": temperature,
            "top_calibration": {"slope": slope, "intercept": intercept},
            "C": best["C"],
            "second_weight": best["second_weight"],
            "class_weight": best["class_weight"],
            "weights": weights,
        }
        print(f"{part:7} features {len(weights)}", file=sys.stderr)
    unambiguous = [i for i, r in enumerate(records) if not r["ambiguous"]]
    every = sum(all(calibrated[p][i] > 0.5 for p in PARTS) for i in unambiguous)
    print(
        f"all     cv unambiguous confident in every part (calibrations fitted in-sample): "
        f"{every / len(unambiguous):.3f}",
        file=sys.stderr,
    )
    if cv_only:
        print_by_writer(records, rows, labels, seconds, chosen, seed)
        return None
    model["trained_on"] = {"train+dev": len(records), "folds": FOLDS}
    return model


def _accuracy(logits: list[list[float]], labels: list[int]) -> float:
    return sum(_argmax(row) == label for row, label in zip(logits, labels, strict=True)) / len(labels)


def _argmax(row: list[float]) -> int:
    return max(range(len(row)), key=row.__getitem__)


def _top_probability(row: list[float], temperature: float) -> float:
    scaled = [v / temperature for v in row]
    top = max(scaled)
    return 1.0 / sum(math.exp(v - top) for v in scaled)


def _logits(row: dict[str, float], weights: dict[str, list[int]], bias: list[float]) -> list[float]:
    scores = [0.0] * len(bias)
    for key, value in row.items():
        for index, weight in enumerate(weights.get(key, ())):
            scores[index] += weight * value
    return [b + s / SCALE for b, s in zip(bias, scores, strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--cv-only", action="store_true", help="print cross-validated numbers only")
    parser.add_argument(
        "--size-check",
        metavar="MIN_DOCS:PRUNE,...",
        help="accuracy in writer-grouped folds and shipped size per n-gram floor and pruning threshold",
    )
    parser.add_argument(
        "--by-writer",
        action="store_true",
        help="leave-one-writer-out accuracy under the committed model's settings only",
    )
    args = parser.parse_args()
    if args.by_writer:
        shipped_by_writer()
        return 0
    if args.size_check:
        size_check([(int(m), float(p)) for m, p in (pair.split(":") for pair in args.size_check.split(","))])
        return 0
    model = train(cv_only=args.cv_only)
    if model is None:
        return 0
    text = json.dumps(model, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(text.encode()) / 1024:.0f} KiB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
