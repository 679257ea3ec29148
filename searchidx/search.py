"""Searching an open index: compile the query (``querying``), run it (``execute``),
and make the hits (``results``), with a "did you mean" (``suggest``) when nothing
matches. See ``querying`` for the matching rule and the ranking."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial

from whoosh import query as wq
from whoosh.searching import Searcher

from searchidx import execute, restore
from searchidx.hints import hints
from searchidx.query import FACETS, ParsedQuery
from searchidx.querying import SearchOptions, compile_query, describe_matching, match_terms, search_filter
from searchidx.results import Hit, Results, make_hit
from searchidx.suggest import suggest


def search(searcher: Searcher, options: SearchOptions) -> Results:
    """One page of a search's results; a query that no article matches in full is
    tried again with the relaxed matching rule, then respelled."""
    started = time.perf_counter()
    by_relevance = options.sort == "relevance"
    restored = restore.restore_query(searcher, options.query) if options.restore and by_relevance else None
    parsed, query = compile_query(options, searcher.reader(), restored=restored)
    node = parsed.node

    def run(query: wq.Query) -> execute.Ranked:
        return execute.run(
            searcher,
            query,
            limit=options.offset + options.limit,
            filter=search_filter(options),
            sort=None if by_relevance else "date",
            reverse=options.sort == "-date",
            facets=FACETS if options.facets else (),
        )

    ranked, relaxed = run(query), False
    if not ranked.total and node is not None:
        _, loose = compile_query(options, searcher.reader(), relaxed=True, restored=restored)
        if loose != query:  # a query of a few words that no article has all of
            ranked, relaxed = run(loose), True
    terms = match_terms(node, restored=restored is not None) if options.snippets else None
    window = range(options.offset, len(ranked.docnums))
    hits = [
        make_hit(
            searcher, ranked.docnums[i], i + 1, ranked.scores[i] if by_relevance else None, terms, options.snippet_chars
        )
        for i in window
    ]
    total = ranked.total
    out = Results(options.query, total, 0.0, hits, facets=ranked.facets)
    suggestion = suggest(searcher, options) if total == 0 and node is not None else None
    return described(
        out, options, parsed, hints(searcher, options, node, total), relaxed, restored, suggestion, started
    )


def described(
    out: Results,
    options: SearchOptions,
    parsed: ParsedQuery,
    warnings: list[str],
    relaxed: bool,
    restored: restore.Restoration | None,
    suggestion: str | None,
    started: float,
) -> Results:
    """Results with what the output says about the query: warnings, the matching
    rule, the restored form, a respelling, the time taken (one index or several)."""
    out.warnings = [*parsed.warnings, *warnings]
    out.matching, out.matching_note = describe_matching(parsed.node, options.match_any, relaxed)
    out.restored = restored.text if restored else None
    out.suggestion = suggestion
    out.took_ms = (time.perf_counter() - started) * 1000
    return out


def iter_hits(searcher: Searcher, options: SearchOptions, page_size: int = 100) -> Iterator[Hit]:
    """Every hit of a search, fetched a page at a time."""
    return paged_hits(partial(search, searcher), options, page_size)


def paged_hits(run: Callable[[SearchOptions], Results], options: SearchOptions, page_size: int = 100) -> Iterator[Hit]:
    """Every hit of a search that ``run`` makes (one index or several), a page at a time."""
    offset = options.offset
    while True:
        page = run(replace(options, offset=offset, limit=page_size, facets=False))
        yield from page.hits
        offset += page_size
        if offset >= page.total or not page.hits:
            return
