"""The index on disk: schema, building, updating, and keeping it safe.

Layout of an index directory::

    DIR/CURRENT        names the live generation ("gen-000003")
    DIR/gen-000003/    a Whoosh index plus searchidx.json (schema and analyzer versions)
    DIR/write.lock     held (flock) by the one process writing

A rebuild writes a new generation beside the live one and swaps ``CURRENT`` with an
atomic rename, so a crash or Ctrl-C mid-build leaves the previous index answering.
Incremental updates go into the live generation; Whoosh only publishes them at
commit, so an interrupted update leaves the index as it was. The previous generation
is kept until the next rebuild, so readers that opened it keep working.

Segmentation is the expensive step: worker processes turn articles into ready-made
postings (``prepare``), and the parent only feeds them to Whoosh's writer.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import json
import os
import pickle
import shutil
import signal
import sys
import time
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from whoosh import columns, fields
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.writing import SegmentWriter

from searchidx import safe_unpickle  # noqa: F401  (opening a crafted index must not run its code)
from searchidx._version import __version__
from searchidx.analysis import ANALYZER_VERSION, VietnameseAnalyzer, analyze, key
from searchidx.corpus import Article, Record, Reject, Warn
from searchidx.errors import IncompatibleIndex, IndexLocked, IndexNotFound
from searchidx.fingerprint import signature

#: Bumped whenever the fields or what they hold change.
SCHEMA_VERSION = 1
TEXT_FIELDS = ("title", "sapo", "body")
META_FILE = "searchidx.json"


@dataclass(frozen=True)
class Postings:
    """A field value analysed ahead of time: Whoosh's (term, freq, weight, positions)
    tuples, so the analysis can run in another process."""

    items: list[tuple[bytes, int, float, bytes]]


class VietnameseText(fields.TEXT):
    """A text field analysed by ``VietnameseAnalyzer``, with positions for phrases.

    Accepts ready ``Postings`` as well as plain text."""

    def __init__(self) -> None:
        super().__init__(analyzer=VietnameseAnalyzer(), phrase=True, stored=True)

    def index(self, value, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(value, Postings):
            return iter(value.items)
        return super().index(value, **kwargs)


def schema() -> fields.Schema:
    return fields.Schema(
        id=fields.ID(stored=True, unique=True, sortable=True),
        stamp=fields.ID(unique=True),  # one per add, to undo a repeat within a build
        title=VietnameseText(),
        sapo=VietnameseText(),
        body=VietnameseText(),
        url=fields.ID(stored=True),
        date=fields.DATETIME(stored=True, sortable=True),
        month=fields.ID(sortable=True),
        category=fields.ID(stored=True, sortable=True),
        category_key=fields.ID(),
        source=fields.ID(stored=True, sortable=True),
        source_key=fields.ID(),
        tags=fields.STORED(),
        tags_key=fields.KEYWORD(commas=True, lowercase=False),
        author=fields.STORED(),
        spans=fields.STORED(),  # word boundaries per text field, for highlighting
        fingerprint=fields.COLUMN(columns.VarBytesColumn()),  # MinHash, for near-duplicates
        digest=fields.STORED(),  # content hash: unchanged articles are skipped
    )


# --- preparing documents (runs in worker processes) ------------------------------------


def _postings(text: str) -> tuple[Postings, bytes]:
    """A text's postings, and its multi-syllable word spans packed as uint32 pairs."""
    analysis = analyze(text)
    positions: dict[str, list[int]] = defaultdict(list)
    for term in analysis.terms:
        positions[term.text].append(term.pos)
    encode = _TEXT_FORMAT.encode
    items = [
        (term.encode("utf-8"), len(poses), float(len(poses)), encode(sorted(set(poses))))
        for term, poses in positions.items()
    ]
    return Postings(items), array("I", [i for span in analysis.words for i in span]).tobytes()


def digest(article: Article) -> str:
    """Content hash: an article whose digest is unchanged need not be re-indexed."""
    payload = json.dumps(article.to_dict(), ensure_ascii=False, sort_keys=True)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()


