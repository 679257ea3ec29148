"""An index directory's generations, the pointer to the live one, and the lock.

Layout of an index directory::

    DIR/CURRENT               names the live generation ("gen-000003-9f2c41d7")
    DIR/gen-000003-9f2c41d7/  a Whoosh index plus searchidx.json (schema and analyzer versions)
    DIR/write.lock     held (flock) by the one process writing

A rebuild writes a new generation beside the live one and swaps ``CURRENT`` with an
atomic rename, so a crash or Ctrl-C mid-build leaves the previous index answering.
The previous generation is kept until the next rebuild, so readers that opened it keep
working. A generation name is never reused (a random suffix after the number), so a
reader can tell a new index from the one it opened even when the directory was
deleted and rebuilt. Every file and directory entry is flushed to disk (fsync) before
the name that publishes it.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import IO

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from searchidx import mapped_files, safe_unpickle  # noqa: F401  (installed on import: see each module)
from searchidx._version import __version__
from searchidx.analysis import ANALYZER_VERSION
from searchidx.errors import IncompatibleIndex, IndexLocked, IndexNotFound
from searchidx.schema import SCHEMA_VERSION, schema

META_FILE = "searchidx.json"


def default_index_dir() -> Path:
    """$SEARCHIDX_INDEX, else the per-user data directory."""
    if os.environ.get("SEARCHIDX_INDEX"):
        return Path(os.environ["SEARCHIDX_INDEX"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "searchidx" / "index"


def current_generation(directory: Path) -> Path | None:
    try:
        name = (directory / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise IndexNotFound(f"{directory} is a file, not an index directory") from None
    return directory / name


def _number(generation: Path) -> int:
    return int(generation.name.split("-")[1])


def _generations(directory: Path) -> list[Path]:
    """The generation directories, oldest first."""
    found = [p for p in directory.glob("gen-*") if p.name.split("-")[1].isdigit() and p.is_dir()]
    return sorted(found, key=_number)


def fsync(path: str | Path) -> None:
    """Flush a file's data, or a directory's entries, to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path: Path, data: str | bytes) -> None:
    """Write a file and flush it to the disk (before a rename publishes it)."""
    with open(path, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())


def publish(directory: Path, generation: Path) -> None:
    """Point CURRENT at a generation, atomically and durably (the generation's own
    files were flushed when it was committed)."""
    tmp = directory / "CURRENT.tmp"
    write_durably(tmp, generation.name + "\n")
    fsync(directory)  # the generation's directory entry, before the name that points to it
    os.replace(tmp, directory / "CURRENT")
    fsync(directory)


def remove_stale_generations(directory: Path) -> None:
    """Keep the live generation and the one before it (readers may still use it);
    remove older ones and the leftovers of interrupted rebuilds."""
    live = current_generation(directory)
    keep = {live}
    older = [g for g in _generations(directory) if live is not None and _number(g) < _number(live)]
    if older:
        keep.add(older[-1])
    for generation in _generations(directory):
        if generation not in keep:
            shutil.rmtree(generation, ignore_errors=True)


_HELD_LOCKS: set[IO[str]] = set()


def _forget_locks_in_child() -> None:
    """A forked worker must not keep the parent's lock alive: if the parent dies, the
    lock goes with it."""
    for f in _HELD_LOCKS:
        f.close()
    _HELD_LOCKS.clear()


os.register_at_fork(after_in_child=_forget_locks_in_child)


class WriteLock:
    """An exclusive, process-wide lock on an index directory (released by the
    kernel if the holder dies, so a crash never leaves the index locked)."""

    def __init__(self, directory: Path, wait: float = 0.0) -> None:
        self.path = directory / "write.lock"
        self.wait = wait
        self._file: IO[str] | None = None

    def __enter__(self) -> WriteLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = open(self.path, "a+")
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    f.seek(0)
                    holder = f.read().strip() or "unknown"
                    f.close()
                    raise IndexLocked(
                        f"index {self.path.parent} is being written by another process "
                        f"(pid {holder}); try again later or pass --wait SECONDS"
                    ) from None
                time.sleep(0.2)
        f.truncate(0)
        f.write(str(os.getpid()))
        f.flush()
        self._file = f
        _HELD_LOCKS.add(f)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._file is not None
        _HELD_LOCKS.discard(self._file)
        self._file.truncate(0)
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


def read_meta(generation: Path) -> dict[str, object]:
    try:
        meta: dict[str, object] = json.loads((generation / META_FILE).read_text())
        return meta
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def check_compatible(generation: Path) -> None:
    meta = read_meta(generation)
    found = (meta.get("schema"), meta.get("analyzer"))
    if found != (SCHEMA_VERSION, ANALYZER_VERSION):
        raise IncompatibleIndex(
            f"index {generation.parent} was built by an incompatible version of searchidx "
            f"(schema {found[0]}, analyzer {found[1]}; this version needs schema "
            f"{SCHEMA_VERSION}, analyzer {ANALYZER_VERSION}): rebuild it with "
            f"'searchidx index --rebuild --index {generation.parent}'"
        )


def live_generation(directory: Path) -> Path:
    """The live generation, after checking its versions: the one way every reader
    and writer finds it. Raises IndexNotFound or IncompatibleIndex."""
    generation = current_generation(directory)
    if generation is None or not generation.is_dir():
        raise IndexNotFound(f"no index at {directory}; build one with 'searchidx index'")
    check_compatible(generation)
    return generation


def open_index(generation: Path) -> whoosh_index.Index:
    """A generation's Whoosh index, whose commits are durable."""
    return _DurableStorage(str(generation)).open_index()


def open_generation(directory: Path) -> tuple[Path, whoosh_index.Index]:
    """The live generation and its Whoosh index, after checking its versions."""
    generation = live_generation(directory)
    return generation, open_index(generation)


class _DurableStorage(FileStorage):
    """Whoosh commits by renaming a finished table of contents into place: flush its
    data to disk before its name, and the name before the commit returns, so a power
    loss never leaves a table of contents without its contents."""

    def rename_file(self, oldname: str, newname: str, safe: bool = False) -> None:
        fsync(self._fpath(oldname))
        super().rename_file(oldname, newname, safe)
        fsync(self.folder)


def create_generation(directory: Path) -> tuple[Path, whoosh_index.Index]:
    """A new, empty generation. Its number sorts it after the others; its random
    suffix makes the name new even where an index was deleted and rebuilt, so a
    reader holding the old one notices the change."""
    existing = _generations(directory)
    number = _number(existing[-1]) + 1 if existing else 1
    generation = directory / f"gen-{number:06d}-{secrets.token_hex(4)}"
    generation.mkdir(parents=True)
    ix = _DurableStorage(str(generation)).create_index(schema())
    meta = {"schema": SCHEMA_VERSION, "analyzer": ANALYZER_VERSION, "searchidx": __version__}
    write_durably(generation / META_FILE, json.dumps(meta))
    return generation, ix


def index_size(generation: Path) -> int:
    return sum(p.stat().st_size for p in generation.iterdir() if p.is_file())
