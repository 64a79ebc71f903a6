"""Train the key detector: one multinomial logistic regression per part (`make train`).

Reads data/train.jsonl and data/dev.jsonl (never data/test.jsonl: that split is for
`make eval` only). For each part it picks the regularisation strength C on dev, fits on
train, fits a temperature on dev (minimum negative log-likelihood), and writes the weights
as sparse, rounded JSON to src/core/persona/data/detector_model.json, which the Lambda
evaluates in pure Python (core/persona/inference.py).

scikit-learn and numpy are dev-only dependencies (pyproject's dev extra).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from core.persona.detector_features import extract  # noqa: E402
from core.persona.vocabulary import PARTS, VOCABULARY  # noqa: E402

DATA = ROOT / "data"
MODEL_PATH = ROOT / "src" / "core" / "persona" / "data" / "detector_model.json"
C_GRID = (1.0, 4.0, 16.0)
MIN_DOCS = 3  # an n-gram seen in one or two training messages is mostly noise, and makes the file big
SCALE = 100  # weights ship as integers in hundredths
PRUNE = 0.1  # a feature whose weights are all this small moves a probability by a few percent at most;
# pruning them (chosen with dev accuracy and loss) keeps the file under 150 KiB and the scorer fast


def load_split(name: str) -> list[dict[str, Any]]:
    with (DATA / f"{name}.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def featurise(records: list[dict[str, Any]], keep: set[str] | None = None) -> list[dict[str, float]]:
    rows = []
    for record in records:
        features = extract(record["text"]).features
        if keep is not None:
            features = {k: v for k, v in features.items() if not k.startswith("h") or k in keep}
        rows.append(features)
    return rows


def frequent_ngrams(rows: list[dict[str, float]]) -> set[str]:
    counts: dict[str, int] = {}
    for row in rows:
        for key in row:
            if key.startswith("h"):
                counts[key] = counts.get(key, 0) + 1
    return {key for key, n in counts.items() if n >= MIN_DOCS}


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


def train(seed: int = 0) -> dict[str, Any]:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    train_records, dev_records = load_split("train"), load_split("dev")
    keep = frequent_ngrams(featurise(train_records))
    x_train_rows, x_dev_rows = featurise(train_records, keep), featurise(dev_records, keep)
    vectorizer = DictVectorizer()
    x_train = vectorizer.fit_transform(x_train_rows)
    x_dev = vectorizer.transform(x_dev_rows)
    names = vectorizer.get_feature_names_out()

    model: dict[str, Any] = {"format": 1, "scale": SCALE, "parts": {}, "trained_on": {}}
    for part in PARTS:
        classes = list(VOCABULARY[part])
        y_train = [classes.index(r[part]) for r in train_records]
        y_dev = [classes.index(r[part]) for r in dev_records]
        best: tuple[float, float, Any] | None = None
        for c in C_GRID:
            clf = LogisticRegression(C=c, max_iter=5000, random_state=seed)
            clf.fit(x_train, y_train)
            accuracy = float((clf.predict(x_dev) == y_dev).mean())
            loss = nll(clf.decision_function(x_dev).tolist(), y_dev, 1.0)
            # Best dev accuracy; among equals, the lower dev loss.
            if best is None or (accuracy, -loss) > (best[0], -best[1]):
                best = (accuracy, loss, clf)
        assert best is not None
        accuracy, _, clf = best
        known = list(clf.classes_)
        coef = clf.coef_
        # Dense integer rows (weight x SCALE) per feature: smaller JSON than (index, weight) pairs,
        # since L2 leaves most entries non-zero, and lists need no conversion at load.
        weights: dict[str, list[int]] = {}
        for j, name in enumerate(names):
            row = [0] * len(classes)
            for k, label in enumerate(known):
                row[int(label)] = round(float(coef[k, j]) * SCALE)
            if any(abs(w) >= PRUNE * SCALE for w in row):
                weights[str(name)] = row
        bias = [0.0] * len(classes)
        for k, label in enumerate(known):
            bias[int(label)] = round(float(clf.intercept_[k]), 3)
        # Temperature on dev, from the logits the shipped (rounded, pruned) weights give.
        logits = [_logits(row, weights, bias) for row in x_dev_rows]
        temperature = fit_temperature(logits, y_dev)
        shipped = sum(
            max(range(len(row)), key=row.__getitem__) == y for row, y in zip(logits, y_dev, strict=True)
        )
        model["parts"][part] = {
            "classes": classes,
            "bias": bias,
            "temperature": temperature,
            "C": clf.C,
            "weights": weights,
        }
        print(
            f"{part:7} C={clf.C:<5} dev accuracy {accuracy:.3f} "
            f"(shipped, pruned: {shipped / len(y_dev):.3f})  "
            f"temperature {temperature:.2f}  "
            f"features {len(weights)}",
            file=sys.stderr,
        )
    model["trained_on"] = {"train": len(train_records), "dev": len(dev_records)}
    return model


def _logits(row: dict[str, float], weights: dict[str, list[int]], bias: list[float]) -> list[float]:
    scores = [0.0] * len(bias)
    for key, value in row.items():
        for index, weight in enumerate(weights.get(key, ())):
            scores[index] += weight * value
    return [b + s / SCALE for b, s in zip(bias, scores, strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    model = train()
    text = json.dumps(model, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(text.encode()) / 1024:.0f} KiB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
