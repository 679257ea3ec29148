"""How often topics come up over time: matching articles per day, week, month or year.

Each query is compiled and matched exactly as ``search`` does it (full query syntax,
category and source filters), and its matches are counted per period from the date
column with one ``bincount`` per segment, so no stored document is read. The share
beside each count is out of every article of that period that passes the same
category and source filters: a rise in "bão" during a month with twice as many
articles is not a rise in interest.

Every period of the range appears, in date order, zero periods included (a gap is
data). The range is ``date_from``..``date_to`` (both days included); an end not
given is the first or last dated article that passes the filters. The first and
last periods are cut to the range, and each row says which days it counted, so a
row's count equals a ``search`` total with ``--from``/``--to`` set to its days.
Articles without a date cannot be placed in any period: they are counted apart.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher

from searchidx import execute
from searchidx.errors import MissingExtra, OutputPathError, QueryError
from searchidx.query import PERIODS
from searchidx.querying import SearchOptions, compile_query, search_filter

Period = Literal["day", "week", "month", "year"]  # searchidx.query.PERIODS

#: Default period by the length of the range: enough points for a shape, few
#: enough to read (60 days, 78 weeks, 120 months at most).
DAYS_BY_DAY = 60
DAYS_BY_WEEK = 548  # 1.5 years
DAYS_BY_MONTH = 3653  # 10 years

_TICKS_PER_DAY = 86_400_000_000  # Whoosh stores datetimes as microseconds since 0001-01-01
_NO_DATE = np.iinfo(np.uint64).max  # the date column's value for an undated article


@dataclass(frozen=True)
class TrendRow:
    """One query in one period: ``count`` matching articles out of ``articles``
    that pass the filters, over the days ``start``..``end`` (both included)."""

    period: str  # "2026-02-03", "2026-W05", "2026-02" or "2026"
    start: date
    end: date
    query: str
    count: int
    articles: int

    @property
    def share(self) -> float:
        """The count as a share of the period's articles (0 when it has none)."""
        return self.count / self.articles if self.articles else 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "period": self.period, "start": self.start.isoformat(), "end": self.end.isoformat(),
            "query": self.query, "count": self.count, "articles": self.articles, "share": round(self.share, 6),
        }  # fmt: skip


@dataclass(frozen=True)
class QueryTotals:
    """A query's matches over the whole range, and those that have no date."""

    query: str
    total: int
    undated: int


@dataclass(frozen=True)
class Trend:
    """Counts per period for each query; ``rows`` in date order, the queries in
    the order given within each period."""

    by: Period
    date_from: date | None  # None: the index has no dated article (that passes the filters)
    date_to: date | None
    queries: list[QueryTotals]
    rows: list[TrendRow]

    def counts(self, query: str) -> list[int]:
        """One query's counts, period by period (for charts)."""
        return [row.count for row in self.rows if row.query == query]

    def periods(self) -> list[str]:
        return list(dict.fromkeys(row.period for row in self.rows))

    def to_dict(self) -> dict[str, object]:
        return {
            "by": self.by,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "queries": [{"query": q.query, "total": q.total, "undated": q.undated} for q in self.queries],
            "rows": [row.to_dict() for row in self.rows],
        }


# --- periods --------------------------------------------------------------------------


def default_period(first: date, last: date) -> Period:
    """The period that suits a range's length (see ``DAYS_BY_DAY`` etc.)."""
    days = (last - first).days + 1
    if days <= DAYS_BY_DAY:
        return "day"
    if days <= DAYS_BY_WEEK:
        return "week"
    return "month" if days <= DAYS_BY_MONTH else "year"


def period_start(day: date, by: Period) -> date:
    """The first day of the period that holds ``day`` (weeks start on Monday, ISO)."""
    if by == "week":
        return day - timedelta(days=day.weekday())
    if by == "month":
        return day.replace(day=1)
    if by == "year":
        return day.replace(month=1, day=1)
    return day


def _next_start(start: date, by: Period) -> date:
    if by == "day":
        return start + timedelta(days=1)
    if by == "week":
        return start + timedelta(days=7)
    if by == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return date(start.year + 1, 1, 1)


def period_label(start: date, by: Period) -> str:
    if by == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return start.isoformat()[: {"day": 10, "month": 7, "year": 4}[by]]


Span = tuple[date, date]  # first and last day, both included


def _periods(first: date, last: date, by: Period) -> list[Span]:
    """The periods that cover ``first``..``last``, each cut to that range."""
    spans = []
    start = period_start(first, by)
    while start <= last:
        following = _next_start(start, by)
        spans.append((max(start, first), min(following - timedelta(days=1), last)))
        start = following
    return spans


# --- counting ---------------------------------------------------------------------------

Array = np.ndarray[Any, Any]


