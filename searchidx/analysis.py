"""Vietnamese text analysis: the one place where the language's rules live.

The chain, used identically for documents and queries:

1. ``normalize`` - NFC (text arrives in NFD too), invisible characters dropped, odd
   spaces made plain; an offset map keeps every position traceable to the input.
2. ``syllabify`` - a regular expression splits text into syllables, numbers and
   codes ("3.343", "31-7", "COVID-19"), URLs and e-mail addresses (each one token),
   and punctuation (kept only as context for the segmenter).
3. ``segment`` - pyvi's CRF model labels each syllable as beginning or continuing a
   word, so "Gia Lai" and "thi đua" become words of their own. We call the model on
   our own syllables instead of parsing pyvi's underscored output, which is how every
   word keeps exact character offsets into the original text.
4. ``term_forms`` - lower case, one canonical tone placement ("hoà" -> "hòa") and a
   diacritic-free "folded" form ("Đông y" -> "dong y").

Index layout (see ``index.py``): every text field holds, at each syllable position,
the exact syllable and its folded form (prefixed with ``FOLDED``), and at the
position of a word's first syllable the whole word joined with "_" in both forms
(stored without positions: phrases are matched by syllables). Syllables keep any
word findable even where pyvi segments wrongly; words make a whole-word match score
above the same syllables scattered; the folded namespace serves queries typed
without diacritics while exact terms let accented queries prefer exact matches.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from whoosh.analysis import Token, Tokenizer

from searchidx import pyvi_model

#: Bumped whenever a change here would make old indexes disagree with new queries.
ANALYZER_VERSION = 1

#: Prefix of folded (diacritic-free) terms; it cannot occur inside a token.
FOLDED = "~"
#: Joins the syllables of a multi-syllable word in its term ("gia_lai").
WORD_JOINER = "_"

#: Function words, pronouns and the commonest nouns of news text: left out of the key
#: terms of ``similar``, optional in long queries.
STOP_WORDS = frozenset(
    [
        "và",
        "của",
        "là",
        "các",
        "có",
        "được",
        "cho",
        "với",
        "trong",
        "những",
        "này",
        "đã",
        "một",
        "không",
        "người",
        "khi",
        "để",
        "từ",
        "đến",
        "theo",
        "về",
        "tại",
        "như",
        "cũng",
        "vào",
        "ra",
        "thì",
        "nhưng",
        "lại",
        "còn",
        "sẽ",
        "đang",
        "rất",
        "nhiều",
        "năm",
        "ngày",
        "đó",
        "nên",
        "nếu",
        "bị",
        "do",
        "vì",
        "mà",
        "sau",
        "trước",
        "trên",
        "dưới",
        "hơn",
        "cả",
        "hay",
        "hoặc",
        "thể",
        "việc",
        "lúc",
        "kia",
        "ấy",
        "đây",
        "gì",
        "nào",
        "ông",
        "bà",
        "anh",
        "chị",
        "em",
        "tôi",
        "chúng",
        "họ",
        "mình",
        "ai",
    ]
)
#: What makes a sentence a question ("Vì sao ...?", "... ở đâu?"), optional in long
#: queries: the answer rarely repeats it.
QUESTION_WORDS = frozenset(
    [
        "vì sao",
        "tại sao",
        "bao nhiêu",
        "bao giờ",
        "bao lâu",
        "ở đâu",
        "như thế nào",
        "ra sao",
        "làm sao",
        "khi nào",
        "nào",
        "có phải",
        "phải không",
        "chưa",
        "gì",
        "ai",
        "mấy",
        "đâu",
        "à",
        "hả",
        "nhỉ",
        "vậy",
        "chăng",
    ]
)

# --- normalisation -----------------------------------------------------------------

_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"  # zero-width, BOM, soft hyphen
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARS))
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE_CHARS}]")
_ODD_SPACES = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000]")


@dataclass(frozen=True)
class Normalized:
    """Normalised text plus, where it differs in length from the input, a map from
    each normalised index (and the end) to the index in the input."""

    text: str
    offsets: list[int] | None = None

    def original(self, index: int) -> int:
        return index if self.offsets is None else self.offsets[index]


def normalize(text: str) -> Normalized:
    """NFC with invisible characters removed and unusual spaces made plain."""
    text = _ODD_SPACES.sub(" ", text)
    if unicodedata.is_normalized("NFC", text) and not _INVISIBLE_RE.search(text):
        return Normalized(text)
    parts: list[str] = []
    offsets: list[int] = []
    for start, end in _clusters(text):
        composed = unicodedata.normalize("NFC", text[start:end]).translate(_INVISIBLE)
        parts.append(composed)
        offsets.extend([start] * len(composed))
    offsets.append(len(text))
    return Normalized("".join(parts), offsets)


def _clusters(text: str) -> Iterator[tuple[int, int]]:
    """Spans of a base character and the combining marks that follow it."""
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or not unicodedata.combining(text[i]):
            yield start, i
            start = i


# --- term forms ----------------------------------------------------------------------

_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng
_OPEN_DIPHTHONG = re.compile(r"(.*?)(oa|oe|uy)")


def _fold_table() -> dict[int, str]:
    table = {ord("đ"): "d", ord("Đ"): "D"}
    for cp in range(0x00C0, 0x1EFF + 1):
        base = "".join(c for c in unicodedata.normalize("NFD", chr(cp)) if not unicodedata.combining(c))
        if base != chr(cp) and len(base) == 1 and base.isascii():
            table[cp] = base
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Remove Vietnamese diacritics and map đ to d ("Chữ thập đỏ" -> "Chu thap do").

    Expects NFC text; ``normalize`` first when unsure."""
    return text.translate(_FOLD)


