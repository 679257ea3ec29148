"""searchidx: full-text search for Vietnamese news.

The library surface is small: ``Index`` (open, add, delete, search, iter_hits,
similar, show, duplicates, stats) and the dataclasses it returns.
"""

__version__ = "0.1.0"

from searchidx.api import Index, Stats, shipped_corpus  # noqa: E402
from searchidx.corpus import Article, ReadOptions  # noqa: E402
from searchidx.errors import SearchidxError  # noqa: E402
from searchidx.index import BuildReport  # noqa: E402
from searchidx.search import Hit, Results, SearchOptions  # noqa: E402

__all__ = [
    "Article", "BuildReport", "Hit", "Index", "ReadOptions", "Results",
    "SearchOptions", "SearchidxError", "Stats", "shipped_corpus",
]  # fmt: skip
