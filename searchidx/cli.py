"""The ``searchidx`` command: argument parsing and output formatting only.

Every piece of logic lives in the library (``searchidx.api``); this module turns
options into calls and results into text, JSON, JSON Lines or TREC run lines.
Exit codes: 0 success, 1 the index cannot be used or written (missing, locked,
incompatible, disk full, read-only), 2 bad input (query, id, option, a refused
rebuild), 3 an index build that finished but rejected some records.
"""

from __future__ import annotations

import csv
import functools
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import quote

import click
import orjson

from searchidx._version import __version__
from searchidx.errors import IndexNotFound, SearchidxError
from searchidx.limits import MAX_RECORD_CHARS, MAX_REJECTED
from searchidx.query import FACETS, PERIODS, SORTS

if TYPE_CHECKING:  # the library is imported by the commands that use it: --help stays fast
    from searchidx.api import Index
    from searchidx.article import Reject, Warn
    from searchidx.index import BuildReport
    from searchidx.results import Hit, Results, SimilarHit, SimilarResults
    from searchidx.trend import Trend

EXIT_REJECTS = 3


def _fail(error: SearchidxError) -> None:
    click.echo(f"searchidx: error: {_printable(str(error))}", err=True)
    sys.exit(error.exit_code)


def handles_errors(command: Callable) -> Callable:  # type: ignore[type-arg]
    """Report library errors as one line and an exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            return command(*args, **kwargs)
        except SearchidxError as error:
            _fail(error)
        except KeyboardInterrupt:
            click.echo("searchidx: interrupted; the index is as it was before", err=True)
            sys.exit(130)
        return None

    return wrapper


# --- shared options ---------------------------------------------------------------------


def index_option(command: Callable) -> Callable:  # type: ignore[type-arg]
    return click.option(
        "--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
        help="Index directory [default: $SEARCHIDX_INDEX, else ~/.local/share/searchidx/index].",
    )(command)  # fmt: skip


def format_option(*formats: str) -> Callable:  # type: ignore[type-arg]
    """``--format``, plain text by default, with the machine-readable forms given."""
    return click.option(
        "--format", "fmt", type=click.Choice(["text", *formats]), default="text", show_default=True,
        help="Output format.",
    )  # fmt: skip


def _with(command: Callable, options: list[Callable]) -> Callable:  # type: ignore[type-arg]
    for option in reversed(options):
        command = option(command)
    return command


def date_and_label_filters(command: Callable) -> Callable:  # type: ignore[type-arg]
    """``--from``, ``--to``, ``--category``, ``--source``: the filters every
    command that counts or lists articles shares."""
    return _with(command, [
        click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="Only articles from this day on."),
        click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Only articles up to this day."),
        click.option(
            "--category", "categories", multiple=True,
            help="Only this category (repeatable; accents and case ignored).",
        ),
        click.option("--source", "sources", multiple=True, help="Only this source (repeatable)."),
    ])  # fmt: skip


def filter_options(command: Callable) -> Callable:  # type: ignore[type-arg]
    options = [
        date_and_label_filters,
        click.option("--limit", default=10, show_default=True, type=click.IntRange(0), help="Hits to show."),
        click.option("--offset", default=0, type=click.IntRange(0), help="Hits to skip."),
        click.option("--page", type=click.IntRange(1), help="Page number (sets --offset from --limit)."),
        click.option(
            "--format", "fmt", type=click.Choice(["text", "json", "jsonl", "trec"]), default="text",
            show_default=True, help="Output format.",
        ),
        click.option("--run-tag", default="searchidx", show_default=True, help="Run name in --format trec."),
    ]  # fmt: skip
    return _with(command, options)


def _search_options(kwargs: dict) -> dict:  # type: ignore[type-arg]
    """Library options from the shared CLI options."""
    page = kwargs.pop("page", None)
    if page:
        kwargs["offset"] = (page - 1) * kwargs["limit"]
    return {k: (tuple(v) if isinstance(v, (list, tuple)) else v) for k, v in kwargs.items()}


class _QueryMayStartWithADash(click.Command):
    """``searchidx search "-COVID bão"`` needs no ``--``: an argument that starts with
    one dash but is none of the command's options is the query, not an unknown option."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        params = self.get_params(ctx)
        known = {name for p in params for name in (*p.opts, *p.secondary_opts)}
        valued = {name for p in params if isinstance(p, click.Option) and not p.is_flag for name in p.opts}
        kept: list[str] = []
        dashed: list[str] = []
        i = 0
        while i < len(args) and args[i] != "--":
            arg = args[i]
            if arg in valued:
                kept += args[i : i + 2]
                i += 2
                continue
            is_query = arg.startswith("-") and not arg.startswith("--") and arg != "-" and arg not in known
            (dashed if is_query else kept).append(arg)
            i += 1
        return super().parse_args(ctx, [*kept, "--", *dashed, *args[i + 1 :]])


