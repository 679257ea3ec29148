"""Building an index: add, update, delete and optimize, each one durable commit.

A rebuild (or first build) writes a new generation and publishes it only when it is
complete (see ``searchidx.generations``), so a crash or Ctrl-C mid-build leaves the
previous index answering. Incremental updates go into the live generation; Whoosh only
publishes them at commit, so an interrupted update leaves the index as it was. A
write that fails (disk full, a worker killed, Ctrl-C) removes what it wrote and leaves
the index as it was; a rebuild that would publish an empty or mostly rejected index is
refused. The writers themselves, serial or with worker processes, are in
``searchidx.writers``.
"""

from __future__ import annotations

import itertools
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypedDict

from whoosh import index as whoosh_index
from whoosh.index import TOC, clean_files

from searchidx import cluster as _cluster
from searchidx import restore
from searchidx.article import Article, Record, Reject, Warn
from searchidx.errors import BuildRefused, IndexWriteFailed, InvalidArgument, kind
from searchidx.generations import (
    WriteLock,
    create_generation,
    current_generation,
    open_generation,
    publish,
    remove_stale_generations,
)
from searchidx.limits import CLUSTER_BATCH, MAX_REJECTED
from searchidx.schema import digest
from searchidx.writers import WorkerFailed, Writer, error_reason, new_writer

AnyWriter = Writer | _cluster.DaskWriter
WriterFactory = Callable[[whoosh_index.Index], AnyWriter]
_SERIAL: WriterFactory = partial(new_writer, workers=1)

#: The phases of a build, in order, as ``BuildReport.phases`` names them.
PHASES = ("read", "analyse", "add", "commit")


@dataclass
class BuildReport:
    """What a build did; ``rejected`` and ``warnings`` hold the problems seen.

    ``committing`` says that every article has been handed to the writer and the
    segments are being finished (sorting and writing the postings, which takes a
    good part of a build); ``phases`` holds the seconds spent reading records,
    analysing articles (when this process does it: one worker), adding them to the
    writer (with several workers: handing them over, waiting for the workers) and
    committing (with workers, their last articles too; then counting the vocabulary
    for query restoration)."""

    indexed: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: list[Reject] = field(default_factory=list)
    warnings: list[Warn] = field(default_factory=list)
    seconds: float = 0.0
    committing: bool = False
    phases: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))

    @property
    def processed(self) -> int:
        return self.indexed + self.updated + self.skipped + len(self.rejected)


ProgressCallback = Callable[[BuildReport], None]
ProblemCallback = Callable[[Reject | Warn], None]


