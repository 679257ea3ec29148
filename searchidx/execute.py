"""Running Whoosh queries over postings read as numpy arrays.

Whoosh scores a query one document at a time in Python, about a microsecond per
posting; a 1-4 word query on 80,000 articles touches some 50,000 postings, so that
alone costs more than a search should. Here each term's posting list is read as
arrays (sliced from the segment's posting array file, ``posting_arrays``, or decoded
block by block where that file does not hold it) and BM25F is computed for the
whole list at once; ``And``, ``Or``, ``AndMaybe`` and
``Not`` become operations on dense per-segment arrays of scores and match masks.
The scores are Whoosh's own, term for term: the same formula on the same stored
weights, field lengths and global statistics, so results equal Whoosh's exhaustive
scoring (``tests/test_execute.py`` checks it query by query). Query types without
an array form here (phrases, ranges) are run by Whoosh's own matcher on that
segment and joined in as arrays.

Totals, facets and date sorting then cost one numpy operation each over the match
mask, so they stay exact without scoring anything twice.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol, TypeVar

import numpy as np
from whoosh import query as wq
from whoosh.codec import whoosh3
from whoosh.columns import NumericColumn
from whoosh.reading import SegmentReader
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from searchidx import posting_arrays
from searchidx.minimum_match import AtLeast
from searchidx.posting_arrays import Postings

Array = np.ndarray[Any, Any]

#: Byte-coded field lengths to lengths, as Whoosh decodes them.
_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
_CACHE_BYTES = 64 * 2**20
_decoded = [0]  # postings read from disk in this process (not from a cache)


def decoded_postings() -> int:
    """Postings this process has read from disk so far; benchmarks report how many
    a query costs."""
    return _decoded[0]


@dataclass
class Match:
    """A query's matches in one segment: a mask over its documents and their
    scores (zero where the mask is false)."""

    mask: Array
    scores: Array


class Statistics(Protocol):
    """Where BM25F's idf and average field lengths come from: the searcher of the
    index itself, or the sums over several indexes searched as one
    (``searchidx.shards``)."""

    def idf(self, fieldname: str, text: bytes) -> float: ...

    def avg_field_length(self, fieldname: str) -> float: ...


class _Cache:
    """A bounded LRU of decoded postings, shared by a segment and its views."""

    def __init__(self) -> None:
        self.entries: OrderedDict[tuple[str, bytes, object], Postings | list[Any]] = OrderedDict()
        self.nbytes = 0
        self.lock = threading.Lock()


class Segment:
    """One segment of an open searcher, with the per-document arrays that scoring
    needs (field lengths, deletions, columns), each read once and kept."""

    def __init__(self, searcher: Searcher, leaf: Searcher, offset: int) -> None:
        self.top = searcher
        self.stats: Statistics = searcher
        self.weighting: BM25F = searcher.weighting
        self.leaf = leaf
        self.reader: SegmentReader = leaf.reader()
        self.offset = offset
        self.size = self.reader.doc_count_all()
        self._arrays: dict[str, Array] = {}
        self._cache = _Cache()
        self._mapped = posting_arrays.open_for(self.reader)

    def scored_with(self, stats: Statistics | None, weighting: BM25F | None = None) -> Segment:
        """This segment scored with other term statistics or another BM25F (its K1
        and B; ``similar`` normalises lengths more than search); its arrays and
        caches are shared, so one query's scoring never leaks into another's."""
        view = copy.copy(self)
        view.stats = stats or self.stats
        view.weighting = weighting or self.weighting
        return view

    def live(self) -> Array:
        """True for documents that are not deleted."""
        if "_live" not in self._arrays:
            live = np.ones(self.size, dtype=bool)
            live[list(self.reader._perdoc.deleted_docs())] = False
            self._arrays["_live"] = live
        return self._arrays["_live"]

    def lengths(self, field: str) -> Array:
        """Each document's length in a field, as Whoosh's scorer sees it."""
        name = f"_len_{field}"
        if name not in self._arrays:
            column = self.reader._perdoc._cached_reader(f"_{field}_len", whoosh3.LENGTHS_COLUMN)
            if column is None:
                self._arrays[name] = np.ones(self.size, dtype=np.float64)
            else:
                self._arrays[name] = _LENGTHS[_numeric_column(column, self.size).astype(np.intp)]
        return self._arrays[name]

    def numbers(self, name: str) -> Array:
        """A numeric column's raw values (dates as Whoosh's ticks) for every
        document; documents without one hold the column's maximum."""
        key = f"_num_{name}"
        if key not in self._arrays:
            column = self.reader.column_reader(name, translate=False)
            self._arrays[key] = _numeric_column(column, self.size).astype(np.uint64)
        return self._arrays[key]

    def labels(self, name: str) -> tuple[Array, Array]:
        """A text column as codes: the distinct values, and each document's index
        into them (for counting facets with one ``bincount``)."""
        key = f"_lab_{name}"
        if key not in self._arrays:
            column = self.reader.column_reader(name) if self.reader.has_column(name) else None
            values = [column[d] if column is not None else "" for d in range(self.size)]
            distinct, codes = np.unique(np.array(values, dtype=object), return_inverse=True)
            self._arrays[key], self._arrays[key + "_codes"] = distinct, codes
        return self._arrays[key], self._arrays[key + "_codes"]

    def postings(self, field: str, text: bytes, values: bool = False, keep: bool = True) -> Postings:
        """A term's document numbers, weights and (with ``values``) encoded
        positions in this segment: sliced from the segment's posting arrays where
        they hold it, else decoded and kept in a small LRU cache (the same terms
        come back query after query) unless ``keep`` is false."""
        if self._mapped is not None and not values:
            mapped = self._mapped.get(field, text)
            if mapped is not None:
                return mapped
        if not keep:
            return _counted(posting_arrays.decode(self.reader, field, text, values))
        return self._cached(
            (field, text, ("postings", values)),
            lambda: _counted(posting_arrays.decode(self.reader, field, text, values)),
        )

    def positions(self, field: str, text: bytes, at: Array) -> list[bytes]:
        """The encoded positions of the postings at these places (sorted) in the
        term's list, decoding only the blocks that hold them: a phrase needs the
        positions of its candidate documents, often a few of a long list."""
        blocks = self._cached((field, text, "blocks"), lambda: posting_arrays.blocks(self.reader, field, text))
        if not blocks:  # an inlined posting
            values = self.postings(field, text, values=True).values
            assert values is not None
            return [values[i] for i in at]
        out: list[bytes] = []
        for i in at.tolist():
            block = i // posting_arrays.BLOCK
            position, length = blocks[block]
            values = self._cached(
                (field, text, ("block", block)),
                partial(_block_values, self.reader, position, length, block == len(blocks) - 1),
            )
            first = block * posting_arrays.BLOCK
            out.append(values[i - first])
        return out

    def _cached(self, key: tuple[str, bytes, object], make: Callable[[], _Piece]) -> _Piece:
        """A decoded posting list or piece of one, from the LRU cache or made and kept."""
        cache = self._cache
        with cache.lock:
            if key in cache.entries:
                cache.entries.move_to_end(key)
                return cache.entries[key]  # type: ignore[return-value]
        made = make()
        with cache.lock:
            cache.entries[key] = made
            cache.nbytes += _nbytes(made)
            while cache.nbytes > _CACHE_BYTES and len(cache.entries) > 1:
                _, dropped = cache.entries.popitem(last=False)
                cache.nbytes -= _nbytes(dropped)
        return made


