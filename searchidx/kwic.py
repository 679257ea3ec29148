"""Keyword in context: every occurrence of a query in the articles that match it.

A concordance line is the match with the original text on either side, cut at
whole words, as linguists read a word's uses. The occurrences are found as the
snippets find them (``snippets.occurrences``: accent-blind on candidates, exact
when the query has diacritics, widened to pyvi's words), so a query without
diacritics works and a line never shows the segmented form. An occurrence holds a
word of the query or a quoted phrase whole (``search.match_terms``): "công an"
lists "công an", not every "công ty".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from whoosh.searching import Searcher

from searchidx.errors import QueryError
from searchidx.query import parse
from searchidx.querying import SearchOptions, match_terms
from searchidx.schema import TEXT_FIELDS
from searchidx.search import iter_hits
from searchidx.snippets import MatchTerms, occurrences, unpack_spans

#: Characters of context each side, by default.
WIDTH = 40
KWIC_SORTS = ("left", "right", "date")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class KwicLine:
    """One occurrence: ``left`` + ``match`` + ``right`` read on in the original
    text of ``field``, where the match starts at character ``start``."""

    id: str
    date: datetime | None
    field: str
    start: int
    left: str
    match: str
    right: str

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id, "date": self.date.isoformat() if self.date else None, "field": self.field,
            "start": self.start, "left": self.left, "match": self.match, "right": self.right,
        }  # fmt: skip


def _flat(text: str) -> str:
    """Line breaks and runs of spaces as one space: a concordance line is one line."""
    return _SPACES.sub(" ", text).strip()


def left_context(text: str, start: int, width: int) -> str:
    """Up to ``width`` characters before ``start``, from the start of a word."""
    begin = max(0, start - width)
    if begin > 0 and not text[begin - 1].isspace():
        space = re.compile(r"\s").search(text, begin, start)
        begin = space.end() if space else start
    return _flat(text[begin:start])


def right_context(text: str, end: int, width: int) -> str:
    """Up to ``width`` characters after ``end``, to the end of a word."""
    stop = min(len(text), end + width)
    if stop < len(text) and not text[stop].isspace():
        cut = max(text.rfind(" ", end, stop), text.rfind("\n", end, stop))
        stop = cut if cut >= end else end
    return _flat(text[end:stop])


def article_lines(doc: dict, terms: MatchTerms, width: int) -> Iterator[KwicLine]:  # type: ignore[type-arg]
    """The occurrences in one stored article: title, lead, then body."""
    spans = doc.get("spans", {})
    for name in TEXT_FIELDS:
        text = doc.get(name, "")
        if not text:
            continue
        for start, end in occurrences(text, unpack_spans(spans.get(name, b"")), terms):
            yield KwicLine(
                doc["id"], doc.get("date"), name, start,
                left_context(text, start, width), _flat(text[start:end]), right_context(text, end, width),
            )  # fmt: skip


def _by_left(line: KwicLine) -> tuple[list[str], str, str]:
    """By the words nearest the match first, as concordancers sort."""
    return line.left.lower().split()[::-1], line.match.lower(), line.id


def _by_right(line: KwicLine) -> tuple[str, str, str]:
    return line.right.lower(), line.match.lower(), line.id


def kwic(searcher: Searcher, options: SearchOptions, width: int = WIDTH, sort: str | None = None) -> Iterator[KwicLine]:
    """Every occurrence in every matching article, in the search's order (relevance
    or ``options.sort``; ``sort="date"`` oldest first), articles read one page at a
    time as the lines are consumed. ``left`` and ``right`` sort the lines by their
    context, which reads them all first."""
    if sort is not None and sort not in KWIC_SORTS:
        raise QueryError(f"unknown kwic sort {sort!r} (use one of: {', '.join(KWIC_SORTS)})")
    if width < 1:
        raise QueryError("the context width must be at least 1")
    terms = match_terms(parse(options.query).node, units=True)
    if not terms.exact and not terms.folded:
        raise QueryError("kwic needs words to look for, not only filters")
    walk = replace(options, snippets=False, sort="date" if sort == "date" else options.sort)
    lines = (
        line
        for hit in iter_hits(searcher, walk)
        for line in article_lines(searcher.stored_fields(searcher.document_number(id=hit.id)), terms, width)
    )
    if sort == "left":
        return iter(sorted(lines, key=_by_left))
    if sort == "right":
        return iter(sorted(lines, key=_by_right))
    return lines
