"""Building on a Dask cluster (the ``dask`` extra).

The client (where the command runs) reads the corpus and decides, article by article,
what is new, changed or unchanged, exactly as a local build does; it sends the
articles to write in batches, a bounded number in flight (its memory stays flat).
A worker analyses a batch, writes it as one finished Whoosh segment with its posting
arrays in a scratch directory, and returns the segment's files as bytes, so workers
need no disk shared with the client. Only the client installs segments, in the
generation it is writing, and publishes them in one commit like a local build; a
batch that Dask recomputes (its worker died) therefore cannot be installed twice.

Dask is imported only here, and only when a cluster is asked for.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from searchidx._version import __version__
from searchidx.analysis import ANALYZER_VERSION
from searchidx.article import Article
from searchidx.errors import ClusterUnavailable, IncompatibleWorker, MissingExtra, SearchidxError
from searchidx.limits import CLUSTER_BATCH
from searchidx.schema import SCHEMA_VERSION, document, schema
from searchidx.writers import WorkerFailed, _AtomicWriter, _CapturingWriter, error_reason

if TYPE_CHECKING:
    from distributed import Client, Future

#: Memory for one worker's posting pool (a batch fits in it; more spills to disk).
WRITER_MB = 256
#: What a worker must share with the client to write segments the index can hold.
VERSIONS = (SCHEMA_VERSION, ANALYZER_VERSION, __version__)

Item = tuple[Article, str, str]  # an article, its stamp and its content digest


def parse_spec(spec: str) -> str | int:
    """``local`` (a worker per core), ``local:N`` (N workers) or a scheduler's
    address; ValueError for anything else."""
    if spec == "local":
        return os.cpu_count() or 1
    if spec.startswith("local:"):
        count = spec.partition(":")[2]
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"expected local:N with N a number of workers, got {spec!r}")
        return int(count)
    if "://" not in spec and ":" not in spec:
        raise ValueError(f"expected 'local', 'local:N' or a scheduler address like tcp://HOST:8786, got {spec!r}")
    return spec


@contextmanager
def connect(spec: str) -> Iterator[Client]:
    """A Dask client for ``spec`` (see ``parse_spec``): a ``LocalCluster`` of
    single-threaded worker processes on 127.0.0.1, or a running scheduler (waiting
    ``distributed.comm.timeouts.connect``, 30 s unless configured, for it and a
    worker). ClusterUnavailable when it cannot be reached."""
    target = parse_spec(spec)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise MissingExtra("--dask needs Dask: pip install 'searchidx[dask]'") from None
    if isinstance(target, int):
        with (
            LocalCluster(
                n_workers=target, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=":0", worker_dashboard_address=":0", silence_logs=logging.ERROR,
            ) as local,
            Client(local, set_as_default=False) as client,
        ):  # fmt: skip
            yield client
        return
    try:
        client = Client(target, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterUnavailable(
            f"cannot reach the Dask scheduler at {target} ({error_reason(error)}); the index was left as it was"
        ) from None
    with client:
        _wait_for_a_worker(client, target)
        yield client


def _wait_for_a_worker(client: Client, address: str) -> None:
    import dask

    timeout = dask.config.get("distributed.comm.timeouts.connect")
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        raise ClusterUnavailable(
            f"the Dask scheduler at {address} has no workers (waited {timeout}); the index was left as it was"
        ) from None


# --- on a worker -------------------------------------------------------------------------


def write_segment(items: list[Item], versions: tuple[int, int, str]) -> tuple[Any, dict[str, bytes]]:
    """Analyse a batch and write it as one segment; returns Whoosh's segment object
    and its files (posting arrays included) by name. Runs on a worker, in a scratch
    directory that it removes (Dask's own worker directory, which Dask purges if the
    worker is killed)."""
    if versions != VERSIONS:
        raise IncompatibleWorker(
            f"a Dask worker runs searchidx {__version__} (schema {SCHEMA_VERSION}, analyzer {ANALYZER_VERSION}); "
            f"this build needs {versions[2]} (schema {versions[0]}, analyzer {versions[1]}): "
            f"install the same searchidx on every worker"
        )
    scratch = tempfile.mkdtemp(prefix="searchidx-", dir=scratch_root())
    try:
        storage = FileStorage(scratch)
        index_schema = schema()
        writer = _CapturingWriter(storage.create_index(index_schema), _lk=False, limitmb=WRITER_MB)
        try:
            for article, stamp, content_digest in items:
                writer.add_document(**document(article, stamp, content_digest))
            segment = writer._finalize_segment()
        except BaseException:
            writer.cancel()
            raise
        writer._finish()
        return segment, {name: Path(scratch, name).read_bytes() for name in segment.list_files(storage)}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def scratch_root() -> str | None:
    try:
        from distributed import get_worker

        return str(get_worker().local_directory)
    except (ImportError, ValueError):  # not on a Dask worker
        return None


# --- on the client -----------------------------------------------------------------------


class DaskWriter(_AtomicWriter):
    """A writer whose documents are analysed and written by the workers of a Dask
    cluster; the segments they return are installed here and committed with the
    table of contents, as one update (the deletions and superseded stamps decided by
    the caller included). At most ``window`` batches are in flight."""

    def __init__(
        self, ix: whoosh_index.Index, client: Client, batch_size: int = CLUSTER_BATCH, window: int | None = None
    ) -> None:
        super().__init__(ix, limitmb=WRITER_MB)
        from distributed import as_completed

        self.client = client
        self.batch_size = batch_size
        self.window = (
            window or 2 * max(1, sum(client.nthreads().values())) + 1
        )  # one running and one waiting per thread
        self._batch: list[Item] = []
        self._numbers: dict[Future, int] = {}  # in flight -> its batch number
        self._done = as_completed(loop=client.loop)
        self._received: dict[int, Any] = {}  # batch number -> installed segment
        self._build = secrets.token_hex(4)

    def add_article(self, article: Article, stamp: str, content_digest: str) -> None:
        self._batch.append((article, stamp, content_digest))
        if len(self._batch) >= self.batch_size:
            self._submit()

    def _submit(self) -> None:
        while len(self._numbers) >= self.window:
            self._install(next(self._done))
        number = len(self._numbers) + len(self._received)
        future = self.client.submit(
            write_segment, self._batch, VERSIONS, key=f"searchidx-segment-{self._build}-{number}"
        )
        self._numbers[future] = number
        self._done.add(future)
        self._batch = []

    def _install(self, future: Future) -> None:
        """Write a finished batch's files into the index's folder (unpublished until
        the table of contents names its segment)."""
        from distributed import KilledWorker

        number = self._numbers.pop(future)
        try:
            segment, files = future.result()
        except KilledWorker as error:
            raise WorkerFailed(f"Dask workers kept dying on batch {number} of this build ({error})") from None
        except OSError as error:  # the scheduler or the connection to it is gone
            raise WorkerFailed(f"lost the Dask cluster: {error_reason(error)}") from None
        except SearchidxError:
            raise
        except Exception as error:  # searchidx missing on a worker, say, or out of disk there
            raise WorkerFailed(f"a Dask worker failed on batch {number}: {error_reason(error)}") from None
        finally:
            future.release()
        for name, data in files.items():
            with open(os.path.join(self.storage.folder, name), "xb") as f:
                f.write(data)
        self._received[number] = segment

    def commit(self, mergetype: Any = None, optimize: Any = None, merge: Any = None) -> None:
        """Wait for every batch, then commit: the existing segments (small ones merged
        by Whoosh's policy, as any commit does) and the installed ones in batch order."""
        if self._batch:
            self._submit()
        while self._numbers:
            self._install(next(self._done))
        segments = self._merge_segments(mergetype, optimize, merge)
        segments += [self._received[number] for number in sorted(self._received)]
        if self._added:  # small segments that the merge policy merged into this writer's own
            segments.append(self._finalize_segment())
        else:
            self._close_segment()
        self._commit_toc(segments)
        self._finish()

    def cancel(self) -> None:
        """Forget the batches in flight (the workers remove their scratch
        directories as each task ends) and the segments installed so far."""
        if self._numbers:
            self.client.cancel(list(self._numbers))
            self._numbers.clear()
        super().cancel()
