"""Snippets: the best fragments of the original text, with whole words highlighted.

Highlighting works on the stored original text, never on the segmented form. The
syllables are found again with the cheap regular-expression syllabifier, and only
where the diacritic-free text shows a candidate; the word boundaries come from the
index (pyvi's segmentation, stored as character spans at index time), so a match on
"Lai" lights up all of "Gia Lai" without running pyvi again at query time.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property

from searchidx.analysis import FOLDED, PUNCT, Piece, fold, normalize, syllabify, term_forms

ELLIPSIS = " … "
# starts with a character class, which the regex engine skips to quickly
_SENTENCE_END = re.compile(r"[.!?…\n](?:(?<=\n)|[.!?…]*(?=\s|$))")


@dataclass(frozen=True)
class MatchTerms:
    """The positive terms of a query: what may be highlighted.

    ``exact`` holds the terms of a query typed with diacritics, ``folded`` the
    diacritic-free terms of every query word. ``units``, when given, are what an
    occurrence must hold one of (``occurrences``): the terms of each quoted phrase
    and of each word of the query, in order."""

    exact: frozenset[str] = frozenset()
    folded: frozenset[str] = frozenset()
    units: frozenset[tuple[str, ...]] = frozenset()

    @cached_property
    def candidates(self) -> re.Pattern[str] | None:
        """Where a folded, lower-cased text may match: every term without
        diacritics as a whole syllable ("ha" finds "hà" and "hạ" once the text is
        folded); plain alternatives, which compile in microseconds where a
        character class per accented letter took 50 ms for similar's 25 key
        terms; built once per query."""
        bare = {fold(t) for t in self.exact} | {t[len(FOLDED) :] for t in self.folded}
        if not bare:
            return None
        terms = sorted(bare, key=len, reverse=True)
        alternatives = "|".join(map(re.escape, terms))
        # whole syllables only: "ha" is no candidate inside "thanh"
        return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])")


@dataclass(frozen=True)
class Snippet:
    text: str
    highlights: list[tuple[int, int]] = field(default_factory=list)


def unpack_spans(packed: bytes) -> list[tuple[int, int]]:
    values = array("I", packed)
    return list(zip(values[0::2], values[1::2], strict=False))


def highlight_spans(text: str, words: list[tuple[int, int]], terms: MatchTerms) -> list[tuple[int, int]]:
    """Character spans of matched syllables, widened to the words they belong to,
    with touching spans merged.

    An accented query highlights exact matches; only a text that has none (found
    through its folded form) gets its folded matches highlighted, so "Hà Nội" does
    not light up every "nói" and "nối"."""
    norm = normalize(text)
    syllables = _candidates(norm.text, terms)
    matched = [p for p in syllables if term_forms(p.text)[0] in terms.exact]
    if not matched:
        matched = [p for p in syllables if term_forms(p.text)[1] in terms.folded]
    starts = [s for s, _ in words]
    spans: list[tuple[int, int]] = []
    for piece in matched:
        start, end = norm.original(piece.start), norm.original(piece.end)
        i = bisect_right(starts, start) - 1
        if i >= 0 and end <= words[i][1]:
            start, end = words[i]
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return spans


def occurrences(text: str, words: list[tuple[int, int]], terms: MatchTerms) -> list[tuple[int, int]]:
    """Each place the query occurs in ``text``: highlighted spans, joined across
    the spaces between them ("Bão số 3" is one occurrence), keeping those that hold
    one of the query's ``units`` whole."""
    joined: list[tuple[int, int]] = []
    for start, end in highlight_spans(text, words, terms):
        if joined and set(text[joined[-1][1] : start]) <= {" "}:
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    if not terms.units:
        return joined
    return [(s, e) for s, e in joined if _holds(text[s:e], terms.units)]


def _holds(span: str, units: frozenset[tuple[str, ...]]) -> bool:
    forms = [term_forms(p.text) for p in syllabify(normalize(span).text) if p.kind != PUNCT]
    return any(
        all(term in forms[i + j] for j, term in enumerate(unit))
        for unit in units
        for i in range(len(forms) - len(unit) + 1)
    )