@dataclass(frozen=True)
class BuildOptions:
    """How to build: the one list of build settings, for ``build`` and ``Index.add``.

    ``rebuild`` replaces the whole index atomically, unless it would index nothing
    (``allow_empty`` allows that) or reject more than ``max_rejected`` (a share, 0 to 1)
    of its records. ``workers`` processes analyse the articles; ``wait`` is how many
    seconds to wait for another writer. ``on_progress`` is called with the report now
    and then, ``on_problem`` with each rejected or warned record. ``cluster`` builds on
    Dask instead (the ``dask`` extra): ``"local"``, ``"local:N"`` or a scheduler's
    address such as ``"tcp://HOST:8786"``, in batches of ``cluster_batch`` articles
    (one segment each); ``workers`` is then unused.
    Raises InvalidArgument for a value of the wrong type or out of range."""

    rebuild: bool = False
    allow_empty: bool = False
    max_rejected: float = MAX_REJECTED
    workers: int = 1
    wait: float = 0.0
    on_progress: ProgressCallback | None = None
    on_problem: ProblemCallback | None = None
    cluster: str | None = None
    cluster_batch: int = CLUSTER_BATCH

    def __post_init__(self) -> None:
        for name in ("rebuild", "allow_empty"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidArgument(f"{name} must be True or False, not {kind(getattr(self, name))}")
        if not _number(self.max_rejected) or not 0 <= self.max_rejected <= 1:
            raise InvalidArgument(f"max_rejected must be a share from 0 to 1, not {self.max_rejected!r}")
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise InvalidArgument(f"workers must be a whole number of at least 1, not {self.workers!r}")
        if self.cluster is not None:
            _check_cluster(self.cluster)
        if isinstance(self.cluster_batch, bool) or not isinstance(self.cluster_batch, int) or self.cluster_batch < 1:
            raise InvalidArgument(f"cluster_batch must be a whole number of at least 1, not {self.cluster_batch!r}")
        if not _number(self.wait) or self.wait < 0:
            raise InvalidArgument(f"wait must be a number of seconds, not {self.wait!r}")
        for name in ("on_progress", "on_problem"):
            if getattr(self, name) is not None and not callable(getattr(self, name)):
                raise InvalidArgument(f"{name} must be a function or None, not {kind(getattr(self, name))}")


class BuildSettings(TypedDict, total=False):
    """``BuildOptions``' fields as keyword arguments: ``Index.add(records, rebuild=True)``."""

    rebuild: bool
    allow_empty: bool
    max_rejected: float
    workers: int
    wait: float
    on_progress: ProgressCallback | None
    on_problem: ProblemCallback | None
    cluster: str | None
    cluster_batch: int


def _check_cluster(spec: object) -> None:
    if not isinstance(spec, str):
        raise InvalidArgument(f"cluster must be a string such as 'local:2' or 'tcp://HOST:8786', not {kind(spec)}")
    try:
        _cluster.parse_spec(spec)
    except ValueError as error:
        raise InvalidArgument(f"cluster: {error}") from None


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def build(directory: Path, records: Iterable[Record], options: BuildOptions = BuildOptions()) -> BuildReport:
    """Add, update or (with ``rebuild``) replace the articles of an index.

    A repeated id updates the article; an unchanged article is skipped. Problems are
    reported through ``on_problem`` as they are met and collected in the report.
    BuildRefused, publishing nothing, for a rebuild or first build that indexes no
    article (unless ``allow_empty``) and for a rebuild that rejects more than
    ``max_rejected`` of its records."""
    report = BuildReport()
    started = time.monotonic()
    with _writers(options) as make_writer, _writing(directory, options.wait):
        live = current_generation(directory)
        fresh = options.rebuild or live is None
        if fresh:
            remove_stale_generations(directory)
            generation, ix = create_generation(directory)
        else:
            generation, ix = open_generation(directory)
        with _transaction(ix, make_writer, new_generation=generation if fresh else None) as writer:
            _write(writer, records, report, options.on_progress, options.on_problem)
            if fresh:
                _check_publishable(report, options.allow_empty, options.max_rejected if live else 1.0)
            report.committing = True
            if options.on_progress:
                options.on_progress(report)
            committing = time.monotonic()
        restore.prepare(ix)
        report.phases["commit"] = time.monotonic() - committing
        if fresh:
            publish(directory, generation)
            remove_stale_generations(directory)
    report.seconds = time.monotonic() - started
    return report


@contextmanager
def _writers(options: BuildOptions) -> Iterator[WriterFactory]:
    """How the build's writer is made: with local processes, or on a Dask cluster
    that is connected to (or started) before anything is written, and kept for the
    whole build."""
    if options.cluster is None:
        yield partial(new_writer, workers=options.workers)
        return
    with _cluster.connect(options.cluster) as client:
        yield partial(_cluster.DaskWriter, client=client, batch_size=options.cluster_batch)


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
    except (OSError, WorkerFailed) as error:
        if isinstance(error, OSError) and not _inside(error.filename, directory):
            raise  # not ours: a corpus file, say
        why = error_reason(error) if isinstance(error, OSError) else error
        raise IndexWriteFailed(f"could not write the index at {directory}: {why}; it is as it was before") from error


def _inside(filename: object, directory: Path) -> bool:
    return filename is None or Path(str(filename)).resolve().is_relative_to(directory.resolve())


@contextmanager
def _transaction(
    ix: whoosh_index.Index, make_writer: WriterFactory = _SERIAL, new_generation: Path | None = None
) -> Iterator[AnyWriter]:
    """A writer whose changes are committed at the end of the block, or all undone if
    anything fails: the new generation is removed, or, in the live one, the files of
    unfinished segments."""
    writer = None
    try:
        writer = make_writer(ix)
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


def _close(writer: AnyWriter) -> None:
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
    writer: AnyWriter,
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
    phases = report.phases
    records = iter(records)
    for number in itertools.count():
        started = time.monotonic()
        record = next(records, None)
        phases["read"] += time.monotonic() - started
        if record is None:
            break
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
        started = time.monotonic()
        writer.add_article(record, stamp, content_digest)
        now = time.monotonic()
        phases["add"] += now - started
        if on_progress and now - last_report >= 0.5:
            on_progress(report)
            last_report = now
    phases["analyse"] = writer.analysing
    phases["add"] -= writer.analysing
    if on_progress:
        on_progress(report)


def delete(directory: Path, ids: Iterable[str], wait: float = 0.0) -> int:
    """Delete articles by id; returns how many were found and deleted."""
    with _writing(directory, wait):
        _, ix = open_generation(directory)
        with _transaction(ix) as writer:
            count = sum(int(writer.delete_by_term("id", doc_id)) for doc_id in ids)
    return count


def optimize(directory: Path, wait: float = 0.0) -> None:
    """Merge all segments into one (faster searching after many small updates)."""
    with _writing(directory, wait):
        _, ix = open_generation(directory)
        with _transaction(ix) as writer:
            writer.optimize = True