# --- output -----------------------------------------------------------------------------

# Control characters in stored text or file names must not reach a terminal raw (ESC
# starts sequences that recolour, retitle or rewrite the screen): each becomes one
# visible character, so highlight offsets stay right. JSON output keeps the data.
_CONTROL_PICTURES = {c: 0x2400 + c for c in range(0x20) if chr(c) not in "\t\n"} | {0x7F: 0x2421}
_PRINTABLE = str.maketrans({**_CONTROL_PICTURES, **{c: 0xFFFD for c in range(0x80, 0xA0)}})


def _printable(text: str) -> str:
    return text.translate(_PRINTABLE)


def _style(text: str, **style: object) -> str:
    return click.style(_printable(text), **style)  # type: ignore[arg-type]


_TREC_UNSAFE = re.compile(r"[%\s\x00-\x1f\x7f-\x9f]")


def trec_id(text: str) -> str:
    """An id, query id or run tag as one TREC column: whitespace, control characters
    and '%' percent-encoded (UTF-8), so "Vi tinh/VT_TT_ (2446)" becomes
    "Vi%20tinh/VT_TT_%20(2446)" and ``urllib.parse.unquote`` gives the id back."""
    return _TREC_UNSAFE.sub(lambda m: quote(m[0], safe=""), text)


def _marked(text: str, spans: Iterable[tuple[int, int]], style: dict) -> str:  # type: ignore[type-arg]
    text = _printable(text)
    out, last = [], 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(click.style(text[start:end], **style))
        last = end
    out.append(text[last:])
    return "".join(out)


def _hit_text(hit: Hit | SimilarHit) -> str:
    from searchidx.results import SimilarHit

    title = click.style(_marked(hit.title, hit.title_highlights, {"fg": "yellow"}), bold=True)
    meta = " · ".join(
        x for x in (hit.date.strftime("%Y-%m-%d") if hit.date else "", hit.category, hit.source, hit.id) if x
    )
    score = "" if hit.score is None else f"  score {hit.score:.2f}"
    lines = [f"{hit.rank:>3}. {title}", f"     {_style(meta, dim=True)}{score}"]
    if hit.snippet:
        lines.append("     " + _marked(hit.snippet, hit.highlights, {"fg": "yellow", "bold": True}))
    if isinstance(hit, SimilarHit) and hit.duplicates:
        lines.append(_printable(f"     (+{len(hit.duplicates)} near-duplicate(s): {', '.join(hit.duplicates)})"))
    if isinstance(hit, SimilarHit) and hit.shared_terms:
        lines.append(_printable(f"     shares: {', '.join(hit.shared_terms)}"))
    return "\n".join(lines)


def _json(obj: object) -> str:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


def _write_json(obj: object) -> None:
    click.echo(_json(obj))


