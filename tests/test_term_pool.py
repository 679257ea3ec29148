"""The term pool writes the same segment files as Whoosh's own pool and postings
writer, byte for byte: when everything fits in memory, when the lists spill to run
files, and when a merge adds postings of older segments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import SegmentWriter

from searchidx import Article, shipped_corpus
from searchidx.corpus import read_path
from searchidx.schema import document, schema
from searchidx.writers import _CapturingWriter


@pytest.fixture(scope="module")
def documents() -> list[dict[str, object]]:
    articles = [r for r in read_path(shipped_corpus() / "sample.jsonl") if isinstance(r, Article)]
    return [document(article, f"stamp-{i}", f"digest-{i}") for i, article in enumerate(articles)]


def _files(folder: Path) -> dict[str, bytes]:
    """Each segment file's bytes, by its name without the (random) segment id,
    leaving out the table of contents and searchidx's own posting arrays."""
    (ix,) = FileStorage(str(folder)).open_index()._segments()
    return {
        path.name.replace(ix.segment_id(), "SEGMENT"): path.read_bytes()
        for path in folder.iterdir()
        if path.suffix not in {".toc", ".postings"} and "LOCK" not in path.name
    }


def _postings(folder: Path) -> list[tuple[object, ...]]:
    """Every term's statistics and postings (id, weight, encoded positions)."""
    reader = FileStorage(str(folder)).open_index().reader()
    out = []
    for field, text in reader.all_terms():
        info = reader.term_info(field, text)
        matcher = reader.postings(field, text)
        postings = []
        while matcher.is_active():
            postings.append((matcher.id(), matcher.weight(), matcher.value()))
            matcher.next()
        stats = (info.doc_frequency(), info.weight(), info.min_length(), info.max_length(), info.max_weight())
        out.append((field, text, stats, postings))
    reader.close()
    return out


def _write(folder: Path, writer_class: type[SegmentWriter], docs: list[dict[str, object]], **kwargs: object) -> None:
    folder.mkdir()
    ix = FileStorage(str(folder)).create_index(schema())
    writer = writer_class(ix, compound=False, **kwargs)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()


def test_a_segment_is_written_byte_for_byte_as_whoosh_writes_it(documents, tmp_path: Path) -> None:
    _write(tmp_path / "whoosh", SegmentWriter, documents)
    _write(tmp_path / "pool", _CapturingWriter, documents)
    theirs, ours = _files(tmp_path / "whoosh"), _files(tmp_path / "pool")
    assert {"SEGMENT.pst", "SEGMENT.trm"} <= set(theirs)
    assert ours == theirs


def test_lists_spilled_to_run_files_are_joined_in_document_order(documents, tmp_path: Path) -> None:
    """The same postings; not the same bytes, as Whoosh's runs do not keep equal
    positions as one object, which its pickled blocks then repeat in full."""
    _write(tmp_path / "whoosh", SegmentWriter, documents)
    folder = tmp_path / "pool"
    folder.mkdir()
    ix = FileStorage(str(folder)).create_index(schema())
    writer = _CapturingWriter(ix, compound=False)
    writer.pool.limit = 40_000  # a few articles a run
    for doc in documents:
        writer.add_document(**doc)
    assert len(writer.pool._runs) >= 5
    writer.commit()
    assert _postings(folder) == _postings(tmp_path / "whoosh")
    assert not list(folder.glob("*.terms")), "run files are removed"


def _two_segments(folder: Path, documents: list[dict[str, object]]) -> Any:
    """An index of the documents in two segments, written by Whoosh's own writer."""
    folder.mkdir()
    ix = FileStorage(str(folder)).create_index(schema())
    for part in (documents[:12], documents[12:]):
        writer = SegmentWriter(ix, compound=False)
        for doc in part:
            writer.add_document(**doc)
        writer.commit(merge=False)
    return ix


def test_a_merge_of_segments_writes_what_whoosh_writes(documents, tmp_path: Path) -> None:
    """Merging adds the older segments' postings to the pool; deleted documents are
    left out, so later documents are renumbered."""
    merged = {}
    for name, writer_class in (("whoosh", SegmentWriter), ("pool", _CapturingWriter)):
        folder = tmp_path / name
        ix = _two_segments(folder, documents)
        with ix.writer() as deleting:
            deleting.delete_by_term("stamp", "stamp-3")
        writer_class(ix, compound=False).commit(optimize=True)
        assert len(ix._segments()) == 1
        merged[name] = _files(folder)
    assert merged["pool"] == merged["whoosh"]


def test_a_merge_spilled_to_run_files_gives_the_same_postings(documents, tmp_path: Path) -> None:
    """Merged segments' postings arrive term by term, segment after segment; split
    over run files, each term's list is still joined in document order."""
    postings = {}
    for name, limit in (("whoosh", None), ("pool", 40_000)):
        folder = tmp_path / name
        ix = _two_segments(folder, documents)
        merging = SegmentWriter(ix, compound=False) if limit is None else _CapturingWriter(ix, compound=False)
        if limit is not None:
            merging.pool.limit = limit
        merging.commit(optimize=True)
        postings[name] = _postings(folder)
    assert postings["pool"] == postings["whoosh"]
