"""The ``searchidx`` command: argument parsing and output formatting only.

Every piece of logic lives in the library (``searchidx.api``); this module turns
options into calls and results into text, JSON, JSON Lines or TREC run lines.
Exit codes: 0 success, 1 the index cannot be used (missing, locked, incompatible),
2 bad input on the command line (query, id, option), 3 an index build that finished
but rejected some records.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

import click
import orjson

from searchidx import __version__
from searchidx.api import Index, shipped_corpus
from searchidx.corpus import ReadOptions, Reject, Warn, count_records, read_corpus
from searchidx.errors import IndexNotFound, SearchidxError
from searchidx.index import BuildReport
from searchidx.search import FACETS, SORTS, Hit, Results

EXIT_REJECTS = 3


def _fail(error: SearchidxError) -> None:
    click.echo(f"searchidx: error: {error}", err=True)
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


def filter_options(command: Callable) -> Callable:  # type: ignore[type-arg]
    options = [
        click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="Only articles from this day on."),
        click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Only articles up to this day."),
        click.option(
            "--category", "categories", multiple=True,
            help="Only this category (repeatable; accents and case ignored).",
        ),
        click.option("--source", "sources", multiple=True, help="Only this source (repeatable)."),
        click.option("--limit", default=10, show_default=True, type=click.IntRange(0), help="Hits to show."),
        click.option("--offset", default=0, type=click.IntRange(0), help="Hits to skip."),
        click.option("--page", type=click.IntRange(1), help="Page number (sets --offset from --limit)."),
        click.option(
            "--format", "fmt", type=click.Choice(["text", "json", "jsonl", "trec"]), default="text",
            show_default=True, help="Output format.",
        ),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def _search_options(kwargs: dict) -> dict:  # type: ignore[type-arg]
    """Library options from the shared CLI options."""
    page = kwargs.pop("page", None)
    if page:
        kwargs["offset"] = (page - 1) * kwargs["limit"]
    return {k: (tuple(v) if isinstance(v, (list, tuple)) else v) for k, v in kwargs.items()}


# --- output -----------------------------------------------------------------------------


def _marked(text: str, spans: Iterable[tuple[int, int]], style: dict) -> str:  # type: ignore[type-arg]
    out, last = [], 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(click.style(text[start:end], **style))
        last = end
    out.append(text[last:])
    return "".join(out)


def _hit_text(hit: Hit) -> str:
    title = click.style(_marked(hit.title, hit.title_highlights, {"fg": "yellow"}), bold=True)
    meta = " · ".join(
        x for x in (hit.date.strftime("%Y-%m-%d") if hit.date else "", hit.category, hit.source, hit.id) if x
    )
    lines = [f"{hit.rank:>3}. {title}", f"     {click.style(meta, dim=True)}  score {hit.score:.2f}"]
    if hit.snippet:
        lines.append("     " + _marked(hit.snippet, hit.highlights, {"fg": "yellow", "bold": True}))
    if hit.duplicates:
        lines.append(f"     (+{len(hit.duplicates)} near-duplicate(s): {', '.join(hit.duplicates)})")
    if hit.shared_terms:
        lines.append(f"     shares: {', '.join(hit.shared_terms)}")
    return "\n".join(lines)


def _json(obj: object) -> str:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


def _write_json(obj: object) -> None:
    click.echo(_json(obj))


def print_results(results: Results, fmt: str, qid: str | None = None) -> None:
    if fmt == "json":
        _write_json(results.to_dict() if qid is None else {"qid": qid, **results.to_dict()})
        return
    if fmt == "jsonl":
        for hit in results.hits:
            _write_json(hit.to_dict() if qid is None else {"qid": qid, **hit.to_dict()})
        return
    if fmt == "trec":
        for hit in results.hits:
            click.echo(f"{qid or 1} Q0 {hit.id} {hit.rank} {hit.score:.4f} searchidx")
        return
    shown = f"{results.hits[0].rank}-{results.hits[-1].rank} of " if results.hits else ""
    click.echo(click.style(f"{shown}{results.total} results ({results.took_ms:.0f} ms)", dim=True))
    if results.matching in ("most", "any"):
        click.echo(click.style(f"matching {results.matching} words: {results.matching_note}", dim=True))
    if results.key_terms:
        click.echo("key terms: " + ", ".join(t for t, _ in results.key_terms))
    if results.source_duplicates:
        click.echo(f"near-copies of this article left out: {', '.join(results.source_duplicates)}")
    for hit in results.hits:
        click.echo(_hit_text(hit))
    if results.suggestion:
        click.echo(f"Did you mean: {click.style(results.suggestion, bold=True)}")
    for name in FACETS:
        counts = results.facets.get(name)
        if counts:
            click.echo(click.style(f"\n{name}:", bold=True))
            for value, count in counts[:20]:
                click.echo(f"  {count:>7}  {value}")


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
@click.option("--wait", type=click.FloatRange(0), default=0, help="Seconds to wait for another writer to finish.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@handles_errors
def index_command(
    paths: tuple[Path, ...], index_dir: Path | None, rebuild: bool, workers: int, rejects: Path | None,
    category_names: tuple[str, ...], wait: float, quiet: bool,
) -> None:  # fmt: skip
    """Index corpus files and folders (default: the shipped sample corpus).

    Reads JSON Lines (.jsonl, .jsonl.gz), JSON arrays, CSV, .txt page text and
    folders of them. A repeated id updates the article."""
    paths = paths or (shipped_corpus(),)
    index = Index(index_dir)
    progress = _Progress(count_records(paths), quiet)
    reject_log = open(rejects, "w", encoding="utf-8") if rejects else None

    def on_problem(problem: Reject | Warn) -> None:
        if not quiet or isinstance(problem, Reject):
            click.echo(("\n" if progress.tty and not quiet else "") + str(problem), err=True)
        if reject_log:
            level = "rejected" if isinstance(problem, Reject) else "warning"
            reject_log.write(
                _json({"path": problem.path, "line": problem.line, "reason": problem.reason, "level": level}) + "\n"
            )

    try:
        records = read_corpus(paths, ReadOptions(_category_map(category_names)))
        report = index.add(
            records, rebuild=rebuild, workers=workers, wait=wait, on_progress=progress, on_problem=on_problem
        )
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
    index = Index(index_dir)
    if index.exists() or index_dir is not None or os.environ.get("SEARCHIDX_INDEX"):
        return Index.open(index.path)
    corpus = shipped_corpus()
    click.echo(f"No index at {index.path}; building one from the sample corpus {corpus} first.", err=True)
    report = index.add(read_corpus([corpus]), workers=1)
    click.echo(f"indexed {report.indexed} articles.", err=True)
    return index


@main.command("search")
@click.argument("query", required=False, default="")
@index_option
@filter_options
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--facets", is_flag=True, help="Count hits by category, source and month.")
@click.option(
    "--batch",
    type=click.File("r", encoding="utf-8"),
    help="Run every query of FILE ('-' for stdin): 'query' or 'qid<TAB>query' a line.",
)
@click.option("--no-snippets", is_flag=True, help="Skip snippets (faster).")
@click.option("--any", "match_any", is_flag=True, help="Match articles with any of the words (ranked), not only all.")
@handles_errors
def search_command(
    query: str, index_dir: Path | None, fmt: str, batch: TextIO | None, no_snippets: bool, **kwargs: object
) -> None:
    """Search: words (all must match), "phrases", OR, NOT/-word, (groups),
    title:/sapo:/body:/category:/source:/tags:/date: fields."""
    index = _open_for_reading(index_dir)
    options = _search_options(kwargs)
    options["snippets"] = not no_snippets and fmt != "trec"
    if batch is None:
        print_results(index.search(query, **options), fmt)
        return
    failed = 0
    for number, line in enumerate(batch, 1):
        if not line.strip():
            continue
        qid, tab, text = line.rstrip("\n").partition("\t")
        qid, text = (qid, text) if tab else (str(number), qid)
        try:
            print_results(index.search(text, **options), "jsonl" if fmt in ("text", "json") else fmt, qid=qid)
        except SearchidxError as error:
            failed += 1
            click.echo(f"searchidx: line {number} ({qid}): {error}", err=True)
    if failed:
        sys.exit(2)


@main.command("show")
@click.argument("doc_id")
@index_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handles_errors
def show_command(doc_id: str, index_dir: Path | None, fmt: str) -> None:
    """Print a whole article by id (or URL)."""
    article = _open_for_reading(index_dir).show(doc_id)
    if fmt == "json":
        _write_json(article.to_dict())
        return
    click.echo(click.style(article.title, bold=True))
    meta = [
        article.date.strftime("%Y-%m-%d %H:%M") if article.date else "",
        article.category,
        article.source,
        article.url,
        article.id,
    ]
    click.echo(click.style(" · ".join(x for x in meta if x), dim=True))
    if article.sapo:
        click.echo("\n" + click.style(article.sapo, bold=True))
    click.echo("\n" + article.body.replace("\n", "\n\n"))


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
    doc_id: str | None, index_dir: Path | None, fmt: str, text: str | None, path: Path | None,
    keep_duplicates: bool, explain: bool, **kwargs: object,
) -> None:  # fmt: skip
    """Articles like an indexed one (ID or URL), a --text or a --file."""
    if sum(x is not None for x in (doc_id, text, path)) != 1:
        raise click.UsageError("give exactly one of ID, --text or --file")
    index = _open_for_reading(index_dir)
    results = index.similar(
        doc_id, text=text, path=path, duplicates=keep_duplicates, explain=explain, **_search_options(kwargs)
    )
    print_results(results, fmt)


@main.command("duplicates")
@index_option
@click.option("--format", "fmt", type=click.Choice(["text", "jsonl"]), default="text", show_default=True)
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
            click.echo(f"{number}. {len(ids)} copies: {', '.join(ids)}")
            for title in titles:
                click.echo(f"     {title}")
    if fmt == "text":
        click.echo(click.style(f"{len(clusters)} clusters", dim=True))


@main.command("stats")
@index_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
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


@main.command("delete")
@click.argument("ids", nargs=-1, required=True)
@index_option
@click.option("--wait", type=click.FloatRange(0), default=0, help="Seconds to wait for another writer.")
@handles_errors
def delete_command(ids: tuple[str, ...], index_dir: Path | None, wait: float) -> None:
    """Delete articles by id."""
    index = Index(index_dir)
    if not index.exists():
        raise IndexNotFound(f"no index at {index.path}")
    deleted = index.delete(ids, wait=wait)
    click.echo(f"deleted {deleted} of {len(ids)}", err=True)
    if deleted < len(ids):
        sys.exit(2)
