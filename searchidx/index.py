"""The index on disk: schema, building, updating, and keeping it safe.

Layout of an index directory::

    DIR/CURRENT               names the live generation ("gen-000003-9f2c41d7")
    DIR/gen-000003-9f2c41d7/  a Whoosh index plus searchidx.json (schema and analyzer versions)
    DIR/write.lock     held (flock) by the one process writing

A rebuild writes a new generation beside the live one and swaps ``CURRENT`` with an
atomic rename, so a crash or Ctrl-C mid-build leaves the previous index answering.
Incremental updates go into the live generation; Whoosh only publishes them at
commit, so an interrupted update leaves the index as it was. The previous generation
is kept until the next rebuild, so readers that opened it keep working. A generation
name is never reused (a random suffix after the number), so a reader can tell a new
index from the one it opened even when the directory was deleted and rebuilt.

Every update is one commit, and durable: segment files, the table of contents, the
generation directory and ``CURRENT`` are flushed to disk (fsync) before they are
published. A write that fails (disk full, a worker killed, Ctrl-C) removes what it
wrote and leaves the index as it was; a rebuild that would publish an empty or mostly
rejected index is refused.

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
import queue
import secrets
import shutil
import signal
import sys
import time
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing import Queue, SimpleQueue, connection
from pathlib import Path
from typing import IO, Any

from whoosh import columns, fields
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, clean_files
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.reading import SegmentReader
from whoosh.writing import SegmentWriter

from searchidx import safe_unpickle  # noqa: F401  (opening a crafted index must not run its code)
from searchidx._version import __version__
from searchidx.analysis import ANALYZER_VERSION, VietnameseAnalyzer, analyze, key
from searchidx.article import Article, Record, Reject, Warn
from searchidx.errors import BuildRefused, IncompatibleIndex, IndexLocked, IndexNotFound, IndexWriteFailed
from searchidx.fingerprint import signature
from searchidx.limits import MAX_REJECTED

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


class _AtomicWriter(SegmentWriter):
    """A writer whose commit is the whole update, and durable.

    An id repeated within one build is added each time; the earlier copies (their
    ``stamp`` is in ``superseded``) are deleted in the same commit, from the new
    segments, just before the table of contents is written: Whoosh's
    ``delete_by_term`` only sees committed documents, and a second commit could be
    killed in between, leaving both copies. The new segment files are flushed to disk
    before the table of contents that publishes them."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.superseded: list[str] = []
        self._committed = {segment.segment_id() for segment in self.segments}

    def _commit_toc(self, segments: list[Any]) -> None:
        if not segments:  # an empty segment: Whoosh's reader of no segments can neither refresh nor read columns
            self._assemble_segment()
            segments = [self.get_segment()]
        new = [segment for segment in segments if segment.segment_id() not in self._committed]
        _delete_stamps(self.storage, self.schema, new, self.superseded)
        for segment in new:
            for name in segment.list_files(self.storage):
                _fsync(os.path.join(self.storage.folder, name))
        _fsync(self.storage.folder)
        super()._commit_toc(segments)


def _delete_stamps(storage: FileStorage, schema: fields.Schema, segments: list[Any], stamps: list[str]) -> None:
    """Mark the documents with these stamps deleted in these (uncommitted) segments."""
    if not stamps:
        return
    for segment in segments:
        reader = SegmentReader(storage, schema, segment)
        try:
            for stamp in stamps:
                if ("stamp", stamp) in reader:
                    segment.delete_document(reader.first_id("stamp", stamp))
        finally:
            reader.close()


class _SerialWriter(_AtomicWriter):
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


