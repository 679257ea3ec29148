"""Posting arrays: the flat copy of each segment's longer posting lists that searches
slice instead of decoding Whoosh's blocks. They must hold exactly what the blocks
hold, exist for every committed segment however it was written, go away with their
segment, and, when damaged, be reported rather than trusted."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import SegmentReader
from whoosh.searching import Searcher

from searchidx import Index, execute, posting_arrays
from searchidx.check import check
from searchidx.errors import CorruptIndex
from searchidx.generations import current_generation
from searchidx.index import optimize
from searchidx.querying import SearchOptions, compile_query
from searchidx.readers import SearcherPool


def _segments(index: Index) -> tuple[FileStorage, list[object]]:
    generation = current_generation(index.path)
    assert generation is not None
    storage = FileStorage(str(generation))
    return storage, storage.open_index()._segments()


def _array_files(index: Index) -> set[str]:
    generation = current_generation(index.path)
    assert generation is not None
    return {p.name.removesuffix(posting_arrays.SUFFIX) for p in generation.glob(f"*{posting_arrays.SUFFIX}")}


def _verified(index: Index) -> list[int]:
    """How many lists each segment's file holds, each compared with Whoosh's blocks."""
    storage, segments = _segments(index)
    schema = storage.open_index().schema
    counts = []
    for segment in segments:
        with SegmentReader(storage, schema, segment) as reader:
            counts.append(posting_arrays.verify(reader))
    return counts


def test_a_parallel_build_writes_arrays_equal_to_whooshs_postings_for_every_segment(vietnews_index: Index) -> None:
    _, segments = _segments(vietnews_index)
    assert _array_files(vietnews_index) == {s.segment_id() for s in segments}  # type: ignore[attr-defined]
    counts = _verified(vietnews_index)
    # How the jobs split between the workers depends on timing; a segment with
    # fewer documents than MIN_POSTINGS has no list long enough to copy.
    sizes = [s.doc_count_all() for s in segments]  # type: ignore[attr-defined]
    assert all(count > 0 for count, size in zip(counts, sizes, strict=True) if size >= 2 * posting_arrays.MIN_POSTINGS)
    assert sum(counts) > 0


@pytest.mark.slow  # builds, updates and merges its own index
def test_updates_and_merges_keep_one_file_per_segment(vietnews_slice: Path, tmp_path: Path) -> None:
    index = Index(tmp_path / "index")
    index.index_paths([vietnews_slice], workers=1)
    ids = [json.loads(line)["id"] for line in vietnews_slice.read_text(encoding="utf-8").splitlines()[:200]]
    index.add(replace(index.show(doc_id), title="Bản sửa") for doc_id in ids)  # a second segment
    index.delete(ids[:5])
    assert len(_segments(index)[1]) == 2
    assert _verified(index)[1] > 0
    optimize(index.path)
    _, segments = _segments(index)
    assert len(segments) == 1
    assert _array_files(index) == {segments[0].segment_id()}  # type: ignore[attr-defined]
    assert _verified(index)[0] > 0


def _run(searcher: Searcher, text: str, arrays: bool) -> tuple[execute.Ranked, int]:
    """Results and how many postings were decoded from Whoosh's blocks to get them."""
    if not arrays:
        for segment in execute.segments(searcher):
            segment._mapped = None  # as an index written before posting arrays existed
    _, query = compile_query(SearchOptions(query=text), searcher.reader())
    before = execute.decoded_postings()
    ranked = execute.run(searcher, query, 10)
    return ranked, execute.decoded_postings() - before


def test_searches_slice_the_arrays_instead_of_decoding_with_the_same_results(vietnews_index: Index) -> None:
    pool = SearcherPool(vietnews_index.path)
    with pool.acquire() as with_arrays, pool.acquire() as without:
        assert with_arrays.searcher is not without.searcher
        for text in ("của", "ha noi", "người dân OR chính phủ", '"thành phố" -Hà'):
            mapped, decoded_with = _run(with_arrays.searcher, text, arrays=True)
            plain, decoded_without = _run(without.searcher, text, arrays=False)
            assert (mapped.total, mapped.docnums, mapped.scores) == (plain.total, plain.docnums, plain.scores)
            assert decoded_with <= decoded_without
            if text == "của":  # in more than MIN_POSTINGS bodies of a segment: that list is sliced, not decoded
                assert decoded_with + posting_arrays.MIN_POSTINGS <= decoded_without


@pytest.fixture
def damaged_copy(vietnews_index: Index, tmp_path: Path) -> Path:
    copy = tmp_path / "index"
    shutil.copytree(vietnews_index.path, copy)
    return copy


