#!/usr/bin/env python3
"""Speed of searchidx beside plain Whoosh, measured side by side in one run.

    python scripts/bench.py [CORPUS ...] [--sizes 10000,22642,45285,79044] [--json FILE]
    python scripts/bench.py --skip-build --workdir DIR   # search only, on kept indexes

The articles are those of the corpora, concatenated in order (default: both
vietnews files and VNTC's raw folder tree, 79,044 articles; a .tar.gz is unpacked
once into the work folder). For each size (the first N articles):
- indexing with 1 worker and with all workers, in articles/s and syllables/s, the
  share of time spent in segmentation, index size and peak memory, beside plain
  Whoosh (StandardAnalyzer, no segmentation, no folding) on the same articles; and
  where each build's time went (read, analyse, add to the writer, commit);
- search latency (median, p95, p99 in ms) with snippets for the top 10: 1-4 word
  queries with and without diacritics, --any headlines of 10-20 words, with facets,
  `similar ID`, and "cold" searches on a freshly opened index (what a one-shot CLI
  call sees, minus interpreter start-up); plain Whoosh beside them where it has an
  equivalent; and how many postings each query decodes.
At the largest size only: how many of --exactness benchmark queries return other
results than Whoosh's exhaustive scoring (target 0); Whoosh needs seconds per
headline at 80k, so `--exactness-minutes` bounds it and `--exactness-only` runs it
alone on a kept index (it times nothing, so it may run on a busy machine). Once per run: start-up time of
the CLI beside `python -c pass`. Ends with the targets of issue 13, met or not.
Machines are shared and noisy: compare the ratios within one run, not absolute
figures across runs.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

import plain_whoosh  # noqa: E402

from searchidx import Article, Index, execute, restore  # noqa: E402
from searchidx.analysis import analyze, fold, normalize, segment, syllabify  # noqa: E402
from searchidx.corpus import read_corpus  # noqa: E402
from searchidx.errors import SearchidxError  # noqa: E402
from searchidx.index import PHASES  # noqa: E402
from searchidx.query import parse  # noqa: E402
from searchidx.querying import SearchOptions, compile_query, search_filter  # noqa: E402
from searchidx.readers import SearcherPool  # noqa: E402

SHARED = ROOT.parent / "shared" / "corpus"
DEFAULT_CORPORA = [
    SHARED / "vietnews-val.jsonl.gz",
    SHARED / "vietnews-test.jsonl.gz",
    SHARED / "vntc-train-raw.tar.gz",
]
DEFAULT_SIZES = "10000,22642,45285,79044"
WARM_UP = 5  # items per workload run before timing starts
Figures = dict[str, Any]


# --- corpora ---------------------------------------------------------------------------


def unpack(archive: Path, work: Path) -> Path:
    """A .tar.gz corpus extracted once into ``work``; the folder to read is the
    archive's only top folder if it has one (so ids are those of that folder read
    directly), else the extraction folder."""
    target = work / archive.name.removesuffix(".tar.gz")
    if not target.is_dir():
        print(f"extracting {archive} into {target}…", file=sys.stderr)
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(archive) as tar:
            tar.extractall(partial, filter="data")
        partial.rename(target)
    inside = [p for p in target.iterdir() if not p.name.startswith(".")]
    return inside[0] if len(inside) == 1 and inside[0].is_dir() else target


def readable(corpora: list[Path], work: Path) -> list[Path]:
    return [unpack(c, work) if c.name.endswith(".tar.gz") else c for c in corpora]


def articles(corpora: list[Path], limit: int) -> Iterator[Article]:
    records = (r for r in read_corpus(corpora) if isinstance(r, Article))
    return itertools.islice(records, limit)


# --- timing ----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(run: Callable[[Any], object], item: Any) -> tuple[float, object]:
    """How long ``run(item)`` took in ms, and what it returned."""
    started = time.perf_counter()
    out = run(item)
    return (time.perf_counter() - started) * 1000, out


def summary(samples: list[tuple[float, object]]) -> Figures:
    """Median, p95 and p99 in ms; where the runs returned how many postings they
    decoded (an int), their median and p95."""
    times = [t for t, _ in samples]
    figures = {
        "median_ms": statistics.median(times),
        "p95_ms": percentile(times, 0.95),
        "p99_ms": percentile(times, 0.99),
    }
    decoded = [n for _, n in samples if isinstance(n, int)]
    if decoded:
        figures |= {"decoded_median": statistics.median(decoded), "decoded_p95": percentile(decoded, 0.95)}
    return figures


def measured(items: list[Any], warm_up: int = WARM_UP) -> list[Any]:
    """The items timed: all but the first few, which only warm caches up (opened
    columns, the first postings), unless that would leave nothing."""
    return items[warm_up:] or items


def latency(run: Callable[[Any], object], items: list[Any], warm_up: int = WARM_UP) -> Figures:
    for item in items[:warm_up]:
        run(item)
    return summary([timed(run, item) for item in measured(items, warm_up)])


def side_by_side(runs: list[Callable[[Any], object]], items: list[Any], warm_up: int = WARM_UP) -> list[Figures]:
    """Variants of a call timed on each item in turn, a different one first each
    time, so that none always finds the postings the others decoded in the cache."""
    for item in items[:warm_up]:
        for run in runs:
            run(item)
    samples: list[list[tuple[float, object]]] = [[] for _ in runs]
    for i, item in enumerate(measured(items, warm_up)):
        for k in range(len(runs)):
            j = (i + k) % len(runs)
            samples[j].append(timed(runs[j], item))
    return [summary(s) for s in samples]


def counting(index: Index, call: Callable[[Any], object]) -> Callable[[Any], int]:
    """``call`` on an open index (whose caches warm up), returning the postings it decoded."""

    def run(item: Any) -> int:
        before = execute.decoded_postings()
        call(item)
        return execute.decoded_postings() - before

    return run


def searching_cold(path: Path) -> Callable[[str], int]:
    """A search on a freshly opened index, as one CLI call does: nothing is cached,
    so every posting the query needs that the posting arrays do not hold is decoded."""

    def run(query: str) -> int:
        before = execute.decoded_postings()
        with Index.open(path) as index:
            index.search(query)
        return execute.decoded_postings() - before

    return run


# --- builds run in child processes, so peak memory is measured per build ---------------


def child_build(kind: str, directory: Path, corpora: list[Path], limit: int, workers: int) -> Figures:
    started = time.perf_counter()
    phases: dict[str, float] = {}
    if kind == "searchidx":
        phases = Index(directory).add(articles(corpora, limit), rebuild=True, workers=workers).phases
    else:
        plain_whoosh.build(directory, articles(corpora, limit))
    seconds = time.perf_counter() - started
    own = peak_rss_mb()
    workers_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "peak_rss_mb": own, "worker_peak_rss_mb": workers_peak, "phases": phases}


def peak_rss_mb() -> float:
    """This process's peak resident memory. (ru_maxrss would include the memory of
    the parent we were forked from: it survives exec.)"""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(kind: str, directory: Path, corpora: list[Path], limit: int, workers: int = 1) -> Figures:
    command = [sys.executable, __file__, "_build", kind, str(directory), str(limit), str(workers), *map(str, corpora)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --- workload --------------------------------------------------------------------------


def parses(text: str) -> bool:
    """Whether searchidx takes this text as a query: a title with a URL in it
    reads as a field name ("http:") and is refused."""
    try:
        parse(text)
    except SearchidxError:
        return False
    return True


def make_queries(sample: list[Article], count: int, rng: random.Random) -> list[str]:
    """1-4 consecutive words (as pyvi segments them) from random titles."""
    queries = []
    for article in rng.sample(sample, min(count, len(sample))):
        words = [" ".join(p.text for p in word) for word in segment(syllabify(normalize(article.title).text))]
        words = [w for w in words if any(c.isalpha() for c in w)]
        if words:
            n = rng.randint(1, min(4, len(words)))
            start = rng.randrange(len(words) - n + 1)
            queries.append(" ".join(words[start : start + n]).lower())
    return [q for q in queries if parses(q)]


def make_headlines(sample: list[Article], count: int, rng: random.Random) -> list[str]:
    """Real headlines of 10-20 words, as --any queries."""
    headlines = [a.title for a in sample if 10 <= len(a.title.split()) <= 20 and parses(a.title)]
    return rng.sample(headlines, min(count, len(headlines)))


EXACTNESS_KINDS = ("with diacritics", "without diacritics", "--any headline", "in a category", "without, in a category")


def exactness_queries(sample: list[Article], count: int, rng: random.Random) -> list[tuple[str, SearchOptions]]:
    """A mix as users type them, kinds interleaved so that any prefix of the list
    holds all of them: 1-4 words with and without diacritics, --any headlines, and
    either kind of words within a category. (These corpora have no dates, so no
    date filters.)"""
    words = make_queries(sample, count, rng)
    headlines = make_headlines(sample, count, rng) or words
    categories = sorted({a.category for a in sample if a.category}) or ["Thể thao"]
    mix: list[tuple[str, SearchOptions]] = []
    for i in range(count):
        text = words[i % len(words)]
        within = (rng.choice(categories),)
        kind = EXACTNESS_KINDS[i % 5]
        options = {
            "with diacritics": SearchOptions(query=text),
            "without diacritics": SearchOptions(query=fold(text)),
            "--any headline": SearchOptions(query=headlines[i % len(headlines)], match_any=True),
            "in a category": SearchOptions(query=text, categories=within),
            "without, in a category": SearchOptions(query=fold(text), categories=within),
        }[kind]
        mix.append((kind, options))
    return mix


def segmentation_seconds(sample: list[Article]) -> float:
    """Time spent in segmentation alone (syllables + pyvi's model) for the sample."""
    started = time.perf_counter()
    for article in sample:
        for text in (article.title, article.sapo, article.body):
            segment(syllabify(normalize(text).text))
    return time.perf_counter() - started


def analyzer_speed(sample: list[Article]) -> Figures:
    """Syllables per second of pyvi alone and of the whole analyzer, same texts,
    interleaved so that both see the same machine load."""
    from pyvi import ViTokenizer

    texts = [a.text for a in sample]
    syllables = sum(analyze(t).syllables for t in texts)  # also warms caches
    pyvi_s = analyzer_s = 0.0
    for _ in range(2):
        started = time.perf_counter()
        for t in texts:
            ViTokenizer.tokenize(t)
        pyvi_s += time.perf_counter() - started
        started = time.perf_counter()
        for t in texts:
            analyze(t)
        analyzer_s += time.perf_counter() - started
    return {
        "pyvi_syllables_per_s": 2 * syllables / pyvi_s,
        "analyzer_syllables_per_s": 2 * syllables / analyzer_s,
        "analyzer_time_vs_pyvi": analyzer_s / pyvi_s,
    }


# --- search figures --------------------------------------------------------------------


def search_figures(
    ours: Path, plain: Path, sample: list[Article], args: argparse.Namespace, rng: random.Random
) -> Figures:
    """Every search figure for one size, on queries cut from its own articles."""
    queries = make_queries(sample, WARM_UP + args.queries, rng)
    folded = [fold(q) for q in queries]
    headlines = make_headlines(sample, WARM_UP + args.any_queries, rng)
    ids = [a.id for a in rng.sample(sample, min(WARM_UP + 50, len(sample)))]
    with Index.open(ours) as index:
        check_size(index, ours, len(sample))
        baseline, baseline_any = plain_whoosh.PlainSearch(plain), plain_whoosh.PlainSearch(plain, any_word=True)
        search = {
            "queries": len(measured(queries)),
            "any_queries": len(measured(headlines)),
            "plain_with_diacritics": latency(baseline.search, queries),
            "plain_without_diacritics": latency(baseline.search, folded),
            "searchidx_any": latency(counting(index, partial(index.search, match_any=True)), headlines),
            "plain_any": latency(baseline_any.search, headlines),
            "searchidx_cold": latency(searching_cold(ours), measured(queries)[: args.cold_queries], warm_up=0),
        }
        # each query with and without its diacritics in turn, so that neither finds
        # the postings the other decoded in the cache more often
        search["searchidx_with_diacritics"], search["searchidx_without_diacritics"] = side_by_side(
            [counting(index, lambda pair: index.search(pair[0])), counting(index, lambda pair: index.search(pair[1]))],
            list(zip(queries, folded, strict=True)),
        )
        search["searchidx_beside_facets"], search["searchidx_facets"] = side_by_side(
            [counting(index, index.search), counting(index, partial(index.search, facets=True))], queries
        )
        similar = latency(counting(index, index.similar), ids)
    accented = search["searchidx_with_diacritics"]["median_ms"]
    search["unaccented_vs_accented"] = search["searchidx_without_diacritics"]["median_ms"] / accented
    search["facets_vs_without"] = (
        search["searchidx_facets"]["median_ms"] / search["searchidx_beside_facets"]["median_ms"]
    )
    return {"search": search, "similar": similar, "sample_queries": queries[:10], "sample_any": headlines[:3]}


def check_kept(work: Path, sizes: list[int]) -> None:
    """--skip-build needs every size's two indexes: fail at once, not hours in."""
    kept = [work / f"{kind}-{n}" for n in sizes for kind in ("searchidx", "plain")]
    missing = ", ".join(str(path) for path in kept if not path.is_dir())
    if missing:
        sys.exit(f"bench.py: error: no index at {missing} (build them first, or drop --skip-build)")


def check_size(index: Index, path: Path, size: int) -> None:
    """Kept indexes may be from another corpus or unfinished: say so."""
    documents = index.stats().documents
    if documents != size:
        print(f"warning: {path} holds {documents} articles, not {size}", file=sys.stderr)


def exactness(path: Path, sample: list[Article], count: int, rng: random.Random, minutes: float) -> Figures:
    """How many benchmark queries give other totals or top-10 scores (beyond 1e-6,
    rank by rank) than Whoosh's exhaustive scoring, restored queries as searched
    (their boost included); and how many rank documents whose scores are equal
    (duplicate articles: summed in another order, they differ in the last bit)
    in another order. Whoosh takes seconds for a headline at 80k,
    so the check stops after ``minutes`` (0: never) and says how far it got."""
    started = time.perf_counter()
    compared: dict[str, int] = dict.fromkeys(EXACTNESS_KINDS, 0)
    differing, tied = [], []
    with SearcherPool(path).acquire() as snapshot:
        searcher = snapshot.searcher
        for kind, options in exactness_queries(sample, count, rng):
            if minutes and time.perf_counter() - started > minutes * 60:
                break
            try:
                restored = restore.restore_query(searcher, options.query)
                _, query = compile_query(options, searcher.reader(), restored=restored)
            except SearchidxError:
                continue
            compared[kind] += 1
            filter = search_filter(options)
            total, docnums, scores = execute.whoosh_reference(searcher, query, 10, filter=filter)
            got = execute.run(searcher, query, 10, filter=filter)
            same_scores = len(got.scores) == len(scores) and all(
                abs(a - b) <= 1e-6 for a, b in zip(got.scores, scores, strict=True)
            )
            if got.total != total or not same_scores:
                differing.append(repr(options))
            elif got.docnums != docnums:  # the same scores rank by rank: documents tied, in another order
                tied.append(repr(options))
    return {
        "queries": sum(compared.values()),
        "asked": count,
        "by_kind": compared,
        "differing": len(differing),
        "tied_in_another_order": len(tied),
        "seconds": time.perf_counter() - started,
        "examples": differing[:5] + tied[:2],
    }


def startup(work: Path, runs: int) -> Figures:
    """Median wall time of CLI calls beside `python -c pass`, interleaved so that
    all see the same machine load; searches go to the shipped sample's index."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-m", "searchidx"]
    sample_index = work / "sample-index"
    subprocess.run(
        [*cli, "index", "--index", str(sample_index), "--rebuild", "-q"], check=True, capture_output=True, env=env
    )
    commands = {
        "python_pass_s": [sys.executable, "-c", "pass"],
        "help_s": [*cli, "--help"],
        "search_sample_s": [*cli, "search", "thi đua", "--index", str(sample_index)],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, env=env)
            times[name].append(time.perf_counter() - started)
    return {"runs": runs, **{name: statistics.median(t) for name, t in times.items()}}


# --- one size --------------------------------------------------------------------------


def index_figures(corpora: list[Path], sample: list[Article], work: Path, workers: int, one_worker: bool) -> Figures:
    """Fresh builds of the sample: searchidx (with 1 worker unless not asked) and
    with ``workers``, and plain Whoosh."""
    size = len(sample)
    ours, plain = work / f"searchidx-{size}", work / f"plain-{size}"
    syllables = sum(len(syllabify(normalize(a.text).text)) for a in sample)
    rate = lambda b: {**b, "articles_per_s": size / b["seconds"], "syllables_per_s": syllables / b["seconds"]}  # noqa: E731
    figures: Figures = {}
    if one_worker:
        one = build("searchidx", ours, corpora, size, 1)
        seg_sample = sample[: min(size, 300)]
        per_article = segmentation_seconds(seg_sample) / len(seg_sample)
        figures |= {
            "searchidx_1_worker": rate(one),
            "segmentation_share_1_worker": per_article / (one["seconds"] / size),
        }
    many = build("searchidx", ours, corpora, size, workers)
    base = build("plain", plain, corpora, size)
    return {
        "syllables": syllables,
        **figures,
        f"searchidx_{workers}_workers": rate(many),
        "plain_whoosh": rate(base),
        "time_ratio_vs_plain": many["seconds"] / base["seconds"],
        # the live generation only: a rebuild keeps the one before for its readers
        "size_mb": {"searchidx": Index(ours).stats().size_bytes / 2**20, "plain_whoosh": dir_size(plain) / 2**20},
    }


def measure(
    corpora: list[Path], sample: list[Article], work: Path, args: argparse.Namespace, rng: random.Random
) -> Figures:
    """All figures for these articles; with --skip-build, only the search figures,
    on indexes left in the work folder by an earlier run."""
    size = len(sample)
    figures: Figures = {"articles": size}
    if not args.skip_build:
        figures["index"] = index_figures(corpora, sample, work, args.workers, not args.build_workers_only)
    return figures | search_figures(work / f"searchidx-{size}", work / f"plain-{size}", sample, args, rng)


# --- tables ----------------------------------------------------------------------------


def ms(d: Figures) -> str:
    return f"{d['median_ms']:.1f} / {d['p95_ms']:.1f} / {d['p99_ms']:.1f}"


def postings(d: Figures) -> str:
    return f"{d['decoded_median']:,.0f} / {d['decoded_p95']:,.0f}"


def index_table(results: list[Figures], workers: int) -> list[str]:
    lines = [
        f"| articles | searchidx 1 worker art/s | {workers} workers art/s (syll/s) | plain art/s | time vs plain "
        "| segmentation share | size MB (plain) | peak RSS MB (worker) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in (r for r in results if "index" in r):
        i = r["index"]
        many, plain = i[f"searchidx_{workers}_workers"], i["plain_whoosh"]
        one = f"{i['searchidx_1_worker']['articles_per_s']:.0f}" if "searchidx_1_worker" in i else "–"
        share = f"{i['segmentation_share_1_worker']:.0%}" if "segmentation_share_1_worker" in i else "–"
        lines.append(
            f"| {r['articles']} | {one} | {many['articles_per_s']:.0f} ({many['syllables_per_s']:.0f}) "
            f"| {plain['articles_per_s']:.0f} | {i['time_ratio_vs_plain']:.2f}x | {share} "
            f"| {i['size_mb']['searchidx']:.0f} ({i['size_mb']['plain_whoosh']:.0f}) "
            f"| {many['peak_rss_mb']:.0f} ({many['worker_peak_rss_mb']:.0f}) |"
        )
    return [*lines, ""] if len(lines) > 2 else []


def phases_table(results: list[Figures], workers: int) -> list[str]:
    """Where each build's time went, as BuildReport.phases has it: reading the corpus,
    analysing (in this process: one worker), adding to Whoosh's writer (with workers:
    handing articles over and waiting for them) and committing (sorting and writing
    the postings, and their arrays)."""
    lines = [
        "Build phases, seconds (share of the build): read / analyse / add / commit",
        "",
        "| articles | build | read | analyse | add | commit |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in (r for r in results if "index" in r):
        for name in ("searchidx_1_worker", f"searchidx_{workers}_workers"):
            build = r["index"].get(name)
            if build and build.get("phases"):
                cells = " | ".join(
                    f"{build['phases'][p]:.1f} ({build['phases'][p] / build['seconds']:.0%})" for p in PHASES
                )
                lines.append(f"| {r['articles']} | {name.removeprefix('searchidx_').replace('_', ' ')} | {cells} |")
    return [*lines, ""] if len(lines) > 4 else []


def search_table(results: list[Figures]) -> list[str]:
    lines = [
        "Search, ms median / p95 / p99 (snippets for the top 10):",
        "",
        "| articles | with diacritics | without | without / with | plain Whoosh, with | plain, without "
        "| --any headlines | plain --any | with facets (× without, timed alternately) | similar | cold (fresh index) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        s = r["search"]
        lines.append(
            f"| {r['articles']} | {ms(s['searchidx_with_diacritics'])} | {ms(s['searchidx_without_diacritics'])} "
            f"| {s['unaccented_vs_accented']:.2f}x | {ms(s['plain_with_diacritics'])} "
            f"| {ms(s['plain_without_diacritics'])} | {ms(s['searchidx_any'])} | {ms(s['plain_any'])} "
            f"| {ms(s['searchidx_facets'])} ({s['facets_vs_without']:.2f}x) | {ms(r['similar'])} "
            f"| {ms(s['searchidx_cold'])} |"
        )
    lines += [
        "",
        "Postings decoded per query, median / p95 (warm: those not already cached by earlier queries; "
        "cold: all the query needs):",
        "",
        "| articles | with diacritics, warm | without, warm | --any, warm | similar, warm | cold |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        s = r["search"]
        lines.append(
            f"| {r['articles']} | {postings(s['searchidx_with_diacritics'])} "
            f"| {postings(s['searchidx_without_diacritics'])} | {postings(s['searchidx_any'])} "
            f"| {postings(r['similar'])} | {postings(s['searchidx_cold'])} |"
        )
    return lines


def targets(last: Figures, start: Figures, exact: Figures | None, workers: int) -> list[Figures]:
    """Issue 13's search targets and, where the run built, issue 14's indexing ones,
    against the largest size's figures."""
    s = last["search"]
    at_most: list[tuple[str, float, float]] = [
        ("search median, with diacritics (ms)", s["searchidx_with_diacritics"]["median_ms"], 50),
        ("search p95, with diacritics (ms)", s["searchidx_with_diacritics"]["p95_ms"], 200),
        ("without diacritics / with, median", s["unaccented_vs_accented"], 1.3),
        ("--any headlines, median (ms)", s["searchidx_any"]["median_ms"], 250),
        ("similar ID, median (ms)", last["similar"]["median_ms"], 120),
        ("with facets / without, median", s["facets_vs_without"], 2.0),
        ("searchidx --help (s)", start["help_s"], 0.25),
        ('searchidx search "thi đua" on the sample (s)', start["search_sample_s"], 0.5),
    ]
    at_least: list[tuple[str, float, float]] = []
    if exact is not None:
        at_most.append(("queries differing from exhaustive scoring", exact["differing"], 0))
    if "index" in last:
        i, many = last["index"], last["index"][f"searchidx_{workers}_workers"]
        at_least.append((f"indexing, {workers} workers (articles/s)", many["articles_per_s"], 200))
        if "searchidx_1_worker" in i:
            at_least.append(("indexing, 1 worker (articles/s)", i["searchidx_1_worker"]["articles_per_s"], 100))
        at_most += [
            (f"indexing time / plain Whoosh's ({workers} workers)", i["time_ratio_vs_plain"], 1.5),
            ("index size / plain Whoosh's", i["size_mb"]["searchidx"] / i["size_mb"]["plain_whoosh"], 2.5),
            ("peak memory of the largest process (MB)", max(many["peak_rss_mb"], many["worker_peak_rss_mb"]), 600),
        ]
    rows = [(n, v, limit, True) for n, v, limit in at_most] + [(n, v, limit, False) for n, v, limit in at_least]
    return [
        {"target": n, "limit": limit, "measured": v, "met": v <= limit if most else v >= limit, "at_most": most}
        for n, v, limit, most in rows
    ]


