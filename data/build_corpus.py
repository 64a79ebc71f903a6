"""Build data/{train,dev,test}.jsonl from the hand-written sources in data/source/*.txt.

A source line is `tone pace intent ambiguous | text` with short codes (see CODES) and `\\n`
for a line break; `#` starts a comment line. The language is derived from the text: Hangul
and a Latin word of two or more letters -> mixed, Hangul only -> ko, otherwise en.

Every message also has a blind second annotation in data/source/second_annotation.jsonl (by id,
with a CRC-32 of the text so that an edited or moved message is caught). `ambiguous` is true when
the writer flagged the message, when the second annotator chose another value for some part, or
when the second annotator flagged a part as having a second defensible value; `writer_ambiguous`
keeps the writer's flag alone. `writer` names who wrote the message (w01 ... ), read from the
source's section comments (`# round 4, second writer: ...`); lines before any such comment are the
first writer's. Leave-one-writer-out cross-validation (`scripts/train_detector.py`) groups by it.
Run: `.venv/bin/python data/build_corpus.py` (also run by `make train`).
"""

from __future__ import annotations

import json
import re
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
# test2-test6: the second to sixth held-out splits (rounds 5, 7, 9, 13 and 19), each by two writers
# who never saw the corpus.
SPLITS = ("train", "dev", "test", "test2", "test3", "test4", "test5", "test6")
LANGS = ("ko", "en", "mixed")
CODES = {
    "tone": {
        "fr": "frustrated",
        "pl": "playful",
        "an": "anxious",
        "ay": "analytical",
        "ca": "calm",
        "cu": "curious",
        "ur": "urgent",
        "co": "confused",
        "cb": "collaborative",
    },
    "pace": {"b": "burst", "f": "flowing", "c": "contemplative", "m": "medium"},
    "intent": {
        "sa": "seek_advice",
        "ps": "problem_solving",
        "le": "learning",
        "va": "validation",
        "pl": "planning",
        "re": "reflection",
    },
}
_TEENS = (
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
)
# "first" ... "ninety-ninth": the ordinal in a comment line gives the writer's number.
_ORDINALS = [
    *_TEENS,
    *(
        ordinal
        for tens, round_ in (
            ("twenty", "twentieth"),
            ("thirty", "thirtieth"),
            ("forty", "fortieth"),
            ("fifty", "fiftieth"),
            ("sixty", "sixtieth"),
            ("seventy", "seventieth"),
            ("eighty", "eightieth"),
            ("ninety", "ninetieth"),
        )
        for ordinal in (round_, *(f"{tens}-{unit}" for unit in _TEENS[:9]))
    ),
]
_WRITER_HEADER = re.compile(r"^#.*?\b(" + "|".join(_ORDINALS) + r") writer\b")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def language(text: str) -> str:
    if _HANGUL.search(text):
        return "mixed" if _LATIN_WORD.search(text) else "ko"
    return "en"


def parse(split: str) -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    lines = (HERE / "source" / f"{split}.txt").read_text(encoding="utf-8").splitlines()
    writer = "w01"
    for number, line in enumerate(lines, 1):
        header = _WRITER_HEADER.match(line)
        if header:
            writer = f"w{_ORDINALS.index(header.group(1)) + 1:02d}"
        if not line.strip() or line.startswith("#"):
            continue
        head, _, text = line.partition(" | ")
        tone, pace, intent, ambiguous = head.split()
        text = text.strip().replace("\\n", "\n")
        if not text:
            raise ValueError(f"{split}.txt:{number}: empty text")
        records.append(
            {
                "id": f"{split}-{len(records) + 1:04d}",
                "text": text,
                "lang": language(text),
                "tone": CODES["tone"][tone],
                "pace": CODES["pace"][pace],
                "intent": CODES["intent"][intent],
                "split": split,
                "ambiguous": ambiguous == "1",
                "writer": writer,
            }
        )
    return records


def text_crc(text: str) -> str:
    return f"{zlib.crc32(text.encode('utf-8')):08x}"


def second_annotations() -> dict[str, dict[str, object]]:
    path = HERE / "source" / "second_annotation.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {str(row["id"]): row for row in rows}


def merge_second(record: dict[str, object], second: dict[str, object] | None) -> None:
    """The final `ambiguous`: the writer's flag, or any part the second annotator saw differently."""
    if second is None:
        raise ValueError(f"{record['id']}: no second annotation (data/source/second_annotation.jsonl)")
    if second["crc"] != text_crc(str(record["text"])):
        raise ValueError(f"{record['id']}: the text changed since its second annotation")
    flagged = set(second["ambiguous"])  # type: ignore[call-overload]
    disagree = {part for part in CODES if record[part] != second[part]}
    record["writer_ambiguous"] = record["ambiguous"]
    record["ambiguous"] = bool(record["ambiguous"]) or bool(flagged | disagree)
    record["second"] = {part: second[part] for part in CODES}


def build() -> dict[str, list[dict[str, object]]]:
    """Every split's records, checked: no text twice (within or across splits), every message
    second-annotated."""
    seen: dict[str, str] = {}
    seconds = second_annotations()
    out: dict[str, list[dict[str, object]]] = {}
    for split in SPLITS:
        records = parse(split)
        for record in records:
            merge_second(record, seconds.get(str(record["id"])))
            text = str(record["text"])
            if text in seen:
                raise ValueError(f"duplicate text in {seen[text]} and {record['id']}: {text[:40]}")
            seen[text] = str(record["id"])
        out[split] = records
    unused = set(seconds) - set(seen.values())
    if unused:
        raise ValueError(f"second annotations for unknown ids: {sorted(unused)[:5]}")
    return out


def to_jsonl(records: list[dict[str, object]]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def main() -> int:
    for split, records in build().items():
        (HERE / f"{split}.jsonl").write_text(to_jsonl(records), encoding="utf-8")
        langs = " ".join(f"{lang} {sum(r['lang'] == lang for r in records)}" for lang in LANGS)
        ambiguous = sum(bool(r["ambiguous"]) for r in records)
        writer = sum(bool(r["writer_ambiguous"]) for r in records)
        print(
            f"{split}: {len(records)} messages ({langs}); ambiguous {ambiguous}, writer's flag {writer}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