def print_results(
    results: Results | SimilarResults, fmt: str, qid: str | None = None, run_tag: str = "searchidx"
) -> None:
    """Results in a format; the query's warnings go to stderr, except in json
    output, which carries them."""
    from searchidx.results import Results, SimilarResults

    if fmt == "json":
        _write_json(results.to_dict() if qid is None else {"qid": qid, **results.to_dict()})
        return
    for warning in results.warnings if isinstance(results, Results) else ():
        click.echo(_printable(f"searchidx: warning: {'' if qid is None else f'query {qid}: '}{warning}"), err=True)
    if fmt == "jsonl":
        for hit in results.hits:
            _write_json(hit.to_dict() if qid is None else {"qid": qid, **hit.to_dict()})
        return
    if fmt == "trec":
        for hit in results.hits:
            # sorted by date there is no relevance score: -rank keeps the order for trec_eval
            score = -hit.rank if hit.score is None else hit.score
            click.echo(f"{trec_id(qid or '1')} Q0 {trec_id(hit.id)} {hit.rank} {score:.4f} {trec_id(run_tag)}")
        return
    shown = f"{results.hits[0].rank}-{results.hits[-1].rank} of " if results.hits else ""
    click.echo(click.style(f"{shown}{results.total} results ({results.took_ms:.0f} ms)", dim=True))
    if isinstance(results, Results) and results.matching in ("most", "any"):
        click.echo(click.style(f"matching {results.matching} words: {results.matching_note}", dim=True))
    if isinstance(results, SimilarResults) and results.key_terms:
        click.echo(_printable("key terms: " + ", ".join(t for t, _ in results.key_terms)))
    if isinstance(results, SimilarResults) and results.source_duplicates:
        click.echo(_printable(f"near-copies of this article left out: {', '.join(results.source_duplicates)}"))
    for hit in results.hits:
        click.echo(_hit_text(hit))
    if isinstance(results, Results) and results.suggestion:
        click.echo(f"Did you mean: {_style(results.suggestion, bold=True)}")
    for name in FACETS:
        counts = results.facets.get(name) if isinstance(results, Results) else None
        if counts:
            click.echo(click.style(f"\n{name}:", bold=True))
            for value, count in counts[:20]:
                click.echo(_printable(f"  {count:>7}  {value}"))


# --- commands ---------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="searchidx")
def main() -> None:
    """Full-text search for Vietnamese news: index, search, find similar articles."""


class _Progress:
    """A progress bar on a terminal; plain lines every few seconds otherwise."""

    def __init__(self, total: int | None, quiet: bool) -> None:
        self.total, self.quiet = total, quiet
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self.last_line = 0.0

    def __call__(self, report: BuildReport) -> None:
        if self.quiet:
            return
        done = report.processed
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        eta = f", ETA {(self.total - done) / rate:.0f}s" if self.total and rate and done < self.total else ""
        of = f"/{self.total}" if self.total else ""
        line = f"{done}{of} articles, {rate:.0f}/s{eta}"
        if self.tty:
            width = 30
            bar = "#" * int(width * done / self.total) if self.total else ""
            click.echo(f"\r[{bar:<{width}}] {line}   ", nl=False, err=True)
        elif time.monotonic() - self.last_line >= 5:
            click.echo(line, err=True)
            self.last_line = time.monotonic()

    def finish(self) -> None:
        if self.tty and not self.quiet:
            click.echo(err=True)


def _category_map(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        folder, sep, name = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"expected FOLDER=NAME, got {pair!r}", param_hint="--category-name")
        mapping[folder] = name
    return mapping


