"""Why a search found nothing, where the index can tell: said in ``Results.warnings``
so that every front end shows it, not only the command line."""

from __future__ import annotations

import difflib
import math
from typing import TYPE_CHECKING

from whoosh.searching import Searcher

from searchidx import execute
from searchidx.analysis import key
from searchidx.query import And, DateRange, Label, Node, Not, Or

if TYPE_CHECKING:
    from searchidx.querying import SearchOptions

LABEL_OPTIONS = {"category": "categories", "source": "sources"}


def hints(searcher: Searcher, options: SearchOptions, node: Node | None, total: int) -> list[str]:
    """A page past the last one; a date filter on an index without dates; a category
    or source that no article has, with the nearest stored values."""
    found = [_past_the_end(options, total)] if total and options.limit and options.offset >= total else []
    labels = [(f"--{name}", name, value) for name, many in LABEL_OPTIONS.items() for value in getattr(options, many)]
    labels += [
        (f"{n.field}:", n.field, n.value) for n in _positive(node) if isinstance(n, Label) and n.field in LABEL_OPTIONS
    ]
    for option, name, value in labels:
        hint = _unknown_label(searcher, option, name, value)
        if hint:
            found.append(hint)
    dated = options.date_from or options.date_to or any(isinstance(n, DateRange) for n in _positive(node))
    if not total and dated and not execute.dated_documents(searcher):
        found.append("no article in this index has a date, so a date filter matches none")
    return found


def _past_the_end(options: SearchOptions, total: int) -> str:
    last = math.ceil(total / options.limit)
    if options.offset % options.limit == 0:
        return f"{total} results; page {options.offset // options.limit + 1} is past the last page, {last}"
    return f"{total} results; offset {options.offset} is past the last of them"


def _positive(node: Node | None) -> list[Node]:
    """The clauses of a query tree that are not negated."""
    if isinstance(node, (And, Or)):
        return [found for child in node.nodes for found in _positive(child)]
    return [] if node is None or isinstance(node, Not) else [node]


def _unknown_label(searcher: Searcher, option: str, name: str, value: str) -> str | None:
    """None if some article has this label; else what the user may have meant."""
    wanted = key(value)
    if searcher.reader().doc_frequency(f"{name}_key", wanted):
        return None
    stored = {key(v): v for segment in execute.segments(searcher) for v in segment.labels(name)[0] if v}
    near = [v for k, v in stored.items() if wanted and (wanted in k or k in wanted)]
    near += [stored[k] for k in difflib.get_close_matches(wanted, list(stored), n=3, cutoff=0.6)]
    near = list(dict.fromkeys(near))[:3]
    if not stored:
        return f"{option} {value}: no article in this index has a {name}"
    if not near:
        return f"{option} {value}: no article has this {name}"
    return f"{option} {value}: no article has this {name}; did you mean {' or '.join(near)}?"