def targets_table(rows: list[Figures], articles: int) -> list[str]:
    lines = [
        f"Targets (issues 13 and 14), on {articles} articles:",
        "",
        "| target | limit | measured | |",
        "|---|---:|---:|---|",
    ]
    for row in rows:
        limit = f"{'≤' if row['at_most'] else '≥'} {row['limit']:g}"
        lines.append(f"| {row['target']} | {limit} | {row['measured']:.3g} | {'met' if row['met'] else 'MISSED'} |")
    return lines


def report_text(report: Figures) -> str:
    results, start, exact = report["results"], report["startup"], report["exactness"]
    lines = index_table(results, report["workers"]) + phases_table(results, report["workers"])
    lines += [*search_table(results), ""]
    lines.append(
        f"start-up, median of {start['runs']}: `searchidx --help` {start['help_s']:.3f} s, "
        f'`searchidx search "thi đua"` on the sample {start["search_sample_s"]:.3f} s, '
        f"`python -c pass` {start['python_pass_s']:.3f} s"
    )
    if exact is not None:
        lines.append(
            f"exactness on {exact['articles']} articles: {exact['differing']} of {exact['queries']} queries differ "
            f"from Whoosh's exhaustive scoring, {exact['tied_in_another_order']} rank tied documents in another "
            f"order ({exact['seconds']:.0f} s; of {exact['asked']} asked; "
            + ", ".join(f"{kind} {n}" for kind, n in exact["by_kind"].items())
            + ")"
        )
    analysis = report["analysis"]
    lines.append(
        f"analysis: pyvi alone {analysis['pyvi_syllables_per_s']:.0f} syllables/s, the whole analyzer "
        f"{analysis['analyzer_syllables_per_s']:.0f} syllables/s ({analysis['analyzer_time_vs_pyvi']:.2f}x pyvi's time)"
    )
    return "\n".join([*lines, "", *targets_table(report["targets"], results[-1]["articles"])])


