"""The labelled corpus in data/ (issue 15): its size and coverage, the committed JSONL in step
with the hand-written sources and the second annotation, and the test split kept apart."""

from __future__ import annotations

import ast
import importlib.util
import json
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from core.persona.vocabulary import PARTS, VOCABULARY

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"


def _load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_corpus", DATA / "build_corpus.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


builder = _load_builder()


@pytest.fixture(scope="module")
def built() -> dict[str, list[dict[str, Any]]]:
    return builder.build()


@pytest.fixture(scope="module")
def every(built: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [record for records in built.values() for record in records]


def test_the_committed_jsonl_is_what_the_sources_build(built: dict[str, list[dict[str, Any]]]) -> None:
    # A hand edit of data/*.jsonl, or a source edit without `make train`, fails here.
    for split, records in built.items():
        assert (DATA / f"{split}.jsonl").read_text(encoding="utf-8") == builder.to_jsonl(records), split


def test_size_languages_and_label_coverage(every: list[dict[str, Any]]) -> None:
    assert len(every) >= 600
    languages = Counter(r["lang"] for r in every)
    assert languages["ko"] >= 350
    assert languages["en"] >= 200
    assert languages["mixed"] > 0
    for part in PARTS:
        counts = Counter(r[part] for r in every)
        assert set(counts) == set(VOCABULARY[part]), part
        assert min(counts.values()) >= 25, (part, counts)


def test_every_split_covers_every_value(built: dict[str, list[dict[str, Any]]]) -> None:
    for split, records in built.items():
        for part in PARTS:
            assert {r[part] for r in records} == set(VOCABULARY[part]), (split, part)


def test_no_message_is_in_two_splits(built: dict[str, list[dict[str, Any]]]) -> None:
    texts = {
        split: {" ".join(r["text"].lower().split()) for r in records} for split, records in built.items()
    }
    assert set(texts) == {"train", "dev", "test", "test2", "test3", "test4", "test5", "test6"}
    for held_out in set(texts) - {"train", "dev"}:
        others = set().union(*(t for split, t in texts.items() if split != held_out))
        assert not texts[held_out] & others, held_out
    assert not texts["train"] & texts["dev"]


def test_the_older_labelled_messages_stay_out_of_the_corpus(every: list[dict[str, Any]]) -> None:
    # tests/unit/data/labelled_messages.json checks the detector on messages it never trained on.
    path = ROOT / "tests" / "unit" / "data" / "labelled_messages.json"
    older = json.loads(path.read_text(encoding="utf-8"))
    texts = {" ".join(r["text"].lower().split()) for r in every}
    assert not texts & {" ".join(item["message"].lower().split()) for item in older}


def test_held_out_writers_never_wrote_training_messages(built: dict[str, list[dict[str, Any]]]) -> None:
    # test2-test6 measure people the detector never read: their writers are nobody else's.
    writers = {split: {r["writer"] for r in records} for split, records in built.items()}
    for held_out in set(writers) - {"train", "dev", "test"}:
        others = set().union(*(w for split, w in writers.items() if split != held_out))
        assert len(writers[held_out]) == 2, held_out
        assert not writers[held_out] & others, held_out


def test_the_writer_comes_from_the_section_comments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "x.txt").write_text(
        "# header\nca m re 0 | first\n# round 9, twelfth writer: English\nca m re 0 | second\n"
        "# round 10, twenty-first writer: Korean\nca m re 0 | third\n"
        "# round 16, sixtieth writer: Korean\nca m re 0 | fourth\n"
        "# round 17, sixty-ninth writer: Korean\nca m re 0 | fifth\n"
        "# round 19, eighty-fourth writer: English\nca m re 0 | sixth\n"
        "# round 20, ninetieth writer: Korean\nca m re 0 | seventh\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(builder, "HERE", tmp_path)
    assert [r["writer"] for r in builder.parse("x")] == ["w01", "w12", "w21", "w60", "w69", "w84", "w90"]


def _written(text: str) -> dict[str, Any]:
    """A record as the writer's source line gives it (before the second annotation)."""
    return {
        "id": "x-1",
        "text": text,
        "tone": "calm",
        "pace": "burst",
        "intent": "reflection",
        "ambiguous": False,
    }


def test_ambiguity_joins_the_writer_and_the_second_annotator(every: list[dict[str, Any]]) -> None:
    for record in every:
        disagree = any(record[p] != record["second"][p] for p in PARTS)
        if record["writer_ambiguous"] or disagree:
            assert record["ambiguous"], record["id"]
    # The merge itself: a disagreement, a flag, or neither.
    base = _written("ok")
    second = {"crc": builder.text_crc("ok"), "tone": "calm", "pace": "burst", "intent": "reflection"}
    for flags, other_intent, expected in (
        ([], "reflection", False),
        (["tone"], "reflection", True),
        ([], "learning", True),
    ):
        record = dict(base)
        builder.merge_second(record, {**second, "intent": other_intent, "ambiguous": flags})
        assert record["ambiguous"] is expected
        assert record["writer_ambiguous"] is False


def test_an_edited_or_unannotated_message_is_refused() -> None:
    record = _written("ok")
    stale = {
        "crc": builder.text_crc("okay"),
        "tone": "calm",
        "pace": "burst",
        "intent": "reflection",
        "ambiguous": [],
    }
    with pytest.raises(ValueError, match="changed"):
        builder.merge_second(dict(record), stale)
    with pytest.raises(ValueError, match="no second annotation"):
        builder.merge_second(dict(record), None)


def test_the_second_annotation_uses_the_vocabulary() -> None:
    lines = (DATA / "source" / "second_annotation.jsonl").read_text(encoding="utf-8").splitlines()
    for line in lines:
        row = json.loads(line)
        for part in PARTS:
            assert row[part] in VOCABULARY[part], row["id"]
        assert set(row["ambiguous"]) <= set(PARTS)
        assert all(row["alt"][p] in VOCABULARY[p] and row["alt"][p] != row[p] for p in row["alt"])


def test_training_never_reads_the_test_split() -> None:
    # Only make eval (scripts/eval_detector.py) and its test may open data/test.jsonl.
    tree = ast.parse((ROOT / "scripts" / "train_detector.py").read_text(encoding="utf-8"))
    loaded = {
        arg.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "load_split"
        for arg in node.args
        if isinstance(arg, ast.Constant)
    }
    assert loaded == {"train", "dev"}
    strings = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    assert "test" not in strings
