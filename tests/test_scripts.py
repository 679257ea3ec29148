"""The scripts in scripts/: run on tiny corpora so they cannot rot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import VIETNEWS, needs_shared, write_jsonl

from searchidx import Index, shipped_corpus

pytestmark = pytest.mark.slow  # runs the scripts end to end

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def script(name: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    command = [str(ROOT / "scripts" / name), *args]
    if name.endswith(".py"):
        command.insert(0, sys.executable)
    return subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=600, **kwargs)


def test_bench_runs_on_a_tiny_corpus(tmp_path):
    out = tmp_path / "bench.json"
    result = script(
        "bench.py", str(shipped_corpus() / "sample.jsonl"), "--sizes", "10,31", "--queries", "8", "--json", str(out)
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert [r["articles"] for r in report["results"]] == [10, 31]
    last = report["results"][-1]
    assert last["index"]["searchidx_1_worker"]["articles_per_s"] > 0 and last["index"]["time_ratio_vs_plain"] > 0
    assert last["search"]["searchidx_with_diacritics"]["median_ms"] > 0 and last["similar"]["p95_ms"] > 0
    assert "| 31 |" in result.stdout and report["analysis"]["analyzer_time_vs_pyvi"] > 0


def test_evaluate_runs_on_a_slice():
    needs_shared(VIETNEWS)
    result = script(
        "evaluate.py", "--parts", "known-item,similar", "--limit", "120", "--queries", "20", "--similar-queries", "10"
    )
    assert result.returncode == 0, result.stderr
    assert '"mrr@10"' in result.stdout and '"p@1"' in result.stdout and '"whole_system"' in result.stdout


def test_rebuild_script_swaps_in_a_new_index_and_keeps_the_old_one_on_failure(tmp_path):
    index_dir = tmp_path / "ix"
    ok = script("rebuild_index.sh", str(index_dir), str(shipped_corpus()))
    assert ok.returncode == 0, ok.stderr
    assert "done in" in ok.stderr and "documents: 31" in ok.stderr
    missing = script("rebuild_index.sh", str(index_dir), str(tmp_path / "no-such-corpus.jsonl"))
    assert missing.returncode == 2 and "left as it was" in missing.stderr
    partly_bad = write_jsonl(tmp_path / "c.jsonl", [{"id": "1", "title": "Một bài"}, {"id": "2"}])
    rejected = script("rebuild_index.sh", str(index_dir), str(partly_bad))
    assert rejected.returncode == 3 and (tmp_path / "ix.rejects.jsonl").exists()
    assert Index.open(index_dir).stats().documents == 1
    usage = script("rebuild_index.sh")
    assert usage.returncode == 2 and "usage" in usage.stderr


def test_rebuild_script_fails_cleanly_when_the_index_is_locked(tmp_path):
    from searchidx.index import WriteLock

    index_dir = tmp_path / "ix"
    assert script("rebuild_index.sh", str(index_dir), str(shipped_corpus())).returncode == 0
    with WriteLock(index_dir):
        locked = script("rebuild_index.sh", str(index_dir), str(shipped_corpus()))
    assert locked.returncode == 1 and "FAILED" in locked.stderr and "being written" in locked.stderr
    assert Index.open(index_dir).stats().documents == 31


def test_rebuild_script_runs_under_crons_short_path(tmp_path):
    """cron runs with PATH=/usr/bin:/bin, where there is no `python`: $PYTHON names
    the interpreter that has searchidx."""
    cron = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHON": sys.executable, "PYTHONPATH": str(ROOT)}
    command = [str(ROOT / "scripts" / "rebuild_index.sh"), str(tmp_path / "ix"), str(shipped_corpus())]
    result = subprocess.run(command, capture_output=True, text=True, env=cron, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "documents: 31" in result.stderr