# --- main ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", nargs="*", type=Path, default=DEFAULT_CORPORA, help="read in this order")
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated article counts")
    parser.add_argument("--limit", type=int, help="only this many articles (one size)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--build-workers-only", action="store_true", help="skip the 1-worker build (slow)")
    parser.add_argument("--queries", type=int, default=200, help="1-4 word queries per size")
    parser.add_argument("--any-queries", type=int, default=50, help="--any headline queries per size")
    parser.add_argument("--cold-queries", type=int, default=50, help="searches on a freshly opened index")
    parser.add_argument("--exactness", type=int, default=1000, help="queries checked at the largest size (0: none)")
    parser.add_argument("--exactness-minutes", type=float, default=0, help="stop the check after this long (0: never)")
    parser.add_argument("--exactness-only", action="store_true", help="only the check, on the kept largest index")
    parser.add_argument("--startup-runs", type=int, default=10)
    parser.add_argument("--json", type=Path, help="write all figures here")
    parser.add_argument("--workdir", type=Path, help="keep the indexes here (default: a temporary folder)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--skip-build", action="store_true", help="only search figures, on indexes kept in --workdir")
    args = parser.parse_args(argv)
    for corpus in args.corpora:
        if not corpus.exists():
            parser.error(f"corpus {corpus} not found")
    if args.skip_build and not args.workdir:
        parser.error("--skip-build needs --workdir, where an earlier run kept its indexes")
    args.sizes = [args.limit] if args.limit else [int(s) for s in args.sizes.split(",")]
    return args


