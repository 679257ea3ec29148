"""The library surface: one ``Index`` class over an index directory.

    >>> from searchidx import Index
    >>> with Index.open(sample_path) as index:  # the shipped sample, indexed
    ...     for hit in index.search("thi đua", limit=2).hits:
    ...         print(hit.rank, hit.id)
    1 baogialai-2024-07-31-khoi-thi-dua
    2 giao-duc-03

Safe for many readers at once, in threads and in processes, including while a writer
commits or a rebuild swaps generations: every call looks at the live generation and
picks up what was committed. An ``Index`` keeps a small pool of Whoosh searchers (see
``searchidx.readers``): each call borrows one on the latest state of the index for its
whole duration (an ``iter_hits`` walk sees one snapshot across all its pages), so a
long-running, many-threaded process holds a bounded number of open files. ``close()``
releases them; an ``Index`` used again after ``close()`` reopens the index.
"""

from __future__ import annotations

import os
import sysconfig
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from whoosh import query as wq
from whoosh.searching import Searcher

from searchidx import fingerprint, generations
from searchidx import index as _index
from searchidx import search as _search
from searchidx import similar as _similar
from searchidx.analysis import ANALYZER_VERSION
from searchidx.article import Article, Record
from searchidx.corpus import ReadOptions, read_corpus, read_path
from searchidx.errors import QueryError, UnknownArticle
from searchidx.generations import default_index_dir
from searchidx.index import BuildReport, ProblemCallback, ProgressCallback
from searchidx.limits import MAX_REJECTED
from searchidx.query import valid_text
from searchidx.querying import SearchOptions
from searchidx.readers import SearcherPool
from searchidx.results import Hit, Results, SimilarResults
from searchidx.schema import article_id, stored_article

if TYPE_CHECKING:
    from searchidx.check import CheckReport


def shipped_corpus() -> Path:
    """The sample corpus that comes with searchidx (the repository's ``corpus/``,
    or its installed copy)."""
    here = Path(__file__).resolve().parent.parent / "corpus"
    if here.is_dir():
        return here
    return Path(sysconfig.get_path("data")) / "share" / "searchidx" / "corpus"


@dataclass(frozen=True)
class Stats:
    path: Path
    documents: int
    fields: list[str]
    size_bytes: int
    segments: int
    analyzer_version: int
    schema_version: int
    first_date: datetime | None
    last_date: datetime | None

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path), "documents": self.documents, "fields": self.fields,
            "size_bytes": self.size_bytes, "segments": self.segments,
            "analyzer_version": self.analyzer_version, "schema_version": self.schema_version,
            "first_date": self.first_date.isoformat() if self.first_date else None,
            "last_date": self.last_date.isoformat() if self.last_date else None,
        }  # fmt: skip


