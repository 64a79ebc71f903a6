"""Message -> sparse features for the key detector (training and run time share this code).

Four families, each named by a prefix:
- `lex:<part>:<value>`: hits of the tone and intent word lists (core/persona/data/*.json),
  which also give the human-readable cues the API reports;
- `h<bucket>`: hashed n-grams. Korean needs sub-word features (endings and particles attach
  to stems: 맞나요, 맞죠, 봤어요), so Hangul runs give syllable 1-3-grams with word-boundary
  marks; Latin text gives word unigrams and bigrams. Buckets come from zlib.crc32, never from
  hash(), whose value changes with PYTHONHASHSEED. The last sentence's n-grams also form a block
  of their own, `hL<bucket>`: what a message asks for is mostly said at its end ("... 맞죠?",
  "... which one?", "... 어떻게 해요"), whatever the story before it;
- `rh:*`: rhythm (length, sentence count, punctuation density, ? and ! ratios, ellipses,
  line breaks, emoji, laughter and crying marks);
- `fn:*`: sentence function, which generalises beyond memorised phrases: asking for a check
  of something already done, retrospection (past tense plus self-reference), step-by-step
  planning, error reports, requests for advice or explanation, time pressure, "we/together".
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from core.persona.data import load_data
from core.persona.vocabulary import Part

# Hashed n-gram space; only buckets seen in training carry a weight. 2^24, not 2^16 (until round 22):
# with 2^16 one bucket in seven carried a tone or intent weight, so an n-gram no training message had
# was often read as an unrelated frequent one ("compare the" shared the bucket of "i keep", learned as
# anxious); at 2^24 an unseen n-gram almost always lands in an empty bucket and counts for nothing.
BUCKETS = 1 << 24
NGRAM_NORM = 2.0
LAST_NORM = 1.0  # the last-sentence block, a second view of the same grams: half the weight

# ---- word lists (data files) and how each term matches -------------------------------------

TONE_LEXICON: dict[str, tuple[str, ...]] = {
    value: tuple(terms) for value, terms in load_data("tone_lexicon.json").items()
}
INTENT_LEXICON: dict[str, tuple[str, ...]] = {
    value: tuple(terms) for value, terms in load_data("intent_lexicon.json").items()
}

_WORD = re.compile(r"[a-z0-9']+")
_PLAIN_PHRASE = re.compile(r"[a-z0-9' ]+")
STEM_MIN = 5  # single English words this long also match as stems: frustrat -> frustrated


@dataclass(frozen=True)
class Lexicon:
    """A word list split by how its terms match, so a scan is set lookups and substring tests
    (a regex alternation of a few hundred terms costs ~2 us per character)."""

    words: dict[str, tuple[str, str]]  # exact English word -> (term, value)
    stems: dict[str, str]  # English word prefix -> value
    longest_stem: int
    phrases: tuple[tuple[str, str], ...]  # English multi-word terms, matched on word boundaries
    raw: tuple[tuple[str, str], ...]  # Korean stems, emoji, punctuation: plain substrings


def compile_lexicon(lexicon: dict[str, tuple[str, ...]]) -> Lexicon:
    words: dict[str, tuple[str, str]] = {}
    stems: dict[str, str] = {}
    phrases: list[tuple[str, str]] = []
    raw: list[tuple[str, str]] = []
    for value, terms in lexicon.items():
        for term in terms:
            if not term.isascii() or not _PLAIN_PHRASE.fullmatch(term):
                raw.append((term, value))
            elif " " in term:
                phrases.append((term, value))
            elif len(term) >= STEM_MIN:
                stems.setdefault(term, value)
            else:
                words.setdefault(term, (term, value))
    return Lexicon(words, stems, max(map(len, stems), default=0), tuple(phrases), tuple(raw))


TONES_LEX = compile_lexicon(TONE_LEXICON)
INTENTS_LEX = compile_lexicon(INTENT_LEXICON)


def lexicon_hits(lowered: str, words: list[str], lexicon: Lexicon) -> list[tuple[str, str]]:
    """(term, value) for each term found; each term counts once however often it repeats."""
    unique = list(dict.fromkeys(words))
    hits = [lexicon.words[w] for w in unique if w in lexicon.words]
    found: dict[str, str] = {}
    for word in unique:
        for size in range(STEM_MIN, min(len(word), lexicon.longest_stem) + 1):
            stem = word[:size]
            if stem in lexicon.stems:
                found.setdefault(stem, lexicon.stems[stem])
    hits.extend(found.items())
    padded = " " + " ".join(words) + " "
    hits.extend((phrase, value) for phrase, value in lexicon.phrases if f" {phrase} " in padded)
    hits.extend((term, value) for term, value in lexicon.raw if term in lowered)
    return hits


# ---- surface patterns ------------------------------------------------------------------------

_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]+")
_LATIN_WORD = re.compile(r"[a-z][a-z0-9']*")
_REPEAT = re.compile(r"(.)\1{2,}")  # ㅋㅋㅋㅋㅋ, !!!!! and sooooo all read like their 2-run form
_SENTENCE_END = re.compile(r"[.!?。…]+|\n+")
_WIDE = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af\u3040-\u30ff\u4e00-\u9fff]")
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
_ELLIPSIS = re.compile(r"\.{3,}|…")
_CAPS_WORD = re.compile(r"\b[A-Z]{3,}\b")
_PUNCT = re.compile(r"[!?.,;:~…]")
_TRAILING = re.compile(r"[\s.!?~…)\]\"']+$")
_COMPLETE_KO = re.compile(r"(요|니다|니까|다|죠|까|네|나|지)$")

# Sentence functions: feature -> (Korean substrings, English word sequences, cue). Literal
# tests, not regex alternations: `in` on a string and phrase lookups cost nanoseconds per
# character, a long alternation about a microsecond. The cue names the value it most often
# signals ("" = no cue).
_FUNCTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "check_request": (
        (
            "맞나요",
            "맞아?",
            "맞죠",
            "맞지",
            "맞는지",
            "맞는 건가",
            "맞는건가",
            "맞을까",
            "맞게",
            "맞아요?",
            "괜찮을까요",
            "괜찮은 건가",
            "괜찮은건가",
            "괜찮은지",
            "괜찮겠죠",
            "괜찮아요?",
            "되겠죠",
            "되는 거 맞",
            "봐주",
            "검토",
            "확인해 주",
            "확인해주",
            "확인 부탁",
            "확인 좀",
            "점검",
            "어때요?",
            "어때?",
            "괜찮지",
            "제대로 한 건지",
            "잘한 건지",
            "맞게 한",
            "맞는 건지",
            "실수였을까",
            "틀린 데",
            "빠진 게",
            "빠진 조항",
            "봐 주",
            "정상인가",
            "괜찮냐",
            "는지 봐",
            "건지 봐",
            "는지 확인",
            "지 검토",
            "빠짐없이",
        ),
        (
            "is this right",
            "is that right",
            "is it right",
            "is this correct",
            "is that correct",
            "is it correct",
            "is this okay",
            "is it okay",
            "is this ok",
            "is it ok",
            "is that ok",
            "good enough",
            "is it fine",
            "did i get",
            "did i read",
            "did i count",
            "did i understand",
            "did i add",
            "did i do",
            "did i give",
            "did i put",
            "did i send",
            "did i lock",
            "can you check",
            "could you check",
            "can you review",
            "could you review",
            "can you read",
            "look right",
            "looks right",
            "look okay",
            "looks okay",
            "looks good",
            "does this look",
            "does it look",
            "does that sound",
            "does this sound",
            "hold up",
            "holds up",
            "is my math",
            "is my reasoning",
            "is my calculation",
            "the right formula",
            "doesn't it",
            "isn't it",
            "too much",
            "or nah",
            "am i right",
            "quick check",
            "double-check",
            "double check",
            "look it over",
            "look over",
            "does it read",
            "did i make a mistake",
            "was that the wrong",
            "was that too",
            "did i miscount",
            "am i right",
        ),
        "intent:validation<-request to check",
    ),
    "retrospection": (
        (
            "돌아보",
            "돌이켜",
            "생각해 보면",
            "생각해보면",
            "그때",
            "그 시절",
            "예전",
            "옛날",
            "지난해",
            "지난 해",
            "지난달",
            "지난 달",
            "지난주",
            "지난 주",
            "작년",
            "였던",
            "었던",
            "았던",
            "했던",
            "었었",
            "았었",
            "했었",
            "기억이 나",
            "기억나",
            "어릴 때",
            "벌써 일 년",
        ),
        (
            "looking back",
            "back then",
            "i was",
            "i had",
            "i did",
            "i used to",
            "i realized",
            "i realised",
            "i learned",
            "i spent",
            "i kept",
            "i never",
            "last year",
            "last month",
            "last week",
            "those days",
            "ever since",
            "thinking back",
            "i remember",
            "i remembered",
            "when we were",
            "when i was",
            "i finally",
            "it felt",
        ),
        "intent:reflection<-retrospection",
    ),
    "planning": (
        (
            "계획",
            "일정",
            "순서",
            "단계",
            "먼저",
            "뭐부터",
            "부터 해야",
            "스케줄",
            "짜줘",
            "짜 줘",
            "짜주",
            "짜고",
            "짜려",
            "짜보",
            "정리하고 싶",
            "루틴",
            "준비할",
            "할 일",
            "주차별",
            "월별",
            "날짜별",
            "주마다",
            "단계별",
            "차례대로",
            "순서대로",
            "무엇부터",
            "시간표",
            "일과표",
            "훈련표",
            "동선",
            "로드맵",
            "역할을 나눠",
            "어디부터",
        ),
        (
            "plan",
            "plans",
            "planning",
            "schedule",
            "itinerary",
            "step by step",
            "timeline",
            "order of",
            "order to",
            "what order",
            "checklist",
            "roadmap",
            "week by week",
            "sequence",
            "first month",
            "what to do first",
            "what do i do first",
            "where do i start",
            "lay out",
            "map out",
            "sketch",
            "steps",
            "first few steps",
            "in order",
            "rota",
            "weekly",
            "each day",
            "where to begin",
        ),
        "intent:planning<-planning words",
    ),
    "error_report": (
        (
            "에러",
            "오류",
            "안돼",
            "안 돼",
            "안되",
            "안 되",
            "실패",
            "깨짐",
            "깨졌",
            "깨지",
            "멈춤",
            "멈췄",
            "다운",
            "튕",
            "고장",
            "크래시",
            "버그",
            "안 열",
            "안열",
            "안 나와",
            "안나와",
            "안 켜",
            "꺼졌",
            "터졌",
            "걸림",
            "걸려",
            "끊겨",
            "끊겼",
            "끊김",
            "안 와요",
            "안와요",
            "안 걸",
            "사라졌",
            "잠겼",
            "새고",
            "막혔",
            "충돌",
            "틀렸",
            "안 바뀌",
            "거절",
            "응답 없",
            "경고등",
            "깜빡",
            "안 떨어",
            "먹통",
        ),
        (
            "error",
            "fail",
            "fails",
            "failed",
            "failing",
            "failure",
            "broken",
            "break",
            "breaks",
            "crash",
            "crashed",
            "crashes",
            "bug",
            "doesn't work",
            "won't",
            "not working",
            "keeps",
            "is down",
            "stuck",
            "jammed",
            "timeout",
            "exception",
            "dropped",
            "leak",
            "freeze",
            "froze",
            "frozen",
            "isn't detected",
            "can't find",
            "doesn't exist",
            "not found",
            "denied",
            "stopped",
            "no matter",
            "keeps beeping",
            "nothing prints",
            "doesn't",
        ),
        "intent:problem_solving<-error report",
    ),
    "advice_request": (
        (
            "좋을까요",
            "할까요",
            "나을까요",
            "추천",
            "조언",
            "어떻게 해야",
            "어떻게 하면",
            "어떡하",
            "말아야",
            "살까요",
            "고를까",
            "뭐가 더",
            "어느 쪽",
            "어느쪽",
            "맞을까요",
            "해야 할지",
            "가야 할지",
            "결정",
            "해야 할까",
            "면 좋을지",
            "는 게 나을",
            "는 게 좋을",
            "어느 쪽이",
            "중에 뭐",
            "말까",
        ),
        (
            "should i",
            "what should",
            "would you",
            "advice",
            "suggest",
            "suggestion",
            "recommend",
            "recommendation",
            "which one",
            "which is",
            "which should",
            "which makes",
            "worth",
            "or should",
            "more sense",
            "what would you",
            "best way",
            "how do i approach",
            "how should i",
            "how might i",
        ),
        "intent:seek_advice<-request for advice",
    ),
    "explain_request": (
        (
            "설명",
            "알려주",
            "알려줘",
            "알고 싶",
            "알고싶",
            "이해하고",
            "원리",
            "뭐예요",
            "뭔가요",
            "무슨 뜻",
            "무슨 의미",
            "차이",
            "궁금",
            "배우고 싶",
            "뭔지",
            "어떻게 다른",
            "왜 그런",
            "이유가",
            "어떻게 작용",
        ),
        (
            "explain",
            "explanation",
            "what is",
            "what's",
            "how does",
            "how do",
            "why do",
            "why does",
            "why is",
            "understand",
            "difference",
            "mean",
            "means",
            "learn",
            "teach",
            "how come",
            "wonder",
            "wondered",
            "wondering",
        ),
        "intent:learning<-request for explanation",
    ),
    "time_pressure": (
        (
            "급해",
            "급합",
            "급함",
            "긴급",
            "빨리",
            "당장",
            "지금 바로",
            "마감",
            "자정까지",
            "까지 제출",
            "분 뒤",
            "분 후",
            "분 안에",
            "분 남",
            "시간 뒤",
            "시간 남",
        ),
        (
            "asap",
            "urgent",
            "urgently",
            "right now",
            "quick",
            "quickly",
            "immediately",
            "right away",
            "deadline",
            "minutes",
            "in an hour",
            "now",
            "hurry",
        ),
        "tone:urgent<-time pressure",
    ),
    "together": (
        ("우리", "같이", "함께", "나눠서", "너는", "맡아"),
        ("let's", "we", "together", "our team", "as a team", "with us", "you take", "i'll", "team"),
        "tone:collaborative<-we/together",
    ),
    "confusion": (
        ("헷갈", "모르겠", "이해가 안", "이해 안", "뭐지", "뭐야", "뭐죠", "감이 안", "도무지", "어리둥절"),
        (
            "confused",
            "confusing",
            "confusion",
            "don't get",
            "don't understand",
            "don't know",
            "not sure",
            "lost",
            "huh",
            "can't tell",
            "doesn't add up",
        ),
        "tone:confused<-confusion",
    ),
    "worry": (
        ("걱정", "불안", "무서", "두려", "떨려", "긴장", "어떡", "어쩌", "겁", "ㅠ", "ㅜ", "혹시"),
        (
            "worried",
            "worry",
            "worrying",
            "nervous",
            "scared",
            "afraid",
            "panic",
            "panicking",
            "terrified",
            "what if",
            "anxious",
            "oh no",
        ),
        "tone:anxious<-worry",
    ),
    "laughter": (
        ("ㅋㅋ", "ㅎㅎ", "😂", "🤣", "😆", "😜", "😹", "😄", "😎"),
        ("haha", "hehe", "lol", "lmao"),
        "tone:playful<-laughter",
    ),
    "hesitation": (
        ("글쎄", "아마", "싶기도"),
        ("hmm", "perhaps", "maybe", "i suppose", "i wonder", "i guess"),
        "pace:contemplative<-hesitation",
    ),
    "request": (
        ("주세요", "주실", "주시겠", "줘", "부탁"),
        ("please", "can you", "could you", "would you", "help me", "give me"),
        "",
    ),
    "future_time": (
        (
            "내일",
            "내년",
            "다음 달",
            "다음달",
            "다음 주",
            "다음주",
            "다음 학기",
            "다음 분기",
            "이번 주말",
            "이번 휴가",
            "이번 방학",
            "이번 연휴",
            "주말에",
            "앞으로",
        ),
        (
            "tomorrow",
            "next week",
            "next month",
            "next year",
            "next quarter",
            "next sprint",
            "this weekend",
            "this summer",
            "upcoming",
        ),
        "",
    ),
    "self_reference": (
        ("나는", "내가", "저는", "제가", "나도", "저도"),
        ("i", "my", "me"),
        "",
    ),
}
_KO_PAST_BUT = re.compile(r"([\uac00-\ud7a3])는데")
_KO_ASKS_WHICH = re.compile(r"(을지|할지|갈지|살지|볼지|줄지|일지)\s|(을까|할까) 말까")
_TAG_QUESTION = re.compile(r"\b(right|correct|ok|okay|fine)\s*\?")
_NUMBER = re.compile(r"\d")
_MEASURE = re.compile(r"\d[\d,.]*\s*(%|퍼센트|원|만|km|kwh|ms|mb|초|분|시간|배|명)|\$\d|\d\d")
_QUESTION_ENDING = re.compile(
    r"(까요|나요|가요|을까|는지요|죠|니|냐|래|어요|예요|에요)\s*\?|(까요|나요|할까|일까)[.!…\s]*$"
)
_PLAIN_DECLARATIVE = re.compile(r"[가-힣](다|더라|구나|네)[.!…~\s]*(?:$|\n)|[가-힣]다[.…]")


@lru_cache(maxsize=1 << 16)
def _bucket(gram: str) -> str:
    return f"h{zlib.crc32(gram.encode('utf-8')) % BUCKETS}"


def _ngrams(lowered: str) -> set[str]:
    # Hangul runs joined into one string, each marked <run> and set apart by NUL, so that one
    # set comprehension per n-gram size replaces a loop per word; grams across runs contain NUL.
    runs = _HANGUL_RUN.findall(lowered)
    grams: set[str] = set()
    if runs:
        joined = "\0".join(f"<{run}>" for run in runs)
        found = {joined[i : i + 2] for i in range(len(joined) - 1)}
        found.update(joined[i : i + 3] for i in range(len(joined) - 2))
        found.update("".join(runs))
        grams.update("k" + gram for gram in found if "\0" not in gram)
    words = _LATIN_WORD.findall(lowered)
    grams.update("w" + word for word in words)
    grams.update(f"b{a} {b}" for a, b in pairwise(words))
    grams.update("e" + emoji for emoji in _EMOJI.findall(lowered))
    return grams


def _last_sentence(text: str) -> str:
    """The final sentence, with the one before it when it is only a word or two ("ok?", "ㅠㅠ")."""
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    if len(sentences) > 1 and len(sentences[-1].strip()) <= 3:
        return f"{sentences[-2]} {sentences[-1]}"
    return sentences[-1] if sentences else ""


def _bins(name: str, value: float, edges: tuple[float, ...], out: dict[str, float]) -> None:
    """One indicator per bin: linear models cannot bend a raw length into "short" and "long"."""
    index = sum(value > edge for edge in edges)
    out[f"rh:{name}{index}"] = 1.0


@dataclass(frozen=True)
class Extracted:
    features: dict[str, float]
    cues: list[str]


def extract(message: str) -> Extracted:
    """Features and human-readable cues of one message (empty for an empty message)."""
    text = unicodedata.normalize("NFC", message if isinstance(message, str) else "").strip()
    if not text:
        return Extracted({}, [])
    lowered = text.lower()
    squeezed = _REPEAT.sub(r"\1\1", lowered)
    features: dict[str, float] = {"bias": 1.0}
    cues: list[str] = []

    # Word lists: one feature per (part, value), counting distinct terms; each term is a cue.
    words = _WORD.findall(lowered)
    part: Part
    for part, lexicon in (("tone", TONES_LEX), ("intent", INTENTS_LEX)):
        for term, value in lexicon_hits(lowered, words, lexicon):
            key = f"lex:{part}:{value}"
            features[key] = min(3.0, features.get(key, 0.0) + 1.0)
            cues.append(f"{part}:{value}<-'{term}'")

    # Hashed n-grams, one block of fixed length (NGRAM_NORM, chosen on dev) so long messages
    # do not drown the rest.
    grams = _ngrams(squeezed)
    if grams:
        scale = NGRAM_NORM / math.sqrt(len(grams))
        for gram in grams:
            features[_bucket(gram)] = scale
    last = _ngrams(_last_sentence(squeezed))
    if last:
        scale = LAST_NORM / math.sqrt(len(last))
        for gram in last:
            features["hL" + _bucket("L" + gram)[1:]] = scale

    # Rhythm. Lengths in display width: a Hangul character says about as much as two Latin ones.
    width = len(text) + len(_WIDE.findall(text))
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    count = max(1, len(sentences))
    questions = text.count("?")
    bangs = text.count("!")
    ellipses = len(_ELLIPSIS.findall(text))
    commas = text.count(",")
    emoji = len(_EMOJI.findall(text))
    lines = text.count("\n")
    _bins("width", width, (8, 16, 30, 60, 110, 170, 260), features)
    _bins("sentences", count, (1, 2, 4), features)
    _bins("avg", width / count, (15, 30, 60, 100, 160), features)
    features["rh:log_width"] = min(1.0, math.log1p(width) / math.log(600))
    features["rh:punct_density"] = min(1.0, 10 * len(_PUNCT.findall(text)) / max(1, width))
    features["rh:question_ratio"] = min(1.0, questions / count)
    features["rh:bang_ratio"] = min(1.0, bangs / count)
    features["rh:comma_density"] = min(1.0, 20 * commas / max(1, width))
    if text[-1] not in ".!?…~)":
        # No closing mark reads as one unbroken breath only in a long message; a short chat line
        # without a full stop is just chat (round 5 writers taught "no full stop = flowing").
        features["rh:ends_open_long" if width >= 60 else "rh:ends_open"] = 1.0
    if "!!" in text:
        features["rh:double_bang"] = 1.0
        cues.append("pace:burst<-'!!'")
    if "??" in text:
        features["rh:double_question"] = 1.0
        cues.append("tone:confused<-'??'")
    if ellipses:
        features["rh:ellipsis"] = min(1.0, ellipses / 2)
        cues.append("pace:contemplative<-'...'")
    if lines:
        features["rh:line_breaks"] = min(1.0, lines / 3)
    if emoji:
        features["rh:emoji"] = min(1.0, emoji / 2)
    caps = _CAPS_WORD.findall(text)
    if caps:
        features["rh:caps"] = 1.0
        cues.append(f"pace:burst<-'{caps[0]}'")
    # An ordinary complete sentence reads as `medium` however short: a finished Korean ending
    # (해요체, 합쇼체, 해라체) or an English sentence of several words that ends properly; clipped
    # fragments (됨, 깨짐, ㅡㅡ, no ending) and fired-off punctuation read as `burst`.
    tail = _TRAILING.sub("", text)
    complete = bool(_COMPLETE_KO.search(tail)) or (
        not _HANGUL_RUN.search(tail[-3:]) and len(words) >= 6 and text[-1] in ".?"
    )
    if complete and "!!" not in text and "??" not in text and "ㅋㅋ" not in squeezed:
        features["rh:complete_end"] = 1.0
        if count == 1:
            features["rh:one_complete_sentence"] = 1.0
    if width <= 25:
        cues.append("pace:burst<-short message")
    elif width >= 160 and count <= 2:
        features["rh:long_run_on"] = 1.0
        cues.append("pace:flowing<-long unbroken message")

    # Sentence function.
    padded_words = " " + " ".join(words) + " "
    for name, (korean, english, cue) in _FUNCTIONS.items():
        if any(term in lowered for term in korean) or any(f" {p} " in padded_words for p in english):
            features[f"fn:{name}"] = 1.0
            if cue:
                cues.append(cue)
    if _NUMBER.search(text) and _MEASURE.search(lowered):
        features["fn:numbers"] = 1.0
        cues.append("tone:analytical<-numbers")
    if "?" in text and "fn:check_request" not in features and _TAG_QUESTION.search(lowered):
        features["fn:check_request"] = 1.0
        cues.append(_FUNCTIONS["check_request"][2])
    if "?" in text and _QUESTION_ENDING.search(text):
        features["fn:question_ending"] = 1.0
    if _PLAIN_DECLARATIVE.search(text):
        features["fn:plain_declarative"] = 1.0
    if any(w.endswith("ed") for w in words[1:]) and " i " in padded_words:
        features["fn:past_self"] = 1.0
    # Korean past tense: a syllable whose final consonant is ssang-siot (했, 봤, 됐, 났, 었).
    past = sum(1 for ch in text if "\uac00" <= ch <= "\ud7a3" and (ord(ch) - 0xAC00) % 28 == 20)
    if past:
        features["fn:ko_past"] = min(1.0, past / 3)
    if any((ord(m.group(1)) - 0xAC00) % 28 == 20 for m in _KO_PAST_BUT.finditer(text)):
        # -았/었는데: a narrated past event, typical of looking back and of error reports.
        features["fn:ko_past_but"] = 1.0
    if _KO_ASKS_WHICH.search(text):
        # -ㄹ지 / -ㄹ까 (말까): weighing options, the shape of a request for advice.
        features["fn:ko_weighing"] = 1.0
    if ("fn:past_self" in features or past) and "fn:self_reference" in features:
        features["fn:past_self_ref"] = 1.0
    if "?" not in text and "fn:request" not in features and "fn:question_ending" not in features:
        features["fn:statement_only"] = 1.0
    return Extracted(features, cues)
