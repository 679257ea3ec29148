"""Posting lists as flat arrays in a file beside each Whoosh segment.

Whoosh keeps a posting list as zlib-compressed pickles of 128 postings with their
positions; decoding them costs about a microsecond a posting, which is most of a
first-time query's time at 80,000 articles. So when a segment is committed, the
document numbers and weights of each of its longer posting lists are written once
more, as plain arrays, to ``<segment id>.postings`` beside it, and a search maps that
file and slices it instead of decoding. Positions (for phrases) still come from Whoosh.

The file is named like the segment's own files, so Whoosh deletes it with the
segment when a merge replaces it. A segment without one (an index built before this
file existed) or a term not in it (short lists, which are cheap to decode) is read
from Whoosh, with the same result.

Layout, little-endian: ``MAGIC``, the number of terms ``n`` and the length of the data
(uint64 each); then ``n`` sorted 64-bit term keys, ``n`` data offsets (uint64), ``n``
posting counts (uint32) and ``n`` kinds (uint8); then the data. Kind ``WIDE`` holds
uint32 ids then float64 weights; the others (``GAPS``) hold id gaps then whole-number
weights, each column in the narrowest of uint8 and uint16 it fits: the gaps of a
common term and most weights fit a byte, which halves the file. Files of the first
version (``OLD_MAGIC``) hold only kinds 0 and 1, which mean the same.
"""

from __future__ import annotations

import hashlib
import io
import mmap
import os
import shutil
import struct
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from whoosh.filedb.filestore import FileStorage, OverlayStorage
from whoosh.reading import SegmentReader

from searchidx import safe_unpickle
from searchidx.errors import CorruptIndex
from searchidx.term_pool import TermList

Array = np.ndarray[Any, Any]

MAGIC = b"SIXPOST2"
#: An older searchidx refuses files of this version in one line instead of misreading them.
OLD_MAGIC = b"SIXPOST1"
SUFFIX = ".postings"
#: Shorter lists take one or two blocks to decode: not worth a table entry.
MIN_POSTINGS = 128
WIDE = 1
#: Gap-encoded kinds: the dtypes of their id gaps and of their weights.
GAPS = {0: ("<u2", "<u2"), 2: ("u1", "u1"), 3: ("u1", "<u2"), 4: ("<u2", "u1")}
_GAP_KIND = {dtypes: kind for kind, dtypes in GAPS.items()}
#: Postings in a full block of Whoosh's codec (its ``blocklimit``).
BLOCK = 128
_HEADER = struct.Struct("<8sQQ")
_ENTRY_BYTES = 8 + 8 + 4 + 1


@dataclass
class Postings:
    ids: Array
    weights: Array
    values: list[bytes] | None  # encoded positions, when asked for

    @property
    def nbytes(self) -> int:
        return int(self.ids.nbytes + self.weights.nbytes) + sum(map(len, self.values or ()))


def term_key(field: str, text: bytes) -> int:
    """A term's 64-bit key; the writer leaves out terms whose keys collide."""
    digest = hashlib.blake2b(field.encode("utf-8") + b"\0" + text, digest_size=8).digest()
    return int.from_bytes(digest, "little")


# --- decoding Whoosh's own posting blocks ------------------------------------------------


def decode(reader: SegmentReader, field: str, text: bytes, values: bool = False) -> Postings:
    """Decode a posting list from Whoosh's blocks without its per-posting matcher:
    one pickle and one numpy cumulative sum per block of up to 128 postings.
    ``values`` keeps each posting's encoded positions too (for phrases)."""
    if (field, text) not in reader:
        return Postings(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64), [] if values else None)
    return _decode(reader._terms, reader._terms.term_info(field, text), values)


def _decode(terms: Any, info: Any, values: bool) -> Postings:
    if info.is_inlined():
        ids, weights, encoded = info.inlined_postings()
        return Postings(
            np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64), list(encoded) if values else None
        )
    offset, _ = info.extent()
    postfile = terms._postfile
    position = offset + 4  # past the header tag
    id_blocks: list[Array] = []
    weight_blocks: list[Array] = []
    value_list: list[bytes] | None = [] if values else None
    while True:
        length = postfile.get_int(position)
        block = postfile.get(position + 4, abs(length))
        stream = io.BytesIO(block)
        count, _, _, compressed, _, _ = safe_unpickle.load(stream)
        data = block[stream.tell() :]
        ids, weights, encoded = safe_unpickle.loads(zlib.decompress(data) if compressed else data)[:3]
        id_blocks.append(np.cumsum(np.asarray(ids, dtype=np.int64)))
        if weights is None or isinstance(weights, float):
            weight_blocks.append(np.full(count, 1.0 if weights is None else weights))
        else:
            weight_blocks.append(np.asarray(weights, dtype=np.float64))
        if value_list is not None:
            value_list.extend(encoded)
        if length < 0:  # the last block
            break
        position += 4 + length
    return Postings(np.concatenate(id_blocks), np.concatenate(weight_blocks), value_list)


