"""Building on a Dask cluster gives the same index as a local build, and faults leave
the old index answering: a 2-worker ``LocalCluster`` of processes on 127.0.0.1 and
a few hundred real articles. Skipped when the ``dask`` extra is not installed."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from conftest import write_jsonl

from searchidx import Article, Index, shipped_corpus
from searchidx.analysis import ANALYZER_VERSION
from searchidx.check import check
from searchidx.cluster import parse_spec, write_segment
from searchidx.corpus import read_corpus
from searchidx.errors import ClusterUnavailable, IncompatibleWorker, InvalidArgument
from searchidx.generations import current_generation, open_generation
from searchidx.schema import SCHEMA_VERSION

distributed = pytest.importorskip(
    "distributed", reason="the dask extra is not installed (pip install 'searchidx[dask]')"
)

ROOT = Path(__file__).resolve().parent.parent
QUERIES = [
    "bóng đá", "kinh tế", "ha noi", "giáo dục", "chính phủ", "công an", '"thành phố"', "bão OR lũ",
    "người dân -tai nạn", "title:việt nam", "bệnh viện", "tăng trưởng",
]  # fmt: skip


def local_cluster() -> distributed.LocalCluster:
    return distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=":0", worker_dashboard_address=":0", silence_logs=logging.ERROR,
    )  # fmt: skip


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.LocalCluster]:
    with local_cluster() as running:
        yield running


@pytest.fixture(scope="module")
def client(cluster: distributed.LocalCluster) -> Iterator[distributed.Client]:
    with distributed.Client(cluster, set_as_default=False) as connected:
        yield connected


def articles(path: Path) -> list[Article]:
    return [record for record in read_corpus([path]) if isinstance(record, Article)]


def ranked(index: Index, query: str) -> list[tuple[str, float]]:
    """The top 10 as (id, score), equal scores by id: documents are numbered in the
    order the segments were installed, which decides between ties."""
    hits = [(hit.id, round(hit.score or 0.0, 6)) for hit in index.search(query, limit=10).hits]
    return sorted(hits, key=lambda hit: (-hit[1], hit[0]))


def leftover_scratch(client: distributed.Client) -> list[Path]:
    """searchidx's scratch directories still on the (local) workers' disks after
    30 s: a cancelled task still runs to its end, then removes its own."""
    roots = client.run(lambda dask_worker: dask_worker.local_directory).values()
    deadline = time.monotonic() + 30
    while (left := [path for root in roots for path in Path(root).glob("searchidx-*")]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.mark.slow
def test_a_dask_build_is_the_same_index_as_a_local_two_process_build(cluster, client, vietnews_slice, vietnews_index):
    index = Index(vietnews_slice.parent / "dask-index")
    report = index.index_paths([vietnews_slice], cluster=cluster.scheduler_address, cluster_batch=40)
    local = Index.open(vietnews_index.path)
    assert report.indexed == local.stats().documents == index.stats().documents > 250
    assert index.stats().fields == local.stats().fields
    for article in articles(vietnews_slice):
        assert index.show(article.id) == local.show(article.id)
    matched = 0
    for query in QUERIES:
        assert ranked(index, query) == ranked(local, query), query
        matched += bool(ranked(local, query))
    assert matched == len(QUERIES)
    assert not leftover_scratch(client)
    assert check(index.path).ok  # the posting arrays the workers captured included


@pytest.mark.slow
def test_updates_repeats_and_deletes_by_id_work_on_a_dask_built_index(cluster, vietnews_slice, tmp_path):
    first = articles(vietnews_slice)[:40]
    index = Index(tmp_path / "ix")
    index.add(first, cluster=cluster.scheduler_address, cluster_batch=7)
    changed = dataclasses.replace(first[0], body="Một nội dung hoàn toàn mới về kỳ lân xanh.")
    repeated = dataclasses.replace(first[1], title="Tiêu đề sửa lần một")
    repeated_again = dataclasses.replace(first[1], title="Tiêu đề sửa lần hai")
    new = dataclasses.replace(first[2], id="mới-1")
    updates = [changed, first[3], repeated, new, repeated_again]
    report = index.add(updates, cluster=cluster.scheduler_address, cluster_batch=1)
    assert (report.indexed, report.updated, report.skipped) == (1, 3, 1)
    assert index.stats().documents == 41
    assert index.show(first[0].id).body == changed.body
    assert index.show(first[1].id).title == "Tiêu đề sửa lần hai"
    assert [hit.id for hit in index.search("kỳ lân xanh").hits] == [first[0].id]
    assert not index.search('"sửa lần một"').hits
    assert index.delete([first[0].id, "mới-1"]) == 2
    assert index.stats().documents == 39


@pytest.mark.slow
def test_a_worker_killed_mid_build_loses_no_article_and_indexes_none_twice(vietnews_slice, tmp_path):
    expected = articles(vietnews_slice)
    with local_cluster() as running, distributed.Client(running, set_as_default=False) as client:
        killed: list[int] = []

        def killing_a_busy_worker(records: Iterable[Article]) -> Iterator[Article]:
            for number, record in enumerate(records):
                if number == 120:
                    killed.append(kill_a_busy_worker(client))
                yield record

        index = Index(tmp_path / "ix")
        report = index.add(killing_a_busy_worker(expected), cluster=running.scheduler_address, cluster_batch=10)
        assert killed and killed[0] not in client.run(os.getpid).values()
    assert report.indexed == len(expected) == index.stats().documents
    _, ix = open_generation(index.path)
    with ix.reader() as reader:
        ids = [stored["id"] for stored in reader.all_stored_fields()]
        assert reader.doc_count_all() == len(ids)  # no copy written and then deleted either
    assert sorted(ids) == sorted(article.id for article in expected)


def kill_a_busy_worker(client: distributed.Client) -> int:
    """SIGKILL a worker while it runs a batch (its nanny starts a new one); its pid."""
    pids = client.run(os.getpid)
    deadline = time.monotonic() + 60
    while not (busy := [address for address, keys in client.processing().items() if keys]):
        assert time.monotonic() < deadline, "no worker ever got a batch"
        time.sleep(0.01)
    os.kill(pids[busy[0]], signal.SIGKILL)
    return pids[busy[0]]


@pytest.mark.slow
def test_an_interrupted_dask_build_leaves_the_old_index_and_no_scratch_directory(
    cluster, client, vietnews_slice, tmp_path
):
    records = articles(vietnews_slice)
    index = Index(tmp_path / "ix")
    index.add(records[:20], cluster=cluster.scheduler_address)
    live = current_generation(index.path)

    def interrupted(records: Iterable[Article]) -> Iterator[Article]:
        for number, record in enumerate(records):
            if number == 150:
                raise KeyboardInterrupt
            yield record

    with pytest.raises(KeyboardInterrupt):
        index.add(interrupted(records), rebuild=True, cluster=cluster.scheduler_address, cluster_batch=10)
    assert current_generation(index.path) == live
    assert sorted(p.name for p in index.path.glob("gen-*")) == [live.name]
    assert index.stats().documents == 20 and index.show(records[0].id).title == records[0].title
    assert not leftover_scratch(client)


def test_an_unreachable_scheduler_is_one_line_and_exit_1_and_the_index_is_untouched(vietnews_slice, tmp_path):
    corpus = write_jsonl(tmp_path / "few.jsonl", [a.to_dict() for a in articles(vietnews_slice)[:3]])
    index = Index(tmp_path / "ix")
    index.index_paths([corpus])
    live, before = current_generation(index.path), sorted(p.name for p in index.path.iterdir())
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"}
    result = subprocess.run(
        [sys.executable, "-m", "searchidx", "index", str(vietnews_slice), "--index", str(index.path),
         "--rebuild", "--dask", address],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(f"searchidx: error: cannot reach the Dask scheduler at {address}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert current_generation(index.path) == live
    assert sorted(p.name for p in index.path.iterdir()) == before
    assert index.stats().documents == 3


@pytest.mark.parametrize("spec", ["local:0", "local:x", "remote", ""])
def test_a_malformed_cluster_is_refused(spec):
    with pytest.raises(ValueError, match="expected"):
        parse_spec(spec)
    with pytest.raises(InvalidArgument, match="cluster"):
        Index("unused").add([], cluster=spec)


def test_cluster_specs_name_local_workers_or_a_scheduler():
    assert parse_spec("local:3") == 3
    assert parse_spec("local") == (os.cpu_count() or 1)
    assert parse_spec("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"


@pytest.mark.slow
def test_the_dask_benchmark_runs_on_a_tiny_corpus(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_dask.py"), str(shipped_corpus()), "--articles", "12",
         "--rounds", "1", "--json", str(out)],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text())
    assert figures["articles"] == 12
    assert figures["dask_2_workers"]["segments"] == figures["dask_1_worker"]["segments"] == 1
    assert figures["runs"]["dask_2_workers"][0]["worker_task_seconds"] > 0


def test_a_worker_with_another_searchidx_refuses_to_write_segments():
    with pytest.raises(IncompatibleWorker, match="install the same searchidx on every worker"):
        write_segment([], (SCHEMA_VERSION, ANALYZER_VERSION, "0.0-other"))


def test_a_scheduler_without_workers_is_refused_and_the_index_untouched(vietnews_slice, tmp_path):
    index = Index(tmp_path / "ix")
    index.add(articles(vietnews_slice)[:3])
    live = current_generation(index.path)
    dask = pytest.importorskip("dask")
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        distributed.LocalCluster(
            n_workers=0, host="127.0.0.1", dashboard_address=":0", silence_logs=logging.ERROR
        ) as empty,
        pytest.raises(ClusterUnavailable, match="has no workers"),
    ):
        index.add(articles(vietnews_slice)[3:6], cluster=empty.scheduler_address)
    assert current_generation(index.path) == live and index.stats().documents == 3


@pytest.mark.slow
def test_the_cli_builds_on_a_local_cluster(vietnews_slice, tmp_path):
    corpus = write_jsonl(tmp_path / "few.jsonl", [a.to_dict() for a in articles(vietnews_slice)[:30]])
    result = subprocess.run(
        [sys.executable, "-m", "searchidx", "index", str(corpus), "--index", str(tmp_path / "ix"), "--dask", "local:2",
         "--dask-batch", "10"],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "indexed 30, updated 0" in result.stderr
    assert (Index(tmp_path / "ix").stats().documents, Index(tmp_path / "ix").stats().segments) == (30, 3)