_Piece = TypeVar("_Piece", Postings, list[bytes], list[tuple[int, int]])


def _nbytes(piece: Postings | list[bytes] | list[tuple[int, int]]) -> int:
    """About what a cached piece takes: a block's encoded positions are a few
    bytes each; what matters is that the cache stays bounded."""
    return piece.nbytes if isinstance(piece, Postings) else 64 * len(piece)


def _counted(postings: Postings) -> Postings:
    """Count the postings decoded from Whoosh's blocks (``decoded_postings``)."""
    _decoded[0] += len(postings.ids)
    return postings


def _block_values(reader: SegmentReader, position: int, length: int, last: bool) -> list[bytes]:
    values = posting_arrays.block_values(reader, position, length, last)
    _decoded[0] += len(values)
    return values


def _numeric_column(column: Any, size: int) -> Array:
    """A fixed-width numeric column as one array: a single read of its bytes
    rather than one call per document (documents past its end hold its default)."""
    if not isinstance(column, NumericColumn.Reader):
        return np.array([column[d] for d in range(size)])
    raw = column._dbfile.get(column._basepos, column._count * column._fixedlen)
    values = np.frombuffer(raw, dtype=f">{column._typecode}")
    if len(values) < size:
        values = np.concatenate([values, np.full(size - len(values), column._default, dtype=values.dtype)])
    return values[:size]