def blocks(reader: SegmentReader, field: str, text: bytes) -> list[tuple[int, int]]:
    """Where each of a term's blocks lies in the postings file (offset and length):
    the lengths alone lead from block to block, so finding them decodes nothing.
    Whoosh fills every block but the last with ``BLOCK`` postings, so posting ``i``
    is in block ``i // BLOCK`` (``block_values`` checks it). An inlined list (one
    posting) has no blocks."""
    info = reader._terms.term_info(field, text)
    if info.is_inlined():
        return []
    postfile = reader._terms._postfile
    position = info.extent()[0] + 4  # past the header tag
    found = []
    while True:
        length = postfile.get_int(position)
        found.append((position + 4, abs(length)))
        if length < 0:
            return found
        position += 4 + abs(length)


def block_values(reader: SegmentReader, position: int, length: int, last: bool) -> list[bytes]:
    """The encoded positions of every posting in one block."""
    stream = io.BytesIO(reader._terms._postfile.get(position, length))
    count, _, _, compressed, _, _ = safe_unpickle.load(stream)
    if count != BLOCK and not (last and count < BLOCK):
        raise CorruptIndex(f"{reader.segment().segment_id()}: a posting block of {count}, not {BLOCK}")
    data = stream.read()
    return list(safe_unpickle.loads(zlib.decompress(data) if compressed else data)[2])


# --- writing -------------------------------------------------------------------------------


def path_for(storage: Any, segment_id: str) -> Path | None:
    """Where a segment's array file lives; None for storage that is not a folder
    on disk (an in-memory index)."""
    if isinstance(storage, OverlayStorage):  # a compound segment's files over the folder
        storage = storage.b
    if not isinstance(storage, FileStorage):
        return None
    return Path(storage.folder) / f"{segment_id}{SUFFIX}"


def _encode(ids: Array, weights: Array) -> tuple[int, bytes]:
    gaps = np.diff(ids, prepend=0)
    if gaps.max() < 2**16 and weights.max() < 2**16 and np.array_equal(weights, np.floor(weights)):
        gap_type, weight_type = _narrowest(gaps), _narrowest(weights)
        return _GAP_KIND[gap_type, weight_type], gaps.astype(gap_type).tobytes() + weights.astype(weight_type).tobytes()
    return WIDE, ids.astype("<u4").tobytes() + weights.astype("<f8").tobytes()


def _narrowest(values: Array) -> str:
    return "u1" if values.max() < 2**8 else "<u2"


def write(storage: FileStorage, reader: SegmentReader) -> Path | None:
    """Write the array file of a finished segment from its posting blocks (a segment
    not written through ``ArrayFile.capture``), before its table of contents
    publishes it."""
    path = path_for(storage, reader.segment().segment_id())
    if path is None:
        return None
    terms = reader._terms
    out = ArrayFile(path)
    for (field, text), info in terms.items():
        if info.doc_frequency() >= MIN_POSTINGS:
            postings = _decode(terms, info, values=False)
            out.add(field, text, postings.ids, postings.weights)
    out.finish()
    return path


