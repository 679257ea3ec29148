"""What searches and similar return: hits and results, and their JSON form.

``Hit`` and ``Results`` are a search's; ``SimilarHit`` and ``SimilarResults`` add what
only "more like this" has (near-copies folded into a hit, the key terms). Both results
share ``RankedResults``, and their JSON has the same shape, so one reader serves both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from searchidx.snippets import MatchTerms, Snippet, highlight_spans, make_snippet, snippet_size, unpack_spans

if TYPE_CHECKING:
    from whoosh.searching import Searcher


@dataclass
class Hit:
    """One result of a search."""

    rank: int
    id: str
    score: float | None  # relevance; None when sorted by date, which computes none
    title: str
    url: str = ""
    date: datetime | None = None
    category: str = ""
    source: str = ""
    snippet: str = ""
    highlights: list[tuple[int, int]] = field(default_factory=list)
    title_highlights: list[tuple[int, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "rank": self.rank, "id": self.id, "title": self.title,
            "score": None if self.score is None else round(self.score, 4),
            "url": self.url, "date": self.date.isoformat() if self.date else None,
            "category": self.category, "source": self.source, "snippet": self.snippet,
            "highlights": [list(h) for h in self.highlights],
            "title_highlights": [list(h) for h in self.title_highlights],
        }  # fmt: skip


@dataclass
class SimilarHit(Hit):
    """One result of ``similar``: a hit, the near-copies it stands for and, with
    ``explain``, the key terms it shares."""

    duplicates: list[str] = field(default_factory=list)  # ids of near-copies it stands for
    shared_terms: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        d = super().to_dict()
        if self.duplicates:
            d["duplicates"] = self.duplicates
        if self.shared_terms:
            d["shared_terms"] = self.shared_terms
        return d


H = TypeVar("H", bound=Hit)


@dataclass
class RankedResults(Generic[H]):
    """One page of ranked hits: what every kind of results has."""

    query: str
    total: int
    took_ms: float
    hits: list[H]

    def _head(self) -> dict[str, object]:
        return {
            "query": self.query,
            "total": self.total,
            "took_ms": round(self.took_ms, 2),
            "hits": [h.to_dict() for h in self.hits],
        }


@dataclass
class Results(RankedResults[Hit]):
    """A search's results: a page of hits, counts by facet, and what was made of
    the query."""

    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    suggestion: str | None = None
    warnings: list[str] = field(default_factory=list)  # parts of the query read leniently
    matching: str = ""  # "all", "most" or "any" of the words (see querying.matching_rule)
    matching_note: str = ""  # ...and what that meant for this query, in words
    restored: str | None = None  # the query with its diacritics restored, when typed without

    def to_dict(self) -> dict[str, object]:
        return {
            **self._head(),
            "facets": {name: [{"value": v, "count": c} for v, c in counts] for name, counts in self.facets.items()},
            "suggestion": self.suggestion,
            "warnings": self.warnings,
            **({"restored": self.restored} if self.restored else {}),
            **({"matching": self.matching, "matching_note": self.matching_note} if self.matching else {}),
        }


@dataclass
class SimilarResults(RankedResults[SimilarHit]):
    """``similar``'s results: the hits, the key terms they were found by, and the
    near-copies of the article itself that were left out."""

    key_terms: list[tuple[str, float]] = field(default_factory=list)
    source_duplicates: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        # search's keys too, empty: one reader reads both
        return {
            **self._head(),
            "facets": {},
            "suggestion": None,
            "warnings": [],
            **({"key_terms": [{"term": t, "weight": w} for t, w in self.key_terms]} if self.key_terms else {}),
            **({"source_duplicates": self.source_duplicates} if self.source_duplicates else {}),
        }


def make_hit(
    searcher: Searcher, docnum: int, rank: int, score: float | None, terms: MatchTerms | None, chars: int | None = None
) -> Hit:
    """A hit from a stored document; ``terms`` None means no snippet, ``chars`` the
    longest snippet."""
    doc = searcher.stored_fields(docnum)
    title = doc.get("title", "")
    hit = Hit(
        rank=rank, id=doc["id"], score=score, title=title, url=doc.get("url", ""),
        date=doc.get("date"), category=doc.get("category", ""), source=doc.get("source", ""),
    )  # fmt: skip
    if terms is not None:
        spans = doc.get("spans", {})
        hit.title_highlights = highlight_spans(title, unpack_spans(spans.get("title", b"")), terms)
        snippet = _article_snippet(doc, terms, chars)
        hit.snippet, hit.highlights = snippet.text, snippet.highlights
    return hit


def _article_snippet(doc: dict[str, Any], terms: MatchTerms, chars: int | None) -> Snippet:
    """The snippet is drawn from the lead and the body as one text."""
    sapo, body = doc.get("sapo", ""), doc.get("body", "")
    spans = doc.get("spans", {})
    words = unpack_spans(spans.get("sapo", b""))
    text = sapo
    if body:
        base = len(sapo) + 1 if sapo else 0
        words += [(s + base, e + base) for s, e in unpack_spans(spans.get("body", b""))]
        text = f"{sapo}\n{body}" if sapo else body
    return make_snippet(text, words, terms, *snippet_size(chars))