# --- query trees to matches --------------------------------------------------------------


def _empty(segment: Segment) -> Match:
    return Match(np.zeros(segment.size, dtype=bool), np.zeros(segment.size, dtype=np.float64))


def _term_scores(segment: Segment, fieldname: str, text: bytes) -> tuple[Array, Array]:
    """A term's documents and their scores: Whoosh's BM25F for text fields, the
    stored weight for fields that are not scorable (ids, labels)."""
    postings = segment.postings(fieldname, text)
    ids, weights = postings.ids, postings.weights
    if not len(ids) or not segment.top.schema[fieldname].scorable:
        return ids, weights
    idf, avgfl, k1, b = _bm25f(segment, fieldname, text)
    lengths = segment.lengths(fieldname)[ids]
    return ids, idf * ((weights * (k1 + 1)) / (weights + k1 * ((1 - b) + b * lengths / avgfl)))


def _bm25f(segment: Segment, fieldname: str, text: bytes) -> tuple[float, float, float, float]:
    """The constants of Whoosh's BM25F for a term: its idf and the field's average
    length over the whole index (or all the indexes searched, ``segment.stats``),
    and the weighting's K1 and B (what Whoosh's scorer computes, without building
    one per term and segment)."""
    weighting = segment.weighting
    b = weighting._field_B.get(fieldname, weighting.B)
    stats = segment.stats
    return stats.idf(fieldname, text), stats.avg_field_length(fieldname) or 1, weighting.K1, b


def _term(q: wq.Term, segment: Segment, within: Array | None) -> Match:
    schema = segment.top.schema
    match = _empty(segment)
    if q.fieldname not in schema:
        return match
    ids, scores = _term_scores(segment, q.fieldname, schema[q.fieldname].to_bytes(q.text))
    match.mask[ids] = True
    match.scores[ids] = scores * q.boost if q.boost != 1.0 else scores
    return match


def _phrase(q: wq.Phrase, segment: Segment, within: Array | None) -> Match:
    """Syllables at consecutive positions (Whoosh's phrase with the default slop),
    scored as Whoosh does: the sum of its terms' scores. Positions are decoded only
    for documents that have every term and can still count (``within``)."""
    if q.fieldname not in segment.top.schema:
        return _empty(segment)
    field = segment.top.schema[q.fieldname]
    if q.slop != 1 or len(q.words) < 2 or not field.format.supports("positions"):
        return _by_whoosh(q, segment, within)
    words = [field.to_bytes(w) for w in q.words]
    scored = [_term_scores(segment, q.fieldname, w) for w in words]
    candidates = np.ones(segment.size, dtype=bool) if within is None else within.copy()
    for ids, _ in scored:
        present = np.zeros(segment.size, dtype=bool)
        present[ids] = True
        candidates &= present
    docs = np.nonzero(candidates)[0]
    match = _empty(segment)
    if not len(docs):
        return match
    decode = field.format.decode_positions
    per_term = [
        segment.positions(q.fieldname, w, np.searchsorted(ids, docs)) for w, (ids, _) in zip(words, scored, strict=True)
    ]
    found = [
        doc
        for j, doc in enumerate(docs)
        if set.intersection(*({p - i for p in decode(values[j])} for i, values in enumerate(per_term)))
    ]
    match.mask[found] = True
    for ids, scores in scored:
        match.scores[ids] += scores
    match.scores *= match.mask
    return _boosted(match, q.boost)


