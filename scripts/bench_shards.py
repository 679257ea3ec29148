"""Search latency of a corpus as 2 shards searched in parallel (a process per shard,
``searchidx.sharded``) against the same corpus as one index, on this machine; and
what N shards on N machines would give, from the measured costs.

    python scripts/bench_shards.py --articles 3000 --queries 60 --json scripts/results/bench_shards.json
    python scripts/bench_shards.py --articles 0 --corpus A.jsonl.gz B.jsonl.gz VNTC_FOLDER --workdir DIR

Queries are the first words of titles of articles in the corpus. Each query runs on
the whole index, on the sharded one and on each shard alone (in this process, as
one machine holding one shard would run it), alternating, after one warm-up round.
The model: one search costs a fixed part ``a`` plus a part ``b`` proportional to the
articles searched, fitted from the whole index (all articles) and one shard (about
half); N shards on N machines then cost ``a + b / N`` plus the coordination
measured here (the sharded latency minus the slower shard's own).
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from searchidx import Article, Index
from searchidx.corpus import read_corpus
from searchidx.sharded import ShardedIndex, index_shards

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "vietnews-val.jsonl.gz"


def _slice(corpus: Path, articles: int, out: Path) -> tuple[Path, list[str]]:
    """The first ``articles`` records as JSON Lines, and queries from their titles."""
    opener = gzip.open if corpus.suffix == ".gz" else open
    with opener(corpus, "rt", encoding="utf-8") as src:  # type: ignore[operator]
        lines = list(itertools.islice(src, articles))
    out.write_text("".join(lines), encoding="utf-8")
    titles = [json.loads(line).get("title", "") for line in lines]
    return out, [" ".join(t.split()[:3]) for t in titles if len(t.split()) >= 3]


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 2),
    }


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _everything(corpora: list[Path]) -> tuple[list[Path], list[str]]:
    """Every article of the corpora (any format searchidx reads), and queries from
    their titles."""
    titles = (r.title for r in read_corpus(corpora) if isinstance(r, Article))
    return corpora, [" ".join(t.split()[:3]) for t in titles if len(t.split()) >= 3]


def measure(
    corpora: list[Path], articles: int, queries: int, workdir: Path, build_only: bool = False
) -> dict[str, object]:
    if articles:
        (corpus,) = corpora
        data, texts = _slice(corpus, articles, workdir / "slice.jsonl")
        paths = [data]
    else:
        paths, texts = _everything(corpora)
    texts = texts[:: max(1, len(texts) // queries)][:queries]
    whole_build = split_build = 0.0
    if not (workdir / "whole").exists():  # a --workdir kept from an earlier run is reused
        started = time.perf_counter()
        Index(workdir / "whole").index_paths(paths, rebuild=True, workers=2)
        whole_build = time.perf_counter() - started
    if not (workdir / "split").exists():
        started = time.perf_counter()
        index_shards(workdir / "split", paths, 2, rebuild=True, workers=2)
        split_build = time.perf_counter() - started
    if build_only:
        return {"articles": articles, "build_s": {"whole": round(whole_build, 1), "2 shards": round(split_build, 1)}}
    names = ("whole", "sharded", "shard-0", "shard-1")
    times: dict[str, list[float]] = {name: [] for name in names}
    with (
        Index.open(workdir / "whole") as whole,
        ShardedIndex.open(workdir / "split") as sharded,
        Index.open(workdir / "split" / "shard-0") as shard0,
        Index.open(workdir / "split" / "shard-1") as shard1,
    ):
        runs = dict(zip(names, (whole, sharded, shard0, shard1), strict=True))
        for warm, text in itertools.chain(((True, t) for t in texts[:10]), ((False, t) for t in texts)):
            for name, index in runs.items():
                took = _timed(lambda index=index, text=text: index.search(text, facets=True))  # type: ignore[misc]
                if not warm:
                    times[name].append(took)
    with Index.open(workdir / "whole") as whole:
        articles = whole.stats().documents
    out: dict[str, object] = {"articles": articles, "queries": len(texts), "build_s": {}}
    out["build_s"] = {"whole": round(whole_build, 1), "2 shards": round(split_build, 1)}
    out.update({name: _summary(ts) for name, ts in times.items()})
    out["model"] = _model(times)
    return out


def _model(times: dict[str, list[float]]) -> dict[str, object]:
    """Median latency of N shards on N machines: ``a + b / N`` plus coordination."""
    whole = statistics.median(times["whole"])
    half = statistics.median([max(a, b) for a, b in zip(times["shard-0"], times["shard-1"], strict=True)])
    b = 2 * (whole - half)  # whole = a + b, half = a + b/2
    a = whole - b
    coordination = statistics.median(
        [s - max(x, y) for s, x, y in zip(times["sharded"], times["shard-0"], times["shard-1"], strict=True)]
    )
    return {
        "fixed_ms": round(a * 1000, 2),
        "per_corpus_ms": round(b * 1000, 2),
        "coordination_ms": round(coordination * 1000, 2),
        "median_ms_on_n_machines": {n: round((a + b / n + coordination) * 1000, 2) for n in (1, 2, 4, 8, 16)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus", type=Path, nargs="+", default=[CORPUS], help="one JSON Lines file, or with --articles 0 any corpora"
    )
    parser.add_argument(
        "--articles", type=int, default=22642, help="the first N of the corpus (0: all of every corpus)"
    )
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument(
        "--workdir", type=Path, help="keep the indexes here, and reuse them (default: a temporary directory)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--build-only", action="store_true", help="build the indexes in --workdir, measure nothing")
    args = parser.parse_args()
    missing = [c for c in args.corpus if not c.exists()]
    if missing:
        sys.exit(f"bench_shards: {missing[0]} is not here")
    if args.articles and len(args.corpus) > 1:
        sys.exit("bench_shards: --articles N takes one corpus; --articles 0 takes all of several")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        report = measure(args.corpus, args.articles, args.queries, workdir, args.build_only)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
