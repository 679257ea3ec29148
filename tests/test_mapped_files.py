"""Whoosh reads a compound segment's files from the memory map instead of copying
them: opening a searcher must not cost the size of the index, and reading through
the map must give exactly what reading a copy gives."""

from __future__ import annotations

import io
import random
import tracemalloc

from searchidx import Index
from searchidx.generations import current_generation
from searchidx.mapped_files import ViewFile
from searchidx.readers import SearcherPool


def test_opening_a_searcher_does_not_copy_the_index_into_memory(vietnews_index: Index) -> None:
    generation = current_generation(vietnews_index.path)
    assert generation is not None
    size = sum(p.stat().st_size for p in generation.iterdir())
    tracemalloc.start()
    try:
        with SearcherPool(vietnews_index.path).acquire() as snapshot:
            assert snapshot.searcher.doc_count() > 0
            _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < size / 4, f"opening allocated {peak} bytes for an index of {size}"


def test_a_view_file_reads_seeks_and_reads_lines_as_a_copy_would() -> None:
    rng = random.Random(5)
    data = bytes(rng.choice(b"ab\n") for _ in range(5000))
    mapped, copied = ViewFile(memoryview(data)), io.BytesIO(data)
    for _ in range(2000):
        operation = rng.randrange(5)
        if operation == 0:
            size = rng.choice([-1, 0, 1, 7, 300, 6000])
            assert mapped.read(size) == copied.read(size)
        elif operation == 1:
            size = rng.choice([-1, 3, 100, 600])
            assert mapped.readline(size) == copied.readline(size)
        elif operation == 2:
            whence = rng.choice([io.SEEK_SET, io.SEEK_CUR, io.SEEK_END])
            low = {io.SEEK_SET: 0, io.SEEK_CUR: -copied.tell(), io.SEEK_END: -len(data)}[whence]
            offset = rng.randrange(low, low + 5200)
            assert mapped.seek(offset, whence) == copied.seek(offset, whence)
        elif operation == 3:
            buffer = bytearray(rng.randrange(50))
            other = bytearray(len(buffer))
            assert mapped.readinto(buffer) == copied.readinto(other)
            assert buffer == other
        assert mapped.tell() == copied.tell()
