"""Building, updating and protecting the index on disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import worker_pids, write_jsonl

from searchidx import Article, Index
from searchidx.errors import IncompatibleIndex, IndexLocked, IndexNotFound
from searchidx.generations import META_FILE, WriteLock, current_generation

ROOT = Path(__file__).resolve().parent.parent


def article(i: int, **fields: str) -> Article:
    return Article(
        id=f"a{i}", title=fields.get("title", f"Tin số {i} về Gia Lai"), body=fields.get("body", "Nội dung bài báo.")
    )


@pytest.mark.slow
def test_build_reports_what_it_did(tmp_path, vietnews_slice):
    index = Index(tmp_path / "ix")
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "x"}, {"id": "y", "title": "Có tiêu đề", "date": "hôm qua"}])
    report = index.index_paths([vietnews_slice, bad])
    assert report.indexed == 301 and report.updated == 0 and report.skipped == 0
    assert [(r.line, r.reason) for r in report.rejected] == [(1, "record has neither title nor body")]
    assert len(report.warnings) == 1 and "hôm qua" in report.warnings[0].reason
    assert index.stats().documents == 301


def test_duplicate_id_updates_instead_of_adding(tmp_path):
    index = Index(tmp_path / "ix")
    index.add([article(1), article(2)])
    report = index.add([article(1, title="Tiêu đề mới về Đà Nẵng"), article(2)])
    assert (report.indexed, report.updated, report.skipped) == (0, 1, 1)
    assert index.stats().documents == 2
    assert index.show("a1").title == "Tiêu đề mới về Đà Nẵng"
    assert index.search("Đà Nẵng").total == 1 and index.search("Gia Lai").total == 1


def test_an_id_repeated_within_one_build_keeps_the_last(tmp_path):
    index = Index(tmp_path / "ix")
    report = index.add([article(1), article(1, title="Bản sửa lần hai"), article(2)])
    assert (report.indexed, report.updated) == (2, 1)
    assert index.stats().documents == 2
    assert index.show("a1").title == "Bản sửa lần hai"


def test_rebuild_starts_from_nothing(tmp_path):
    index = Index(tmp_path / "ix")
    index.add([article(1), article(2)])
    index.add([article(3)], rebuild=True)
    assert index.stats().documents == 1
    generations = sorted(p.name.rsplit("-", 1)[0] for p in (tmp_path / "ix").glob("gen-*"))
    assert generations == ["gen-000001", "gen-000002"]  # the previous one stays for open readers


def test_delete_by_id(tmp_path):
    index = Index(tmp_path / "ix")
    index.add([article(1), article(2)])
    assert index.delete(["a1", "nope"]) == 1
    assert index.stats().documents == 1


@pytest.mark.slow
def test_parallel_build_matches_serial_build(tmp_path, vietnews_slice):
    serial, parallel = Index(tmp_path / "s"), Index(tmp_path / "p")
    serial.index_paths([vietnews_slice], workers=1)
    parallel.index_paths([vietnews_slice], workers=2)
    for query in ("Hà Nội", "bong da", '"tai nạn giao thông"'):
        ours = [(h.id, round(h.score, 6)) for h in parallel.search(query, limit=20).hits]
        assert ours == [(h.id, round(h.score, 6)) for h in serial.search(query, limit=20).hits]


def test_a_second_writer_gets_a_clear_message(tmp_path):
    index = Index(tmp_path / "ix")
    index.add([article(1)])
    with WriteLock(tmp_path / "ix"):
        with pytest.raises(IndexLocked, match="being written by another process"):
            index.add([article(2)])
        started = time.monotonic()
        with pytest.raises(IndexLocked):
            index.add([article(2)], wait=0.5)
        assert time.monotonic() - started >= 0.5
    assert index.add([article(2)]).indexed == 1


def test_readers_keep_working_while_a_writer_holds_the_lock(tmp_path):
    index = Index(tmp_path / "ix")
    index.add([article(1)])
    with WriteLock(tmp_path / "ix"):
        assert index.search("Gia Lai").total == 1


def test_incompatible_index_says_rebuild(tmp_path):
    index = Index(tmp_path / "ix")
    index.add([article(1)])
    meta = current_generation(tmp_path / "ix") / META_FILE
    meta.write_text(json.dumps({"schema": 0, "analyzer": 0}))
    with pytest.raises(IncompatibleIndex, match="rebuild"):
        Index.open(tmp_path / "ix")


def test_missing_index(tmp_path):
    with pytest.raises(IndexNotFound):
        Index.open(tmp_path / "nothing")


BUILD = """
import sys
from searchidx import Index
Index(sys.argv[1]).index_paths([sys.argv[2]], rebuild=True, workers=int(sys.argv[3]))
"""


@pytest.mark.parametrize("workers", [1, 2])
def test_a_build_killed_midway_leaves_the_previous_index_answering(tmp_path, vietnews_slice, workers):
    index = Index(tmp_path / "ix")
    index.add([article(1), article(2)])
    before = index.search("Gia Lai").total
    process = subprocess.Popen(
        [sys.executable, "-c", BUILD, str(tmp_path / "ix"), str(vietnews_slice), str(workers)],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not any((tmp_path / "ix").glob("gen-000002-*/*.seg")) and not any((tmp_path / "ix").glob("gen-000002-*/*_*")):
        assert time.monotonic() < deadline and process.poll() is None, "the build never started writing"
        time.sleep(0.05)
    time.sleep(0.5)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    reopened = Index.open(tmp_path / "ix")
    assert reopened.stats().documents == 2
    assert reopened.search("Gia Lai").total == before == 2
    # and the next build cleans up after the dead one
    assert Index(tmp_path / "ix").add([article(3)], rebuild=True).indexed == 1
    assert Index.open(tmp_path / "ix").stats().documents == 1
    assert len(list((tmp_path / "ix").glob("gen-*"))) == 2


STALLING_BUILD = """
import sys, time
from pathlib import Path
from searchidx import Index
from searchidx.corpus import read_path

def stalling(path):
    for i, record in enumerate(read_path(path)):
        if i == 200:
            time.sleep(600)  # the workers are left waiting for jobs
        yield record

Index(sys.argv[1]).add(stalling(Path(sys.argv[2])), rebuild=True, workers=2)
"""


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers follow their parent on Linux only")
def test_workers_end_when_their_build_is_killed_alone(tmp_path, vietnews_slice):
    process = subprocess.Popen(
        [sys.executable, "-c", STALLING_BUILD, str(tmp_path / "ix"), str(vietnews_slice)],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True,
    )  # fmt: skip
    try:
        workers = worker_pids(process)
        time.sleep(1)
        process.kill()  # the parent alone, as the OOM killer would
        process.wait()
        deadline = time.monotonic() + 10
        while alive := {pid for pid in workers if running(pid)}:
            assert time.monotonic() < deadline, f"workers {alive} outlived their parent"
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
