"""A build never publishes a broken index, and a failed write leaves the index as it was.

Faults are real: empty and rejected corpora, workers killed with SIGKILL, a process
killed right after its commit, a file-size limit standing in for a full disk, a
read-only directory, a power loss checked through the fsyncs that guard against it.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import worker_pids, write_jsonl

from searchidx import Article, Index, shipped_corpus
from searchidx.cli import main
from searchidx.corpus import read_corpus
from searchidx.errors import BuildRefused, IndexNotFound, IndexWriteFailed
from searchidx.generations import WriteLock, current_generation

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def article(i: int, title: str = "") -> Article:
    return Article(id=f"a{i}", title=title or f"Tin số {i} về Gia Lai", body="Nội dung bài báo về mưa lũ.")


def old_index(path: Path) -> Index:
    """An index of two articles, the one every fault below must leave answering."""
    index = Index(path)
    index.add([article(1), article(2)])
    assert index.search("Gia Lai").total == 2
    return index


def generations(path: Path) -> list[str]:
    return sorted(p.name for p in path.glob("gen-*"))


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run a command in this process: its exit code and output (errors included)."""
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def assert_one_line_error(result: tuple[int, str], code: int, *phrases: str) -> None:
    exit_code, output = result
    assert exit_code == code, output
    assert "Traceback" not in output, output
    last = output.strip().splitlines()[-1]
    assert last.startswith("searchidx: error: "), output
    for phrase in phrases:
        assert phrase in last


def corpus_copies(path: Path, copies: int) -> Path:
    """The shipped sample, ``copies`` times over under new ids, as JSON Lines."""
    articles = [a for a in read_corpus([shipped_corpus()]) if isinstance(a, Article)]
    records = [dataclasses.replace(a, id=f"{a.id}-{n}").to_dict() for n in range(copies) for a in articles]
    return write_jsonl(path, records)


# --- an empty or mostly rejected rebuild is refused -------------------------------------


def empty_folder(tmp: Path) -> Path:
    (tmp / "empty").mkdir()
    return tmp / "empty"


def empty_file(tmp: Path) -> Path:
    (tmp / "empty.jsonl").write_bytes(b"")
    return tmp / "empty.jsonl"


def all_rejected(tmp: Path) -> Path:
    return write_jsonl(tmp / "bad.jsonl", [{"id": "x"}, {"id": "y", "url": "http://a.vn/1"}])


@pytest.mark.parametrize("corpus", [empty_folder, empty_file, all_rejected])
def test_a_rebuild_that_indexes_nothing_keeps_the_old_index(tmp_path, corpus):
    index = old_index(tmp_path / "ix")
    before = generations(tmp_path / "ix")
    with pytest.raises(BuildRefused, match="the index was left as it was"):
        index.index_paths([corpus(tmp_path)], rebuild=True)
    assert Index.open(tmp_path / "ix").search("Gia Lai").total == 2
    assert generations(tmp_path / "ix") == before  # nothing left behind


def test_a_first_build_that_indexes_nothing_creates_no_index(tmp_path):
    with pytest.raises(BuildRefused):
        Index(tmp_path / "ix").index_paths([empty_folder(tmp_path)])
    with pytest.raises(IndexNotFound):
        Index.open(tmp_path / "ix")
    assert generations(tmp_path / "ix") == []


def test_a_rebuild_that_rejects_most_records_is_refused_unless_allowed(tmp_path):
    index = old_index(tmp_path / "ix")
    corpus = write_jsonl(tmp_path / "c.jsonl", [{"id": "g", "title": "Bão số 3 đổ bộ"}] + [{"id": "b"}] * 2)
    with pytest.raises(BuildRefused, match="2 of 3 records were rejected, more than 50%"):
        index.index_paths([corpus], rebuild=True)
    assert index.search("Gia Lai").total == 2
    report = index.index_paths([corpus], rebuild=True, max_rejected=1.0)
    assert report.indexed == 1 and index.stats().documents == 1


def test_a_first_build_keeps_its_good_records_however_many_are_rejected(tmp_path):
    corpus = write_jsonl(tmp_path / "c.jsonl", [{"id": "g", "title": "Bão số 3 đổ bộ"}] + [{"id": "b"}] * 2)
    report = Index(tmp_path / "ix").index_paths([corpus])
    assert (report.indexed, len(report.rejected)) == (1, 2)  # there is no index to protect


def test_the_cli_refuses_an_empty_rebuild_in_one_line(tmp_path):
    old_index(tmp_path / "ix")
    result = cli("index", "--rebuild", "--quiet", "--index", str(tmp_path / "ix"), str(empty_folder(tmp_path)))
    assert_one_line_error(result, 2, "no articles to index", "--allow-empty")
    assert Index.open(tmp_path / "ix").search("Gia Lai").total == 2


