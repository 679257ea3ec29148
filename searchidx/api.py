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

import itertools
import os
import sysconfig
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import query as wq
from whoosh.searching import Searcher

from searchidx import fingerprint, generations
from searchidx import index as _index
from searchidx import kwic as _kwic
from searchidx import search as _search
from searchidx import similar as _similar
from searchidx import terms as _terms
from searchidx import trend as _trend
from searchidx.analysis import ANALYZER_VERSION
from searchidx.article import Article, Record
from searchidx.corpus import ReadOptions, read_corpus, read_path
from searchidx.errors import InvalidArgument, QueryError, UnknownArticle, kind
from searchidx.generations import default_index_dir
from searchidx.index import BuildOptions, BuildReport, BuildSettings
from searchidx.kwic import KwicLine
from searchidx.query import valid_text
from searchidx.querying import DateLike, Labels, SearchOptions, as_datetime, as_labels
from searchidx.readers import SearcherPool
from searchidx.results import Hit, Results, SimilarResults
from searchidx.schema import article_id, stored_article
from searchidx.terms import SignificantTerms
from searchidx.trend import Period, Trend, TrendRow

if TYPE_CHECKING:
    from typing_extensions import Unpack

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
    shards: int = 1  # indexes searched as one (``ShardedIndex``)

    def to_dict(self) -> dict[str, object]:
        return {
            **({"shards": self.shards} if self.shards > 1 else {}),
            "path": str(self.path), "documents": self.documents, "fields": self.fields,
            "size_bytes": self.size_bytes, "segments": self.segments,
            "analyzer_version": self.analyzer_version, "schema_version": self.schema_version,
            "first_date": self.first_date.isoformat() if self.first_date else None,
            "last_date": self.last_date.isoformat() if self.last_date else None,
        }  # fmt: skip


