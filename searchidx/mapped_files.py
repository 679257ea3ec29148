"""Whoosh reads the files inside a compound segment through its memory map, uncopied.

A searchidx segment is one compound file that Whoosh maps into memory; each file in
it (terms, postings, stored fields, columns) is opened as a ``BufferFile`` over a
slice of the map, and ``BufferFile`` wraps that slice in ``io.BytesIO``, which copies
it. So opening a searcher copied the whole index into the process's memory: 2 GB and
more than a second for a 79,000-article index, for every searcher a server keeps.
After ``install``, those files read straight from the map: opening costs what the
pages a search touches cost, and the operating system's cache is shared by every
process and searcher.

Importing this module installs it (``generations`` imports it, so every index opened
by searchidx reads this way).
"""

from __future__ import annotations

import io
from typing import Any

from whoosh.filedb.structfile import BufferFile

_LINE_CHUNK = 256


class ViewFile(io.RawIOBase):
    """A read-only, seekable file over a memoryview, without copying it."""

    def __init__(self, view: memoryview) -> None:
        super().__init__()
        self._view = view
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: len(self._view)}[whence]
        self._position = max(0, base + offset)
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._position + size)
        data = bytes(self._view[self._position : end])
        self._position = max(self._position, end)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        limit = len(self._view) if size is None or size < 0 else min(len(self._view), self._position + size)
        end = self._position
        while end < limit:
            found = bytes(self._view[end : min(end + _LINE_CHUNK, limit)]).find(b"\n")
            if found >= 0:
                end += found + 1
                break
            end = min(end + _LINE_CHUNK, limit)
        return self.read(end - self._position)


def _buffer_file_init(self: BufferFile, buf: Any, name: str | None = None, onclose: Any = None) -> None:
    """``BufferFile.__init__``, reading a memoryview in place (bytes are not copied
    by ``BytesIO`` in the first place)."""
    self._buf = buf
    self._name = name
    self.file = ViewFile(buf) if isinstance(buf, memoryview) else io.BytesIO(buf)
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


def install() -> None:
    BufferFile.__init__ = _buffer_file_init


install()
