#!/usr/bin/env python3
"""A local 2-process build beside a 2-worker Dask build of the same articles, in one run.

    python scripts/bench_dask.py [CORPUS] [--articles 2500] [--rounds 2] [--json FILE]

Builds alternate (local, Dask with 2 workers, Dask with 1 worker, then again), so that
the load of a shared machine falls on all of them alike; the LocalCluster is started
once, and its start-up is reported apart. Per Dask build: the seconds the workers
spent in their tasks (analysis and segment writing) and the client's own cost of
reading the corpus and deciding what to send, which bounds how far more workers help.
Needs the dask extra (pip install 'searchidx[dask]').
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from searchidx import Article, Index  # noqa: E402
from searchidx.corpus import read_corpus  # noqa: E402
from searchidx.limits import CLUSTER_BATCH  # noqa: E402
from searchidx.schema import digest  # noqa: E402

DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus" / "vietnews-val.jsonl.gz"


def articles(corpus: Path, count: int) -> list[Article]:
    records = (r for r in read_corpus([corpus]) if isinstance(r, Article))
    return list(itertools.islice(records, count))


def client_seconds(sample: list[Article], corpus: Path) -> float:
    """What the client does per build besides waiting: read and digest every article."""
    started = time.perf_counter()
    for article in articles(corpus, len(sample)):
        digest(article)
    return time.perf_counter() - started


def timed_build(path: Path, sample: list[Article], **settings: Any) -> float:
    started = time.perf_counter()
    Index(path).add(sample, rebuild=True, **settings)
    return time.perf_counter() - started


def dask_build(client: Any, path: Path, sample: list[Article], address: str) -> dict[str, float]:
    from distributed import get_task_stream

    with get_task_stream(client) as stream:
        seconds = timed_build(path, sample, cluster=address)
    compute = sum(
        part["stop"] - part["start"]
        for task in stream.data
        for part in task["startstops"]
        if part["action"] == "compute"
    )
    return {"seconds": seconds, "worker_task_seconds": compute}


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from distributed import Client, LocalCluster

    sample = articles(args.corpus, args.articles)
    runs: dict[str, list[dict[str, float]]] = {"local_2_processes": [], "dask_2_workers": [], "dask_1_worker": []}
    clusters = {}
    for workers in (2, 1):
        started = time.perf_counter()
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=":0", worker_dashboard_address=":0", silence_logs=logging.ERROR,
        )  # fmt: skip
        clusters[workers] = (cluster, Client(cluster, set_as_default=False), time.perf_counter() - started)
    for _ in range(args.rounds):
        runs["local_2_processes"].append({"seconds": timed_build(work / "local_2_processes", sample, workers=2)})
        for workers, name in ((2, "dask_2_workers"), (1, "dask_1_worker")):
            cluster, client, _ = clusters[workers]
            runs[name].append(dask_build(client, work / name, sample, cluster.scheduler_address))
    figures: dict[str, Any] = {
        "articles": len(sample),
        "batch": CLUSTER_BATCH,
        "cluster_start_seconds": {w: round(c[2], 2) for w, c in clusters.items()},
        "client_read_and_digest_seconds": round(client_seconds(sample, args.corpus), 2),
        "runs": runs,
    }
    for name, rows in runs.items():
        figures[name] = {
            "median_seconds": round(statistics.median(r["seconds"] for r in rows), 2),
            "articles_per_second": round(len(sample) / statistics.median(r["seconds"] for r in rows), 1),
            "segments": Index(work / name).stats().segments,
        }
    local = figures["local_2_processes"]["median_seconds"]
    figures["dask_2_over_local_2"] = round(figures["dask_2_workers"]["median_seconds"] / local, 3)
    figures["dask_1_over_dask_2"] = round(
        figures["dask_1_worker"]["median_seconds"] / figures["dask_2_workers"]["median_seconds"], 3
    )
    for cluster, client, _ in clusters.values():
        client.close()
        cluster.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--articles", type=int, default=2500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as work:
        figures = run(args, Path(work))
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