def _candidates(text: str, terms: MatchTerms) -> list[Piece]:
    """The syllables of ``text`` that may match: those in the space-separated chunks
    where a term shows, diacritics and case aside. Syllabifying a whole article for
    every hit cost as much as the search itself; a chunk syllabifies the same alone
    as in its text, since no syllable, code or link spans a space."""
    lowered = text.lower()
    if terms.candidates is None or len(lowered) != len(text):  # lower() changed the length: rare scripts
        return [p for p in syllabify(text) if p.kind != PUNCT]
    pieces: list[Piece] = []
    end = 0
    for match in terms.candidates.finditer(fold(lowered)):  # folding keeps every offset
        if match.start() < end:
            continue  # inside the chunk just taken
        start = text.rfind(" ", 0, match.start()) + 1
        end = text.find(" ", match.end())
        end = len(text) if end < 0 else end
        pieces += [
            p._replace(start=p.start + start, end=p.end + start) for p in syllabify(text[start:end]) if p.kind != PUNCT
        ]
    return pieces


def _sentence_ends(text: str) -> list[int]:
    """Where sentences end: after a run of . ! ? … followed by a space or the end
    of the text, and after every line break."""
    return [m.end() for m in _SENTENCE_END.finditer(text)]


_CLAUSE_END = re.compile(r"[,;:–—]\s")


def _trim(text: str, start: int, end: int, spans: list[tuple[int, int]], width: int) -> tuple[int, int]:
    """Narrow a long sentence to about ``width`` characters around its first
    highlight: from the start of that clause (or a space), to a space."""
    if end - start <= width:
        return start, end
    focus = next((s for s, _ in spans if start <= s < end), start)
    left = max(start, focus - width // 3)
    if left > start:
        clauses = list(_CLAUSE_END.finditer(text, left, focus))
        left = clauses[-1].end() if clauses else (text.find(" ", left, focus) + 1 or left)
    right = min(end, left + width)
    if right < end:
        cut = text.rfind(" ", focus, right)
        right = cut if cut > focus else right
    return left, right


FRAGMENTS = 3
FRAGMENT_CHARS = 200


def snippet_size(chars: int | None) -> tuple[int, int]:
    """(fragments, width) for a snippet of at most ``chars`` characters: a sentence
    per 150 characters, up to ``FRAGMENTS``, each cut to its share."""
    if chars is None:
        return FRAGMENTS, FRAGMENT_CHARS
    fragments = max(1, min(FRAGMENTS, chars // 150))
    return fragments, max(1, (chars - (fragments - 1) * len(ELLIPSIS)) // fragments)


def make_snippet(
    text: str,
    words: list[tuple[int, int]],
    terms: MatchTerms,
    fragments: int = FRAGMENTS,
    width: int = FRAGMENT_CHARS,
) -> Snippet:
    """Up to ``fragments`` sentences with the most distinct matches, in text order,
    joined with an ellipsis; falls back to the opening of the text."""
    spans = highlight_spans(text, words, terms)
    ends = _sentence_ends(text) if spans else []
    sentences: dict[tuple[int, int], list[str]] = {}
    for s, e in spans:
        i = bisect_right(ends, s)
        sentence = (ends[i - 1] if i else 0, ends[i] if i < len(ends) else len(text))
        sentences.setdefault(sentence, []).append(text[s:e].lower())
    scored = [(len(set(inside)), len(inside), -start, start, end) for (start, end), inside in sentences.items()]
    best = sorted(scored, reverse=True)[:fragments]
    chosen = sorted((start, end) for *_, start, end in best) or [(0, len(text))]
    parts: list[str] = []
    highlights: list[tuple[int, int]] = []
    offset = 0
    for start, end in chosen:
        start, end = _trim(text, start, end, spans, width)
        raw = text[start:end]
        fragment = raw.strip()
        lead = start + (len(raw) - len(raw.lstrip()))
        if parts:
            offset += len(ELLIPSIS)
        for s, e in spans:
            if lead <= s and e <= lead + len(fragment):
                highlights.append((offset + s - lead, offset + e - lead))
        parts.append(fragment)
        offset += len(fragment)
    return Snippet(ELLIPSIS.join(parts), highlights)
