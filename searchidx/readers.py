"""Searchers for long-running processes: always current, never leaked, never shared.

Like Lucene's SearcherManager, but for Whoosh, which differs in two ways that shape
this module (both measured on whoosh-reloaded 2.7.5):

- A Whoosh searcher is not safe in two threads at once: a segment's postings are read
  by seeking and then reading one shared file object, so concurrent searches read
  each other's blocks ("Block tag error", UnpicklingError, wrong hits). A searcher is
  therefore lent to one user at a time, and idle ones are pooled per index state.
- ``Searcher.refresh()`` (``Index.reader(reuse=...)``) keeps the readers of segments
  that a merge has since replaced, so a refreshed searcher counts merged documents
  twice. A new state always gets freshly opened searchers.

An index state is a generation (named by CURRENT; a rebuild makes a new one) and the
Whoosh TOC generation inside it (every commit makes a new one). Each ``acquire`` checks
both cheaply (read CURRENT, list the generation's directory) and, when either moved,
retires the pool: idle searchers close at once, lent ones when they come back. Open
searchers are thus bounded by the peak number of simultaneous users plus ``max_idle``.
"""

from __future__ import annotations

import pickle
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.searching import Searcher

from searchidx import execute, generations
from searchidx.errors import CorruptIndex
from searchidx.querying import weighting

State = tuple[Path, int]  # (generation directory, Whoosh TOC generation)

#: What reading a damaged segment raises (searchidx check tells which file).
_DAMAGE = (EOFError, FileNotFoundError, zlib.error, struct.error, pickle.UnpicklingError)


@dataclass(frozen=True)
class Snapshot:
    """A searcher on one state of the index, lent to one user until released."""

    searcher: Searcher
    generation: Path
    state: State


class SearcherPool:
    """The searchers of one index directory, shared by the threads of a process."""

    def __init__(self, directory: Path, max_idle: int = 4) -> None:
        """``max_idle`` searchers are kept for reuse (opening one reads every
        segment's directory); more are opened when more threads search at once."""
        self.directory = directory
        self.max_idle = max_idle
        # reentrant: the cycle collector may finish an abandoned iter_hits walk (and
        # return its searcher) in a thread that holds the lock
        self._lock = threading.RLock()
        self._state: State | None = None  # the state of the pooled searchers
        self._ix: whoosh_index.Index | None = None  # the Whoosh index of that state's generation
        self._idle: list[Snapshot] = []

    @contextmanager
    def acquire(self) -> Iterator[Snapshot]:
        """A searcher on the latest state, this caller's alone until the block ends.

        The low-level errors a damaged index gives (a file cut short or missing,
        bytes that do not decode) become one ``CorruptIndex`` line."""
        with self._damage_reported():
            snapshot = self._lend()
        try:
            with self._damage_reported():
                yield snapshot
        finally:
            self._return(snapshot)

    @contextmanager
    def _damage_reported(self) -> Iterator[None]:
        try:
            yield
        except _DAMAGE as error:
            raise CorruptIndex(
                f"index {self.directory} is damaged ({type(error).__name__}: {str(error)[:80]}); "
                f"'searchidx check --index {self.directory}' says more"
            ) from None

    def close(self) -> None:
        """Close the idle searchers; lent ones close when they come back. The next
        ``acquire`` opens the index again."""
        with self._lock:
            self._retire()

    def _lend(self) -> Snapshot:
        with self._lock:
            if self._state is None or self._latest() != self._state:
                self._retire()
            if self._idle:
                return self._idle.pop()
            return self._open()

    def _return(self, snapshot: Snapshot) -> None:
        with self._lock:
            if snapshot.state == self._state and len(self._idle) < self.max_idle:
                self._idle.append(snapshot)
                return
        _close(snapshot)

    def _latest(self) -> State | None:
        """The index's current state, or None if its generation changed (a rebuild
        or a removed index: opening decides which)."""
        assert self._state is not None and self._ix is not None
        generation = generations.current_generation(self.directory)
        if generation != self._state[0]:
            return None
        try:
            return generation, self._ix.latest_generation()
        except OSError:  # the generation's directory is gone
            return None

    def _open(self) -> Snapshot:
        """A new searcher on the latest state, which becomes the pool's state."""
        generation, ix = generations.open_generation(self.directory)
        # Read before opening: a commit in between makes the state look older than
        # the searcher, so the next acquire reopens; never the other way round.
        state = (generation, ix.latest_generation())
        if state != self._state:
            self._retire()
            self._state, self._ix = state, ix
        return Snapshot(ix.searcher(weighting=weighting()), generation, state)

    def _retire(self) -> None:
        for snapshot in self._idle:
            _close(snapshot)
        self._idle.clear()
        self._state = self._ix = None


def _close(snapshot: Snapshot) -> None:
    execute.release(snapshot.searcher)
    snapshot.searcher.close()