def document(article: Article, stamp: str, content_digest: str) -> dict[str, object]:
    """The Whoosh document for an article: analysed text plus everything stored."""
    doc: dict[str, object] = {"id": article.id, "stamp": stamp, "digest": content_digest}
    spans: dict[str, bytes] = {}
    for name in TEXT_FIELDS:
        text = getattr(article, name)
        if text:
            doc[name], spans[name] = _postings(text)
            doc[f"_stored_{name}"] = text
    doc["spans"] = spans
    doc["fingerprint"] = signature(article.text)
    if article.url:
        doc["url"] = article.url
    if article.date:
        doc["date"] = article.date
        doc["month"] = article.date.strftime("%Y-%m")
    for name in ("category", "source"):
        value = getattr(article, name)
        if value:
            doc[name], doc[f"{name}_key"] = value, key(value)
    if article.tags:
        doc["tags"] = list(article.tags)
        doc["tags_key"] = ",".join(key(t) for t in article.tags)
    if article.author:
        doc["author"] = article.author
    return doc


_TEXT_FORMAT = VietnameseText().format


class _SerialWriter(SegmentWriter):
    """Analyses and writes in this process."""

    def add_article(self, article: Article, stamp: str, content_digest: str) -> None:
        self.add_document(**document(article, stamp, content_digest))


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _die_with(parent: int) -> None:
    """End this worker when its parent ends, however it ends: a parent killed by
    SIGKILL or the OOM killer never tells its workers, which would otherwise wait
    for jobs forever (Linux; elsewhere only a normal exit ends daemonic workers)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before we asked
        os._exit(1)


class _AnalysingTask(SubWriterTask):
    """A Whoosh sub-writer process that also does the analysis, so segmentation and
    posting-writing both run on every core."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self._parent = os.getpid()

    def run(self) -> None:
        _die_with(self._parent)
        super().run()

    def _process_file(self, filename: str, doc_count: int) -> None:
        storage = self.writer.temp_storage()
        with storage.open_file(filename).raw_file() as f:
            for _ in range(doc_count):
                _, job = pickle.load(f)
                self.writer.add_document(**document(**job))
        storage.delete_file(filename)


class _ParallelWriter(MpWriter):
    """Whoosh's multiprocessing writer with analysing sub-writers; each worker
    writes its own segment (no final merge), and a worker that dies fails the build
    instead of silently losing its documents."""

    def _new_task(self) -> SubWriterTask:
        task = _AnalysingTask(
            self.storage, self.indexname, self.jobqueue, self.resultqueue,
            self.subargs, self.multisegment,
        )  # fmt: skip
        task.daemon = True  # a parent that exits normally ends it too
        self.tasks.append(task)
        task.start()
        return task

    def add_article(self, article: Article, stamp: str, content_digest: str) -> None:
        self.add_document(article=article, stamp=stamp, content_digest=content_digest)

    def commit(self, **kwargs: object) -> None:
        if self.docbuffer:
            self._enqueue()
        for _ in self.tasks:
            self.jobqueue.put(None)
        for task in self.tasks:
            task.join()
        if any(task.exitcode != 0 for task in self.tasks):
            self.cancel()
            raise RuntimeError("an indexing worker process failed; the index was left unchanged")
        super().commit(**kwargs)


def _writer(ix: whoosh_index.Index, workers: int) -> _SerialWriter | _ParallelWriter:
    if workers <= 1:
        return _SerialWriter(ix, limitmb=512)
    return _ParallelWriter(ix, procs=workers, batchsize=64, multisegment=True, limitmb=512)


# --- the directory, its generations and its lock ----------------------------------------


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
    return directory / name


def _generations(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("gen-*") if p.is_dir())


def _publish(directory: Path, generation: Path) -> None:
    """Point CURRENT at a generation, atomically and durably."""
    tmp = directory / "CURRENT.tmp"
    with open(tmp, "w") as f:
        f.write(generation.name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, directory / "CURRENT")
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale_generations(directory: Path) -> None:
    """Keep the live generation and the one before it (readers may still use it);
    remove older ones and the leftovers of interrupted rebuilds."""
    live = current_generation(directory)
    keep = {live}
    older = [g for g in _generations(directory) if live is not None and g.name < live.name]
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


def open_generation(directory: Path) -> tuple[Path, whoosh_index.Index]:
    """The live generation and its Whoosh index, after checking its versions."""
    generation = current_generation(directory)
    if generation is None or not generation.is_dir():
        raise IndexNotFound(f"no index at {directory}; build one with 'searchidx index'")
    check_compatible(generation)
    return generation, FileStorage(str(generation)).open_index()


def _create_generation(directory: Path) -> tuple[Path, whoosh_index.Index]:
    existing = _generations(directory)
    number = int(existing[-1].name.split("-")[1]) + 1 if existing else 1
    generation = directory / f"gen-{number:06d}"
    generation.mkdir(parents=True)
    ix = FileStorage(str(generation)).create_index(schema())
    meta = {"schema": SCHEMA_VERSION, "analyzer": ANALYZER_VERSION, "searchidx": __version__}
    (generation / META_FILE).write_text(json.dumps(meta))
    return generation, ix


