"""``searchidx check`` finds damage that searching answers silently wrong or fails on
with a low-level error: bytes changed inside postings or stored documents, a file cut
short or lost. Each is reported as "corrupt: <reason>" in one line, exit code 1."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from whoosh.filedb.filestore import FileStorage

from searchidx import Index
from searchidx.generations import current_generation

ROOT = Path(__file__).resolve().parent.parent


def run_check(directory: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "searchidx", "check", "--index", str(directory)]
    return subprocess.run(command, env=env, capture_output=True, text=True)


def segment_file(directory: Path) -> tuple[Path, dict[str, dict[str, int]]]:
    """The (only) segment's compound file, and where each part of it lies."""
    storage = FileStorage(str(current_generation(directory)))
    segment = storage.open_index()._segments()[0]
    parts = segment.open_compound_file(storage)._dir
    return Path(storage.folder) / segment.make_filename(".seg"), parts


def scramble(part: str) -> Callable[[Path], None]:
    """Random bytes written over the middle of one part of the segment."""

    def damage(directory: Path) -> None:
        path, parts = segment_file(directory)
        where = next(v for k, v in parts.items() if k.endswith(part))
        with open(path, "r+b") as f:
            f.seek(where["offset"] + where["length"] // 2)
            f.write(random.Random(part).randbytes(32))

    return damage


def truncate(directory: Path) -> None:
    path, _ = segment_file(directory)
    os.truncate(path, path.stat().st_size // 2)


def delete(directory: Path) -> None:
    segment_file(directory)[0].unlink()


@pytest.fixture
def damaged_copy(tmp_path: Path, sample_index: Index) -> Path:
    shutil.copytree(sample_index.path, tmp_path / "index")
    return tmp_path / "index"


def test_a_good_index_is_ok(sample_index: Index):
    report = sample_index.check()
    assert report.ok and report.documents >= 30 and report.segments >= 1
    run = run_check(sample_index.path)
    assert run.returncode == 0 and run.stdout.startswith(f"ok: {report.documents} documents")


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (scramble(".pst"), "terms and postings unreadable"),
        (scramble("._stored.col"), "stored documents unreadable"),
        (scramble(".trm"), "segment"),
        (truncate, "unreadable"),
        (delete, "FileNotFoundError"),
    ],
    ids=["postings", "stored documents", "terms", "truncated", "deleted"],
)
def test_damage_is_reported_in_one_line(damaged_copy: Path, damage: Callable[[Path], None], reason: str):
    damage(damaged_copy)
    assert not Index(damaged_copy).check().ok
    run = run_check(damaged_copy)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.startswith("corrupt: ") and run.stdout.count("\n") == 1 and not run.stderr
    assert reason in run.stdout


def test_ids_that_disagree_are_reported(damaged_copy: Path):
    path, parts = segment_file(damaged_copy)
    where = next(v for k, v in parts.items() if k.endswith(".id.col"))
    data = bytearray(path.read_bytes())
    start = where["offset"]
    data[start : start + 4] = data[start : start + 4].swapcase()  # one id's first letters, still valid UTF-8
    path.write_bytes(bytes(data))
    run = run_check(damaged_copy)
    assert run.returncode == 1 and "id column" in run.stdout


@pytest.mark.parametrize(
    ("damage", "always"),
    [(scramble(".pst"), False), (truncate, True), (delete, True)],
    ids=["postings", "truncated", "deleted"],
)
def test_searching_a_damaged_index_says_so_in_one_line(
    damaged_copy: Path, damage: Callable[[Path], None], always: bool
):
    """Scrambled postings may go unnoticed by a search (check finds them); whatever
    a search does notice is one line, never a traceback or click's "Aborted!"."""
    damage(damaged_copy)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for query in ("thi đua", "Hà Nội", "bão", "giá vàng", "ha noi"):
        command = [sys.executable, "-m", "searchidx", "search", query, "--index", str(damaged_copy)]
        run = subprocess.run(command, env=env, capture_output=True, text=True)
        assert "Traceback" not in run.stderr and "Aborted" not in run.stderr, run.stderr
        if run.returncode or always:
            assert run.returncode == 1 and run.stderr.count("\n") == 1 and "is damaged" in run.stderr
