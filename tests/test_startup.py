"""Start-up: a command imports only what it needs, and a run leaves nothing behind.

Every command once imported scikit-learn and SciPy through pyvi (about 0.8 s) and
left a copy of pyvi's model in /tmp; ``--help`` and shell completion paid for the
whole library."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from searchidx import Index

ROOT = Path(__file__).resolve().parent.parent
HEAVY = {"sklearn", "scipy"}


def imported_modules(*args: str, tmp: Path) -> set[str]:
    """Modules a ``searchidx`` run imports (from ``-X importtime``), with the
    temporary directory pointed at ``tmp``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)}
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "searchidx", *args], env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return set(re.findall(r"^import time:.*\| +(\S+)$", run.stderr, re.MULTILINE))


def packages(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_help_imports_neither_the_library_nor_its_dependencies(tmp_path):
    modules = imported_modules("--help", tmp=tmp_path)
    assert "click" in modules
    assert packages(modules) & (HEAVY | {"numpy", "whoosh", "pyvi", "pycrfsuite"}) == set()
    assert modules & {"searchidx.api", "searchidx.analysis", "searchidx.index", "searchidx.search"} == set()


def test_search_does_not_import_scikit_learn(tmp_path, sample_index: Index):
    modules = imported_modules("search", "thi đua", "--index", str(sample_index.path), tmp=tmp_path)
    assert {"whoosh", "pycrfsuite"} <= packages(modules)
    assert packages(modules) & HEAVY == set()


def test_a_run_leaves_no_temporary_file(tmp_path, sample_index: Index):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    corpus = tmp_path / "one.jsonl"
    corpus.write_text('{"id": "a1", "title": "Khối thi đua Gia Lai", "body": "Hội nghị thi đua."}\n', encoding="utf-8")
    imported_modules("search", "thi đua", "--index", str(sample_index.path), tmp=tmp)
    imported_modules("index", str(corpus), "--index", str(tmp_path / "index"), "--workers", "1", "-q", tmp=tmp)
    assert list(tmp.iterdir()) == []