@main.command("index")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@index_option
@click.option("--rebuild", is_flag=True, help="Start from nothing (built beside the old index, then swapped in).")
@click.option("--allow-empty", is_flag=True, help="Let a rebuild or first build publish an index with no articles.")
@click.option(
    "--max-rejected", type=click.FloatRange(0, 1), default=MAX_REJECTED, show_default=True,
    help="Refuse a rebuild that rejects more than this share of its records (the old index stays).",
)  # fmt: skip
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=os.cpu_count() or 1,
    show_default=True,
    help="Processes for segmentation.",
)
@click.option(
    "--rejects", type=click.Path(dir_okay=False, path_type=Path), help="Write rejected records here (JSON Lines)."
)
@click.option(
    "--category-name",
    "category_names",
    multiple=True,
    metavar="FOLDER=NAME",
    help="Display name for a category folder.",
)
@click.option(
    "--max-record-chars", type=click.IntRange(1), default=MAX_RECORD_CHARS, show_default=True,
    help="Reject longer records (a JSON Lines line, CSV row, JSON object, .txt file).",
)  # fmt: skip
@click.option("--wait", type=click.FloatRange(0), default=0, help="Seconds to wait for another writer to finish.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@handles_errors
def index_command(
    paths: tuple[Path, ...], index_dir: Path | None, rebuild: bool, allow_empty: bool, max_rejected: float,
    workers: int, rejects: Path | None, category_names: tuple[str, ...], max_record_chars: int, wait: float,
    quiet: bool,
) -> None:  # fmt: skip
    """Index corpus files and folders (default: the shipped sample corpus).

    Reads JSON Lines (.jsonl, .jsonl.gz), JSON arrays, CSV, .txt page text and
    folders of them. A repeated id updates the article."""
    from searchidx.api import Index, shipped_corpus
    from searchidx.article import Reject
    from searchidx.corpus import ReadOptions, count_records, open_problem_log, read_corpus

    paths = paths or (shipped_corpus(),)
    reject_log = open_problem_log(rejects, paths) if rejects else None
    index = Index(index_dir)
    progress = _Progress(count_records(paths), quiet)

    def on_problem(problem: Reject | Warn) -> None:
        if not quiet or isinstance(problem, Reject):
            click.echo(("\n" if progress.tty and not quiet else "") + _printable(str(problem)), err=True)
        if reject_log:
            level = "rejected" if isinstance(problem, Reject) else "warning"
            reject_log.write(
                _json({"path": problem.path, "line": problem.line, "reason": problem.reason, "level": level}) + "\n"
            )

    try:
        records = read_corpus(paths, ReadOptions(_category_map(category_names), max_record_chars))
        report = index.add(
            records, rebuild=rebuild, allow_empty=allow_empty, max_rejected=max_rejected, workers=workers,
            wait=wait, on_progress=progress, on_problem=on_problem,
        )  # fmt: skip
    finally:
        progress.finish()
        if reject_log:
            reject_log.close()
    click.echo(
        f"indexed {report.indexed}, updated {report.updated}, skipped {report.skipped} unchanged, "
        f"rejected {len(report.rejected)}, warnings {len(report.warnings)} "
        f"in {report.seconds:.1f}s -> {index.path}",
        err=True,
    )
    if report.rejected:
        sys.exit(EXIT_REJECTS)


def _open_for_reading(index_dir: Path | None) -> Index:
    """Open the index; at the default location, build it from the sample first."""
    from searchidx.api import Index, shipped_corpus
    from searchidx.corpus import read_corpus

    index = Index(index_dir)
    if index.exists() or index_dir is not None or os.environ.get("SEARCHIDX_INDEX"):
        return Index.open(index.path)
    corpus = shipped_corpus()
    click.echo(f"No index at {index.path}; building one from the sample corpus {corpus} first.", err=True)
    report = index.add(read_corpus([corpus]), workers=1)
    click.echo(f"indexed {report.indexed} articles.", err=True)
    return index


@main.command("search", cls=_QueryMayStartWithADash)
@click.argument("query", required=False, default="")
@index_option
@filter_options
@click.option(
    "--sort", type=click.Choice(SORTS), default="relevance", show_default=True,
    help="Order: relevance, date (oldest first) or -date (newest first); undated articles come last.",
)  # fmt: skip
@click.option("--facets", is_flag=True, help="Count hits by category, source and month.")
@click.option(
    "--batch",
    # bytes that are not UTF-8 reach the library, which refuses that one line
    type=click.File("r", encoding="utf-8", errors="surrogateescape"),
    help="Run every query of FILE ('-' for stdin): 'query' or 'qid<TAB>query' a line.",
)
@click.option("--no-snippets", is_flag=True, help="Skip snippets (faster).")
@click.option("--any", "match_any", is_flag=True, help="Match articles with any of the words (ranked), not only all.")
@handles_errors
def search_command(
    query: str, index_dir: Path | None, fmt: str, run_tag: str, batch: TextIO | None, no_snippets: bool,
    **kwargs: object,
) -> None:  # fmt: skip
    """Search: words (all must match), "phrases", OR, NOT/-word, (groups),
    title:/sapo:/body:/category:/source:/tags:/date: fields."""
    index = _open_for_reading(index_dir)
    options = _search_options(kwargs)
    options["snippets"] = not no_snippets and fmt != "trec"
    if batch is None:
        print_results(index.search(query, **options), fmt, run_tag=run_tag)
        return
    failed = 0
    for number, line in enumerate(batch, 1):
        if not line.strip():
            continue
        qid, tab, text = line.rstrip("\n").partition("\t")
        qid, text = (qid, text) if tab else (str(number), qid)
        try:
            results = index.search(text, **options)
            print_results(results, "jsonl" if fmt in ("text", "json") else fmt, qid=qid, run_tag=run_tag)
        except SearchidxError as error:
            failed += 1
            click.echo(_printable(f"searchidx: line {number} ({qid}): {error}"), err=True)
    if failed:
        sys.exit(2)


@main.command("show")
@click.argument("doc_id")
@index_option
@format_option("json")
@handles_errors
def show_command(doc_id: str, index_dir: Path | None, fmt: str) -> None:
    """Print a whole article by id (or URL)."""
    article = _open_for_reading(index_dir).show(doc_id)
    if fmt == "json":
        _write_json(article.to_dict())
        return
    click.echo(_style(article.title, bold=True))
    meta = [
        article.date.strftime("%Y-%m-%d %H:%M") if article.date else "",
        article.category,
        article.source,
        article.url,
        article.id,
    ]
    click.echo(_style(" · ".join(x for x in meta if x), dim=True))
    if article.sapo:
        click.echo("\n" + _style(article.sapo, bold=True))
    click.echo("\n" + _printable(article.body.replace("\n", "\n\n")))


@main.command("similar")
@click.argument("doc_id", required=False)
@index_option
@filter_options
@click.option("--text", help="Find articles like this text.")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="…like this article file (page text or JSON).",
)
@click.option("--duplicates", "keep_duplicates", is_flag=True, help="Keep near-duplicates instead of collapsing them.")
@click.option("--explain", is_flag=True, help="Show the key terms and which ones each result shares.")
@handles_errors
def similar_command(
    doc_id: str | None, index_dir: Path | None, fmt: str, run_tag: str, text: str | None, path: Path | None,
    keep_duplicates: bool, explain: bool, **kwargs: object,
) -> None:  # fmt: skip
    """Articles like an indexed one (ID or URL), a --text or a --file."""
    if sum(x is not None for x in (doc_id, text, path)) != 1:
        raise click.UsageError("give exactly one of ID, --text or --file")
    index = _open_for_reading(index_dir)
    results = index.similar(
        doc_id, text=text, path=path, duplicates=keep_duplicates, explain=explain, **_search_options(kwargs)
    )
    print_results(results, fmt, run_tag=run_tag)


_SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(counts: list[int], width: int) -> str:
    """Counts as a line of block characters, at most ``width`` long (neighbouring
    periods summed to fit); a period with none is a dot, so gaps show."""
    group = max(1, -(-len(counts) // max(width, 1)))
    counts = [sum(counts[i : i + group]) for i in range(0, len(counts), group)]
    top = max(counts, default=0)
    return "".join(_SPARKS[-(-c * len(_SPARKS) // top) - 1] if c else "·" for c in counts)


def _print_trend_table(trend: Trend) -> None:
    """A chart line per query, then a row per period: articles, and each query's
    count and share."""
    names = [q.query for q in trend.queries]
    label_width = max(len(n) for n in names)
    columns = shutil.get_terminal_size().columns
    for totals in trend.queries:
        spark = sparkline(trend.counts(totals.query), columns - label_width - 20)
        click.echo(_printable(f"{totals.query:<{label_width}}  {spark}  {totals.total} articles"))
    if trend.date_from is None:
        click.echo(click.style("no article in this range has a date", dim=True))
    else:
        click.echo(click.style(f"per {trend.by}, {trend.date_from} to {trend.date_to}", dim=True))
    widths = [max(len(n), 13) for n in names]

    def line(period: str, articles: str, cells: list[str]) -> str:
        return f"{period:<10} {articles:>8}  " + "  ".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True))

    click.echo(_style(line("period", "articles", names), bold=True))
    for at in range(0, len(trend.rows), len(names)):
        rows = trend.rows[at : at + len(names)]
        click.echo(line(rows[0].period, str(rows[0].articles), [f"{r.count:>6} {r.share:>6.1%}" for r in rows]))


def _note_undated(trend: Trend) -> None:
    for totals in trend.queries:
        if totals.undated:
            click.echo(_printable(f"{totals.query}: {totals.undated} matching articles have no date"), err=True)


@main.command("trend", cls=_QueryMayStartWithADash)
@click.argument("queries", nargs=-1, required=True, metavar="QUERY...")
@index_option
@date_and_label_filters
@click.option(
    "--by", type=click.Choice(PERIODS),
    help="Count per day, week (ISO, from Monday), month or year [default: from the range: day up to "
    "60 days, week up to 1.5 years, month up to 10 years, else year].",
)  # fmt: skip
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json", "jsonl"]), default="table", show_default=True,
    help="Output format: a table with a chart per query, or one row per period and query.",
)  # fmt: skip
@click.option(
    "--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw a chart, one line per query, to this .png or .svg file (needs searchidx[plot]).",
)  # fmt: skip
@handles_errors
def trend_command(
    queries: tuple[str, ...], index_dir: Path | None, by: str | None, fmt: str, plot_path: Path | None,
    date_from: datetime | None, date_to: datetime | None, categories: tuple[str, ...], sources: tuple[str, ...],
) -> None:  # fmt: skip
    """Count matching articles per period for each QUERY (full query syntax), with
    their share of the period's articles; undated articles are counted apart."""
    trend = _open_for_reading(index_dir).trend(
        queries, by=by, date_from=date_from, date_to=date_to,  # type: ignore[arg-type]
        categories=categories, sources=sources,
    )  # fmt: skip
    if plot_path is not None:
        from searchidx.trend import plot

        click.echo(f"chart written to {plot(trend, plot_path)}", err=True)
    if fmt == "json":
        _write_json(trend.to_dict())
    elif fmt == "jsonl":
        for row in trend.rows:
            _write_json(row.to_dict())
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["period", "start", "end", "query", "count", "articles", "share"])
        writer.writerows([r.period, r.start, r.end, r.query, r.count, r.articles, f"{r.share:.6f}"] for r in trend.rows)
    else:
        _print_trend_table(trend)
    _note_undated(trend)


@main.command("duplicates")
@index_option
@format_option("jsonl")
@handles_errors
def duplicates_command(index_dir: Path | None, fmt: str) -> None:
    """List clusters of near-duplicate articles (MinHash over 4-syllable shingles)."""
    index = _open_for_reading(index_dir)
    clusters = index.duplicates()
    for number, ids in enumerate(clusters, 1):
        if fmt == "jsonl":
            _write_json({"cluster": number, "size": len(ids), "ids": ids})
        else:
            titles = [index.show(i).title for i in ids[:3]]
            click.echo(_printable(f"{number}. {len(ids)} copies: {', '.join(ids)}"))
            for title in titles:
                click.echo(_printable(f"     {title}"))
    if fmt == "text":
        click.echo(click.style(f"{len(clusters)} clusters", dim=True))


@main.command("stats")
@index_option
@format_option("json")
@handles_errors
def stats_command(index_dir: Path | None, fmt: str) -> None:
    """Document count, fields, size, versions and the dates covered."""
    stats = _open_for_reading(index_dir).stats()
    if fmt == "json":
        _write_json(stats.to_dict())
        return
    for name, value in stats.to_dict().items():
        if name == "fields":
            value = ", ".join(value)  # type: ignore[arg-type]
        elif name == "size_bytes":
            value = f"{value} ({value / 2**20:.1f} MiB)"  # type: ignore[operator]
        click.echo(f"{name:>17}: {value}")


@main.command("check")
@index_option
@format_option("json")
@handles_errors
def check_command(index_dir: Path | None, fmt: str) -> None:
    """Verify an index: every segment, posting and stored document readable, counts agreeing."""
    from searchidx.api import Index

    report = Index(index_dir).check()
    if fmt == "json":
        _write_json(report.to_dict())
    elif report.ok:
        click.echo(f"ok: {report.documents} documents in {report.segments} segments, {report.path}")
    else:
        more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        click.echo(f"corrupt: {report.problems[0]}{more}")
    if not report.ok:
        sys.exit(1)


@main.command("delete")
@click.argument("ids", nargs=-1, required=True)
@index_option
@click.option("--wait", type=click.FloatRange(0), default=0, help="Seconds to wait for another writer.")
@handles_errors
def delete_command(ids: tuple[str, ...], index_dir: Path | None, wait: float) -> None:
    """Delete articles by id."""
    from searchidx.api import Index

    index = Index(index_dir)
    if not index.exists():
        raise IndexNotFound(f"no index at {index.path}")
    deleted = index.delete(ids, wait=wait)
    click.echo(f"deleted {deleted} of {len(ids)}", err=True)
    if deleted < len(ids):
        sys.exit(2)