class Index:
    """An index directory: build it, search it, find similar articles in it.

    Every method that reads raises IndexNotFound when there is no index,
    IncompatibleIndex when it was built by an incompatible version, and CorruptIndex
    when its files are damaged; all are ``SearchidxError``s with a one-line message.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        """An index at ``path`` (default: $SEARCHIDX_INDEX, else the per-user data
        directory); nothing is read until it is used."""
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
        """Whether an index has been built here."""
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
        options: BuildOptions | None = None,
        **settings: Unpack[BuildSettings],
    ) -> BuildReport:
        """Add or update articles (a repeated id updates); returns what was done.

        Takes Article objects or a reader's records. ``options`` (or its fields as
        keywords: ``rebuild=True``, ``workers=2``...) say how; see ``BuildOptions``.
        Raises BuildRefused when a rebuild would index nothing or reject too many of
        its records (the index is left as it was), IndexLocked when another process
        is writing, IndexWriteFailed when the disk fails (the index is left as it
        was), InvalidArgument for a bad setting."""
        return _index.build(self.path, records, replace(options or BuildOptions(), **settings))

    def index_paths(
        self,
        paths: Sequence[str | os.PathLike[str]],
        read_options: ReadOptions | None = None,
        options: BuildOptions | None = None,
        **settings: Unpack[BuildSettings],
    ) -> BuildReport:
        """Index corpus files and folders (see ``searchidx.corpus`` for formats);
        returns what was done. The build settings and errors are those of ``add``."""
        records = read_corpus([Path(p) for p in paths], read_options or ReadOptions())
        return self.add(records, options, **settings)

    def delete(self, ids: Iterable[str], wait: float = 0.0) -> int:
        """Delete articles by id; returns how many were found and deleted. Raises
        IndexNotFound, or IndexLocked after ``wait`` seconds if another process is
        writing."""
        return _index.delete(self.path, [article_id(i) for i in ids], wait=wait)

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
        """One page of hits (``limit`` from ``offset``) for a query (the query
        language of ``searchidx.query``; "" with a filter lists the filtered articles).

        ``sort`` is "relevance", "date" (oldest first) or "-date". ``date_from`` and
        ``date_to`` (inclusive: the whole day) take a date, a datetime or a string such
        as "2024-01-01"; ``categories`` and ``sources`` one name or several (accents
        and case ignored). ``facets`` counts hits by category, source and month;
        ``snippets`` False skips them (faster) and ``snippet_chars`` shortens them;
        ``match_any`` ranks articles with any of the words. A query typed without
        any diacritic is restored from the index's vocabulary ("ha noi": "Hà Nội",
        ``Results.restored``) and that form ranked first, unless ``restore`` is
        False. Returns ``Results``. Raises QueryError for a query that cannot
        be parsed or run, InvalidArgument for an argument of the wrong type.

        >>> results = index.search("ha noi", limit=2, sort="-date")
        >>> results.total, [(hit.id, str(hit.date.date())) for hit in results.hits]
        (3, [('van-hoa-02', '2025-02-10'), ('thoi-tiet-01', '2024-12-10')])
        >>> index.search("", categories="Văn hoá", date_from="2025-01-01").total
        1
        """
        options = _search_options(
            query, limit=limit, offset=offset, sort=sort, date_from=date_from, date_to=date_to,
            categories=categories, sources=sources, facets=facets, snippets=snippets, snippet_chars=snippet_chars,
            match_any=match_any, restore=restore,
        )  # fmt: skip
        with self._searchers.acquire() as snapshot:
            return _search.search(snapshot.searcher, options)

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
        """Every hit of a search from ``offset`` on, in order, fetched a page at a time
        from one snapshot of the index. Arguments and errors as in ``search``; the
        errors are raised when the first hit is asked for.

        >>> sum(1 for _ in index.iter_hits("bão"))
        3
        """
        options = _search_options(
            query, offset=offset, sort=sort, date_from=date_from, date_to=date_to,
            categories=categories, sources=sources, snippets=snippets, snippet_chars=snippet_chars,
            match_any=match_any, restore=restore,
        )  # fmt: skip
        return self._walk(options)

    def _walk(self, options: SearchOptions) -> Iterator[Hit]:
        """All pages from one searcher: one snapshot, however long the walk."""
        with self._searchers.acquire() as snapshot:
            yield from _search.iter_hits(snapshot.searcher, options)

    def kwic(
        self,
        query: str,
        *,
        width: int = 40,
        sort: str | None = None,
        limit: int | None = 25,
        date_from: DateLike | None = None,
        date_to: DateLike | None = None,
        categories: Labels = (),
        sources: Labels = (),
    ) -> Iterator[KwicLine]:
        """Keyword in context: each occurrence of the query's words or phrases in the
        matching articles, with ``width`` characters of original text each side
        (whole words); ``sort`` "left", "right" (by context) or "date"; ``limit``
        None for every line. Filters as in ``search``. Yields ``KwicLine``s; raises
        QueryError and InvalidArgument as ``search`` does (when the first is asked for).

        >>> for line in index.kwic("mưa lớn", width=20, limit=2):
        ...     print(f"{line.id} {line.left:>20} [{line.match}] {line.right}")
        xa-hoi-01         Bão số 3 gây [mưa lớn] ở các tỉnh phía Bắc
        xa-hoi-01     mạnh cấp 12, gây [mưa] rất to và ngập úng
        """
        search_options = _search_options(
            query, date_from=date_from, date_to=date_to, categories=categories, sources=sources
        )
        with self._searchers.acquire() as snapshot:
            lines = _kwic.kwic(snapshot.searcher, search_options, width=width, sort=sort)
            yield from lines if limit is None else itertools.islice(lines, limit)

    def terms(
        self,
        query: str = "",
        *,
        limit: int = 20,
        date_from: DateLike | None = None,
        date_to: DateLike | None = None,
        categories: Labels = (),
        sources: Labels = (),
    ) -> SignificantTerms:
        """The words unusually frequent in the articles matching the query compared
        with the whole index, best first, like Elasticsearch's significant_terms
        (JLH score; see ``searchidx.terms``). Filters as in ``search``. Returns
        ``SignificantTerms``; raises QueryError and InvalidArgument as ``search`` does.

        >>> found = index.terms("bão", limit=2)
        >>> found.matched, [(t.word, t.matches, t.documents) for t in found.terms]
        (3, [('địa phương', 3, 4), ('nghìn', 3, 3)])
        """
        search_options = _search_options(
            query, date_from=date_from, date_to=date_to, categories=categories, sources=sources
        )
        with self._searchers.acquire() as snapshot:
            return _terms.significant_terms(snapshot.searcher, search_options, limit=limit)

    def show(self, doc_id: str) -> Article:
        """The stored article with this id (or URL); raises UnknownArticle.

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
        limit: int = 10,
        offset: int = 0,
        date_from: DateLike | None = None,
        date_to: DateLike | None = None,
        categories: Labels = (),
        sources: Labels = (),
        snippets: bool = True,
        snippet_chars: int | None = None,
    ) -> SimilarResults:
        """Articles like exactly one of: an indexed one (by id or URL), a ``text``, an
        ``article`` or a file (``path``, read as a corpus file).

        Near-copies are folded into the best-ranked of them unless ``duplicates``;
        ``explain`` lists the key terms each hit shares. The filters and paging are
        those of ``search``. Returns ``SimilarResults``. Raises UnknownArticle for an
        id not in the index, QueryError when not exactly one source is given or it has
        nothing to go on, InvalidArgument for an argument of the wrong type.

        >>> [hit.id for hit in index.similar("xa-hoi-02", limit=3).hits]
        ['xa-hoi-01', 'giao-duc-02', 'suc-khoe-03']
        """
        options = _search_options(
            "", limit=limit, offset=offset, date_from=date_from, date_to=date_to,
            categories=categories, sources=sources, snippets=snippets, snippet_chars=snippet_chars,
        )  # fmt: skip
        with self._searchers.acquire() as snapshot:
            searcher = snapshot.searcher
            article, exclude = source_article(
                doc_id, text, article, path, lambda doc_id: stored_article(self._stored(searcher, doc_id))
            )
            return _similar.similar(
                searcher, article, options, exclude_id=exclude, keep_duplicates=duplicates, explain=explain
            )

    def trend(
        self,
        queries: Labels,
        *,
        by: Period | None = None,
        date_from: DateLike | None = None,
        date_to: DateLike | None = None,
        categories: Labels = (),
        sources: Labels = (),
    ) -> Trend:
        """Matching articles per day, week, month or year for each query, with
        the share of the period's articles (see ``searchidx.trend``); ``by``
        defaults to what suits the range. Dates and labels are given as to
        ``search``. Returns ``Trend``. Raises QueryError for a query that cannot be
        parsed, InvalidArgument for an argument of the wrong type.

        >>> trend = index.trend(["bão", "lũ"], by="year")
        >>> [(row.period, row.query, row.count) for row in trend.rows]
        [('2024', 'bão', 3), ('2024', 'lũ', 2), ('2025', 'bão', 0), ('2025', 'lũ', 0)]
        """
        with self._searchers.acquire() as snapshot:
            return _trend.trend(
                snapshot.searcher, list(as_labels(queries, "queries")), by=by,
                date_from=as_datetime(date_from, "date_from"), date_to=as_datetime(date_to, "date_to"),
                categories=as_labels(categories, "categories"), sources=as_labels(sources, "sources"),
            )  # fmt: skip

    def duplicates(self) -> list[list[str]]:
        """Clusters of near-duplicate articles (MinHash over word shingles), each a
        list of ids."""
        with self._searchers.acquire() as snapshot:
            reader = snapshot.searcher.reader()
            ids = reader.column_reader("id")
            prints = reader.column_reader("fingerprint")
            return fingerprint.clusters((ids[d], prints[d]) for d in reader.all_doc_ids())

    def stats(self) -> Stats:
        """Counts, size, versions and date range of the index."""
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