def _reason(error: BaseException) -> str:
    """An exception as a short phrase for a one-line message."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror + (f" ({error.filename})" if error.filename else "")
    return f"{type(error).__name__}: {error}"


class _AnalysingTask(SubWriterTask):
    """A Whoosh sub-writer process that also does the analysis, so segmentation and
    posting-writing both run on every core. A failure is sent to the parent as one
    line (``failures``) instead of a traceback."""

    def __init__(self, *args: object, failures: SimpleQueue[str]) -> None:
        super().__init__(*args)
        self._parent = os.getpid()
        self.failures = failures

    def run(self) -> None:
        _die_with(self._parent)
        try:
            super().run()
        except Exception as error:
            self.failures.put(_reason(error))
            sys.exit(1)

    def _process_file(self, filename: str, doc_count: int) -> None:
        storage = self.writer.temp_storage()
        with storage.open_file(filename).raw_file() as f:
            for _ in range(doc_count):
                _, job = pickle.load(f)
                self.writer.add_document(**document(**job))
        storage.delete_file(filename)


class _WorkerFailed(Exception):
    """A worker process died; the message says how."""


class _JobQueue:
    """The workers' job queue as the parent sees it: Whoosh's ``put`` blocks for good
    once the queue is full and the workers are dead, so it waits in short steps and
    asks ``check`` in between whether they still live."""

    def __init__(self, jobs: Queue[Any], check: Callable[[], None]) -> None:
        self.jobs, self.check = jobs, check

    def put(self, job: object) -> None:
        while True:
            self.check()
            try:
                self.jobs.put(job, timeout=0.2)
                return
            except queue.Full:
                pass


class _ParallelWriter(_AtomicWriter, MpWriter):
    """Whoosh's multiprocessing writer with analysing sub-writers; each worker
    writes its own segment (no final merge). A worker that dies (killed, out of
    memory, disk full) fails the build at once: its documents would be lost, and the
    parent would wait for it forever."""

    jobqueue: Any  # Whoosh's queue, then the watched view of it that Whoosh's code puts to

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.failures: SimpleQueue[str] = SimpleQueue()
        self._jobs: Queue[Any] = self.jobqueue
        self.jobqueue = _JobQueue(self._jobs, self._check_workers)

    def _new_task(self) -> SubWriterTask:
        task = _AnalysingTask(
            self.storage, self.indexname, self._jobs, self.resultqueue, self.subargs, self.multisegment,
            failures=self.failures,
        )  # fmt: skip
        task.daemon = True  # a parent that exits normally ends it too
        self.tasks.append(task)
        task.start()
        return task

    def _check_workers(self) -> None:
        for task in self.tasks:
            code = task.exitcode
            if code is None or code == 0:
                continue
            if code < 0:
                raise _WorkerFailed(f"an indexing worker was killed by {signal.Signals(-code).name} (out of memory?)")
            reason = self.failures.get() if not self.failures.empty() else f"exit code {code}"
            raise _WorkerFailed(f"an indexing worker failed: {reason}")

    def add_article(self, article: Article, stamp: str, content_digest: str) -> None:
        self.add_document(article=article, stamp=stamp, content_digest=content_digest)

    def commit(self, **kwargs: object) -> None:
        if self.docbuffer:
            self._enqueue()
        for _ in self.tasks:
            self.jobqueue.put(None)
        running = list(self.tasks)
        while running:
            connection.wait([task.sentinel for task in running])
            self._check_workers()
            running = [task for task in running if task.is_alive()]
        super().commit(**kwargs)

    def cancel(self) -> None:
        for task in self.tasks:
            if task.is_alive():
                task.kill()
            task.join()
        self._jobs.cancel_join_thread()
        super().cancel()


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
    except NotADirectoryError:
        raise IndexNotFound(f"{directory} is a file, not an index directory") from None
    return directory / name


def _number(generation: Path) -> int:
    return int(generation.name.split("-")[1])


def _generations(directory: Path) -> list[Path]:
    """The generation directories, oldest first."""
    found = [p for p in directory.glob("gen-*") if p.name.split("-")[1].isdigit() and p.is_dir()]
    return sorted(found, key=_number)


def _fsync(path: str | Path) -> None:
    """Flush a file's data, or a directory's entries, to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _publish(directory: Path, generation: Path) -> None:
    """Point CURRENT at a generation, atomically and durably (the generation's own
    files were flushed when it was committed)."""
    tmp = directory / "CURRENT.tmp"
    _write_durably(tmp, generation.name + "\n")
    _fsync(directory)  # the generation's directory entry, before the name that points to it
    os.replace(tmp, directory / "CURRENT")
    _fsync(directory)


def _remove_stale_generations(directory: Path) -> None:
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


def open_generation(directory: Path) -> tuple[Path, whoosh_index.Index]:
    """The live generation and its Whoosh index, after checking its versions."""
    generation = current_generation(directory)
    if generation is None or not generation.is_dir():
        raise IndexNotFound(f"no index at {directory}; build one with 'searchidx index'")
    check_compatible(generation)
    return generation, _DurableStorage(str(generation)).open_index()


class _DurableStorage(FileStorage):
    """Whoosh commits by renaming a finished table of contents into place: flush its
    data to disk before its name, and the name before the commit returns, so a power
    loss never leaves a table of contents without its contents."""

    def rename_file(self, oldname: str, newname: str, safe: bool = False) -> None:
        _fsync(self._fpath(oldname))
        super().rename_file(oldname, newname, safe)
        _fsync(self.folder)


