"""Shared fixtures: small real indexes built once per test session.

Tests that need ``../shared/`` (the real corpora beside the repository) skip with a
reason when it is absent; everything else runs on the shipped sample and on small
files the tests write themselves.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from searchidx import Index, shipped_corpus

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
VIETNEWS = SHARED / "corpus" / "vietnews-val.jsonl.gz"
SLICE = 300


def needs_shared(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} is not here (the shared corpora sit beside the repository)")


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    """The shipped sample corpus, indexed."""
    index = Index(tmp_path_factory.mktemp("sample") / "index")
    report = index.index_paths([shipped_corpus()])
    assert report.indexed >= 30 and not report.rejected
    return index


@pytest.fixture(scope="session")
def vietnews_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first few hundred real articles of vietnews-val, as a JSON Lines file."""
    needs_shared(VIETNEWS)
    path = tmp_path_factory.mktemp("slice") / "vietnews-slice.jsonl"
    with gzip.open(VIETNEWS, "rt", encoding="utf-8") as src, open(path, "w", encoding="utf-8") as out:
        out.writelines(itertools.islice(src, SLICE))
    return path


@pytest.fixture(scope="session")
def vietnews_index(tmp_path_factory: pytest.TempPathFactory, vietnews_slice: Path) -> Index:
    index = Index(tmp_path_factory.mktemp("vietnews") / "index")
    index.index_paths([vietnews_slice], workers=2)
    return index


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="session", autouse=True)
def _no_model_file_left_in_tmp() -> Iterator[None]:
    """Tests compare with pyvi's own loader, which copies its model to a temporary
    file that it never removes; searchidx itself does not."""
    yield
    if "pyvi.ViTokenizer" in sys.modules:
        sys.modules["pyvi.ViTokenizer"].ViTokenizer.model.modelfile.cleanup()


def worker_pids(process: subprocess.Popen[str] | subprocess.Popen[bytes], count: int = 2) -> set[int]:
    """The child processes of a build once it has started ``count`` workers."""
    deadline = time.monotonic() + 60
    while len(workers := _children(process.pid)) < count:
        assert time.monotonic() < deadline and process.poll() is None, "the build never started its workers"
        time.sleep(0.05)
    return workers


def _children(pid: int) -> set[int]:
    return {int(c) for t in Path(f"/proc/{pid}/task").iterdir() for c in (t / "children").read_text().split()}


@dataclass
class Server:
    """A running ``searchidx serve``: its base URL, process and output so far."""

    url: str
    process: subprocess.Popen[str]
    output: IO[str]

    def log(self) -> str:
        self.output.seek(0)
        return self.output.read()


@contextmanager
def serving(*index_dirs: Path, options: tuple[str, ...] = ()) -> Iterator[Server]:
    """``searchidx serve`` on a free loopback port, as users start it, stopped afterwards."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    indexes = [arg for path in index_dirs for arg in ("--index", str(path))]
    command = [sys.executable, "-m", "searchidx", "serve", "--port", str(port), *indexes, *options]
    with tempfile.TemporaryFile("w+", encoding="utf-8") as output:
        process = subprocess.Popen(
            command, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=output, stderr=subprocess.STDOUT, text=True
        )
        server = Server(f"http://127.0.0.1:{port}", process, output)
        try:
            _wait_until_up(server)
            yield server
        finally:
            process.terminate()
            process.wait(30)


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert server.process.poll() is None, f"the server stopped: {server.log()[-2000:]}"
        assert time.monotonic() < deadline, f"the server never answered: {server.log()[-2000:]}"
        try:
            with urllib.request.urlopen(f"{server.url}/v1/indexes", timeout=5):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