def has_diacritics(text: str) -> bool:
    return fold(text) != text


def canonical_tone(syllable: str) -> str:
    """Put the tone mark of an open oa/oe/uy syllable on its first vowel.

    Both styles are in use ("hoà"/"hòa", "thuý"/"thúy", "uỷ"/"ủy"); the one chosen is
    the one most Vietnamese news sites print. "quý" keeps its mark: there "qu" is the
    initial consonant."""
    decomposed = unicodedata.normalize("NFD", syllable)
    tone = next((c for c in decomposed if c in _TONE_MARKS), None)
    if tone is None:
        return syllable
    bare = unicodedata.normalize("NFC", decomposed.replace(tone, ""))
    match = _OPEN_DIPHTHONG.fullmatch(bare)
    if not match or (match.group(2) == "uy" and match.group(1).endswith("q")):
        return syllable
    vowel = len(match.group(1))
    return unicodedata.normalize("NFC", bare[: vowel + 1] + tone + bare[vowel + 1 :])


@lru_cache(maxsize=200_000)
def term_forms(surface: str) -> tuple[str, str]:
    """The exact and folded index terms of one NFC syllable, word or code."""
    exact = canonical_tone(surface.lower())
    return exact, FOLDED + fold(exact)


def key(value: str) -> str:
    """Matching key for labels (categories, sources, tags): "Thể thao" = "the thao"."""
    return " ".join(_PARTS.findall(fold(normalize(value).text.lower())))


# --- syllables -----------------------------------------------------------------------

_URL = r"(?:https?://|www\.)[^\s<>\"“”]*[^\s<>\"“”.,;:!?)\]}'’]"
_EMAIL = r"[\w.+-]+@[^\W_]+(?:[.-][^\W_]+)*\.[^\W\d_]{2,}"
_WORDISH = r"[^\W_]+(?:[-./,:][^\W_]+)*"
_TOKEN = re.compile(f"(?P<link>{_URL}|{_EMAIL})|(?P<word>{_WORDISH})|(?P<punct>[^\\w\\s])")
# the same without links, for the many texts that have none: trying the link
# patterns at every word costs a third of the matching time
_TOKEN_NO_LINKS = re.compile(f"(?P<word>{_WORDISH})|(?P<punct>[^\\w\\s])")
_MAY_HAVE_LINKS = re.compile(r"@|://|www\.")
_DIGIT = re.compile(r"\d")
_PARTS = re.compile(r"[^\W_]+")
_PARTS_AND_SEPARATORS = re.compile(r"(?P<syllable>[^\W_]+)|(?P<punct>[^\w\s])")