class ArrayFile:
    """An array file being written: the lists stream to an unnamed temporary file
    (a compound segment packs every file named like the segment), the table stays
    in memory, and ``finish`` writes the file (header, table, data), flushes it to
    disk and renames it into place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: IO[bytes] = tempfile.TemporaryFile(dir=path.parent)
        self._keys: list[int] = []
        self._where: list[int] = []
        self._counts: list[int] = []
        self._kinds: list[int] = []

    def capture(self, terms: Iterable[TermList]) -> Iterator[TermList]:
        """Pass the lists Whoosh is writing into a segment through, keeping those
        ``write`` would decode from the finished segment. Weights go through
        float32, as Whoosh stores them."""
        for term in terms:
            if len(term.docs) >= MIN_POSTINGS:
                ids = np.frombuffer(term.docs, dtype=np.uint32).astype(np.int64)
                weights = np.array(term.weights, dtype=np.float32).astype(np.float64)
                self.add(term.field, term.text, ids, weights)
            yield term

    def add(self, field: str, text: bytes, ids: Array, weights: Array) -> None:
        kind, data = _encode(ids, weights)
        self._keys.append(term_key(field, text))
        self._where.append(self._data.tell())
        self._counts.append(len(ids))
        self._kinds.append(kind)
        self._data.write(data)

    def finish(self) -> None:
        try:
            self._write()
        finally:
            self._data.close()

    def _write(self) -> None:
        keys = np.array(self._keys, dtype=np.uint64)
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        unique = np.ones(len(keys), dtype=bool)  # colliding keys: neither term goes in the table
        if len(keys) > 1:
            same = keys[1:] == keys[:-1]
            unique[1:] &= ~same
            unique[:-1] &= ~same
        order = order[unique]
        data_length = self._data.tell()
        temporary = self.path.with_suffix(SUFFIX + "_partial")  # still the segment's name: Whoosh cleans it up
        with open(temporary, "wb") as out:
            out.write(_HEADER.pack(MAGIC, len(order), data_length))
            out.write(keys[unique].astype("<u8").tobytes())
            for column, dtype in ((self._where, "<u8"), (self._counts, "<u4"), (self._kinds, "u1")):
                out.write(np.array(column, dtype=dtype)[order].tobytes())
            self._data.seek(0)
            shutil.copyfileobj(self._data, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)


# --- reading -------------------------------------------------------------------------------


class PostingFile:
    """A segment's array file, mapped into memory: a lookup is a binary search of
    the keys and two slices of the data."""

    def __init__(self, path: Path) -> None:
        self._name = path.name
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            magic, n, data_length = _HEADER.unpack_from(self._map, 0)
        except struct.error:
            magic, n, data_length = b"", 0, 0
        self._data_start = _HEADER.size + n * _ENTRY_BYTES
        if magic not in (MAGIC, OLD_MAGIC) or len(self._map) != self._data_start + data_length:
            raise CorruptIndex(f"{path.name}: not a complete posting array file")
        offset = _HEADER.size
        self._keys = np.frombuffer(self._map, "<u8", n, offset)
        self._where = np.frombuffer(self._map, "<u8", n, offset + 8 * n)
        self._counts = np.frombuffer(self._map, "<u4", n, offset + 16 * n)
        self._kinds = np.frombuffer(self._map, "u1", n, offset + 20 * n)

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, field: str, text: bytes) -> Postings | None:
        """The term's ids and weights, or None when the file does not hold it."""
        key = np.uint64(term_key(field, text))
        i = int(np.searchsorted(self._keys, key))
        if i == len(self._keys) or self._keys[i] != key:
            return None
        start, count, kind = self._data_start + int(self._where[i]), int(self._counts[i]), int(self._kinds[i])
        if kind == WIDE:
            ids = np.frombuffer(self._map, "<u4", count, start).astype(np.int64)
            weights = np.frombuffer(self._map, "<f8", count, start + 4 * count).copy()
            return Postings(ids, weights, None)
        if kind not in GAPS:
            raise CorruptIndex(f"{self._name}: a posting list of unknown kind {kind}")
        gap_type, weight_type = GAPS[kind]
        gaps = np.frombuffer(self._map, gap_type, count, start)
        weights = np.frombuffer(self._map, weight_type, count, start + gaps.nbytes)
        return Postings(np.cumsum(gaps, dtype=np.int64), weights.astype(np.float64), None)


def open_for(reader: SegmentReader) -> PostingFile | None:
    """The segment's array file, if it has one."""
    path = path_for(reader._storage, reader.segment().segment_id())
    if path is None or not path.exists():
        return None
    return PostingFile(path)


def verify(reader: SegmentReader) -> int:
    """Compare every list in the segment's array file with Whoosh's own; returns
    how many were compared. Raises CorruptIndex on the first difference."""
    mapped = open_for(reader)
    if mapped is None:
        return 0
    compared = 0
    for (field, text), info in reader._terms.items():
        if info.doc_frequency() < MIN_POSTINGS:
            continue
        stored = mapped.get(field, text)
        if stored is None:
            continue  # a colliding key, left out on purpose
        expected = _decode(reader._terms, info, values=False)
        if not (np.array_equal(stored.ids, expected.ids) and np.array_equal(stored.weights, expected.weights)):
            raise CorruptIndex(f"{reader.segment().segment_id()}{SUFFIX}: postings of {field}:{text!r} differ")
        compared += 1
    if compared != len(mapped):
        raise CorruptIndex(f"{reader.segment().segment_id()}{SUFFIX}: holds terms the segment does not")
    return compared
