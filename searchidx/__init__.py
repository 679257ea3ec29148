"""searchidx: full-text search for Vietnamese news.

The library surface is small: ``Index`` (open, add, delete, search, iter_hits,
similar, show, duplicates, stats) and the dataclasses it returns.
"""

from searchidx._version import __version__
from searchidx.api import Index, Stats, shipped_corpus
from searchidx.corpus import Article, ReadOptions
from searchidx.errors import SearchidxError
from searchidx.index import BuildReport
from searchidx.search import Hit, Results, SearchOptions

__all__ = [
    "Article",
    "BuildReport",
    "Hit",
    "Index",
    "ReadOptions",
    "Results",
    "SearchOptions",
    "SearchidxError",
    "Stats",
    "__version__",
    "shipped_corpus",
]  # fmt: skip
