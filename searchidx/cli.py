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
import io
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import quote

import click
import orjson

from searchidx._version import __version__
from searchidx.errors import IndexNotFound, SearchidxError
from searchidx.limits import CLUSTER_BATCH, MAX_RECORD_CHARS, MAX_REJECTED, REQUEST_TIMEOUT
from searchidx.query import FACETS, PERIODS, SORTS

if TYPE_CHECKING:  # the library is imported by the commands that use it: --help stays fast
    from searchidx.api import Index
    from searchidx.article import Reject, Warn
    from searchidx.index import BuildReport
    from searchidx.results import Hit, Results, SimilarHit, SimilarResults
    from searchidx.sharded import ShardedIndex
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


INDEX_HELP = "Index directory [default: $SEARCHIDX_INDEX, else ~/.local/share/searchidx/index]."


def _index_or_the_groups(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """``--index`` after the command, else the one before it (``searchidx --index DIR search``)."""
    return value if value is not None else ctx.find_root().params.get("index_dir")


def index_option(command: Callable) -> Callable:  # type: ignore[type-arg]
    return click.option(
        "--index", "index_dir", type=click.Path(file_okay=False, path_type=Path), callback=_index_or_the_groups,
        help=INDEX_HELP,
    )(command)  # fmt: skip


def _indexes_or_the_groups(ctx: click.Context, param: click.Parameter, value: tuple[Path, ...]) -> tuple[Path, ...]:
    group = ctx.find_root().params.get("index_dir")
    return value or ((group,) if group is not None else ())


def indexes_option(command: Callable) -> Callable:  # type: ignore[type-arg]
    """``--index`` for the commands that search several indexes as one: repeatable,
    and an index may be a shard manifest; ``--dask`` searches on a cluster's workers."""
    command = click.option(
        "--dask", "cluster", metavar="ADDRESS",
        help="Search the shards on a Dask cluster's workers: tcp://HOST:8786, or local[:N] (pip install "
        "'searchidx[dask]'); each worker keeps its shards open. Default: a process per shard here.",
    )(command)  # fmt: skip
    return click.option(
        "--index", "index_dirs", multiple=True, type=click.Path(path_type=Path), callback=_indexes_or_the_groups,
        help=INDEX_HELP[:-1] + " Repeat it, or give a shard manifest, to search several as one.",
    )(command)  # fmt: skip


def paged(command: Callable) -> Callable:  # type: ignore[type-arg]
    """On a terminal, output longer than the screen goes through a pager ($PAGER,
    else less), as git's does; ``searchidx --no-pager`` turns it off."""

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> object:
        ctx = click.get_current_context()
        if ctx.find_root().params.get("no_pager") or not sys.stdout.isatty():
            return command(*args, **kwargs)
        screen, asked = sys.stdout, ctx.color
        sys.stdout = buffer = io.StringIO()
        if asked is None:  # keep the colours a terminal would get
            ctx.color = True
        try:
            return command(*args, **kwargs)
        finally:
            sys.stdout, ctx.color = screen, asked
            _page(buffer.getvalue(), asked)

    return wrapper


def _page(text: str, color: bool | None) -> None:
    size = shutil.get_terminal_size()
    rows = sum(1 + len(line) // max(size.columns, 1) for line in click.unstyle(text).splitlines())
    if rows >= size.lines:
        click.echo_via_pager(text.removesuffix("\n"), color=color)
    else:
        click.echo(text, nl=False, color=color)


def format_option(*formats: str) -> Callable:  # type: ignore[type-arg]
    """``--format``, plain text by default, with the machine-readable forms given."""
    return click.option(
        "--format", "fmt", type=click.Choice(["text", *formats]), default="text", show_default=True,
        help="Output format.",
    )  # fmt: skip


class _Limit(click.ParamType):  # type: ignore[type-arg]
    """A count, or ``all`` (None): every result, streamed."""

    name = "N|all"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int | None:
        if value is None or isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if text == "all":
            return None
        if text.isdigit():
            return int(text)
        self.fail(f"{value!r} is neither a count nor 'all'", param, ctx)


LIMIT = _Limit()


def _with(command: Callable, options: list[Callable]) -> Callable:  # type: ignore[type-arg]
    for option in reversed(options):
        command = option(command)
    return command


def filter_options(command: Callable) -> Callable:  # type: ignore[type-arg]
    """The filters every query command takes: dates, categories, sources."""
    day = click.DateTime(["%Y-%m-%d"])
    options = [
        click.option("--from", "date_from", type=day, metavar="YYYY-MM-DD", help="Only articles from this day on."),
        click.option("--to", "date_to", type=day, metavar="YYYY-MM-DD", help="Only articles up to this day."),
        click.option(
            "--category", "categories", multiple=True,
            help="Only this category (repeatable; accents and case ignored).",
        ),
        click.option("--source", "sources", multiple=True, help="Only this source (repeatable)."),
    ]  # fmt: skip
    return _with(command, options)


def page_options(command: Callable) -> Callable:  # type: ignore[type-arg]
    """How many hits, which page, in which format (search and similar)."""
    options = [
        click.option(
            "--limit", default="10", show_default=True, type=LIMIT, metavar="N|all",
            help="Hits to show; 'all' streams every hit.",
        ),
        click.option("--offset", default=0, type=click.IntRange(0), help="Hits to skip."),
        click.option("--page", type=click.IntRange(1), help="Page number (sets --offset from --limit)."),
        click.option(
            "--format", "fmt", type=click.Choice(["text", "json", "jsonl", "csv", "trec"]), default="text",
            show_default=True, help="Output format (csv: a header row, then one hit a line).",
        ),
        click.option("--run-tag", default="searchidx", show_default=True, help="Run name in --format trec."),
        click.option(
            "--snippet-chars", type=click.IntRange(1), metavar="N",
            help="Shorten snippets to at most N characters [default: up to 3 sentences of ~200].",
        ),
    ]  # fmt: skip
    return _with(command, options)


def _search_options(kwargs: dict) -> dict:  # type: ignore[type-arg]
    """Library options from the shared CLI options."""
    page = kwargs.pop("page", None)
    if page:
        if kwargs["limit"] is None:
            raise click.UsageError("--page needs a numeric --limit, not 'all'")
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


#: Key terms listed by ``similar --explain`` (the JSON output has them all).
SHOWN_TERMS = 25


def _first(count: int, items: list[str]) -> str:
    """The first ``count`` items, and how many more there are."""
    more = f" … and {len(items) - count} more" if len(items) > count else ""
    return ", ".join(items[:count]) + more


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
        lines.append(_printable(f"     shares: {_first(SHOWN_TERMS, hit.shared_terms)}"))
    return "\n".join(lines)


def _json(obj: object) -> str:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


def _write_json(obj: object) -> None:
    click.echo(_json(obj))


#: The columns of ``--format csv``, one hit a row (``qid`` first in batch mode).
CSV_COLUMNS = ("id", "rank", "score", "date", "category", "source", "title", "url", "snippet")


def _csv_line(values: Iterable[object]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(["" if v is None else v for v in values])
    return out.getvalue()


def _write_rows(fmt: str, whole: dict[str, object], rows: Iterable[dict[str, object]], columns: Sequence[str]) -> bool:
    """The machine-readable formats of a command with a table of results: the whole
    as one JSON object, a JSON object a row, or CSV with a header row. False for
    text, which each command prints its own way."""
    if fmt == "json":
        _write_json(whole)
    elif fmt == "jsonl":
        for row in rows:
            _write_json(row)
    elif fmt == "csv":
        click.echo(_csv_line(columns), nl=False)
        for row in rows:
            click.echo(_csv_line(row[c] for c in columns), nl=False)
    else:
        return False
    return True


def _csv_row(hit: Hit, qid: str | None) -> str:
    d = hit.to_dict()
    return _csv_line([*([qid] if qid is not None else []), *(d[c] for c in CSV_COLUMNS)])


def print_results(
    results: Results | SimilarResults,
    fmt: str,
    qid: str | None = None,
    run_tag: str = "searchidx",
    hits: Iterable[Hit] | None = None,
    csv_header: bool = True,
) -> None:
    """Results in a format; the query's warnings go to stderr, except in json
    output, which carries them. ``hits`` (default ``results.hits``) may be a stream:
    each hit is written as it comes."""
    from searchidx.results import Results, SimilarResults

    hits = results.hits if hits is None else hits
    if fmt == "json":
        data = {**results.to_dict(), "hits": [h.to_dict() for h in hits]}
        _write_json(data if qid is None else {"qid": qid, **data})
        return
    for warning in results.warnings if isinstance(results, Results) else ():
        click.echo(_printable(f"searchidx: warning: {'' if qid is None else f'query {qid}: '}{warning}"), err=True)
    if fmt == "jsonl":
        for hit in hits:
            _write_json(hit.to_dict() if qid is None else {"qid": qid, **hit.to_dict()})
        return
    if fmt == "csv":
        if csv_header:
            click.echo(_csv_line([*(["qid"] if qid is not None else []), *CSV_COLUMNS]), nl=False)
        for hit in hits:
            click.echo(_csv_row(hit, qid), nl=False)
        return
    if fmt == "trec":
        for hit in hits:
            # sorted by date there is no relevance score: -rank keeps the order for trec_eval
            score = -hit.rank if hit.score is None else hit.score
            click.echo(f"{trec_id(qid or '1')} Q0 {trec_id(hit.id)} {hit.rank} {score:.4f} {trec_id(run_tag)}")
        return
    if qid is not None:
        click.echo(_style(f"query {qid}: {results.query}", bold=True))
    shown = f"{results.hits[0].rank}-{results.hits[-1].rank} of " if results.hits else ""
    click.echo(click.style(f"{shown}{results.total} results ({results.took_ms:.0f} ms)", dim=True))
    if isinstance(results, Results) and results.matching in ("most", "any"):
        click.echo(click.style(f"matching {results.matching} words: {results.matching_note}", dim=True))
    if isinstance(results, Results) and results.restored:
        click.echo(f"Showing results for: {_style(results.restored, bold=True)}")
        click.echo(f"Search instead for: {_printable(results.query)}" + click.style("  (--no-restore)", dim=True))
    if isinstance(results, SimilarResults) and results.key_terms:
        click.echo(_printable("key terms: " + _first(SHOWN_TERMS, [f"{t} {w:.2f}" for t, w in results.key_terms])))
    if isinstance(results, SimilarResults) and results.source_duplicates:
        click.echo(_printable(f"near-copies of this article left out: {', '.join(results.source_duplicates)}"))
    for hit in hits:
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
@click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path), help=INDEX_HELP)
@click.option(
    "--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
    help="Colour the output: on a terminal unless $NO_COLOR is set (auto), always, or never.",
)  # fmt: skip
@click.option("--no-pager", is_flag=True, help="Print long output straight to the terminal, without $PAGER/less.")
@click.pass_context
def main(ctx: click.Context, index_dir: Path | None, color: str, no_pager: bool) -> None:
    """Full-text search for Vietnamese news: index, search, find similar articles,
    read every occurrence in context (kwic), and the words typical of a topic (terms).

    Options before the command apply to every command: searchidx --index DIR search "bão"."""
    ctx.color = {"always": True, "never": False}.get(color, False if os.environ.get("NO_COLOR") else None)


class _Progress:
    """A progress bar on a terminal; plain lines every few seconds otherwise.

    Its ETA is kept back for the first seconds (the workers' job queue takes the
    first few hundred articles at once, so the early rate is too high) and counts
    the commit, which comes after the last article is handed over; the commit is
    shown as a phase of its own."""

    #: No ETA before this many seconds.
    SETTLING = 10.0
    #: The commit's time, as a share of the time to hand every article over (it sorts
    #: and writes the postings, and with workers waits for their last articles):
    #: 0.45-0.65 measured on 1,500-2,000 articles with one and two workers.
    COMMIT_SHARE = 0.5

    def __init__(self, total: int | None, quiet: bool) -> None:
        self.total, self.quiet = total, quiet
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self.last_line = 0.0

    def __call__(self, report: BuildReport) -> None:
        if self.quiet:
            return
        done = report.processed
        if report.committing:
            self._show(done, f"{done} articles handed over; finishing the index (sorting and writing postings)…", True)
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        of = f"/{self.total}" if self.total else ""
        self._show(done, f"{done}{of} articles, {done / elapsed:.0f}/s{self._eta(done, elapsed)}", False)

    def _eta(self, done: int, elapsed: float) -> str:
        if not self.total or not done or done >= self.total:
            return ""
        if elapsed < self.SETTLING:
            return ", ETA …"
        remaining = elapsed * self.total / done * (1 + self.COMMIT_SHARE) - elapsed
        return f", ETA {remaining:.0f}s"

    def _show(self, done: int, line: str, always: bool) -> None:
        if self.tty:
            width = 30
            bar = "#" * int(width * done / self.total) if self.total else ""
            click.echo(f"\r[{bar:<{width}}] {line}   ", nl=False, err=True)
        elif always or time.monotonic() - self.last_line >= 5:
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
    "--dask", "cluster", metavar="ADDRESS",
    help="Segment on a Dask cluster instead: tcp://HOST:8786, or local[:N] for N worker processes here "
    "(pip install 'searchidx[dask]').",
)  # fmt: skip
@click.option(
    "--dask-batch", "cluster_batch", type=click.IntRange(1), default=CLUSTER_BATCH, show_default=True,
    help="With --dask: articles per task, each written as one segment (larger: fewer segments, coarser balance).",
)  # fmt: skip
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
@click.option(
    "--shards", type=click.IntRange(1), metavar="N",
    help="Split the corpus into N indexes under --index by a hash of the id, with a manifest; "
    "search them as one with --index DIR.",
)  # fmt: skip
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@handles_errors
def index_command(
    paths: tuple[Path, ...], index_dir: Path | None, rebuild: bool, allow_empty: bool, max_rejected: float,
    workers: int, cluster: str | None, cluster_batch: int, rejects: Path | None, category_names: tuple[str, ...],
    max_record_chars: int, wait: float, shards: int | None, quiet: bool,
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

    settings = dict(
        rebuild=rebuild, allow_empty=allow_empty, max_rejected=max_rejected, workers=workers,
        cluster=cluster, cluster_batch=cluster_batch, wait=wait, on_progress=progress, on_problem=on_problem,
    )  # fmt: skip
    read_options = ReadOptions(_category_map(category_names), max_record_chars)
    try:
        if shards:
            from searchidx.sharded import index_shards

            report = index_shards(index.path, paths, shards, read_options, **settings)  # type: ignore[arg-type]
        else:
            report = index.add(read_corpus(paths, read_options), **settings)  # type: ignore[arg-type]
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


def _open_many(index_dirs: tuple[Path, ...], cluster: str | None) -> Index | ShardedIndex:
    """One index as ``_open_for_reading`` opens it; several, a shard manifest or a
    cluster as one ``ShardedIndex``."""
    from searchidx.sharded import ShardedIndex
    from searchidx.shards import manifest_path

    if len(index_dirs) > 1 or cluster or any(manifest_path(p) for p in index_dirs):
        return ShardedIndex.open(index_dirs, dask=cluster)
    if index_dirs and index_dirs[0].is_file():
        raise click.BadParameter(f"{index_dirs[0]} is a file, not an index directory or shard manifest")
    return _open_for_reading(index_dirs[0] if index_dirs else None)


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
@indexes_option
@filter_options
@page_options
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
@click.option(
    "--no-restore", is_flag=True,
    help="Search a query typed without diacritics as typed: do not rank its restored form first.",
)  # fmt: skip
@paged
@handles_errors
def search_command(
    query: str, index_dirs: tuple[Path, ...], cluster: str | None, fmt: str, run_tag: str, batch: TextIO | None,
    no_snippets: bool, no_restore: bool, **kwargs: object,
) -> None:  # fmt: skip
    """Search: words (all must match), "phrases", OR, NOT/-word, (groups),
    title:/sapo:/body:/category:/source:/tags:/date: fields.

    \b
    searchidx search "ha noi"                      no diacritics: finds "Hà Nội"
    searchidx search '"Gia Lai" thi đua -COVID'    a phrase, two words, not COVID
    searchidx search "(bão OR lũ) date:2024-09"    either word, in September 2024
    searchidx search "giá vàng" --limit all --format csv > gia_vang.csv"""
    if batch is not None and query:
        raise click.UsageError("give a query or --batch FILE, not both")
    with _open_many(index_dirs, cluster) as index:
        _search_command(index, query, fmt, run_tag, batch, no_snippets, no_restore, kwargs)


def _search_command(
    index: Index | ShardedIndex, query: str, fmt: str, run_tag: str, batch: TextIO | None, no_snippets: bool,
    no_restore: bool, kwargs: dict[str, object],
) -> None:  # fmt: skip
    options = _search_options(kwargs)
    options["snippets"] = not no_snippets and fmt != "trec"
    options["restore"] = not no_restore
    if batch is None:
        _print_search(index, query, options, fmt, run_tag=run_tag)
        return
    failed = 0
    in_json: list[object] = []
    header = True  # csv: one header row, before the first query's hits
    for number, line in enumerate(batch, 1):
        if not line.strip():
            continue
        qid, tab, text = line.rstrip("\n").partition("\t")
        qid, text = (qid, text) if tab else (str(number), qid)
        try:
            if fmt == "json":  # one JSON array of every query's results
                in_json.append({"qid": qid, **index.search(text, **options).to_dict()})
            else:
                _print_search(index, text, options, fmt, qid=qid, run_tag=run_tag, csv_header=header)
                header = False
        except SearchidxError as error:
            failed += 1
            click.echo(_printable(f"searchidx: line {number} ({qid}): {error}"), err=True)
    if fmt == "json":
        _write_json(in_json)
    if failed:
        sys.exit(2)


def _print_search(index: Index | ShardedIndex, query: str, options: dict, fmt: str, **how: object) -> None:  # type: ignore[type-arg]
    """One search's results; ``--limit all`` streams every hit after a count."""
    if options["limit"] is not None:
        print_results(index.search(query, **options), fmt, **how)  # type: ignore[arg-type]
        return
    summary = index.search(query, **{**options, "limit": 0})
    walk = {k: v for k, v in options.items() if k not in ("limit", "facets")}  # every hit, no counts
    print_results(summary, fmt, hits=index.iter_hits(query, **walk), **how)  # type: ignore[arg-type]


@main.command("kwic", cls=_QueryMayStartWithADash)
@click.argument("query")
@index_option
@filter_options
@click.option("--width", type=click.IntRange(1), default=40, show_default=True, help="Characters of context each side.")
@click.option(
    "--sort", type=click.Choice(["left", "right", "date"]),
    help="Order lines by the words before the match, after it, or by date [default: the search's order].",
)  # fmt: skip
@click.option(
    "--limit", default="25", show_default=True, type=LIMIT, metavar="N|all",
    help="Lines to show; 'all' for every occurrence.",
)  # fmt: skip
@click.option(
    "--format", "fmt", type=click.Choice(["text", "csv", "jsonl"]), default="text", show_default=True,
    help="Output format (text: aligned on the match).",
)  # fmt: skip
@paged
@handles_errors
def kwic_command(
    query: str, index_dir: Path | None, width: int, sort: str | None, limit: int | None, fmt: str, **filters: object
) -> None:  # fmt: skip
    """Keyword in context: every occurrence of the query's words or "phrase" in the
    matching articles, one a line, aligned on the match, in the original text.

    \b
    searchidx kwic "bão" --width 30
    searchidx kwic '"Gia Lai"' --sort left --limit all --format csv > gia_lai.csv"""
    from searchidx.kwic import KwicLine

    index = _open_for_reading(index_dir)
    lines = index.kwic(query, width=width, sort=sort, limit=limit, **_search_options(filters))
    columns = tuple(KwicLine.__dataclass_fields__)
    if fmt == "csv":
        click.echo(_csv_line(columns), nl=False)
    count = 0
    for count, line in enumerate(lines, 1):  # noqa: B007 (the count is reported after the loop)
        if fmt == "jsonl":
            _write_json(line.to_dict())
        elif fmt == "csv":
            click.echo(_csv_line(line.to_dict()[c] for c in columns), nl=False)
        else:
            date = line.date.strftime("%Y-%m-%d") if line.date else ""
            match = _style(line.match, fg="yellow", bold=True)
            left, right = _printable(line.left), _printable(line.right)
            if right[:1].isalnum() or right[:1] in "\"'(":
                right = " " + right
            click.echo(f"{date:<10} {left:>{width}} {match}{right:<{width + 1}}  {line.id}")
    if fmt == "text":
        more = " (--limit all shows every one)" if count == limit else ""
        click.echo(click.style(f"{count} lines{more}", dim=True), err=True)


@main.command("terms", cls=_QueryMayStartWithADash)
@click.argument("query")
@index_option
@filter_options
@click.option("--limit", default=20, show_default=True, type=click.IntRange(0), help="Words to show.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "csv", "jsonl"]), default="text", show_default=True,
    help="Output format.",
)  # fmt: skip
@paged
@handles_errors
def terms_command(query: str, index_dir: Path | None, limit: int, fmt: str, **filters: object) -> None:
    """Significant terms: the words unusually frequent in the articles matching
    QUERY compared with the whole index (JLH score, as Elasticsearch's
    significant_terms), with how many matching articles and how many articles of
    the index have each.

    \b
    searchidx terms "bão" --limit 30
    searchidx terms "giá vàng" --from 2024-01-01 --format csv"""
    found = _open_for_reading(index_dir).terms(query, limit=limit, **_search_options(filters))
    columns = ("word", "matches", "documents", "score")
    if not _write_rows(fmt, found.to_dict(), (term.to_dict() for term in found.terms), columns):
        click.echo(
            click.style(
                f"{found.matched} of {found.documents} articles match; words from the best {found.sampled}", dim=True
            )
        )
        click.echo(click.style(f"{'word':<28} {'matches':>8} {'index':>8} {'score':>8}", bold=True))
        for term in found.terms:
            click.echo(f"{_printable(term.word):<28} {term.matches:>8} {term.documents:>8} {term.score:>8.3f}")


@main.command("show")
@click.argument("doc_id")
@indexes_option
@format_option("json")
@paged
@handles_errors
def show_command(doc_id: str, index_dirs: tuple[Path, ...], cluster: str | None, fmt: str) -> None:
    """Print a whole article by id (or URL)."""
    with _open_many(index_dirs, cluster) as index:
        article = index.show(doc_id)
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
@indexes_option
@filter_options
@page_options
@click.option("--text", help="Find articles like this text.")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="…like this article file (page text or JSON).",
)
@click.option("--duplicates", "keep_duplicates", is_flag=True, help="Keep near-duplicates instead of collapsing them.")
@click.option(
    "--explain", is_flag=True, help="Show the key terms with their weights, and which ones each result shares."
)
@paged
@handles_errors
def similar_command(
    doc_id: str | None, index_dirs: tuple[Path, ...], cluster: str | None, fmt: str, run_tag: str,
    text: str | None, path: Path | None, keep_duplicates: bool, explain: bool, **kwargs: object,
) -> None:  # fmt: skip
    """Articles like an indexed one (ID or URL), a --text or a --file."""
    if sum(x is not None for x in (doc_id, text, path)) != 1:
        raise click.UsageError("give exactly one of ID, --text or --file")
    options = _search_options(kwargs)
    if options["limit"] is None:
        raise click.UsageError("--limit all is for search; give similar a number")
    with _open_many(index_dirs, cluster) as index:
        results = index.similar(doc_id, text=text, path=path, duplicates=keep_duplicates, explain=explain, **options)
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
@filter_options
@click.option(
    "--by", type=click.Choice(PERIODS),
    help="Count per day, week (ISO, from Monday), month or year [default: from the range: day up to "
    "60 days, week up to 1.5 years, month up to 10 years, else year].",
)  # fmt: skip
@click.option(
    "--format", "fmt", type=click.Choice(["text", "csv", "json", "jsonl"]), default="text", show_default=True,
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
    columns = ("period", "start", "end", "query", "count", "articles", "share")
    if not _write_rows(fmt, trend.to_dict(), (row.to_dict() for row in trend.rows), columns):
        _print_trend_table(trend)
    _note_undated(trend)


@main.command("duplicates")
@index_option
@format_option("jsonl")
@paged
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
@indexes_option
@format_option("json")
@handles_errors
def stats_command(index_dirs: tuple[Path, ...], cluster: str | None, fmt: str) -> None:
    """Document count, fields, size, versions and the dates covered."""
    with _open_many(index_dirs, cluster) as index:
        stats = index.stats()
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


@main.command("serve")
@click.option(
    "--index", "index_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path),
    help="Index directory to serve, named by its last part (repeatable; the first is the default) "
    "[default: as for search].",
)  # fmt: skip
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (127.0.0.1: this machine).")
@click.option("--port", default=8750, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1), help="Server processes.")
@click.option(
    "--timeout", type=click.FloatRange(0, min_open=True), default=REQUEST_TIMEOUT, show_default=True,
    help="Seconds a request may take before it is answered 503.",
)  # fmt: skip
@handles_errors
def serve_command(index_dirs: tuple[Path, ...], host: str, port: int, workers: int, timeout: float) -> None:
    """Serve the indexes over HTTP: a JSON API under /v1/ and a search page at /. Read-only;
    a rebuilt or updated index is picked up without a restart."""
    try:
        import uvicorn

        from searchidx.serve.app import ENVIRONMENT, Settings
    except ImportError:
        raise SearchidxError("serve needs its extra: pip install 'searchidx[serve]'") from None
    from searchidx.api import Index

    paths = list(index_dirs) or [_open_for_reading(None).path]
    indexes = {path.name: path for path in paths}
    if len(indexes) < len(paths):
        raise click.BadParameter("two index directories have the same name", param_hint="--index")
    for path in paths:
        try:
            Index.open(path).close()
        except SearchidxError as error:
            click.echo(_printable(f"searchidx: warning: {error}; its requests get 503 until it can be read"), err=True)
    os.environ[ENVIRONMENT] = Settings(indexes, timeout=timeout).to_json()
    address = f"[{host}]" if ":" in host else host
    click.echo(
        _printable(f"searchidx: serving {', '.join(indexes)} at http://{address}:{port}/ (JSON API under /v1/)"),
        err=True,
    )
    uvicorn.run(
        "searchidx.serve.app:app_from_environment", factory=True, host=host, port=port, workers=workers,
        limit_concurrency=256, log_level="warning",
    )  # fmt: skip