SYLLABLE, CODE, LINK, PUNCT = "syllable", "code", "link", "punct"


class Piece(NamedTuple):
    """One unit of the syllable stream, with offsets into the normalised text."""

    kind: str
    text: str
    start: int
    end: int


def syllabify(text: str) -> list[Piece]:
    """Split normalised text into syllables, codes, links and punctuation.

    A hyphenated or dotted run stays whole when it contains a digit ("3.343",
    "31-7-2024", "COVID-19"); otherwise it is split like any text ("Chính trị-Xã
    hội" -> "Chính", "trị", "-", "Xã", "hội"), so the segmenter sees the hyphen."""
    pieces: list[Piece] = []
    pattern = _TOKEN if _MAY_HAVE_LINKS.search(text) else _TOKEN_NO_LINKS
    for m in pattern.finditer(text):
        kind, token = m.lastgroup, m.group()
        if kind == "word" and not token.isalnum() and not _DIGIT.search(token):
            base = m.start()
            pieces.extend(
                Piece(p.lastgroup or "", p.group(), base + p.start(), base + p.end())
                for p in _PARTS_AND_SEPARATORS.finditer(token)
            )
        elif kind == "word":
            kind = CODE if _DIGIT.search(token) else SYLLABLE
            pieces.append(Piece(kind, token, m.start(), m.end()))
        else:
            pieces.append(Piece(kind or "", token, m.start(), m.end()))
    return pieces


# --- segmentation --------------------------------------------------------------------

_CAPS_RUN = 3  # this many all-caps syllables in a row are a headline in capitals


def _model_input(pieces: list[Piece]) -> list[str]:
    """The strings pyvi's model sees: headlines in capitals title-cased.

    pyvi was trained on ordinary casing and leaves "UBND TỈNH GIA LAI" unsegmented;
    as "Ubnd Tỉnh Gia Lai" it finds "Gia_Lai". A short acronym inside ordinary text
    ("UBND tỉnh") is left alone: only runs of capitals are rewritten."""
    words = [p.text for p in pieces]
    run: list[int] = []
    for i, piece in enumerate(pieces):
        if piece.kind == SYLLABLE and piece.text.isupper():
            run.append(i)
        elif piece.kind in (SYLLABLE, LINK):
            _title_case_run(words, run)
            run = []
    _title_case_run(words, run)
    return words


def _title_case_run(words: list[str], run: list[int]) -> None:
    if len(run) >= _CAPS_RUN:
        for i in run:
            words[i] = words[i].capitalize()


def _joins(words: list[str], pieces: list[Piece]) -> list[bool]:
    """Whether each piece continues the word before it: where pyvi joins them, and
    both are syllables (not punctuation, numbers or codes)."""
    continues = pyvi_model.continues(words)
    joins = [False] * len(pieces)
    for i in range(1, len(pieces)):
        joins[i] = continues[i] and pieces[i].kind == SYLLABLE and pieces[i - 1].kind == SYLLABLE
    return joins


def segment(pieces: list[Piece]) -> list[list[Piece]]:
    """Group pieces into words with pyvi's CRF model; punctuation is dropped."""
    if not pieces:
        return []
    words = _model_input(pieces)
    joins = _joins(words, pieces)
    grouped: list[list[Piece]] = []
    for piece, joined in zip(pieces, joins, strict=False):
        if piece.kind == PUNCT:
            continue
        if joined and grouped:
            grouped[-1].append(piece)
        else:
            grouped.append([piece])
    return grouped


