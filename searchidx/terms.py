"""Significant terms: the words that characterise the articles matching a query.

Like Elasticsearch's ``significant_terms`` aggregation: a word is significant when
its share of the matching articles (foreground) is well above its share of the whole
index (background). On 3,000 VNTC articles "bão" (storm) brings up "tâm bão", "lụt",
"đê biển", "lũ quét", "sạt lở" and the districts struck (Hậu Lộc, Giao Thủy), while
"năm" and "người", frequent everywhere, stay out.

Candidates are the words of a sample of the best matches (``SAMPLE``), read from
their stored text and the word boundaries pyvi found at index time (no segmentation
at query time): multi-syllable words, and single syllables that stand alone as words.
Function words (``search.LIGHT_TERMS``), numbers and the query's own words (every
match has them) are left out. The likeliest candidates, by a score estimated from the
sample and the index's document frequencies, are then counted exactly from the
postings (``CANDIDATES`` of them): in how many matching articles, and in how many
articles of the index, the word occurs in the title, lead or body.

The score is JLH, Elasticsearch's default heuristic: (fg% - bg%) * (fg% / bg%),
where fg% is the share of matching articles with the word and bg% its share of the
index. The first factor rewards a large absolute rise, the second a large relative
one, so neither very common words (a small relative rise) nor words of two or three
articles (a small absolute rise) come first; unlike chi-square or G², it needs no
expected counts, and it is what users of Elasticsearch know. A bare syllable's score
counts half (``similar.SYLLABLE_WEIGHT``), so multi-syllable words come first where
they rise as much. A word needs ``MIN_MATCHES`` matching articles to count.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from whoosh.searching import Searcher

from searchidx import execute
from searchidx.analysis import PUNCT, SYLLABLE, WORD_JOINER, normalize, syllabify, term_forms
from searchidx.errors import QueryError
from searchidx.querying import LIGHT_TERMS, SearchOptions, compile_query, match_terms, search_filter
from searchidx.schema import TEXT_FIELDS
from searchidx.similar import SYLLABLE_WEIGHT
from searchidx.snippets import MatchTerms, unpack_spans

#: The best matches whose words are the candidates.
SAMPLE = 200
#: Candidates counted exactly, the likeliest first (estimated from the sample).
CANDIDATES = 150
#: A word in fewer matching articles is not reported (Elasticsearch's min_doc_count).
MIN_MATCHES = 3


@dataclass(frozen=True)
class SignificantTerm:
    """A word (as it is written most often in the sample), the matching articles
    that have it, the articles of the index that have it, and its JLH score."""

    word: str
    matches: int
    documents: int
    score: float

    def to_dict(self) -> dict[str, object]:
        return {"word": self.word, "matches": self.matches, "documents": self.documents, "score": round(self.score, 6)}


@dataclass
class SignificantTerms:
    """The words, best first, and the sizes they were measured against: the
    matching articles, the articles in the index, and the sample read for candidates."""

    query: str
    matched: int
    documents: int
    sampled: int
    terms: list[SignificantTerm] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "query": self.query, "matched": self.matched, "documents": self.documents, "sampled": self.sampled,
            "terms": [t.to_dict() for t in self.terms],
        }  # fmt: skip


def jlh(matches: int, matched: int, documents: int, total: int) -> float:
    """Elasticsearch's JLH score; zero unless the word is over-represented."""
    foreground, background = matches / matched, documents / total
    return 0.0 if foreground <= background else (foreground - background) * foreground / background


def _is_content(term: str, query: MatchTerms) -> bool:
    """A word that can characterise articles: letters, not only function words,
    and not only the query's own words (every match has those)."""
    forms = [term_forms(s) for s in term.split(WORD_JOINER)]
    return (
        any(c.isalpha() for c in term)
        and not all(exact in LIGHT_TERMS for exact, _ in forms)
        and not all(exact in query.exact or folded in query.folded for exact, folded in forms)
    )


def words(doc: dict) -> Iterator[tuple[str, str]]:  # type: ignore[type-arg]
    """(index term, surface form) of each word in a stored article's text: its
    multi-syllable words as pyvi segmented them at index time, and the syllables
    outside them."""
    spans = doc.get("spans", {})
    for name in TEXT_FIELDS:
        text = doc.get(name, "")
        if not text:
            continue
        bounds = unpack_spans(spans.get(name, b""))
        starts = [s for s, _ in bounds]
        norm = normalize(text)
        grouped: dict[int, list[str]] = defaultdict(list)
        for piece in syllabify(norm.text):
            if piece.kind == PUNCT:
                continue
            start, end = norm.original(piece.start), norm.original(piece.end)
            i = bisect_right(starts, start) - 1
            if i >= 0 and end <= bounds[i][1]:
                grouped[i].append(piece.text)
            elif piece.kind == SYLLABLE:
                yield term_forms(piece.text)[0], piece.text
        for syllables in grouped.values():
            yield WORD_JOINER.join(term_forms(s)[0] for s in syllables), " ".join(syllables)


def _written(surfaces: Counter[str]) -> str:
    """How to show a word: in lower case if the sample ever writes it so (a capital
    at the start of a sentence is no name), else as written most often ("Quảng Ngãi")."""
    lowered = [s for s in surfaces if s == s.lower()]
    return max(lowered, key=surfaces.__getitem__) if lowered else surfaces.most_common(1)[0][0]


def significant_terms(searcher: Searcher, options: SearchOptions, limit: int = 20) -> SignificantTerms:
    """The words of the matching articles ranked by JLH (see the module's docstring)."""
    if limit < 0:
        raise QueryError("limit must not be negative")
    parsed, query = compile_query(options, searcher.reader())
    where = search_filter(options)
    masks = [(segment, match.mask) for segment, match in execute.matches(searcher, query, filter=where)]
    matched = sum(int(mask.sum()) for _, mask in masks)
    total = sum(int(segment.live().sum()) for segment, _ in masks)
    best = execute.run(searcher, query, SAMPLE, filter=where).docnums
    in_sample: Counter[str] = Counter()
    surfaces: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for docnum in best:
        seen = set()
        for term, surface in words(searcher.stored_fields(docnum)):
            seen.add(term)
            surfaces[term][surface] += 1
        in_sample.update(seen)
    out = SignificantTerms(options.query, matched, total, len(best))
    least = min(MIN_MATCHES, matched)
    own = match_terms(parsed.node)
    reader = searcher.reader()

    def estimate(term: str) -> float:
        """JLH from the sample and the commonest field's document frequency: cheap,
        to choose the candidates worth counting exactly."""
        documents = max(reader.doc_frequency(f, term) for f in TEXT_FIELDS)
        return _weight(term) * jlh(in_sample[term], len(best), max(documents, in_sample[term]), total)

    likely = [t for t, n in in_sample.items() if n >= least and _is_content(t, own)]
    for term in sorted(likely, key=estimate, reverse=True)[:CANDIDATES]:
        fg, bg = execute.doc_counts(masks, TEXT_FIELDS, term)
        if fg >= least:
            score = _weight(term) * jlh(fg, matched, bg, total)
            out.terms.append(SignificantTerm(_written(surfaces[term]), fg, bg, score))
    out.terms = sorted((t for t in out.terms if t.score > 0), key=lambda t: (-t.score, t.word))[:limit]
    return out


def _weight(term: str) -> float:
    """A bare syllable counts half, as in ``similar``: it says less than a word."""
    return 1.0 if WORD_JOINER in term else SYLLABLE_WEIGHT
