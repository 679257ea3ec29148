"""The scripts in scripts/: run on tiny corpora so they cannot rot."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from conftest import VIETNEWS, needs_shared, write_jsonl

from searchidx import Article, Index, shipped_corpus
from searchidx.corpus import read_path

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
    sample = str(shipped_corpus() / "sample.jsonl")
    options = [
        "--queries",
        "8",
        "--any-queries",
        "4",
        "--cold-queries",
        "4",
        "--exactness",
        "30",
        "--startup-runs",
        "1",
    ]
    work = tmp_path / "work"
    result = script("bench.py", sample, "--sizes", "10,31", *options, "--json", str(out), "--workdir", str(work))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    # built twice (1 worker, then 2), the index keeps two generations: only the live one counts
    index = work / "searchidx-31"
    live = index / (index / "CURRENT").read_text().strip()
    assert len(list(index.glob("gen-*"))) == 2
    size = report["results"][-1]["index"]["size_mb"]["searchidx"] * 2**20
    assert size == pytest.approx(sum(f.stat().st_size for f in live.iterdir() if f.is_file()))
    assert [r["articles"] for r in report["results"]] == [10, 31]
    last = report["results"][-1]
    assert last["index"]["searchidx_1_worker"]["articles_per_s"] > 0 and last["index"]["time_ratio_vs_plain"] > 0
    phases = last["index"]["searchidx_1_worker"]["phases"]
    assert set(phases) == {"read", "analyse", "add", "commit"} and min(phases.values()) > 0
    assert sum(phases.values()) <= last["index"]["searchidx_1_worker"]["seconds"]
    assert "Build phases" in result.stdout
    search = last["search"]
    for name in ("with_diacritics", "without_diacritics", "any", "facets", "cold"):
        assert search[f"searchidx_{name}"]["median_ms"] > 0, name
    assert search["plain_any"]["p99_ms"] > 0 and search["unaccented_vs_accented"] > 0
    assert search["facets_vs_without"] > 0 and last["similar"]["p95_ms"] > 0
    assert search["searchidx_cold"]["decoded_median"] > 0, "a fresh index decodes every posting a query needs"
    assert report["exactness"]["queries"] == 30 and report["exactness"]["differing"] == 0
    assert report["startup"]["help_s"] > report["startup"]["python_pass_s"] > 0
    assert {t["target"] for t in report["targets"]} >= {
        "similar ID, median (ms)", "searchidx --help (s)",
        "index size / plain Whoosh's", "indexing, 1 worker (articles/s)",
    }  # fmt: skip
    assert "| 31 |" in result.stdout and "Targets (issues 13 and 14), on 31 articles" in result.stdout
    assert report["analysis"]["analyzer_time_vs_pyvi"] > 0


def test_bench_reads_a_tar_gz_corpus_once_and_measures_kept_indexes(tmp_path):
    """Several corpora, one a .tar.gz of a folder tree (as VNTC's raw files come):
    unpacked once into the work folder, whose indexes --skip-build measures again."""
    tree = tmp_path / "tree" / "Topics"
    sample = (r for r in read_path(shipped_corpus() / "sample.jsonl") if isinstance(r, Article))
    for i, article in enumerate(itertools.islice(sample, 12)):
        (tree / article.category).mkdir(parents=True, exist_ok=True)
        (tree / article.category / f"{i}.txt").write_text(f"{article.title}\n\n{article.body}", encoding="utf-16")
    archive = tmp_path / "topics.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tree, arcname="Topics")
    corpora = [str(shipped_corpus() / "sample.jsonl"), str(archive)]
    work = tmp_path / "work"
    options = ["--sizes", "43", "--workdir", str(work), "--queries", "6", "--any-queries", "3", "--cold-queries", "3"]
    options += ["--exactness", "10", "--startup-runs", "1"]
    built = script("bench.py", *corpora, *options, "--build-workers-only")
    assert built.returncode == 0, built.stderr
    assert "extracting" in built.stderr and (work / "topics" / "Topics").is_dir()
    assert "| 43 | – |" in built.stdout, "no 1-worker build"
    measured = script("bench.py", *corpora, *options, "--skip-build")
    assert measured.returncode == 0, measured.stderr
    assert "extracting" not in measured.stderr and "warning" not in measured.stderr
    assert "| 43 |" in measured.stdout and "0 of 10 queries differ" in measured.stdout
    minutes = ["--exactness", "25", "--exactness-minutes", "10"]
    checked = script("bench.py", *corpora, "--sizes", "43", "--workdir", str(work), *minutes, "--exactness-only")
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert report["queries"] == 25 and report["differing"] == 0
    assert report["by_kind"] == {
        "with diacritics": 5,
        "without diacritics": 5,
        "--any headline": 5,
        "in a category": 5,
        "without, in a category": 5,
    }


def test_evaluate_runs_on_a_slice():
    needs_shared(VIETNEWS)
    result = script(
        "evaluate.py", "--parts", "known-item,accents,similar", "--limit", "120", "--queries", "20",
        "--similar-queries", "10",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert '"mrr@10"' in result.stdout and '"p@1"' in result.stdout and '"whole_system"' in result.stdout
    assert '"half the syllables marked, restored"' in result.stdout
    assert '"searchidx before (tf-idf, 25 terms)"' in result.stdout
    assert '"searchidx 2026-12-07 (100 BM25 key terms)"' in result.stdout


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
    from searchidx.generations import WriteLock

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