def checked_exactness(work: Path, pool: list[Article], args: argparse.Namespace, rng: random.Random) -> Figures:
    print(f"checking exactness on {len(pool)} articles…", file=sys.stderr)
    path = work / f"searchidx-{len(pool)}"
    return {"articles": len(pool), **exactness(path, pool, args.exactness, rng, args.exactness_minutes)}


def run(args: argparse.Namespace, work: Path) -> Figures:
    corpora = readable(args.corpora, work)
    pool = list(articles(corpora, max(args.sizes)))
    if args.skip_build:
        check_kept(work, sorted({len(pool[:size]) for size in args.sizes}))
    rng = random.Random(args.seed)
    results = []
    for size in args.sizes:
        print(f"measuring {min(size, len(pool))} articles…", file=sys.stderr)
        results.append(measure(corpora, pool[:size], work, args, rng))
    exact = checked_exactness(work, pool, args, rng) if args.exactness else None
    start = startup(work, args.startup_runs)
    last = next(r for r in results if r["articles"] == len(pool))
    return {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "corpora": [str(c) for c in args.corpora],
        "workers": args.workers,
        "analysis": analyzer_speed(pool[:400]),
        "results": results,
        "exactness": exact,
        "startup": start,
        "targets": targets(last, start, exact, args.workers),
    }


def exactness_only(args: argparse.Namespace) -> int:
    """The exactness check alone: it does not time anything, so it can run while
    the machine is busy."""
    if args.workdir is None:
        raise SystemExit("--exactness-only needs --workdir with a kept index")
    pool = list(articles(readable(args.corpora, args.workdir), max(args.sizes)))
    exact = checked_exactness(args.workdir, pool, args, random.Random(args.seed))
    print(json.dumps(exact, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"exactness": exact}, ensure_ascii=False, indent=2))
    return 1 if exact["differing"] else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.exactness_only:
        return exactness_only(args)
    with tempfile.TemporaryDirectory() as tmp:
        report = run(args, args.workdir or Path(tmp))
    print(report_text(report))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_build":
        kind, directory, limit, workers, *corpora = sys.argv[2:]
        print(json.dumps(child_build(kind, Path(directory), list(map(Path, corpora)), int(limit), int(workers))))
        sys.exit(0)
    sys.exit(main())