def _create_generation(directory: Path) -> tuple[Path, whoosh_index.Index]:
    """A new, empty generation. Its number sorts it after the others; its random
    suffix makes the name new even where an index was deleted and rebuilt, so a
    reader holding the old one notices the change."""
    existing = _generations(directory)
    number = _number(existing[-1]) + 1 if existing else 1
    generation = directory / f"gen-{number:06d}-{secrets.token_hex(4)}"
    generation.mkdir(parents=True)
    ix = _DurableStorage(str(generation)).create_index(schema())
    meta = {"schema": SCHEMA_VERSION, "analyzer": ANALYZER_VERSION, "searchidx": __version__}
    _write_durably(generation / META_FILE, json.dumps(meta))
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
    allow_empty: bool = False,
    max_rejected: float = MAX_REJECTED,
    workers: int = 1,
    wait: float = 0.0,
    on_progress: ProgressCallback | None = None,
    on_problem: ProblemCallback | None = None,
) -> BuildReport:
    """Add, update or (with ``rebuild``) replace the articles of an index.

    A repeated id updates the article; an unchanged article is skipped. Problems are
    reported through ``on_problem`` as they are met and collected in the report.
    BuildRefused, publishing nothing, for a rebuild or first build that indexes no
    article (unless ``allow_empty``) and for a rebuild that rejects more than
    ``max_rejected`` of its records."""
    report = BuildReport()
    started = time.monotonic()
    with _writing(directory, wait):
        live = current_generation(directory)
        fresh = rebuild or live is None
        if fresh:
            _remove_stale_generations(directory)
            generation, ix = _create_generation(directory)
        else:
            generation, ix = open_generation(directory)
        with _transaction(ix, workers, new_generation=generation if fresh else None) as writer:
            _write(writer, records, report, on_progress, on_problem)
            if fresh:
                _check_publishable(report, allow_empty, max_rejected if live else 1.0)
        if fresh:
            _publish(directory, generation)
            _remove_stale_generations(directory)
    report.seconds = time.monotonic() - started
    return report


def _check_publishable(report: BuildReport, allow_empty: bool, max_rejected: float) -> None:
    """Refuse a new index with nothing, or little, in it: more likely a wrong path or
    format than the intended corpus, and it would replace a good index (a first build
    replaces none: its good records are kept however many were rejected)."""
    written, rejected = report.indexed + report.updated, len(report.rejected)
    kept = "; the index was left as it was"
    if not written and not allow_empty:
        raise BuildRefused(f"no articles to index ({rejected} rejected){kept} (--allow-empty publishes an empty index)")
    if rejected > max_rejected * (written + rejected):
        raise BuildRefused(
            f"{rejected} of {written + rejected} records were rejected, more than {max_rejected:.0%}{kept} "
            f"(--max-rejected sets the share)"
        )


@contextmanager
def _writing(directory: Path, wait: float) -> Iterator[None]:
    """Hold the write lock; report a write that fails for the machine's reasons (disk
    full, read-only, a worker killed) as one line."""
    try:
        with WriteLock(directory, wait=wait):
            yield
    except (OSError, _WorkerFailed) as error:
        if isinstance(error, OSError) and not _inside(error.filename, directory):
            raise  # not ours: a corpus file, say
        raise IndexWriteFailed(
            f"could not write the index at {directory}: {_reason(error) if isinstance(error, OSError) else error}; "
            f"it is as it was before"
        ) from error


def _inside(filename: object, directory: Path) -> bool:
    return filename is None or Path(str(filename)).resolve().is_relative_to(directory.resolve())


@contextmanager
def _transaction(
    ix: whoosh_index.Index, workers: int = 1, new_generation: Path | None = None
) -> Iterator[_SerialWriter | _ParallelWriter]:
    """A writer whose changes are committed at the end of the block, or all undone if
    anything fails: the new generation is removed, or, in the live one, the files of
    unfinished segments."""
    writer = None
    try:
        writer = _writer(ix, workers)
        yield writer
        writer.commit()
    except BaseException:
        if writer is not None:
            _close(writer)
        if new_generation is not None:
            shutil.rmtree(new_generation, ignore_errors=True)
        else:
            with suppress(OSError):
                toc = TOC.read(ix.storage, ix.indexname)
                clean_files(ix.storage, ix.indexname, toc.generation, toc.segments)
        raise


def _close(writer: _SerialWriter | _ParallelWriter) -> None:
    """Cancel a failed writer, however far it got: a cancel that fails part-way (its
    files already broken by a full disk) still removes its temporary files and
    releases Whoosh's lock, or the next write in this process would find it held."""
    with suppress(Exception):  # already failing: the first error is the one to report
        if not writer.is_closed:
            writer.cancel()
    with suppress(Exception):
        if not writer.is_closed:
            writer._finish()


def _write(
    writer: _SerialWriter | _ParallelWriter,
    records: Iterable[Record],
    report: BuildReport,
    on_progress: ProgressCallback | None,
    on_problem: ProblemCallback | None,
) -> None:
    """Feed the records to the writer; an add that a later record with the same id
    supersedes within this build goes to ``writer.superseded``."""
    searcher = writer.searcher()
    stamps: dict[str, str] = {}  # id -> stamp of its latest add in this build
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
            writer.superseded.append(previous)
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


def delete(directory: Path, ids: Iterable[str], wait: float = 0.0) -> int:
    """Delete articles by id; returns how many were found and deleted."""
    with _writing(directory, wait):
        _, ix = open_generation(directory)
        with _transaction(ix) as writer:
            count = sum(int(writer.delete_by_term("id", doc_id)) for doc_id in ids)
    return count


def index_size(generation: Path) -> int:
    return sum(p.stat().st_size for p in generation.iterdir() if p.is_file())


def optimize(directory: Path, wait: float = 0.0) -> None:
    """Merge all segments into one (faster searching after many small updates)."""
    with _writing(directory, wait):
        _, ix = open_generation(directory)
        with _transaction(ix) as writer:
            writer.optimize = True
