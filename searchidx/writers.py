"""Whoosh writers whose commit is the whole update, and durable; serial, or with
worker processes that analyse as well as write.

Segmentation is the expensive step: worker processes turn articles into ready-made
postings (``schema.document``), and the parent only feeds them to Whoosh's writer. A
worker that dies fails the build at once, with a one-line reason.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import queue
import signal
import sys
import time
from collections.abc import Callable, Iterable
from multiprocessing import Queue, SimpleQueue, connection
from typing import Any

from whoosh import fields
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.reading import SegmentReader
from whoosh.writing import SegmentWriter

from searchidx import posting_arrays
from searchidx.article import Article
from searchidx.generations import fsync
from searchidx.schema import document
from searchidx.term_pool import FieldLengths, TermList, TermPool, write_terms


class _CapturingWriter(SegmentWriter):
    """Whoosh's segment writer with postings grouped by term (``term_pool``), which
    writes each segment's posting arrays (``posting_arrays``) from those lists as it
    writes the postings, instead of decoding them again afterwards."""

    pool: TermPool

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.pool = TermPool(self._tempstorage, self.pool.limit // 2**20)  # in place of Whoosh's, unused yet
        self._arrays: posting_arrays.ArrayFile | None = None

    def _flush_segment(self) -> None:  # Whoosh's, with the two changes
        self.perdocwriter.close()
        reader = self.per_document_reader() if self.codec.length_stats else None
        terms: Iterable[TermList] = self.pool.term_lists()
        path = posting_arrays.path_for(self.storage, self.get_segment().segment_id())
        if path is not None:
            self._arrays = posting_arrays.ArrayFile(path)
            terms = self._arrays.capture(terms)
        write_terms(self.fieldwriter, self.schema, FieldLengths(reader) if reader else None, terms)
        self.fieldwriter.close()
        if reader:
            reader.close()

    def _assemble_segment(self) -> None:
        super()._assemble_segment()
        if self._arrays is not None:  # after the compound file, which would take it in
            self._arrays.finish()
            self._arrays = None


class _AtomicWriter(_CapturingWriter):
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
        self.analysing = 0.0  # seconds this process spent analysing articles
        self._committed = {segment.segment_id() for segment in self.segments}

    def _commit_toc(self, segments: list[Any]) -> None:
        if not segments:  # an empty segment: Whoosh's reader of no segments can neither refresh nor read columns
            self._assemble_segment()
            segments = [self.get_segment()]
        new = [segment for segment in segments if segment.segment_id() not in self._committed]
        _delete_stamps(self.storage, self.schema, new, self.superseded)
        _write_posting_arrays(self.storage, self.schema, new)
        for segment in new:
            for name in segment.list_files(self.storage):
                fsync(os.path.join(self.storage.folder, name))
        fsync(self.storage.folder)
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


def _write_posting_arrays(storage: FileStorage, schema: fields.Schema, segments: list[Any]) -> None:
    """The posting arrays file of each new segment that has none (one not written
    by a ``_CapturingWriter``: the empty segment of an empty commit), before the
    table of contents, so a committed segment always has its file."""
    for segment in segments:
        path = posting_arrays.path_for(storage, segment.segment_id())
        if path is None or path.exists():  # in memory, or written with the segment
            continue
        reader = SegmentReader(storage, schema, segment)
        try:
            posting_arrays.write(storage, reader)
        finally:
            reader.close()


class _SerialWriter(_AtomicWriter):
    """Analyses and writes in this process."""

    def add_article(self, article: Article, stamp: str, content_digest: str) -> None:
        started = time.monotonic()
        doc = document(article, stamp, content_digest)
        self.analysing += time.monotonic() - started
        self.add_document(**doc)


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _die_with(parent: int) -> None:
    """End this worker when its parent ends, however it ends: a parent killed by
    SIGKILL or the OOM killer never tells its workers, which would otherwise wait
    for jobs forever (Linux; elsewhere only a normal exit ends daemonic workers)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before we asked
        os._exit(1)


def error_reason(error: BaseException) -> str:
    """An exception as a short phrase for a one-line message."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror + (f" ({error.filename})" if error.filename else "")
    return f"{type(error).__name__}: {error}"


class _AnalysingTask(SubWriterTask):
    """A Whoosh sub-writer process that also does the analysis, so segmentation and
    posting-writing both run on every core; it writes a segment of its own with a
    ``_CapturingWriter``. A failure is sent to the parent as one line
    (``failures``) instead of a traceback."""

    def __init__(self, *args: object, failures: SimpleQueue[str]) -> None:
        super().__init__(*args)
        self._parent = os.getpid()
        self.failures = failures

    def run(self) -> None:
        _die_with(self._parent)
        try:
            self._write_segment()
        except Exception as error:
            self.failures.put(error_reason(error))
            sys.exit(1)

    def _write_segment(self) -> None:
        """Whoosh's ``run`` for ``multisegment`` writers, with our writer: add the
        documents of every job file, then finish the segment and hand it over."""
        writer = self.writer = _CapturingWriter(self.storage.open_index(self.indexname), _lk=False, **self.kwargs)
        while (job := self.jobqueue.get()) is not None:
            self._process_file(*job)
        fieldnames = writer.pool.fieldnames
        self.resultqueue.put((None, fieldnames, writer._finalize_segment()), timeout=5)

    def _process_file(self, filename: str, doc_count: int) -> None:
        storage = self.writer.temp_storage()
        with storage.open_file(filename).raw_file() as f:
            for _ in range(doc_count):
                _, job = pickle.load(f)
                self.writer.add_document(**document(**job))
        storage.delete_file(filename)


class WorkerFailed(Exception):
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
        # one job file per worker waiting, not Whoosh's four, and small ones (``new_writer``):
        # the articles handed over are then nearly the articles analysed, which is what
        # the progress shows, and the workers finish together
        self._jobs: Queue[Any] = Queue(self.procs)
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
                raise WorkerFailed(f"an indexing worker was killed by {signal.Signals(-code).name} (out of memory?)")
            reason = self.failures.get() if not self.failures.empty() else f"exit code {code}"
            raise WorkerFailed(f"an indexing worker failed: {reason}")

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


Writer = _SerialWriter | _ParallelWriter


#: Postings a writing process keeps in memory before spilling them to a run file
#: (``term_pool``), in MB: with the interpreter and pyvi's model, a worker stays
#: under 600 MB whatever the corpus size.
POOL_MB = 384


def new_writer(ix: whoosh_index.Index, workers: int) -> Writer:
    """A writer for ``workers`` processes; job files of 16 articles cost little
    beside their analysis (about 10 ms an article) and keep few in flight."""
    if workers <= 1:
        return _SerialWriter(ix, limitmb=POOL_MB)
    return _ParallelWriter(ix, procs=workers, batchsize=16, multisegment=True, limitmb=POOL_MB)