class Index:
    """An index directory: build it, search it, find similar articles in it."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_index_dir()
        self._searchers = SearcherPool(self.path)

    # -- lifecycle --

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> Index:
        """Open an existing index; raises IndexNotFound or IncompatibleIndex."""
        index = cls(path)
        with index._searchers.acquire():
            return index

    def exists(self) -> bool:
        return generations.current_generation(self.path) is not None

    def close(self) -> None:
        """Close the open searchers (idempotent); calls in progress finish first."""
        self._searchers.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --

    def add(
        self,
        records: Iterable[Record | Article],
        *,
        rebuild: bool = False,
        allow_empty: bool = False,
        max_rejected: float = MAX_REJECTED,
        workers: int = 1,
        wait: float = 0.0,
        on_progress: ProgressCallback | None = None,
        on_problem: ProblemCallback | None = None,
    ) -> BuildReport:
        """Add or update articles (a repeated id updates); ``rebuild`` replaces the
        whole index atomically, unless it would index nothing (``allow_empty`` allows
        it) or reject more than ``max_rejected`` of its records. Takes Article
        objects or a reader's records."""
        return _index.build(
            self.path, records, rebuild=rebuild, allow_empty=allow_empty, max_rejected=max_rejected,
            workers=workers, wait=wait, on_progress=on_progress, on_problem=on_problem,
        )  # fmt: skip

    def index_paths(
        self,
        paths: Sequence[str | os.PathLike[str]],
        read_options: ReadOptions | None = None,
        *,
        rebuild: bool = False,
        allow_empty: bool = False,
        max_rejected: float = MAX_REJECTED,
        workers: int = 1,
        wait: float = 0.0,
        on_progress: ProgressCallback | None = None,
        on_problem: ProblemCallback | None = None,
    ) -> BuildReport:
        """Index corpus files and folders (see ``searchidx.corpus`` for formats);
        the other arguments are those of ``add``."""
        records = read_corpus([Path(p) for p in paths], read_options or ReadOptions())
        return self.add(
            records, rebuild=rebuild, allow_empty=allow_empty, max_rejected=max_rejected, workers=workers,
            wait=wait, on_progress=on_progress, on_problem=on_problem,
        )  # fmt: skip

    def delete(self, ids: Iterable[str], wait: float = 0.0) -> int:
        return _index.delete(self.path, [article_id(i) for i in ids], wait=wait)

    # -- reading --

    def search(self, query: str = "", **options: object) -> Results:
        """Search; options as in ``SearchOptions`` (limit, offset, sort, date_from,
        date_to, categories, sources, facets, snippets).

        >>> results = index.search("ha noi", limit=2, sort="-date")
        >>> results.total, [(hit.id, str(hit.date.date())) for hit in results.hits]
        (3, [('van-hoa-02', '2025-02-10'), ('thoi-tiet-01', '2024-12-10')])
        """
        search_options = SearchOptions(query=query, **options)  # type: ignore[arg-type]
        with self._searchers.acquire() as snapshot:
            return _search.search(snapshot.searcher, search_options)

    def iter_hits(self, query: str = "", **options: object) -> Iterator[Hit]:
        """Every hit of a search, in order, fetched a page at a time.

        >>> sum(1 for _ in index.iter_hits("bão"))
        3
        """
        return self._walk(SearchOptions(query=query, **options))  # type: ignore[arg-type]

    def _walk(self, options: SearchOptions) -> Iterator[Hit]:
        """All pages from one searcher: one snapshot, however long the walk."""
        with self._searchers.acquire() as snapshot:
            yield from _search.iter_hits(snapshot.searcher, options)

    def show(self, doc_id: str) -> Article:
        """The stored article with this id (or URL).

        >>> index.show("van-hoa-03").title
        'Triển lãm tranh thuỷ mặc hoà cùng không gian phố cổ'
        """
        with self._searchers.acquire() as snapshot:
            return stored_article(self._stored(snapshot.searcher, doc_id))

    def similar(
        self,
        doc_id: str | None = None,
        *,
        text: str | None = None,
        article: Article | None = None,
        path: str | os.PathLike[str] | None = None,
        duplicates: bool = False,
        explain: bool = False,
        **options: object,
    ) -> SimilarResults:
        """Articles like an indexed one (by id or URL), a text, an Article or a file.

        >>> [hit.id for hit in index.similar("xa-hoi-02", limit=3).hits]
        ['xa-hoi-01', 'suc-khoe-01', 'suc-khoe-03']
        """
        with self._searchers.acquire() as snapshot:
            searcher = snapshot.searcher
            exclude = None
            if doc_id is not None:
                article = stored_article(self._stored(searcher, doc_id))
                exclude = article.id
            elif text is not None:
                if not text.strip():
                    raise QueryError("the text to compare is empty")
                try:
                    article = Article(id="", body=valid_text(text, "text"))
                except ValueError as error:  # a NUL
                    raise QueryError(f"the text to compare: {error}") from None
            elif path is not None:
                article = _first_article(Path(path))
            if article is None:
                raise QueryError("give an article id, a text, an article or a file")
            return _similar.similar(
                searcher, article, SearchOptions(**options), exclude_id=exclude,  # type: ignore[arg-type]
                keep_duplicates=duplicates, explain=explain,
            )  # fmt: skip

    def duplicates(self) -> list[list[str]]:
        """Clusters of near-duplicate articles (MinHash over word shingles), by id."""
        with self._searchers.acquire() as snapshot:
            reader = snapshot.searcher.reader()
            ids = reader.column_reader("id")
            prints = reader.column_reader("fingerprint")
            return fingerprint.clusters((ids[d], prints[d]) for d in reader.all_doc_ids())

    def stats(self) -> Stats:
        with self._searchers.acquire() as snapshot:
            return self._stats(snapshot.searcher, snapshot.generation)

    def _stats(self, searcher: Searcher, generation: Path) -> Stats:
        meta = generations.read_meta(generation)
        dated = wq.DateRange("date", None, None)
        first = searcher.search(dated, limit=1, sortedby="date")
        last = searcher.search(dated, limit=1, sortedby="date", reverse=True)
        return Stats(
            path=self.path,
            documents=searcher.doc_count(),
            fields=sorted(n for n in searcher.schema.names() if not n.startswith("_")),
            size_bytes=generations.index_size(generation),
            segments=len(searcher.reader().leaf_readers()),
            analyzer_version=int(str(meta.get("analyzer", ANALYZER_VERSION))),
            schema_version=int(str(meta.get("schema", 0))),
            first_date=first[0]["date"] if len(first) else None,
            last_date=last[0]["date"] if len(last) else None,
        )

    def check(self) -> CheckReport:
        """Read every part of the index and check that the parts agree (see
        ``searchidx.check``); raises IndexNotFound or IncompatibleIndex."""
        from searchidx.check import check

        return check(self.path)

    @staticmethod
    def _stored(searcher: Searcher, doc_id: str) -> dict:  # type: ignore[type-arg]
        """The stored fields of the article with this id or URL."""
        doc_id = article_id(doc_id)
        docnum = searcher.document_number(id=doc_id)
        if docnum is None:
            docnum = searcher.document_number(url=doc_id)
        if docnum is None:
            raise UnknownArticle(f"no article with id {doc_id!r} in the index")
        return searcher.stored_fields(docnum)  # type: ignore[no-any-return]


def _first_article(path: Path) -> Article:
    for record in read_path(path):
        if isinstance(record, Article):
            return record
    raise QueryError(f"no article could be read from {path}")


__all__ = [
    "Article", "BuildReport", "Hit", "Index", "Results", "SearchOptions", "SimilarResults", "Stats", "shipped_corpus",
]  # fmt: skip
