"""Several indexes (shards) searched as one: the statistics they share, the work each
does, and how their answers are merged.

BM25F's idf and average field lengths depend on the whole collection, so a shard
scoring with its own would rank differently from one index holding every article.
A search over shards therefore runs in two phases: each shard counts the query's
terms (document frequencies per field, documents, field lengths) and the sums
(``TermStatistics``) are the statistics of the collection; then each shard compiles
and runs the query with them (``execute.run(..., stats=...)``) and returns its best
``(score, id)`` pairs, its total and its facet counts, which the caller merges.
Scores are then those of one index to rounding (a test compares them).

The functions named ``task_*`` run where a shard is open: a worker process of this
machine or a Dask worker (``searchidx.sharded``). Each takes the shard's path and
keeps its searchers open in that process (``_pool``) from call to call.
"""

from __future__ import annotations

import hashlib
import heapq
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from whoosh import query as wq
from whoosh.scoring import BM25F
from whoosh.searching import Searcher

from searchidx import execute, restore
from searchidx.errors import IndexNotFound
from searchidx.hints import hints
from searchidx.query import FACETS, Node
from searchidx.querying import SearchOptions, compile_query, match_terms, search_filter, weighting
from searchidx.readers import SearcherPool
from searchidx.results import Hit, SimilarHit, make_hit
from searchidx.schema import TEXT_FIELDS, article_id
from searchidx.similar import Candidate, KeyTerm, highlighted, similar_hit
from searchidx.suggest import suggest

#: The file that lists a sharded index's shards, in the directory that holds them.
MANIFEST = "searchidx-shards.json"


# --- which shard an article goes to, and the manifest --------------------------------------


def shard_of(doc_id: str, count: int) -> int:
    """The shard an article belongs to: a hash of its id, the same on every machine
    and run (not Python's ``hash``, which is salted per process)."""
    digest = hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def shard_dirs(directory: Path, count: int) -> list[Path]:
    """Where ``searchidx index --shards N`` puts the shards of ``directory``."""
    width = len(str(count - 1))
    return [directory / f"shard-{i:0{width}d}" for i in range(count)]


def write_manifest(directory: Path, shards: list[Path]) -> Path:
    """List the shards (relative to the manifest) in ``directory``'s manifest."""
    path = directory / MANIFEST
    names = [str(s.relative_to(directory)) if s.is_relative_to(directory) else str(s) for s in shards]
    path.write_bytes(orjson.dumps({"shards": names}, option=orjson.OPT_INDENT_2))
    return path


def manifest_path(path: Path) -> Path | None:
    """The manifest that ``path`` is or holds, if any."""
    if path.is_file():
        return path
    inside = path / MANIFEST
    return inside if inside.is_file() else None


