"""Verifying an index: is every part of it readable, and do its parts agree?

Damage to an index file (a bad disk, a copy cut short, a file lost) otherwise shows
up later as a search that fails with a low-level error or, worse, quietly answers
wrong. ``check`` reads everything once: the table of contents, every segment's terms
and every posting (Whoosh compresses posting blocks and stored documents with zlib,
whose checksum catches changed bytes), every stored document and the id column, and
checks that the counts agree: each live document has one id, found by its id term,
the segments hold as many live documents as the table of contents says, and each
segment's posting arrays (``posting_arrays``) hold what its postings do. Reading
every posting takes a while on a large index: about 3 s of CPU for 300 articles.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from whoosh.reading import SegmentReader

from searchidx import generations, posting_arrays
from searchidx.errors import CorruptIndex, IncompatibleIndex, IndexNotFound


@dataclass(frozen=True)
class CheckReport:
    path: Path
    documents: int
    segments: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path), "ok": self.ok, "documents": self.documents,
            "segments": self.segments, "problems": self.problems,
        }  # fmt: skip


class _Disagreement(Exception):
    """Parts of a segment that read fine but contradict each other."""


def check(directory: Path) -> CheckReport:
    """Read and cross-check the live generation of an index; raises IndexNotFound
    or IncompatibleIndex as opening it would, reports every other problem."""
    generation = generations.live_generation(directory)
    problems: list[str] = []
    ids: Counter[str] = Counter()
    try:
        ix = generations.open_index(generation)
        segments = ix._segments()
    except (IndexNotFound, IncompatibleIndex):
        raise
    except Exception as error:
        return CheckReport(directory, 0, 0, [f"table of contents unreadable ({_describe(error)})"])
    for segment in segments:
        name = f"segment {segment.segment_id()}"
        try:
            reader = SegmentReader(ix.storage, ix.schema, segment)
        except Exception as error:
            problems.append(f"{name} unreadable ({_describe(error)})")
            continue
        with reader:
            for what, step in _STEPS:
                try:
                    step(reader, ids)
                except _Disagreement as error:
                    problems.append(f"{name}: {error}")
                except Exception as error:
                    problems.append(f"{name}: {what} unreadable ({_describe(error)})")
    documents = sum(segment.doc_count() for segment in segments)
    if not problems:
        problems.extend(_index_wide(ids, documents))
    return CheckReport(directory, documents, len(segments), problems)


def _check_postings(reader: SegmentReader, ids: Counter[str]) -> None:
    """Every term's postings decode, in order, within the segment, and as many as
    its term info says (deleted documents are counted there, not returned)."""
    deleted, total = reader.deleted_docs_set, reader.doc_count_all()
    for field in reader.indexed_field_names():
        for term in reader.lexicon(field):
            found = list(reader.postings(field, term).all_ids())
            frequency = reader.doc_frequency(field, term)
            in_order = all(a < b for a, b in pairwise(found))
            if not in_order or (found and not 0 <= found[0] <= found[-1] < total) or deleted.intersection(found):
                raise _Disagreement(f"the postings of {field}:{term!r} are out of order or out of range")
            if not frequency - len(deleted) <= len(found) <= frequency:
                raise _Disagreement(f"{field}:{term!r} has {len(found)} postings, its term info says {frequency}")


def _check_documents(reader: SegmentReader, ids: Counter[str]) -> None:
    """Every live document's stored fields parse, its id agrees with the id column,
    and its id term finds it."""
    column = reader.column_reader("id")
    live = 0
    for docnum in reader.all_doc_ids():
        stored = reader.stored_fields(docnum)
        doc_id = stored.get("id") if isinstance(stored, dict) else None
        if not isinstance(doc_id, str) or not doc_id:
            raise _Disagreement(f"stored document {docnum} has no id")
        if column[docnum] != doc_id:
            raise _Disagreement(f"document {docnum}: stored id {doc_id!r}, id column {column[docnum]!r}")
        if list(reader.postings("id", doc_id).all_ids()) != [docnum]:
            raise _Disagreement(f"the id term {doc_id!r} does not find document {docnum} alone")
        ids[doc_id] += 1
        live += 1
    if live != reader.doc_count():
        raise _Disagreement(f"{live} stored live documents, the table of contents says {reader.doc_count()}")


def _check_columns(reader: SegmentReader, ids: Counter[str]) -> None:
    """Every sortable column reads for every document."""
    for field in reader.schema.names():
        if reader.has_column(field):
            column = reader.column_reader(field)
            for docnum in range(reader.doc_count_all()):
                column[docnum]


def _check_posting_arrays(reader: SegmentReader, ids: Counter[str]) -> None:
    """The segment's posting array file, which searches read instead of Whoosh's
    blocks, holds exactly what the blocks hold."""
    try:
        posting_arrays.verify(reader)
    except CorruptIndex as error:
        raise _Disagreement(str(error)) from None


_STEPS: list[tuple[str, Callable[[SegmentReader, Counter[str]], None]]] = [
    ("terms and postings", _check_postings),
    ("posting arrays", _check_posting_arrays),
    ("stored documents", _check_documents),
    ("columns", _check_columns),
]


def _index_wide(ids: Counter[str], documents: int) -> list[str]:
    repeated = [doc_id for doc_id, count in ids.items() if count > 1]
    if repeated:
        return [f"{len(repeated)} ids are live more than once, e.g. {repeated[0]!r}"]
    if sum(ids.values()) != documents:
        return [f"{sum(ids.values())} documents read, the table of contents says {documents}"]
    return []


def _describe(error: Exception) -> str:
    """One line: the error's type and the start of its message."""
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message[:160]}" if message else type(error).__name__