def _summed(subqueries: list[wq.Query], segment: Segment, within: Array | None) -> tuple[Array, Array]:
    """How many of the clauses match each document, and the sum of their scores.
    Terms, most clauses, are added straight from their postings: a dense array
    per clause cost more than the postings did for similar's 50 clauses. (Adding
    in clause order gives the same sums as adding whole arrays.)"""
    counts = np.zeros(segment.size, dtype=np.int32)
    scores = np.zeros(segment.size, dtype=np.float64)
    schema = segment.top.schema
    for sub in subqueries:
        if type(sub) is wq.Term:
            if sub.fieldname not in schema:
                continue
            ids, term_scores = _term_scores(segment, sub.fieldname, schema[sub.fieldname].to_bytes(sub.text))
            counts[ids] += 1
            scores[ids] += term_scores * sub.boost if sub.boost != 1.0 else term_scores
        else:
            match = evaluate(sub, segment, within)
            counts += match.mask
            scores += match.scores
    return counts, scores


def _and(q: wq.And, segment: Segment, within: Array | None) -> Match:
    counts, scores = _summed(q.subqueries, segment, within)
    mask = counts == len(q.subqueries)
    return _boosted(Match(mask, scores * mask), q.boost)


def _or(q: wq.Or, segment: Segment, within: Array | None) -> Match:
    counts, scores = _summed(q.subqueries, segment, within)
    return _boosted(Match(counts > 0, scores), q.boost)


def _at_least(q: AtLeast, segment: Segment, within: Array | None) -> Match:
    """At least ``k`` of the clauses, scored like ``Or``: a count per document."""
    counts, scores = _summed(q.subqueries, segment, within)
    mask = counts >= q.k
    return _boosted(Match(mask, scores * mask), q.boost)


def _and_maybe(q: wq.AndMaybe, segment: Segment, within: Array | None) -> Match:
    required = evaluate(q.a, segment, within)
    optional = evaluate(q.b, segment, required.mask)
    return _boosted(Match(required.mask, required.scores + optional.scores * required.mask), q.boost)


def _not(q: wq.Not, segment: Segment, within: Array | None) -> Match:
    """Whoosh's inverse matcher scores each document it lets through 1 (times the
    boost), so "a -b" scores one more than "a"; kept for equal scores."""
    child = evaluate(q.query, segment, within)
    mask = segment.live() & ~child.mask
    return Match(mask, mask * float(q.boost))


def _every(q: wq.Every, segment: Segment, within: Array | None) -> Match:
    return Match(segment.live().copy(), np.full(segment.size, q.boost, dtype=np.float64))


def _by_whoosh(q: wq.Query, segment: Segment, within: Array | None) -> Match:
    """Any other query, run by Whoosh's own matcher on this segment: exact, and
    rare in searchidx's queries (date ranges without a column, unusual phrases)."""
    match = _empty(segment)
    matcher = q.matcher(segment.leaf, segment.top.context())
    ids: list[int] = []
    scores: list[float] = []
    while matcher.is_active():
        ids.append(matcher.id())
        scores.append(matcher.score())
        matcher.next()
    match.mask[ids] = True
    match.scores[ids] = scores
    return match


def _boosted(match: Match, boost: float) -> Match:
    if boost != 1.0:
        match.scores *= boost
    return match


_NO_VALUE = np.iinfo(np.uint64).max  # a sortable numeric column's value for "none"


def _date_range(q: wq.DateRange, segment: Segment, within: Array | None) -> Match:
    """A date range, read from the date column rather than from its many terms;
    Whoosh scores range matches with a constant (the boost)."""
    if not q.constantscore or not segment.reader.has_column(q.fieldname):
        return _by_whoosh(q, segment, within)
    ticks = segment.numbers(q.fieldname)  # q.start and q.end are in the same ticks
    mask = segment.live() & (ticks != _NO_VALUE)
    if q.start is not None:
        mask &= ticks > q.start if q.startexcl else ticks >= q.start
    if q.end is not None:
        mask &= ticks < q.end if q.endexcl else ticks <= q.end
    return Match(mask, mask * float(q.boost))


