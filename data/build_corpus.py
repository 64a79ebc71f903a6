"""Build data/{train,dev,test}.jsonl from the hand-written sources in data/source/*.txt.

A source line is `tone pace intent ambiguous | text` with short codes (see CODES) and `\\n`
for a line break; `#` starts a comment line. The language is derived from the text: Hangul
and a Latin word of two or more letters -> mixed, Hangul only -> ko, otherwise en.
Run: `.venv/bin/python data/build_corpus.py` (also run by `make train`).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPLITS = ("train", "dev", "test")
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
_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def language(text: str) -> str:
    if _HANGUL.search(text):
        return "mixed" if _LATIN_WORD.search(text) else "ko"
    return "en"


def parse(split: str) -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    lines = (HERE / "source" / f"{split}.txt").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
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
            }
        )
    return records


def main() -> int:
    seen: dict[str, str] = {}
    for split in SPLITS:
        records = parse(split)
        for record in records:
            text = str(record["text"])
            if text in seen:
                raise ValueError(f"duplicate text in {seen[text]} and {record['id']}: {text[:40]}")
            seen[text] = str(record["id"])
        with (HERE / f"{split}.jsonl").open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(f"{split}: {len(records)} messages", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
