"""searchidx: full-text search for Vietnamese news.

The library surface is small: ``Index`` (open, add, delete, search, iter_hits,
kwic, terms, trend, similar, show, duplicates, stats), ``ShardedIndex`` (several indexes
searched as one; ``index_shards`` splits a corpus into them) and the dataclasses they return.
The names are
imported on first use, so that ``searchidx --help`` does not load Whoosh or pyvi.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from searchidx._version import __version__

if TYPE_CHECKING:
    from searchidx.api import Index, Stats, shipped_corpus
    from searchidx.article import Article
    from searchidx.corpus import ReadOptions
    from searchidx.errors import SearchidxError
    from searchidx.index import BuildOptions, BuildReport
    from searchidx.kwic import KwicLine
    from searchidx.querying import SearchOptions
    from searchidx.results import Hit, Results, SimilarHit, SimilarResults
    from searchidx.sharded import ShardedIndex, index_shards
    from searchidx.terms import SignificantTerm, SignificantTerms
    from searchidx.trend import Trend, TrendRow

_HOMES = {
    "Index": "api", "Stats": "api", "shipped_corpus": "api", "Article": "article", "ReadOptions": "corpus",
    "SearchidxError": "errors", "BuildOptions": "index", "BuildReport": "index", "Hit": "results", "Results": "results",
    "SimilarHit": "results", "SimilarResults": "results", "SearchOptions": "querying", "Trend": "trend",
    "TrendRow": "trend", "KwicLine": "kwic", "SignificantTerm": "terms", "SignificantTerms": "terms",
    "ShardedIndex": "sharded", "index_shards": "sharded",
}  # fmt: skip

__all__ = [
    "Article",
    "BuildOptions",
    "BuildReport",
    "Hit",
    "Index",
    "KwicLine",
    "ReadOptions",
    "Results",
    "SearchOptions",
    "SearchidxError",
    "ShardedIndex",
    "SignificantTerm",
    "SignificantTerms",
    "SimilarHit",
    "SimilarResults",
    "Stats",
    "Trend",
    "TrendRow",
    "__version__",
    "index_shards",
    "shipped_corpus",
]  # fmt: skip


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module 'searchidx' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"searchidx.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