def _one_array_file(directory: Path) -> Path:
    generation = current_generation(directory)
    assert generation is not None
    # the largest: a segment the workers' timing left small may hold no list at all
    return max(generation.glob(f"*{posting_arrays.SUFFIX}"), key=lambda path: path.stat().st_size)


def test_a_changed_byte_in_the_arrays_is_reported_by_check(damaged_copy: Path) -> None:
    path = _one_array_file(damaged_copy)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # the weights of the last list
    path.write_bytes(bytes(data))
    report = check(damaged_copy)
    assert not report.ok
    assert any(posting_arrays.SUFFIX in problem and "differ" in problem for problem in report.problems)


def test_a_truncated_array_file_fails_the_search_in_one_line(damaged_copy: Path) -> None:
    path = _one_array_file(damaged_copy)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CorruptIndex, match="not a complete posting array file"):
        Index(damaged_copy).search("người")
    assert not check(damaged_copy).ok


def test_arrays_captured_while_writing_are_the_file_written_from_the_finished_segment(
    vietnews_slice: Path, tmp_path: Path
) -> None:
    """The writers capture the lists as Whoosh writes them; decoding the finished
    segment (how a segment without a file gets one) must give the same bytes."""
    index = Index(tmp_path / "index")
    index.index_paths([vietnews_slice], workers=1)
    storage, (segment,) = _segments(index)
    captured = posting_arrays.path_for(storage, segment.segment_id())  # type: ignore[attr-defined]
    assert captured is not None
    kept = captured.read_bytes()
    captured.unlink()
    with SegmentReader(storage, storage.open_index().schema, segment) as reader:
        posting_arrays.write(storage, reader)
        assert posting_arrays.verify(reader) > 0
    assert captured.read_bytes() == kept
    assert sorted(p.name for p in captured.parent.glob(f"*{posting_arrays.SUFFIX}_*")) == []  # no temporary left


# the narrowest columns: a common term's gaps and most weights fit a byte each
LISTS = {
    ("body", b"dense, small weights"): ([0, 1, 3, 200, 455], [1, 2, 1, 3, 1]),
    ("body", b"dense, a weight of 300"): ([5, 6, 7], [1, 300, 2]),
    ("body", b"sparse, small weights"): ([0, 300, 60_000], [1, 1, 2]),
    ("body", b"sparse, a weight of 300"): ([0, 300, 600], [1, 300, 2]),
    ("body", b"fractional weights"): ([1, 2, 3], [1.5, 1.0, 2.25]),
    ("body", b"gaps past 16 bits"): ([0, 2**17], [1, 1]),
}
#: What the first version of the file could hold: 16-bit columns, or wide ones.
FIRST_VERSION = [b"sparse, a weight of 300", b"fractional weights", b"gaps past 16 bits"]


Lists = dict[tuple[str, bytes], tuple[list[int], list[float]]]


def _written(path: Path, lists: Lists) -> posting_arrays.PostingFile:
    out = posting_arrays.ArrayFile(path)
    for (field, text), (ids, weights) in lists.items():
        out.add(field, text, np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64))
    out.finish()
    return posting_arrays.PostingFile(path)


def _read_back(mapped: posting_arrays.PostingFile, lists: Lists) -> None:
    for (field, text), (ids, weights) in lists.items():
        stored = mapped.get(field, text)
        assert stored is not None, text
        assert stored.ids.tolist() == ids and stored.weights.tolist() == weights, text


def test_every_kind_of_list_reads_back_as_written(tmp_path: Path) -> None:
    mapped = _written(tmp_path / "SEGMENT.postings", LISTS)
    _read_back(mapped, LISTS)
    assert sorted(mapped._kinds.tolist()) == [0, posting_arrays.WIDE, posting_arrays.WIDE, 2, 3, 4]


def test_a_file_of_the_first_version_is_still_read(tmp_path: Path) -> None:
    first = {key: lists for key, lists in LISTS.items() if key[1] in FIRST_VERSION}
    path = tmp_path / "SEGMENT.postings"
    assert set(_written(path, first)._kinds.tolist()) == {0, posting_arrays.WIDE}
    path.write_bytes(posting_arrays.OLD_MAGIC + path.read_bytes()[len(posting_arrays.MAGIC) :])
    _read_back(posting_arrays.PostingFile(path), first)


def test_a_list_of_an_unknown_kind_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "SEGMENT.postings"
    mapped = _written(path, dict(list(LISTS.items())[:1]))
    data = bytearray(path.read_bytes())
    data[mapped._data_start - 1] = 9  # the kind of the one list
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptIndex, match="unknown kind 9"):
        posting_arrays.PostingFile(path).get("body", b"dense, small weights")