def _known_subwords(syllables: list[str]) -> Iterator[tuple[int, int]]:
    """(start, end) syllable ranges of the dictionary words inside a long word, found
    greedily from the left in pyvi's own lexicon, so that a segmentation error such as
    "triển_khai_phương_hướng" still yields "triển_khai" and "phương_hướng"."""
    i, n = 0, len(syllables)
    bi_grams, tri_grams = pyvi_model.lexicon()
    while i < n - 1:
        for size, lexicon in ((3, tri_grams), (2, bi_grams)):
            if size < n and i + size <= n and " ".join(syllables[i : i + size]) in lexicon:
                yield i, i + size
                i += size
                break
        else:
            i += 1


# --- tokens --------------------------------------------------------------------------


class Term(NamedTuple):
    """An index term at a syllable position, with offsets into the original text."""

    text: str
    pos: int
    start: int
    end: int


@dataclass(frozen=True)
class Analysis:
    """What one text contributes to the index: its terms and its word spans."""

    terms: list[Term]
    words: list[tuple[int, int]]  # character spans of multi-syllable words, for highlights
    syllables: int
    pieces: list[Piece]  # the syllable stream, for the fingerprint (which need not syllabify again)


def analyze(text: str) -> Analysis:
    """Analyse a document or query text into index terms with original offsets."""
    norm = normalize(text)
    pieces = syllabify(norm.text)
    words = segment(pieces)
    terms: list[Term] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for word in words:
        start, end = norm.original(word[0].start), norm.original(word[-1].end)
        if len(word) > 1:
            spans.append((start, end))
            lowered = [term_forms(p.text)[0] for p in word]
            _add_word(terms, lowered, pos, start, end)
            for i, j in _known_subwords(lowered):
                s, e = norm.original(word[i].start), norm.original(word[j - 1].end)
                _add_word(terms, lowered[i:j], pos + i, s, e)
        for piece in word:
            s, e = norm.original(piece.start), norm.original(piece.end)
            _add_piece(terms, piece, pos, s, e)
            pos += 1
    return Analysis(terms, spans, pos, pieces)


def _add_word(terms: list[Term], syllables: list[str], pos: int, start: int, end: int) -> None:
    exact = WORD_JOINER.join(syllables)
    terms.append(Term(exact, pos, start, end))
    terms.append(Term(FOLDED + fold(exact), pos, start, end))


def _add_piece(terms: list[Term], piece: Piece, pos: int, start: int, end: int) -> None:
    for form in term_forms(piece.text):
        terms.append(Term(form, pos, start, end))
    if piece.kind == CODE:
        parts = _PARTS.findall(piece.text)
        if not all(part.isdigit() for part in parts):
            # "COVID-19" is findable as "covid" too; numbers and dates stay whole
            for part in parts:
                terms.extend(Term(form, pos, start, end) for form in term_forms(part))


def query_syllables(text: str) -> list[tuple[str, str]]:
    """Exact and folded terms of each syllable or code of a query, without pyvi."""
    norm = normalize(text)
    return [term_forms(p.text) for p in syllabify(norm.text) if p.kind != PUNCT]


def query_words(text: str) -> list[str]:
    """Exact multi-syllable words of a query, as pyvi segments it."""
    return [t.text for t in analyze(text).terms if WORD_JOINER in t.text and t.text[0] != FOLDED]


class VietnameseTokenizer(Tokenizer):
    """The analysis chain as a Whoosh tokenizer, so that Whoosh's own machinery
    (``field.index``, its query parser, highlighters) sees the same terms."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for term in analyze(value).terms:
            token.text = term.text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[term.start : term.end]
            if positions:
                token.pos = start_pos + term.pos
            if chars:
                token.startchar = start_char + term.start
                token.endchar = start_char + term.end
            yield token


def VietnameseAnalyzer() -> VietnameseTokenizer:
    """The analyzer every searchidx text field uses (lower-casing, tone placement and
    folding happen inside, so that one pass over pyvi serves all term forms)."""
    return VietnameseTokenizer()