def read_manifest(path: Path) -> list[Path]:
    """The shard directories a manifest lists (relative ones from its folder);
    IndexNotFound, in one line, for one that cannot be read."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        raise IndexNotFound(f"shard manifest {path}: cannot be read ({error})") from None
    shards = data.get("shards") if isinstance(data, dict) else None
    if not isinstance(shards, list) or not shards or not all(isinstance(s, str) for s in shards):
        raise IndexNotFound(f'shard manifest {path}: expected {{"shards": ["DIR", ...]}}')
    return [path.parent / s for s in shards]


# --- the statistics shards share -----------------------------------------------------------


@dataclass(frozen=True)
class TermStatistics:
    """The counts behind BM25F (Whoosh's formulas, ``idf`` and ``avg_field_length``)
    and behind compiling a query (a term no article has is left out), for some terms:
    of one shard, or summed over all. It stands in for a Whoosh reader or searcher
    where those read them (``querying.compile_query``, ``execute``)."""

    documents: int  # all documents, deleted or not, as Whoosh's idf counts them
    live: int
    lengths: dict[str, int]  # the total length of each scorable field
    frequencies: dict[tuple[str, str], int] = field(default_factory=dict)

    @classmethod
    def of(cls, searcher: Searcher, terms: set[tuple[str, str]]) -> TermStatistics:
        reader = searcher.reader()
        return cls(
            documents=reader.doc_count_all(),
            live=reader.doc_count(),
            lengths={name: reader.field_length(name) for name in TEXT_FIELDS},
            frequencies={(f, t): reader.doc_frequency(f, t) for f, t in terms if f in searcher.schema},
        )

    @classmethod
    def summed(cls, parts: list[TermStatistics]) -> TermStatistics:
        frequencies: dict[tuple[str, str], int] = {}
        for part in parts:
            for term, count in part.frequencies.items():
                frequencies[term] = frequencies.get(term, 0) + count
        return cls(
            documents=sum(p.documents for p in parts),
            live=sum(p.live for p in parts),
            lengths={name: sum(p.lengths.get(name, 0) for p in parts) for name in TEXT_FIELDS},
            frequencies=frequencies,
        )

    def doc_frequency(self, fieldname: str, text: str | bytes) -> int:
        """A term not counted is a programming error, never "no article has it"."""
        return self.frequencies[(fieldname, text.decode("utf-8") if isinstance(text, bytes) else text)]

    def doc_count(self) -> int:
        return self.live

    def doc_count_all(self) -> int:
        return self.documents

    def get_parent(self) -> TermStatistics:
        """For Whoosh's idf, which asks the top searcher for its counts."""
        return self

    def idf(self, fieldname: str, text: bytes) -> float:
        return float(weighting().idf(self, fieldname, text))

    def avg_field_length(self, fieldname: str) -> float:
        return self.lengths.get(fieldname, 0) / (self.documents or 1)


class _EveryTerm:
    """A stand-in reader for which every term occurs: compiling against it gives
    every term any index could keep, the ones whose counts a search needs."""

    def doc_frequency(self, fieldname: str, text: str) -> int:
        return 1


def query_terms(options: SearchOptions, restored: restore.Restoration | None) -> set[tuple[str, str]]:
    """The (field, text) terms that the query, strict or relaxed, may score."""
    terms = {(f, t) for t in (restored.terms if restored else ()) for f in TEXT_FIELDS}
    for relaxed in (False, True):
        _, query = compile_query(options, _EveryTerm(), relaxed=relaxed, restored=restored)
        terms.update((f, t.decode("utf-8") if isinstance(t, bytes) else t) for f, t in query.iter_all_terms())
    return terms


# --- what each shard does ------------------------------------------------------------------

_pools: dict[str, SearcherPool] = {}


def _pool(path: str) -> SearcherPool:
    """This process's searchers on a shard, kept open from task to task."""
    if path not in _pools:
        _pools[path] = SearcherPool(Path(path))
    return _pools[path]


def task_open(path: str) -> None:
    """Open the shard (IndexNotFound, IncompatibleIndex... if it cannot be)."""
    if not Path(path).is_dir():  # checked where the shard is searched: on a cluster, not always here
        raise IndexNotFound("no such directory")
    with _pool(path).acquire():
        pass


def task_vocabulary(path: str) -> restore.Vocabulary:
    """This shard's vocabulary, for restoring diacritics (``restore.merged``)."""
    with _pool(path).acquire() as snapshot:
        return restore.vocabulary(snapshot.searcher)


def task_statistics(path: str, terms: set[tuple[str, str]]) -> TermStatistics:
    with _pool(path).acquire() as snapshot:
        return TermStatistics.of(snapshot.searcher, terms)


@dataclass
class ShardRanked:
    """One shard's answer: its total, facet counts and best hits as sort keys and ids
    (with ``fingerprints``, their MinHash signatures, for folding near-copies)."""

    total: int
    ids: list[str]
    scores: list[float]
    keys: list[int]
    facets: dict[str, list[tuple[str, int]]]
    fingerprints: list[bytes] = field(default_factory=list)


def task_rank(
    path: str,
    query: wq.Query,
    options: SearchOptions,
    stats: TermStatistics,
    exclude: wq.Query | None = None,
    fingerprints: bool = False,
    weighting: BM25F | None = None,
) -> ShardRanked:
    """Match and rank a compiled query on this shard with the collection's statistics
    (and another BM25F than search's, ``weighting``)."""
    by_relevance = options.sort == "relevance"
    with _pool(path).acquire() as snapshot:
        searcher = snapshot.searcher
        ranked = execute.run(
            searcher,
            query,
            limit=options.offset + options.limit,
            filter=search_filter(options),
            exclude=exclude,
            sort=None if by_relevance else "date",
            reverse=options.sort == "-date",
            facets=FACETS if options.facets else (),
            stats=stats,
            weighting=weighting,
        )
        ids = searcher.reader().column_reader("id")
        out = ShardRanked(ranked.total, [ids[d] for d in ranked.docnums], ranked.scores, ranked.keys, ranked.facets)
        if fingerprints:
            column = searcher.reader().column_reader("fingerprint")
            out.fingerprints = [column[d] for d in ranked.docnums]
        return out


@dataclass
class ShardPage:
    """A shard's part of a page: its hits, the warnings it would give, a respelling."""

    hits: list[Hit]
    warnings: list[str]
    suggestion: str | None = None


def task_page(
    path: str,
    wanted: list[tuple[str, int, float | None]],
    options: SearchOptions,
    node: Node | None,
    total: int,
    restored: tuple[str, ...],
) -> ShardPage:
    """The hits (id, rank, score) this shard holds, and its hints for the whole
    search's ``total`` (with a respelling when nothing matched); ``restored`` is
    the restored query's terms, highlighted as in one index."""
    terms = match_terms(node, restored=restored) if options.snippets else None
    with _pool(path).acquire() as snapshot:
        searcher = snapshot.searcher
        hits = [
            make_hit(searcher, _docnum(searcher, doc_id), rank, score, terms, options.snippet_chars)
            for doc_id, rank, score in wanted
        ]
        page = ShardPage(hits, hints(searcher, options, node, total))
        if total == 0 and node is not None:
            page.suggestion = suggest(searcher, options)
        return page


def task_similar_page(
    path: str, wanted: list[tuple[int, Candidate]], terms: list[KeyTerm], options: SearchOptions, explain: bool
) -> list[SimilarHit]:
    """The "more like this" hits (rank, candidate) this shard holds."""
    with _pool(path).acquire() as snapshot:
        searcher = snapshot.searcher
        highlight = highlighted(terms, options)
        return [
            similar_hit(searcher, _docnum(searcher, c.id), rank, c, terms, highlight, options, explain)
            for rank, c in wanted
        ]


def task_stored(path: str, doc_id: str) -> dict[str, Any] | None:
    """The stored fields of the article with this id or URL, if this shard has it."""
    with _pool(path).acquire() as snapshot:
        searcher = snapshot.searcher
        docnum = searcher.document_number(id=article_id(doc_id))
        if docnum is None:
            docnum = searcher.document_number(url=article_id(doc_id))
        return None if docnum is None else dict(searcher.stored_fields(docnum))


def _docnum(searcher: Searcher, doc_id: str) -> int:
    docnum = searcher.document_number(id=doc_id)
    if docnum is None:  # deleted between ranking and this page: rare, and reported as such
        raise IndexNotFound(f"article {doc_id!r} left its shard during the search; search again")
    return int(docnum)


# --- merging -------------------------------------------------------------------------------


def merge_ranked(parts: list[ShardRanked], options: SearchOptions) -> list[tuple[int, str, float]]:
    """The best ``offset + limit`` hits over all shards as (shard, id, score), in the
    order one index gives: by score (or date, undated last), ties by shard order."""
    reverse = options.sort == "-date"
    by_date = options.sort != "relevance"
    no_value = int(execute._NO_VALUE)

    def order(shard: int, i: int) -> tuple[Any, ...]:
        part = parts[shard]
        if not by_date:
            return (-part.scores[i], shard, i)
        key = part.keys[i]
        return (key == no_value, -key if reverse else key, shard, i)

    candidates = [(order(s, i), s, i) for s, part in enumerate(parts) for i in range(len(part.ids))]
    best = heapq.nsmallest(options.offset + options.limit, candidates)
    return [(s, parts[s].ids[i], parts[s].scores[i]) for _, s, i in best]


def merge_facets(parts: list[ShardRanked]) -> dict[str, list[tuple[str, int]]]:
    """Facet counts summed over shards, ordered as ``execute.run`` orders them."""
    counts: dict[str, dict[str, int]] = {}
    for part in parts:
        for name, pairs in part.facets.items():
            into = counts.setdefault(name, {})
            for value, count in pairs:
                into[value] = into.get(value, 0) + count
    return {name: sorted(c.items(), key=lambda p: (-p[1], p[0])) for name, c in counts.items()}


def common_warnings(pages: list[ShardPage]) -> list[str]:
    """The hints every shard gives (a label that some shard has is no mistake)."""
    first, *rest = [p.warnings for p in pages]
    return [w for w in first if all(w in other for other in rest)]
