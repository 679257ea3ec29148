"""Several indexes searched as one: ``ShardedIndex``, with ``Index``'s reading methods.

The shards are searched in parallel, each by a process that keeps it open: a worker
process of this machine per shard, or (``dask=``) a worker of a Dask cluster, shards
spread over the workers in turn. Scores use the term statistics of all the shards
together (see ``searchidx.shards``), so a collection split into shards answers as
one index holding every article would: the same hits, scores, totals and facets.

    index_shards("news-shards", ["news.jsonl.gz"], 2)  # shard-0, shard-1 and a manifest
    with ShardedIndex("news-shards") as news:  # or ShardedIndex(["shard-a", "shard-b"])
        print(news.search("thi đua", limit=3).hits)

Restoring the diacritics of a query typed without them uses the shards'
vocabularies added up (``restore.merged``).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from whoosh import query as wq

from searchidx import restore, shards
from searchidx import similar as _similar
from searchidx.api import Index, Stats, _search_options, source_article
from searchidx.article import Article, Record
from searchidx.corpus import ReadOptions, read_corpus
from searchidx.errors import InvalidArgument, SearchidxError, UnknownArticle
from searchidx.fingerprint import signature
from searchidx.index import BuildOptions, BuildReport, BuildSettings
from searchidx.querying import DateLike, Labels, SearchOptions, compile_query
from searchidx.results import Hit, Results, SimilarResults
from searchidx.schema import stored_article
from searchidx.search import described, paged_hits
from searchidx.shards import ShardRanked, TermStatistics
from searchidx.similar import MATCH_FIELDS

if TYPE_CHECKING:
    from typing_extensions import Unpack

T = TypeVar("T")
PathLike = str | os.PathLike[str]


def shard_paths(paths: PathLike | Sequence[PathLike]) -> tuple[list[Path], Path | None]:
    """The shard directories of index directories and manifests (a directory holding
    a manifest stands for its shards), and the manifest when there is one."""
    given = [Path(paths)] if isinstance(paths, (str, os.PathLike)) else [Path(p) for p in paths]
    if not given:
        raise InvalidArgument("give at least one index directory or shard manifest")
    found: list[Path] = []
    manifest = None
    for path in given:
        listed = shards.manifest_path(path)
        found += shards.read_manifest(listed) if listed else [path]
        manifest = manifest or listed
    return [p.absolute() for p in found], manifest


class _Runner(Protocol):
    def submit(self, shard: int, fn: Callable[..., T], *args: Any) -> Future[T]: ...

    def close(self) -> None: ...


class _Processes:
    """A worker process per shard on this machine: a shard's tasks always go to the
    process that has it open."""

    def __init__(self, count: int) -> None:
        context = multiprocessing.get_context("fork")  # as the parallel builds': fast, no __main__ guard
        self._pools = [ProcessPoolExecutor(1, mp_context=context) for _ in range(count)]

    def submit(self, shard: int, fn: Callable[..., T], *args: Any) -> Future[T]:
        return self._pools[shard].submit(fn, *args)

    def close(self) -> None:
        for pool in self._pools:
            pool.shutdown(cancel_futures=True)


class _Dask:
    """The workers of a Dask cluster (``cluster.connect``), shards dealt to them in
    turn; each worker keeps its shards open. A shard's path must exist on its worker."""

    def __init__(self, spec: str, count: int) -> None:
        from searchidx import cluster

        self._stack = ExitStack()
        self._client = self._stack.enter_context(cluster.connect(spec))
        workers = sorted(self._client.scheduler_info()["workers"])
        self._workers = [workers[i % len(workers)] for i in range(count)]

    def submit(self, shard: int, fn: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = self._client.submit(fn, *args, workers=[self._workers[shard]], pure=False)
        return future

    def close(self) -> None:
        self._stack.close()


class ShardedIndex:
    """Index directories (or shard manifests) searched as one index. ``dask`` is a
    cluster as ``searchidx index --dask`` takes one ("local:2", "tcp://HOST:8786");
    without it, a process per shard on this machine. Errors are those of ``Index``,
    their message naming the shard."""

    def __init__(self, paths: PathLike | Sequence[PathLike], *, dask: str | None = None) -> None:
        self.paths, self.manifest = shard_paths(paths)
        self._dask = dask
        self._runner: _Runner | None = None
        self._merged: restore.Vocabulary | None = None
        self._lock = threading.Lock()  # threads may share one ShardedIndex

    @classmethod
    def open(cls, paths: PathLike | Sequence[PathLike], *, dask: str | None = None) -> ShardedIndex:
        """Open every shard; IndexNotFound (or another SearchidxError) naming the
        first that cannot be opened, and why."""
        index = cls(paths, dask=dask)
        try:
            index._each(shards.task_open)
        except BaseException:
            index.close()
            raise
        return index

    def close(self) -> None:
        """Stop the processes that hold the shards open (idempotent)."""
        with self._lock:
            if self._runner is not None:
                self._runner.close()
                self._runner = None

    def __enter__(self) -> ShardedIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- running tasks --

    def _start(self) -> _Runner:
        with self._lock:
            if self._runner is None:
                count = len(self.paths)
                self._runner = _Dask(self._dask, count) if self._dask else _Processes(count)
            return self._runner

    def _each(self, fn: Callable[..., T], *args: Any) -> list[T]:
        """``fn(path, *args)`` on every shard at once; the results in shard order."""
        return self._gather([(fn, args)] * len(self.paths))

    def _gather(self, calls: list[tuple[Callable[..., T], tuple[Any, ...]]]) -> list[T]:
        """Call ``i`` on shard ``i`` (``fn(path, *args)``), all at once; the
        results in shard order."""
        runner = self._start()
        futures = [runner.submit(i, fn, str(self.paths[i]), *args) for i, (fn, args) in enumerate(calls)]
        results = []
        for path, future in zip(self.paths, futures, strict=False):
            try:
                results.append(future.result())
            except SearchidxError as error:
                raise type(error)(f"shard {path}: {error}") from None
        return results

    def _vocabulary(self) -> restore.Vocabulary:
        """The shards' vocabularies merged, fetched once (restoring diacritics is a
        guess from counts: a vocabulary a little out of date guesses as well)."""
        if self._merged is None:
            self._merged = restore.merged(self._each(shards.task_vocabulary))
        return self._merged

    # -- reading --

    def search(
        self,
        query: str = "",
        *,
        limit: int = 10,
        offset: int = 0,
        sort: str = "relevance",
        date_from: DateLike | None = None,
        date_to: DateLike | None = None,
        categories: Labels = (),
        sources: Labels = (),
        facets: bool = False,
        snippets: bool = True,
        snippet_chars: int | None = None,
        match_any: bool = False,
        restore: bool = True,
    ) -> Results:
        """As ``Index.search``, over all the shards."""
        options = _search_options(
            query, limit=limit, offset=offset, sort=sort, date_from=date_from, date_to=date_to,
            categories=categories, sources=sources, facets=facets, snippets=snippets, snippet_chars=snippet_chars,
            match_any=match_any, restore=restore,
        )  # fmt: skip
        return self._search(options)

    def _search(self, options: SearchOptions) -> Results:
        """Statistics from every shard, then the query ranked on every shard with
        them, merged; then the page's hits from the shards that hold them."""
        started = time.perf_counter()
        by_relevance = options.sort == "relevance"
        restored = restore.restore_with(self._vocabulary, options.query) if options.restore and by_relevance else None
        terms = shards.query_terms(options, restored)
        stats = TermStatistics.summed(self._each(shards.task_statistics, terms))
        parsed, query = compile_query(options, stats, restored=restored)
        parts, relaxed = self._each(shards.task_rank, query, options, stats), False
        if not _total(parts) and parsed.node is not None:
            _, loose = compile_query(options, stats, relaxed=True, restored=restored)
            if loose != query:
                parts, relaxed = self._each(shards.task_rank, loose, options, stats), True
        total = _total(parts)
        wanted: list[list[tuple[str, int, float | None]]] = [[] for _ in self.paths]
        best = shards.merge_ranked(parts, options)
        for rank, (shard, doc_id, score) in enumerate(best[options.offset :], options.offset + 1):
            wanted[shard].append((doc_id, rank, score if by_relevance else None))
        lit = restored.terms if restored else ()
        pages = self._gather([(shards.task_page, (w, options, parsed.node, total, lit)) for w in wanted])
        hits = sorted((hit for page in pages for hit in page.hits), key=lambda h: h.rank)
        out = Results(options.query, total, 0.0, hits, facets=shards.merge_facets(parts))
        suggestion = next((p.suggestion for p in pages if p.suggestion), None)
        return described(out, options, parsed, shards.common_warnings(pages), relaxed, restored, suggestion, started)

    def iter_hits(
        self,
        query: str = "",
        *,
        offset: int = 0,
        sort: str = "relevance",
        date_from: DateLike | None = None,
        date_to: DateLike | None = None,
        categories: Labels = (),
        sources: Labels = (),
        snippets: bool = True,
        snippet_chars: int | None = None,
        match_any: bool = False,
        restore: bool = True,
    ) -> Iterator[Hit]:
        """As ``Index.iter_hits``, over all the shards (a page at a time; a shard
        updated meanwhile shows in the pages after)."""
        options = _search_options(
            query, offset=offset, sort=sort, date_from=date_from, date_to=date_to,
            categories=categories, sources=sources, snippets=snippets, snippet_chars=snippet_chars,
            match_any=match_any, restore=restore,
        )  # fmt: skip
        return paged_hits(self._search, options)

    def show(self, doc_id: str) -> Article:
        """The stored article with this id (or URL), from whichever shard has it."""
        found = [doc for doc in self._each(shards.task_stored, doc_id) if doc is not None]
        if not found:
            raise UnknownArticle(f"no article with id {doc_id!r} in any of the {len(self.paths)} shards")
        return stored_article(found[0])

    def similar(
        self,
        doc_id: str | None = None,
        *,
        text: str | None = None,
        article: Article | None = None,
        path: PathLike | None = None,
        duplicates: bool = False,
        explain: bool = False,
        limit: int = 10,
        offset: int = 0,
        date_from: DateLike | None = None,
        date_to: DateLike | None = None,
        categories: Labels = (),
        sources: Labels = (),
        snippets: bool = True,
        snippet_chars: int | None = None,
    ) -> SimilarResults:
        """As ``Index.similar``, over all the shards: key terms weighed with the
        document frequencies of all of them, near-copies folded across shards."""
        started = time.perf_counter()
        options = _search_options(
            "", limit=limit, offset=offset, date_from=date_from, date_to=date_to,
            categories=categories, sources=sources, snippets=snippets, snippet_chars=snippet_chars,
        )  # fmt: skip
        article, exclude_id = source_article(doc_id, text, article, path, self.show)
        words = _similar.term_frequencies(article)
        stats = TermStatistics.summed(self._each(shards.task_statistics, {(f, w) for w in words for f in MATCH_FIELDS}))
        terms = _similar.key_terms(stats, article)
        query = _similar.similar_query(terms, stats)
        if query is None:
            return SimilarResults(article.title, 0, 0.0, [])
        ranking = replace(options, offset=0, limit=_similar.fetched(options, duplicates))
        exclude = wq.Term("id", exclude_id) if exclude_id else None
        parts = self._each(shards.task_rank, query, ranking, stats, exclude, True, _similar.similar_weighting())
        candidates = [
            _similar.Candidate(shard, score, parts[shard].fingerprints[parts[shard].ids.index(doc)], doc)
            for shard, doc, score in shards.merge_ranked(parts, ranking)
        ]
        kept, copies = _similar.folded(candidates, signature(article.text), duplicates)
        wanted: list[list[tuple[int, _similar.Candidate]]] = [[] for _ in self.paths]
        for rank, c in enumerate(kept[offset : offset + limit], offset + 1):
            wanted[c.where].append((rank, c))
        pages = self._gather([(shards.task_similar_page, (w, terms, options, explain)) for w in wanted])
        hits = sorted((hit for page in pages for hit in page), key=lambda h: h.rank)
        return _similar.similar_results(article, _total(parts), hits, terms, copies, started)

    def stats(self) -> Stats:
        """The shards' figures added up (the path: the manifest, else the first shard)."""
        each = self._each(_task_stats)
        dates = [d for s in each for d in (s.first_date, s.last_date) if d is not None]
        return replace(
            each[0],
            path=self.manifest or self.paths[0],
            documents=sum(s.documents for s in each),
            fields=sorted({f for s in each for f in s.fields}),
            size_bytes=sum(s.size_bytes for s in each),
            segments=sum(s.segments for s in each),
            first_date=min(dates, default=None),
            last_date=max(dates, default=None),
            shards=len(each),
        )


def _total(parts: list[ShardRanked]) -> int:
    return sum(p.total for p in parts)


def _task_stats(path: str) -> Stats:
    with Index(path) as index:
        return index.stats()


def index_shards(
    directory: PathLike,
    paths: Sequence[PathLike],
    count: int,
    read_options: ReadOptions | None = None,
    options: BuildOptions | None = None,
    **settings: Unpack[BuildSettings],
) -> BuildReport:
    """Index a corpus as ``count`` shards under ``directory``, each article in the
    shard its id hashes to (``shards.shard_of``: the same split on every run, so
    updates reach the shard that holds the article), and write the manifest that
    ``ShardedIndex(directory)`` reads. The corpus is read once per shard; records
    rejected or warned about are reported once (with the first shard). Returns the
    shards' reports added up; settings and errors are those of ``Index.add``."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InvalidArgument(f"shards must be a whole number of at least 1, not {count!r}")
    root = Path(directory)
    build = replace(options or BuildOptions(), **settings)
    done: list[BuildReport] = []
    for i, shard in enumerate(shards.shard_dirs(root, count)):

        def mine(record: Record, i: int = i) -> bool:
            return shards.shard_of(record.id, count) == i if isinstance(record, Article) else i == 0

        def progress(report: BuildReport) -> None:
            assert build.on_progress is not None
            build.on_progress(_summed([*done, report]))

        records = (r for r in read_corpus([Path(p) for p in paths], read_options or ReadOptions()) if mine(r))
        on_progress = progress if build.on_progress else None
        done.append(Index(shard).add(records, replace(build, on_progress=on_progress)))
    shards.write_manifest(root, shards.shard_dirs(root, count))
    return _summed(done)


def _summed(reports: list[BuildReport]) -> BuildReport:
    """Several builds' reports as one (their seconds and phases added up)."""
    return BuildReport(
        indexed=sum(r.indexed for r in reports),
        updated=sum(r.updated for r in reports),
        skipped=sum(r.skipped for r in reports),
        rejected=[p for r in reports for p in r.rejected],
        warnings=[p for r in reports for p in r.warnings],
        seconds=sum(r.seconds for r in reports),
        committing=reports[-1].committing,
        phases={name: sum(r.phases.get(name, 0.0) for r in reports) for name in reports[-1].phases},
    )