def _days(segment: execute.Segment) -> Array:
    """Each document's day as a proleptic ordinal (``date.toordinal``), -1 if undated."""
    ticks = segment.numbers("date")
    days = (ticks // _TICKS_PER_DAY).astype(np.int64) + 1
    days[ticks == _NO_DATE] = -1
    return days


def _matching_days(searcher: Searcher, query: wq.Query, filter: wq.Query | None) -> Array:
    """The day of every article that matches (-1 for undated ones)."""
    parts = [_days(segment)[match.mask] for segment, match in execute.matches(searcher, query, filter=filter)]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def _per_period(days: Array, spans: list[Span]) -> list[int]:
    """How many of ``days`` fall in each span (spans are consecutive and sorted)."""
    if not spans:
        return []
    starts = np.array([s.toordinal() for s, _ in spans])
    inside = days[(days >= starts[0]) & (days <= spans[-1][1].toordinal())]
    return [int(c) for c in np.bincount(np.searchsorted(starts, inside, side="right") - 1, minlength=len(spans))]


def _query_days(searcher: Searcher, options: SearchOptions, filter: wq.Query | None, spans: list[Span]) -> Array:
    """The days of the articles a query matches as ``search`` runs it: loosened
    (``relaxed``) when nothing in the range, or nothing at all, matches it strictly."""
    _, query = compile_query(options, searcher.reader())
    days = _matching_days(searcher, query, filter)
    matched = sum(_per_period(days, spans)) if spans else len(days)
    if matched or not options.query.strip():
        return days
    _, loose = compile_query(options, searcher.reader(), relaxed=True)
    return days if loose == query else _matching_days(searcher, loose, filter)


def _range(everything: Array, date_from: date | None, date_to: date | None) -> Span | None:
    """The range to count over: as given, the ends not given taken from the dated
    articles; None when there is nothing to count."""
    dated = everything[everything > 0]
    first = date_from or (date.fromordinal(int(dated.min())) if len(dated) else None)
    last = date_to or (date.fromordinal(int(dated.max())) if len(dated) else None)
    if first is None or last is None:
        return None
    if first > last:
        raise QueryError(f"the range is empty: {first} is after {last}")
    return first, last


def trend(
    searcher: Searcher,
    queries: Sequence[str],
    *,
    by: Period | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    categories: tuple[str, ...] = (),
    sources: tuple[str, ...] = (),
) -> Trend:
    """Matching articles per period for each query, with the period's article count."""
    queries = list(dict.fromkeys(queries))  # a query given twice is one series
    if not queries:
        raise QueryError("give at least one query")
    if by is not None and by not in PERIODS:
        raise QueryError(f"unknown period {by!r} (use one of: {', '.join(PERIODS)})")
    base = SearchOptions(categories=categories, sources=sources)
    filter = search_filter(base)
    everything = _matching_days(searcher, wq.Every(), filter)
    span = _range(everything, _day(date_from), _day(date_to))
    chosen = by or (default_period(*span) if span else "day")
    spans = _periods(*span, chosen) if span else []
    articles = _per_period(everything, spans)
    totals, counts = [], []
    for text in queries:
        days = _query_days(searcher, replace(base, query=text), filter, spans)
        per_period = _per_period(days, spans)
        totals.append(QueryTotals(text, sum(per_period), int(np.count_nonzero(days < 0))))
        counts.append(per_period)
    rows = [
        TrendRow(period_label(start, chosen), start, end, text, counts[q][p], articles[p])
        for p, (start, end) in enumerate(spans)
        for q, text in enumerate(queries)
    ]
    return Trend(chosen, span[0] if span else None, span[1] if span else None, totals, rows)


def _day(value: date | None) -> date | None:
    """A day from a date or a datetime (the CLI and ``search`` pass datetimes)."""
    return value.date() if isinstance(value, datetime) else value


# --- charts -------------------------------------------------------------------------------

PLOT_FORMATS = (".png", ".svg")


def plot(trend: Trend, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
    """Draw the trend as a chart, one line per query, to a .png or .svg file.

    Needs matplotlib (``pip install 'searchidx[plot]'``), imported only here; the
    figure is drawn without pyplot, so a caller's matplotlib state (backend, open
    figures) is left alone."""
    target = Path(path)
    if target.suffix.lower() not in PLOT_FORMATS:
        raise OutputPathError(f"cannot plot to {target.name}: give a .png or .svg file")
    try:
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise MissingExtra("plotting needs matplotlib: pip install 'searchidx[plot]'") from None
    figure = Figure(figsize=(9, 4.5), layout="constrained")
    axes = figure.add_subplot()
    starts = np.array([row.start for row in trend.rows if row.query == trend.queries[0].query], dtype="datetime64[D]")
    for totals in trend.queries:
        axes.plot(starts, trend.counts(totals.query), marker="o", markersize=3, label=totals.query)
    axes.set_xlabel(f"{trend.by} (from {trend.date_from} to {trend.date_to})")
    axes.set_ylabel(f"matching articles per {trend.by}")
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    dates = AutoDateLocator()
    axes.xaxis.set_major_locator(dates)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(dates))
    axes.set_title(title or "Articles matching " + ", ".join(f"“{q.query}”" for q in trend.queries))
    axes.legend()
    axes.grid(alpha=0.3)
    try:
        figure.savefig(target)
    except OSError as error:
        raise OutputPathError(f"cannot write {target}: {error.strerror or error}") from None
    return target