def _search_options(
    query: str,
    *,
    date_from: DateLike | None,
    date_to: DateLike | None,
    categories: Labels,
    sources: Labels,
    **rest: Any,
) -> SearchOptions:
    """SearchOptions from what users naturally pass (a date string, one category)."""
    return SearchOptions(
        query=query, date_from=as_datetime(date_from, "date_from"), date_to=as_datetime(date_to, "date_to"),
        categories=as_labels(categories, "categories"), sources=as_labels(sources, "sources"), **rest,
    )  # fmt: skip


def source_article(
    doc_id: str | None,
    text: str | None,
    article: Article | None,
    path: str | os.PathLike[str] | None,
    show: Callable[[str], Article],
) -> tuple[Article, str | None]:
    """The article that ``similar`` compares with (exactly one of the four given),
    and its id when it is indexed (``show`` reads it), to leave it out."""
    if sum(x is not None for x in (doc_id, text, article, path)) != 1:
        raise QueryError("give exactly one of an article id, a text, an article or a file")
    if doc_id is not None:
        indexed = show(doc_id)
        return indexed, indexed.id
    if text is not None:
        return _text_article(text), None
    if path is not None:
        return _first_article(Path(path)), None
    assert article is not None
    return article, None


def _text_article(text: str) -> Article:
    """A text to compare, as an article."""
    if not isinstance(text, str):
        raise InvalidArgument(f"text must be a string, not {kind(text)}")
    if not text.strip():
        raise QueryError("the text to compare is empty")
    try:
        return Article(id="", body=valid_text(text, "text"))
    except ValueError as error:  # a NUL
        raise QueryError(f"the text to compare: {error}") from None


def _first_article(path: Path) -> Article:
    for record in read_path(path):
        if isinstance(record, Article):
            return record
    raise QueryError(f"no article could be read from {path}")


__all__ = [
    "Article", "BuildReport", "Hit", "Index", "Results", "SearchOptions", "SimilarResults", "Stats", "Trend",
    "TrendRow", "shipped_corpus",
]  # fmt: skip
