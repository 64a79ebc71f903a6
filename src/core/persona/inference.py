"""Message -> resonance key (SPEC section 4): a trained linear model evaluated in pure Python.

Features (core/persona/detector_features.py): word-list cues, hashed character and word
n-grams, rhythm and sentence function. One multinomial logistic regression per part, trained
offline by `make train` (scripts/train_detector.py) on the labelled corpus in data/, ships as
data/detector_model.json: sparse weights, a bias, a temperature and a top-label calibration per
part. Both were fitted on out-of-fold predictions over train+dev (each message scored by a model
that never saw it), so a part's confidence is a calibrated probability (`make eval` measures it on
the test split: docs/detection.md).

Deterministic, offline, no numpy: the weights are read once at import and a message costs
one dictionary lookup per feature. An empty message gives calm / medium / learning at
confidence 0 and no cues. A missing or malformed model file fails at import, loudly.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict

from core.persona.data import DATA_DIR, load_data
from core.persona.detector_features import extract
from core.persona.resonance_models import ResonanceKey
from core.persona.vocabulary import DEFAULTS, PARTS, VOCABULARY, Part, canonical_key

MODEL_FILE = "detector_model.json"
MODEL_FORMAT = 2


class PartModel:
    """One part's classifier: weights[feature] = one integer per class, in 1/scale units."""

    __slots__ = ("bias", "classes", "intercept", "scale", "slope", "temperature", "weights")

    def __init__(self, part: Part, raw: dict[str, Any], scale: float) -> None:
        classes = tuple(raw["classes"])
        if set(classes) != set(VOCABULARY[part]):
            raise ValueError(f"{MODEL_FILE}: {part} classes {classes} differ from the vocabulary")
        self.classes: tuple[str, ...] = classes
        self.bias: list[float] = [float(b) for b in raw["bias"]]
        self.temperature = float(raw["temperature"])
        self.scale = float(scale)
        if len(self.bias) != len(classes) or not self.temperature > 0 or not self.scale > 0:
            raise ValueError(f"{MODEL_FILE}: {part} has a bad bias, temperature or scale")
        # Top-label calibration: logit(confidence) = slope * logit(top softmax probability) +
        # intercept. Temperature alone ties the top probability to the whole distribution, and
        # left many right answers at 0.4-0.5; a slope must be positive so the order is kept.
        top = raw["top_calibration"]
        self.slope = float(top["slope"])
        self.intercept = float(top["intercept"])
        if not 0 < self.slope < 10 or not -10 < self.intercept < 10:
            raise ValueError(f"{MODEL_FILE}: {part} has a bad top_calibration")
        # The parsed JSON lists are used as they are: converting ~10,000 rows costs milliseconds.
        self.weights: dict[str, list[int]] = raw["weights"]
        if any(len(row) != len(classes) for row in self.weights.values()):
            raise ValueError(f"{MODEL_FILE}: {part} has a weight row of the wrong length")

    def probabilities(self, features: dict[str, float]) -> list[float]:
        # Rows grouped by feature value (all n-grams of a message share one), then summed column
        # by column in C (zip, sum): ~10x faster than a Python loop over every weight.
        # Only features with a weight are visited: the key-set intersection runs in C, and most
        # n-gram buckets of a long message carry no weight after pruning.
        weights = self.weights
        groups: dict[float, list[list[int]]] = {}
        for feature in features.keys() & weights.keys():
            value = features[feature]
            if value:
                groups.setdefault(value, []).append(weights[feature])
        sums = [0.0] * len(self.classes)
        for value in sorted(groups):  # a fixed order of float additions: same answer in any process
            rows = groups[value]
            for index, column in enumerate(zip(*rows, strict=True)):
                sums[index] += value * sum(column)
        factor = 1.0 / (self.scale * self.temperature)
        scaled = [b / self.temperature + s * factor for b, s in zip(self.bias, sums, strict=True)]
        top = max(scaled)
        exps = [math.exp(s - top) for s in scaled]
        total = sum(exps)
        return self.calibrate([e / total for e in exps])

    def calibrate(self, probabilities: list[float]) -> list[float]:
        """Map the top probability through the top-label calibration; the other values share
        the rest in their softmax proportions, so the answer and the ranking do not change."""
        best = max(range(len(probabilities)), key=lambda i: (probabilities[i], -i))
        top = probabilities[best]
        rest = 1.0 - top
        if rest <= 0.0:
            return probabilities
        second = max(p for i, p in enumerate(probabilities) if i != best)
        z = self.slope * math.log(top / rest) + self.intercept
        calibrated = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
        # Never below the runner-up after rescaling: the answer stays the most probable value.
        calibrated = max(calibrated, second / (rest + second))
        share = (1.0 - calibrated) / rest
        return [calibrated if i == best else p * share for i, p in enumerate(probabilities)]


def load_model(name: str = MODEL_FILE) -> dict[Part, PartModel]:
    path = DATA_DIR / name
    if not path.is_file():
        raise RuntimeError(f"detector model {path} is missing: run `make train`")
    raw = load_data(name)
    if raw.get("format") != MODEL_FORMAT:
        raise RuntimeError(f"detector model {path}: format {raw.get('format')!r}, expected {MODEL_FORMAT}")
    return {part: PartModel(part, raw["parts"][part], raw["scale"]) for part in PARTS}


MODEL = load_model()


class PartGuess(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    value: str
    confidence: float


class Detection(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    resonance_key: str
    parts: dict[str, PartGuess]
    cues: list[str]


def part_probabilities(message: str) -> dict[str, dict[str, float]]:
    """Every value's calibrated probability per part (what `make eval` scores); {} when empty."""
    features = extract(message).features
    if not features:
        return {}
    out: dict[str, dict[str, float]] = {}
    for part, model in MODEL.items():
        out[part] = dict(zip(model.classes, model.probabilities(features), strict=True))
    return out


def detect(message: str) -> Detection:
    found = extract(message)
    if not found.features:
        parts = {part: PartGuess(value=DEFAULTS[part], confidence=0.0) for part in PARTS}
    else:
        parts = {}
        for part, model in MODEL.items():
            probabilities = model.probabilities(found.features)
            # Ties (practically never) go to vocabulary order, as the classes are stored.
            best = max(range(len(probabilities)), key=lambda i: (probabilities[i], -i))
            parts[part] = PartGuess(value=model.classes[best], confidence=round(probabilities[best], 3))
    # Cues stay the human-readable evidence; list first those that agree with the answer.
    agreeing = [c for c in found.cues if c.split("<-", 1)[0] in {f"{p}:{g.value}" for p, g in parts.items()}]
    cues = agreeing + [c for c in found.cues if c not in agreeing]
    return Detection(
        resonance_key=canonical_key(parts["tone"].value, parts["pace"].value, parts["intent"].value),
        parts=parts,
        cues=cues,
    )


def detect_key(message: str) -> ResonanceKey:
    found = detect(message)
    return ResonanceKey(
        normalized_key=found.resonance_key,
        tone=found.parts["tone"].value,
        pace=found.parts["pace"].value,
        intent=found.parts["intent"].value,
    )