# --- building ---------------------------------------------------------------------------


@dataclass
class BuildReport:
    """What a build did; ``rejected`` and ``warnings`` hold the problems seen."""

    indexed: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: list[Reject] = field(default_factory=list)
    warnings: list[Warn] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def processed(self) -> int:
        return self.indexed + self.updated + self.skipped + len(self.rejected)


ProgressCallback = Callable[[BuildReport], None]
ProblemCallback = Callable[[Reject | Warn], None]


def build(
    directory: Path,
    records: Iterable[Record],
    *,
    rebuild: bool = False,
    workers: int = 1,
    wait: float = 0.0,
    on_progress: ProgressCallback | None = None,
    on_problem: ProblemCallback | None = None,
) -> BuildReport:
    """Add, update or (with ``rebuild``) replace the articles of an index.

    A repeated id updates the article; an unchanged article is skipped. Problems are
    reported through ``on_problem`` as they are met and collected in the report."""
    report = BuildReport()
    started = time.monotonic()
    with WriteLock(directory, wait=wait):
        fresh = rebuild or current_generation(directory) is None
        if fresh:
            _remove_stale_generations(directory)
            generation, ix = _create_generation(directory)
        else:
            generation, ix = open_generation(directory)
        writer = _writer(ix, workers)
        try:
            superseded = _write(writer, records, report, on_progress, on_problem)
            writer.commit()
        except BaseException:
            if not writer.is_closed:
                writer.cancel()
            raise
        _delete_stamps(ix, superseded)
        if fresh:
            _publish(directory, generation)
            _remove_stale_generations(directory)
    report.seconds = time.monotonic() - started
    return report


def _write(
    writer: _SerialWriter | _ParallelWriter,
    records: Iterable[Record],
    report: BuildReport,
    on_progress: ProgressCallback | None,
    on_problem: ProblemCallback | None,
) -> list[str]:
    """Feed the records to the writer; returns the stamps of adds that a later
    record with the same id superseded within this build."""
    searcher = writer.searcher()
    stamps: dict[str, str] = {}  # id -> stamp of its latest add in this build
    superseded: list[str] = []
    build_id = f"{os.getpid()}-{time.time_ns()}"
    last_report = 0.0
    for number, record in enumerate(records):
        if not isinstance(record, Article):
            if isinstance(record, Reject):
                report.rejected.append(record)
            else:
                report.warnings.append(record)
            if on_problem:
                on_problem(record)
            continue
        content_digest = digest(record)
        previous = stamps.get(record.id)
        stored = None if previous else searcher.document(id=record.id)
        if stored is not None and stored.get("digest") == content_digest:
            report.skipped += 1
            continue
        if previous is not None:
            superseded.append(previous)
            report.updated += 1
        elif stored is not None:
            writer.delete_by_term("id", record.id, searcher=searcher)
            report.updated += 1
        else:
            report.indexed += 1
        stamps[record.id] = stamp = f"{build_id}-{number}"
        writer.add_article(record, stamp, content_digest)
        now = time.monotonic()
        if on_progress and now - last_report >= 0.5:
            on_progress(report)
            last_report = now
    if on_progress:
        on_progress(report)
    return superseded


def _delete_stamps(ix: whoosh_index.Index, superseded: list[str]) -> None:
    """Delete earlier copies of ids that came twice in one build: Whoosh can only
    delete committed documents, so this happens in a second, small commit."""
    if not superseded:
        return
    writer = ix.writer()
    for stamp in superseded:
        writer.delete_by_term("stamp", stamp)
    writer.commit()


def delete(directory: Path, ids: Iterable[str], wait: float = 0.0) -> int:
    """Delete articles by id; returns how many were found and deleted."""
    with WriteLock(directory, wait=wait):
        _, ix = open_generation(directory)
        writer = ix.writer()
        count = sum(int(writer.delete_by_term("id", doc_id)) for doc_id in ids)
        writer.commit()
    return count


def index_size(generation: Path) -> int:
    return sum(p.stat().st_size for p in generation.iterdir() if p.is_file())


def optimize(directory: Path, wait: float = 0.0) -> None:
    """Merge all segments into one (faster searching after many small updates)."""
    with WriteLock(directory, wait=wait):
        _, ix = open_generation(directory)
        ix.optimize()