# --- an empty index answers, whatever made it empty -------------------------------------


def allowed_empty_rebuild(path: Path, tmp: Path) -> None:
    old_index(path).index_paths([empty_folder(tmp)], rebuild=True, allow_empty=True)


def every_article_deleted(path: Path, tmp: Path) -> None:
    assert old_index(path).delete(["a1", "a2"]) == 2


@pytest.mark.parametrize("emptied", [allowed_empty_rebuild, every_article_deleted])
def test_an_empty_index_answers_with_nothing_found(tmp_path, emptied):
    path = tmp_path / "ix"
    emptied(path, tmp_path)

    def run(*args: str) -> tuple[int, str]:
        return cli(*args, "--index", str(path))

    code, out = run("search", "Gia Lai")
    assert code == 0 and "0 results" in out
    code, out = run("stats", "--format", "json")
    assert code == 0 and json.loads(out)["documents"] == 0
    code, out = run("show", "a1")
    assert code == 2 and "no article with id 'a1'" in out
    assert run("similar", "a1")[0] == 2
    code, out = run("similar", "--text", "Mưa lũ ở Gia Lai", "--format", "json")
    assert code == 0 and json.loads(out)["total"] == 0
    assert run("duplicates") == (0, "0 clusters\n")
    Index(path).add([article(3)])  # and it takes new articles
    assert Index.open(path).search("Gia Lai").total == 1


# --- dead workers fail the build, they do not hang it -----------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the workers through /proc")
@pytest.mark.parametrize("killed", [1, 2])
def test_killed_workers_fail_the_build_in_one_line(tmp_path, killed):
    old_index(tmp_path / "ix")
    before = generations(tmp_path / "ix")
    corpus = corpus_copies(tmp_path / "big.jsonl", 40)  # more than the job queue holds
    process = subprocess.Popen(
        [sys.executable, "-m", "searchidx", "index", "--rebuild", "--quiet", "--workers", "2",
         "--index", str(tmp_path / "ix"), str(corpus)],
        env=ENV, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        workers = worker_pids(process)
        time.sleep(0.5)
        for pid in sorted(workers)[:killed]:
            os.kill(pid, signal.SIGKILL)  # as the OOM killer would
        try:
            _, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the build hangs after its workers died")
    finally:
        with suppress(ProcessLookupError):  # whatever is left of it
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert_one_line_error((process.returncode, stderr), 1, "killed by SIGKILL")
    with WriteLock(tmp_path / "ix"):  # released
        pass
    assert Index.open(tmp_path / "ix").search("Gia Lai").total == 2
    assert generations(tmp_path / "ix") == before


# --- an update is one commit ------------------------------------------------------------

KILLED_AFTER_COMMIT = """
import os, signal, sys
from searchidx import Article, Index

committed = False

def kill_after_commit(event, args):
    # Whoosh commits by renaming its table of contents into place: die at the next
    # file opened after that, as a power cut or the OOM killer might
    global committed
    if event == "os.rename" and str(args[1]).endswith(".toc"):
        committed = True
    elif committed and event == "open":
        os.kill(os.getpid(), signal.SIGKILL)

body = "Nội dung bài báo về mưa lũ."
index = Index(sys.argv[1])
sys.addaudithook(kill_after_commit)
index.add(
    [Article(id="a1", title="Bản sửa thứ nhất", body=body), Article(id="a2", title="Tin khác", body=body),
     Article(id="a1", title="Bản sửa cuối cùng", body=body)],
    workers=int(sys.argv[2]),
)
"""


@pytest.mark.parametrize("workers", [1, 2])
def test_a_process_killed_after_its_commit_leaves_one_copy_of_a_repeated_id(tmp_path, workers):
    Index(tmp_path / "ix").add([article(1, "Bản gốc")])
    result = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_COMMIT, str(tmp_path / "ix"), str(workers)], env=ENV, timeout=120
    )
    assert result.returncode == -signal.SIGKILL
    index = Index.open(tmp_path / "ix")
    assert index.show("a1").title == "Bản sửa cuối cùng"
    assert index.stats().documents == 2
    assert [h.id for h in index.search("Bản sửa").hits] == ["a1"]


# --- a full disk ------------------------------------------------------------------------

DISK_FULL = """
import resource, signal, sys
from searchidx.analysis import analyze
from searchidx.cli import main

analyze("Hà Nội")  # the word model is loaded through a temporary file: before the limit
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so that writing past it fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, resource.RLIM_INFINITY))
main(sys.argv[1:], prog_name="searchidx")
"""


