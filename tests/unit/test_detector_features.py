"""Feature extraction, the weight file, and determinism of the key detector."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.persona import inference
from core.persona.data import DATA_DIR
from core.persona.detector_features import BUCKETS, _bucket, extract
from core.persona.inference import MODEL_FILE, PartModel, detect, load_model
from core.persona.vocabulary import PARTS, VOCABULARY

ROOT = Path(__file__).resolve().parents[2]
MAX_MODEL_KIB = 1024


def _names(message: str) -> set[str]:
    return set(extract(message).features)


def test_korean_gets_syllable_ngrams_and_sentence_function() -> None:
    found = extract("보고서 이렇게 쓰면 맞나요?")
    grams = [k for k in found.features if k.startswith("h") and not k.startswith("hL")]
    # 보고서/이렇게/쓰면/맞나요: 13 syllables -> unigrams, boundary-marked bigrams and trigrams.
    assert len(grams) >= 30
    assert all(0 <= int(k[1:]) < BUCKETS for k in grams)
    assert "fn:check_request" in found.features
    assert "intent:validation<-request to check" in found.cues


def test_english_gets_word_ngrams_and_sentence_function() -> None:
    found = extract("The build keeps failing with a timeout error. Can you help me fix it?")
    assert {"fn:error_report", "fn:request", "rh:question_ratio"} <= set(found.features)
    assert "intent:problem_solving<-error report" in found.cues
    assert "fn:check_request" not in found.features


def _last_block(message: str) -> set[str]:
    return {k for k in extract(message).features if k.startswith("hL")}


def test_the_last_sentence_has_a_block_of_its_own() -> None:
    # The request is mostly in the last sentence: its grams are a second, separate block, the same
    # whatever story comes before it, and apart from the grams of the whole message.
    story = "어제 팀장님이 보고서를 다시 쓰라고 하셔서 밤새 고쳤어요. 숫자도 다 새로 맞췄고요. "
    asked = _last_block(story + "이제 맞게 된 건가요?")
    assert asked
    assert all(0 <= int(k[2:]) < BUCKETS for k in asked)
    assert asked == _last_block("이제 맞게 된 건가요?")
    assert asked != _last_block(story + "어떻게 해야 할지 모르겠어요.")
    # A one-sentence message: the same grams twice, under keys of their own and at half the weight.
    alone = extract("이제 맞게 된 건가요?").features
    plain = {k for k in alone if k.startswith("h") and not k.startswith("hL")}
    assert len(plain) == len(asked)
    assert {alone[k] for k in asked} == {alone[k] / 2 for k in plain}
    # A one-word tail ("ok?") keeps the sentence before it.
    english = _last_block("I rewrote the intro. Does it read better now. ok?")
    assert english >= _last_block("Does it read better now")
    assert english != _last_block("ok?")
    assert _last_block("") == set()


def test_retrospection_in_both_languages() -> None:
    assert "fn:past_self_ref" in _names("돌아보면 작년에 내가 너무 무리했던 것 같다.")
    assert "fn:retrospection" in _names("Looking back, I spent that whole year chasing the wrong goal.")


def test_mixed_korean_english_uses_both_tokenisers() -> None:
    mixed = extract("PR 리뷰 좀 봐주세요, merge 전에 확인하고 싶어요").features
    korean = extract("리뷰 좀 봐주세요, 전에 확인하고 싶어요").features
    extra = {k for k in mixed if k.startswith("h")} - {k for k in korean if k.startswith("h")}
    assert len(extra) >= 3  # the English words and their bigrams
    assert "fn:check_request" in mixed


def test_emoji_and_laughter() -> None:
    found = extract("ㅋㅋㅋㅋㅋ 우리 고양이 진짜 웃겨 😂😂")
    assert found.features["rh:emoji"] == 1.0
    assert "fn:laughter" in found.features
    assert "tone:playful<-laughter" in found.cues


def test_repeated_characters_give_the_same_ngrams() -> None:
    def grams(message: str) -> set[str]:
        return {k for k in _names(message) if k.startswith("h")}

    assert grams("ㅋㅋㅋㅋㅋㅋㅋ 대박!!!!!") == grams("ㅋㅋ 대박!!")


def test_empty_and_blank_messages_have_no_features() -> None:
    for message in ("", "   ", "\n\t "):
        found = extract(message)
        assert found.features == {} and found.cues == []


def test_rhythm_separates_a_burst_from_a_long_reflection() -> None:
    burst = extract("왜 또 안 돼?? 진짜!!").features
    long = extract("요즘은 아침마다 조용히 걸으면서 지난 몇 년을 돌아보게 돼요... " * 3).features
    assert "rh:double_bang" in burst and "rh:width2" in burst and "rh:avg0" in burst
    assert "rh:long_run_on" not in burst and long["rh:log_width"] > burst["rh:log_width"]
    assert "rh:ellipsis" in long and burst.get("rh:ellipsis") is None


def test_a_complete_sentence_is_marked_and_a_clipped_fragment_is_not() -> None:
    assert "rh:one_complete_sentence" in _names("블랙홀은 어떻게 작동하는지 궁금해요")
    assert "rh:one_complete_sentence" in _names("Could you explain how a pressure cooker works so fast?")
    assert "rh:complete_end" not in _names("테스트 또 깨짐. 어제 고친 건데")
    assert "rh:complete_end" not in _names("왜 또 안 돼?? 진짜!!")
    assert "rh:complete_end" not in _names("ㅋㅋㅋ 이거 완전 웃기다")


def test_check_retrospection_and_planning_phrases() -> None:
    assert "fn:check_request" in _names("설명서대로 했는데 제가 제대로 한 건지 모르겠어요.")
    assert "fn:check_request" in _names("Could you double-check the totals?")
    assert "fn:retrospection" in _names("I remember when we were kids and camped by the lake.")
    assert "fn:planning" in _names("이사 준비를 날짜별로 나눠 주세요.")


def test_the_model_file_loads_with_every_part() -> None:
    model = load_model()
    assert set(model) == set(PARTS)
    for part, part_model in model.items():
        assert set(part_model.classes) == set(VOCABULARY[part])
        assert part_model.temperature > 0
        assert len(part_model.weights) > 100
        probabilities = part_model.probabilities({"bias": 1.0, "fn:check_request": 1.0})
        assert sum(probabilities) == pytest.approx(1.0)


def test_a_missing_model_file_fails_loudly() -> None:
    with pytest.raises(RuntimeError, match="missing"):
        load_model("no_such_model.json")


def test_a_malformed_model_is_refused() -> None:
    raw = json.loads((DATA_DIR / MODEL_FILE).read_text(encoding="utf-8"))
    tone = raw["parts"]["tone"]
    with pytest.raises(ValueError, match="classes"):
        PartModel("tone", {**tone, "classes": tone["classes"][:-1]}, raw["scale"])
    with pytest.raises(ValueError, match="temperature"):
        PartModel("tone", {**tone, "temperature": 0}, raw["scale"])
    with pytest.raises(ValueError, match="top_calibration"):
        PartModel("tone", {**tone, "top_calibration": {"slope": -1.0, "intercept": 0.0}}, raw["scale"])
    with pytest.raises(KeyError):
        PartModel("tone", {k: v for k, v in tone.items() if k != "top_calibration"}, raw["scale"])


def _part_with(slope: float, intercept: float) -> PartModel:
    raw = json.loads((DATA_DIR / MODEL_FILE).read_text(encoding="utf-8"))
    pace = {**raw["parts"]["pace"], "top_calibration": {"slope": slope, "intercept": intercept}}
    return PartModel("pace", pace, raw["scale"])


def test_top_calibration_moves_only_the_top_probability() -> None:
    softmax = [0.45, 0.30, 0.15, 0.10]
    identity = _part_with(1.0, 0.0).calibrate(softmax)
    assert identity == pytest.approx(softmax)
    lifted = _part_with(1.0, math.log(0.6 / 0.4) - math.log(0.45 / 0.55)).calibrate(softmax)
    assert lifted[0] == pytest.approx(0.6)
    assert sum(lifted) == pytest.approx(1.0)
    # The others keep their proportions.
    assert lifted[1] / lifted[2] == pytest.approx(2.0)
    assert lifted[2] / lifted[3] == pytest.approx(1.5)


def test_top_calibration_never_changes_the_answer() -> None:
    softmax = [0.40, 0.38, 0.12, 0.10]
    lowered = _part_with(0.2, -3.0).calibrate(softmax)
    assert max(range(4), key=lowered.__getitem__) == 0
    assert lowered[0] >= max(lowered[1:])
    assert sum(lowered) == pytest.approx(1.0)
    # A certain answer stays certain, and extreme logits do not overflow.
    assert _part_with(1.0, 0.0).calibrate([1.0, 0.0, 0.0, 0.0]) == [1.0, 0.0, 0.0, 0.0]
    assert _part_with(9.0, -9.0).calibrate([0.25 + 1e-12, 0.25, 0.25, 0.25 - 1e-12])[0] >= 0.25


def test_the_model_ships_as_package_data() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"core.persona.data" = ["*.json"]' in pyproject
    assert (DATA_DIR / MODEL_FILE).is_file()
    assert Path(inference.__file__).parent / "data" / MODEL_FILE == DATA_DIR / MODEL_FILE
    # Small enough to parse in a few tens of milliseconds when the detector is first used (pruned,
    # rounded weights; the route imports it lazily, so cold start does not pay it): import cost
    # per size in docs/detection.md.
    assert (DATA_DIR / MODEL_FILE).stat().st_size < MAX_MODEL_KIB * 1024


def test_an_unseen_ngram_rarely_lands_on_a_weighted_bucket() -> None:
    # An n-gram no training message had should count for nothing. With 2^16 buckets one in seven
    # carried a tone or intent weight, and "compare the" was read as "i keep" (anxious).
    raw = json.loads((DATA_DIR / MODEL_FILE).read_text(encoding="utf-8"))
    for part, model in raw["parts"].items():
        weighted = [k for k in model["weights"] if k.startswith("h") and not k.startswith("hL")]
        assert weighted, part
        assert len(weighted) / BUCKETS < 0.01, part
    # The pair "compare the" is in one training message, under the n-gram floor: no weight of its own,
    # and none borrowed.
    assert _bucket("bcompare the") not in raw["parts"]["tone"]["weights"]


_PROBE = (
    "import json, sys; from core.persona.inference import detect; "
    "print(json.dumps([detect(m).model_dump() for m in json.loads(sys.stdin.read())], sort_keys=True))"
)
_MESSAGES = [
    "왜 또 안 돼?? 진짜 짜증나!!",
    "Can you check whether my math is right?",
    "우리 같이 plan 짜봐요 🙌",
    "",
]


def test_same_answer_in_processes_with_different_hash_seeds() -> None:
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT / "src")}
        done = subprocess.run(
            [sys.executable, "-c", _PROBE],
            input=json.dumps(_MESSAGES),
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=120,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert json.loads(outputs.pop()) == [detect(m).model_dump() for m in _MESSAGES]
