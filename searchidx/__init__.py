"""searchidx: full-text search for Vietnamese news.

The library surface is small: ``Index`` (open, add, delete, search, iter_hits,
similar, show, duplicates, stats) and the dataclasses it returns.
"""

__version__ = "0.1.0"

from searchidx.api import Index, Stats, shipped_corpus
from searchidx.corpus import Article, ReadOptions
from searchidx.errors import SearchidxError
from searchidx.index import BuildReport
from searchidx.search import Hit, Results, SearchOptions

__all__ = [
    "Article", "BuildReport", "Hit", "Index", "ReadOptions", "Results",
    "SearchOptions", "SearchidxError", "Stats", "shipped_corpus",
]  # fmt: skip