def files(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("rebuild", [True, False])
def test_a_full_disk_fails_the_build_cleanly(tmp_path, workers, rebuild):
    old_index(tmp_path / "ix")
    before = files(tmp_path / "ix")
    args = ["index", "--quiet", "--workers", workers, "--index", str(tmp_path / "ix"), str(shipped_corpus())]
    result = subprocess.run(
        [sys.executable, "-c", DISK_FULL, *args, *(["--rebuild"] if rebuild else [])],
        env=ENV, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert_one_line_error((result.returncode, result.stderr), 1, "could not write the index", "File too large")
    assert files(tmp_path / "ix") == before  # no partial generation, segment or temporary files
    index = Index.open(tmp_path / "ix")
    assert index.search("Gia Lai").total == 2
    index.add([article(3)])  # and the next write works
    assert index.search("Gia Lai").total == 3


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """Writing past ``limit`` bytes fails with EFBIG, as writing to a full disk fails."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


def test_after_a_full_disk_the_next_write_in_the_same_process_works(tmp_path):
    index = old_index(tmp_path / "ix")
    before = files(tmp_path / "ix")
    articles = [a for a in read_corpus([shipped_corpus()]) if isinstance(a, Article)]
    with file_size_limit(200_000), pytest.raises(IndexWriteFailed, match="File too large"):
        index.add(articles)
    assert files(tmp_path / "ix") == before
    index.add([article(3)])
    assert index.search("Gia Lai").total == 3


# --- where the index cannot be written --------------------------------------------------


def test_an_index_path_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "file").write_text("not an index")
    env = {"SEARCHIDX_INDEX": str(tmp_path / "file")}
    assert_one_line_error(cli("search", "Gia Lai", env=env), 1, "is a file, not an index directory")
    assert_one_line_error(cli("stats", env=env), 1, "is a file")
    assert_one_line_error(cli("index", "--quiet", str(shipped_corpus()), env=env), 1, "could not write the index")
    assert_one_line_error(cli("delete", "a1", env=env), 1, "is a file")


_CAPABILITIES_OVER_PERMISSIONS = (1, 2, 3)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
_PR_CAPBSET_DROP = 24


def _without_root_overrides() -> None:
    """In the child before it runs Python: drop the capabilities by which root ignores
    file permissions, so a read-only directory is read-only to it too."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in _CAPABILITIES_OVER_PERMISSIONS:
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "cannot drop capabilities")


def read_only(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "searchidx", *args]
    kwargs = {"preexec_fn": _without_root_overrides} if os.geteuid() == 0 else {}
    return subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=120, **kwargs)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="drops root's capabilities the Linux way")
def test_a_read_only_index_is_one_line_and_still_answers(tmp_path):
    path = tmp_path / "ix"
    old_index(path)
    for p in [path, *path.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        for args in (["index", "--quiet", str(shipped_corpus())], ["delete", "a1"]):
            result = read_only(*args, "--index", str(path))
            assert_one_line_error((result.returncode, result.stderr), 1, "could not write", "Permission denied")
        result = read_only("search", "Gia Lai", "--index", str(path), "--format", "json")
        assert result.returncode == 0 and json.loads(result.stdout)["total"] == 2, result.stderr
    finally:
        for p in [path, *path.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)


# --- generation names -------------------------------------------------------------------


def test_generation_names_never_repeat(tmp_path):
    path = tmp_path / "ix"
    reader = old_index(path)
    names = {current_generation(path).name}
    for _ in range(3):
        Index(path).add([article(1)], rebuild=True)
        names.add(current_generation(path).name)
    assert len(names) == 4
    shutil.rmtree(path)  # deleted and rebuilt at the same path
    Index(path).add([Article(id="b1", title="Bão số 3 đổ bộ vào Quảng Ninh", body="Mưa to.")])
    assert reader.search("Gia Lai").total == 0  # the reader sees the new index, not the deleted one
    assert reader.search("Quảng Ninh").total == 1
    assert current_generation(path).name not in names


# --- durability -------------------------------------------------------------------------


def test_everything_published_was_flushed_to_disk(tmp_path, monkeypatch):
    synced: set[Path] = set()
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        name = Path(os.readlink(f"/proc/self/fd/{fd}"))
        if ".toc." in name.name:  # a TOC before its rename
            name = name.with_name(name.name.split(".toc.")[0] + ".toc")
        elif name.name.startswith("."):  # searchidx's own ".NAME.pid.thread" before its rename
            name = name.with_name(name.name[1:].rsplit(".", 2)[0])
        synced.add(name)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    path = tmp_path / "ix"
    index = Index(path)
    index.add([article(1), article(2)])
    generation = current_generation(path)
    published = {p for p in generation.iterdir() if p.name != "MAIN_WRITELOCK"}
    assert published | {generation, path, path / "CURRENT.tmp"} <= synced  # CURRENT is renamed from CURRENT.tmp
    synced.clear()
    index.add([article(3)])  # an incremental commit
    new = {p for p in generation.iterdir() if p.name != "MAIN_WRITELOCK"} - published
    assert new and new | {generation} <= synced
