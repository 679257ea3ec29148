#!/usr/bin/env python3
"""Speed of searchidx beside plain Whoosh, measured side by side in one run.

    python scripts/bench.py [CORPUS] [--sizes 5000,10000,22642] [--json FILE]

For each size (the first N articles of CORPUS, default ../shared/corpus/vietnews-val):
indexing with 1 worker and with all workers, in articles/s and syllables/s, the share
of time spent in segmentation, index size and peak memory; the same articles indexed
by plain Whoosh (StandardAnalyzer, no segmentation, no folding); search latency
(median, p95, p99) for 1-4 word queries with snippets, with and without diacritics,
for both; and `similar` latency. Machines are shared and noisy: compare the ratios
within one run, not absolute figures across runs.
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
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import plain_whoosh  # noqa: E402

from searchidx import Article, Index  # noqa: E402
from searchidx.analysis import analyze, fold, normalize, segment, syllabify  # noqa: E402
from searchidx.corpus import read_path  # noqa: E402

DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus" / "vietnews-val.jsonl.gz"


def articles(corpus: Path, limit: int) -> Iterator[Article]:
    records = (r for r in read_path(corpus) if isinstance(r, Article))
    return itertools.islice(records, limit)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency(run: Callable[[str], object], queries: list[str]) -> dict[str, float]:
    for q in queries[:5]:
        run(q)  # warm caches
    times = []
    for q in queries:
        started = time.perf_counter()
        run(q)
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": statistics.median(times), "p95_ms": percentile(times, 0.95), "p99_ms": percentile(times, 0.99)}


# --- builds run in child processes, so peak memory is measured per build ---------------


def child_build(kind: str, directory: Path, corpus: Path, limit: int, workers: int) -> dict[str, float]:
    started = time.perf_counter()
    if kind == "searchidx":
        Index(directory).add(articles(corpus, limit), rebuild=True, workers=workers)
    else:
        plain_whoosh.build(directory, articles(corpus, limit))
    seconds = time.perf_counter() - started
    own = peak_rss_mb()
    workers_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "peak_rss_mb": own, "worker_peak_rss_mb": workers_peak}


def peak_rss_mb() -> float:
    """This process's peak resident memory. (ru_maxrss would include the memory of
    the parent we were forked from: it survives exec.)"""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(kind: str, directory: Path, corpus: Path, limit: int, workers: int = 1) -> dict[str, float]:
    command = [sys.executable, __file__, "_build", kind, str(directory), str(corpus), str(limit), str(workers)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --- workload --------------------------------------------------------------------------


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
    return queries


def segmentation_seconds(sample: list[Article]) -> float:
    """Time spent in segmentation alone (syllables + pyvi's model) for the sample."""
    started = time.perf_counter()
    for article in sample:
        for text in (article.title, article.sapo, article.body):
            segment(syllabify(normalize(text).text))
    return time.perf_counter() - started


def analyzer_speed(sample: list[Article]) -> dict[str, float]:
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


def search_figures(ours: Path, plain: Path, queries: list[str], ids: list[str]) -> dict:
    folded = [fold(q) for q in queries]
    index, baseline = Index.open(ours), plain_whoosh.PlainSearch(plain)
    return {
        "search": {
            "queries": len(queries),
            "searchidx_with_diacritics": latency(index.search, queries),
            "searchidx_without_diacritics": latency(index.search, folded),
            "plain_with_diacritics": latency(baseline.search, queries),
            "plain_without_diacritics": latency(baseline.search, folded),
        },
        "similar": latency(index.similar, ids),
        "sample_queries": queries[:10],
    }


def measure(
    corpus: Path, size: int, workers: int, work: Path, query_count: int, rng: random.Random, skip_build: bool
) -> dict:
    """All figures for the first ``size`` articles; with ``skip_build``, only search
    and similar, on indexes left in ``work`` by an earlier run."""
    sample = list(articles(corpus, size))
    size = len(sample)
    ours, plain = work / f"searchidx-{size}", work / f"plain-{size}"
    queries = make_queries(sample, query_count, rng)
    ids = [a.id for a in rng.sample(sample, min(50, size))]
    if skip_build:
        return {"articles": size, **search_figures(ours, plain, queries, ids)}
    syllables = sum(len(syllabify(normalize(a.text).text)) for a in sample)
    one = build("searchidx", ours, corpus, size, 1)
    seg_sample = sample[: min(size, 300)]
    seg_share = segmentation_seconds(seg_sample) / len(seg_sample) / (one["seconds"] / size)
    many = build("searchidx", ours, corpus, size, workers)
    base = build("plain", plain, corpus, size)
    rate = lambda b: {**b, "articles_per_s": size / b["seconds"], "syllables_per_s": syllables / b["seconds"]}  # noqa: E731
    return {
        "articles": size,
        "syllables": syllables,
        "index": {
            "searchidx_1_worker": rate(one),
            f"searchidx_{workers}_workers": rate(many),
            "plain_whoosh": rate(base),
            "time_ratio_vs_plain": many["seconds"] / base["seconds"],
            "segmentation_share_1_worker": seg_share,
            "size_mb": {"searchidx": dir_size(ours) / 2**20, "plain_whoosh": dir_size(plain) / 2**20},
        },
        **search_figures(ours, plain, queries, ids),
    }


def table(results: list[dict], workers: int) -> str:
    lines = [
        f"| articles | searchidx 1 worker art/s | {workers} workers art/s (syll/s) | plain art/s | time vs plain "
        "| segmentation share | size MB (plain) | peak RSS MB (worker) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in (r for r in results if "index" in r):
        i = r["index"]
        one, many, plain = i["searchidx_1_worker"], i[f"searchidx_{workers}_workers"], i["plain_whoosh"]
        lines.append(
            f"| {r['articles']} | {one['articles_per_s']:.0f} "
            f"| {many['articles_per_s']:.0f} ({many['syllables_per_s']:.0f}) "
            f"| {plain['articles_per_s']:.0f} | {i['time_ratio_vs_plain']:.2f}x "
            f"| {i['segmentation_share_1_worker']:.0%} "
            f"| {i['size_mb']['searchidx']:.0f} ({i['size_mb']['plain_whoosh']:.0f}) "
            f"| {many['peak_rss_mb']:.0f} ({many['worker_peak_rss_mb']:.0f}) |"
        )
    lines += [
        "",
        "| articles | search ms median / p95 / p99 | without diacritics | plain Whoosh "
        "| plain, without diacritics | similar median / p95 |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        s = r["search"]
        cell = lambda d: f"{d['median_ms']:.1f} / {d['p95_ms']:.1f} / {d['p99_ms']:.1f}"  # noqa: E731
        lines.append(
            f"| {r['articles']} | {cell(s['searchidx_with_diacritics'])} | {cell(s['searchidx_without_diacritics'])} "
            f"| {cell(s['plain_with_diacritics'])} | {cell(s['plain_without_diacritics'])} "
            f"| {r['similar']['median_ms']:.1f} / {r['similar']['p95_ms']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--sizes", default="5000,10000,22642", help="comma-separated article counts")
    parser.add_argument("--limit", type=int, help="only this many articles (one size)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", type=Path, help="write all figures here")
    parser.add_argument("--workdir", type=Path, help="keep the indexes here (default: a temporary folder)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--skip-build", action="store_true", help="only search figures, on indexes kept in --workdir")
    args = parser.parse_args(argv)
    if not args.corpus.exists():
        parser.error(f"corpus {args.corpus} not found")
    if args.skip_build and not args.workdir:
        parser.error("--skip-build needs --workdir, where an earlier run kept its indexes")
    sizes = [args.limit] if args.limit else [int(s) for s in args.sizes.split(",")]
    rng = random.Random(args.seed)
    analysis = analyzer_speed(list(articles(args.corpus, 400)))
    with tempfile.TemporaryDirectory() as tmp:
        work = args.workdir or Path(tmp)
        results = []
        for size in sizes:
            print(f"measuring {size} articles…", file=sys.stderr)
            results.append(measure(args.corpus, size, args.workers, work, args.queries, rng, args.skip_build))
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "corpus": str(args.corpus),
        "workers": args.workers,
        "analysis": analysis,
        "results": results,
    }
    print(table(results, args.workers))
    print(
        f"\nanalysis: pyvi alone {analysis['pyvi_syllables_per_s']:.0f} syllables/s, the whole analyzer "
        f"{analysis['analyzer_syllables_per_s']:.0f} syllables/s ({analysis['analyzer_time_vs_pyvi']:.2f}x pyvi's time)"
    )
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_build":
        kind, directory, corpus, limit, workers = sys.argv[2:7]
        print(json.dumps(child_build(kind, Path(directory), Path(corpus), int(limit), int(workers))))
        sys.exit(0)
    sys.exit(main())