_EVALUATORS = {
    wq.Term: _term,
    wq.Phrase: _phrase,
    wq.And: _and,
    wq.Or: _or,
    AtLeast: _at_least,
    wq.AndMaybe: _and_maybe,
    wq.Not: _not,
    wq.Every: _every,
    wq.DateRange: _date_range,
}


def evaluate(q: wq.Query, segment: Segment, within: Array | None = None) -> Match:
    """A query's matches and scores in one segment. With ``within``, the result
    need only be right for those documents (the rest may be skipped)."""
    if q is wq.NullQuery:
        return _empty(segment)
    evaluator = _EVALUATORS.get(type(q), _by_whoosh)
    return evaluator(q, segment, within)


# --- running a query over a whole searcher -----------------------------------------------


@dataclass
class Ranked:
    """What a search found: the exact total, the requested top documents (global
    document numbers, best first) with their relevance scores and sort keys, and
    facet counts."""

    total: int
    docnums: list[int]
    scores: list[float]
    facets: dict[str, list[tuple[str, int]]]
    keys: list[int] = field(default_factory=list)  # the sort column's values (all zero by relevance)


def segments(searcher: Searcher) -> list[Segment]:
    """The searcher's segments with their arrays, made once per searcher: caches
    live as long as the searcher (one generation of the index) does."""
    made: list[Segment] | None = getattr(searcher, "_searchidx_segments", None)
    if made is None:
        made = [Segment(searcher, leaf, offset) for leaf, offset in searcher.leaf_searchers()]
        searcher._searchidx_segments = made
    return made


def release(searcher: Searcher) -> None:
    """Drop a searcher's segments before it closes. They point back at the searcher,
    so only the cycle collector would free them, and until it runs they keep the
    segment files mapped and open: a retired generation's too, even once deleted."""
    searcher.__dict__.pop("_searchidx_segments", None)


def matches(
    searcher: Searcher,
    query: wq.Query,
    *,
    filter: wq.Query | None = None,
    exclude: wq.Query | None = None,
    stats: Statistics | None = None,
    weighting: BM25F | None = None,
) -> Iterator[tuple[Segment, Match]]:
    """Each segment with the live documents that match ``query`` and pass the
    filters (scores zero elsewhere): what ranking, totals and counts per column
    value (``searchidx.trend``) all start from. Scored with the searcher's own
    term statistics and weighting unless ``stats`` or ``weighting`` give others."""
    for segment in segments(searcher):
        if stats is not None or weighting is not None:
            segment = segment.scored_with(stats, weighting)
        within = segment.live().copy()
        if filter is not None:
            within &= evaluate(filter, segment, within).mask
        if exclude is not None:
            within &= ~evaluate(exclude, segment, within).mask
        match = evaluate(query, segment, within)
        match.mask &= within
        yield segment, match


def dated_documents(searcher: Searcher, column: str = "date") -> int:
    """Live documents with a value in a numeric column (dates)."""
    return sum(
        int(np.count_nonzero(segment.live() & (segment.numbers(column) != _NO_VALUE)))
        for segment in segments(searcher)
        if segment.reader.has_column(column)
    )


def doc_counts(masks: list[tuple[Segment, Array]], fieldnames: tuple[str, ...], text: str) -> tuple[int, int]:
    """How many documents hold a term in any of these fields: among the masked
    ones (a query's matches) and among all live ones. Exact, from the postings,
    read past the cache: counting many terms once must not evict the terms that
    searches come back to."""
    inside = everywhere = 0
    for segment, mask in masks:
        present = np.zeros(segment.size, dtype=bool)
        for fieldname in fieldnames:
            field = segment.top.schema[fieldname]
            present[segment.postings(fieldname, field.to_bytes(text), keep=False).ids] = True
        inside += int(np.count_nonzero(present & mask))
        everywhere += int(np.count_nonzero(present & segment.live()))
    return inside, everywhere


def run(
    searcher: Searcher,
    query: wq.Query,
    limit: int,
    *,
    filter: wq.Query | None = None,
    exclude: wq.Query | None = None,
    sort: str | None = None,
    reverse: bool = False,
    facets: tuple[str, ...] = (),
    stats: Statistics | None = None,
    weighting: BM25F | None = None,
) -> Ranked:
    """Match, count and rank a query over every segment. Ties in score go to the
    lower document number, as in Whoosh; ``sort`` names a numeric column (dates)
    to order by instead, documents without a value last. ``stats`` and
    ``weighting``: as in ``matches``."""
    found: list[tuple[Array, Array, Array]] = []  # global docnums, scores, sort keys
    counts: dict[str, dict[str, int]] = {name: {} for name in facets}
    for segment, match in matches(searcher, query, filter=filter, exclude=exclude, stats=stats, weighting=weighting):
        local = np.nonzero(match.mask)[0]
        keys = segment.numbers(sort)[local] if sort else np.zeros(len(local), dtype=np.uint64)
        found.append((local + segment.offset, match.scores[local], keys))
        for name in facets:
            distinct, codes = segment.labels(name)
            for value, count in zip(distinct, np.bincount(codes[local], minlength=len(distinct)), strict=True):
                if count and value:
                    counts[name][value] = counts[name].get(value, 0) + int(count)
    docnums = np.concatenate([f[0] for f in found])
    scores = np.concatenate([f[1] for f in found])
    keys = np.concatenate([f[2] for f in found])
    if sort:
        dated = keys != _NO_VALUE
        order = np.lexsort((docnums, ~keys if reverse else keys, ~dated))
    else:
        order = np.lexsort((docnums, -scores))
    top = order[:limit]
    return Ranked(
        total=len(docnums),
        docnums=[int(d) for d in docnums[top]],
        scores=[float(s) for s in scores[top]],
        facets={name: sorted(c.items(), key=lambda p: (-p[1], p[0])) for name, c in counts.items()},
        keys=[int(k) for k in keys[top]],
    )


def terms_in(searcher: Searcher, docnum: int, terms: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (field, text) terms a document holds (for explaining why
    it matched)."""
    segment = next(s for s in reversed(segments(searcher)) if s.offset <= docnum)
    local = docnum - segment.offset
    held = set()
    for fieldname, text in terms:
        ids = segment.postings(fieldname, segment.top.schema[fieldname].to_bytes(text)).ids
        at = np.searchsorted(ids, local)
        if at < len(ids) and ids[at] == local:
            held.add((fieldname, text))
    return held


def whoosh_reference(
    searcher: Searcher, query: wq.Query, limit: int, *, filter: wq.Query | None = None
) -> tuple[int, list[int], list[float]]:
    """The same search scored by Whoosh itself, one document at a time, with none
    of its top-N shortcuts (unsafe: whoosh issue #413) and with its ``AndMaybe``
    skip fixed: the yardstick that ``run`` is tested and benchmarked against.

    Whoosh's ``AndMaybeMatcher.skip_to(id)`` moves the optional side to ``id``
    rather than to where the required side landed, so a document reached by a
    skip (inside an ``And``: "a b -c", filters) loses its optional score (words,
    phrase). searchidx scored that way until the array execution; the reference
    scores what the query means. Single-threaded use only (it patches Whoosh for
    the duration of the call)."""
    from whoosh import collectors
    from whoosh.matching import binary

    class Exhaustive(collectors.TopCollector):
        def _collect(self, global_docnum: int, score: float) -> object:
            result = super()._collect(global_docnum, score)
            self.minscore = None  # no "minimum score" shortcut: score every match
            return result

    def aligned_skip_to(self: Any, id: int) -> bool:
        moved = bool(self.a.skip_to(id))
        if self.a.is_active() and self.b.is_active():
            moved = bool(self.b.skip_to(self.a.id())) or moved
        return moved

    collector = Exhaustive(limit, usequality=False)
    if filter is not None:
        collector = collectors.FilterCollector(collector, filter)
    original = binary.AndMaybeMatcher.skip_to
    binary.AndMaybeMatcher.skip_to = aligned_skip_to
    try:
        searcher.search_with_collector(query, collector)
    finally:
        binary.AndMaybeMatcher.skip_to = original
    results = collector.results()
    top = range(len(results.top_n))
    return len(results), [results.docnum(i) for i in top], [results.score(i) for i in top]
