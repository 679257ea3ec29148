"""The Whoosh field for Vietnamese text, and its postings computed ahead of time.

Segmentation is the expensive step of indexing: worker processes turn a text into
ready-made ``Postings`` and the writer only stores them. The field's class is named
in every index's pickled schema (``safe_unpickle`` allows it by this module's name).
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from dataclasses import dataclass

from whoosh import fields

from searchidx.analysis import VietnameseAnalyzer, analyze


@dataclass(frozen=True)
class Postings:
    """A field value analysed ahead of time: Whoosh's (term, freq, weight, positions)
    tuples, so the analysis can run in another process."""

    items: list[tuple[bytes, int, float, bytes]]


class VietnameseText(fields.TEXT):
    """A text field analysed by ``VietnameseAnalyzer``, with positions for phrases.

    Accepts ready ``Postings`` as well as plain text."""

    def __init__(self) -> None:
        super().__init__(analyzer=VietnameseAnalyzer(), phrase=True, stored=True)

    def index(self, value, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(value, Postings):
            return iter(value.items)
        return super().index(value, **kwargs)


_TEXT_FORMAT = VietnameseText().format


def postings(text: str) -> tuple[Postings, bytes]:
    """A text's postings, and its multi-syllable word spans packed as uint32 pairs."""
    analysis = analyze(text)
    positions: dict[str, list[int]] = defaultdict(list)
    for term in analysis.terms:
        positions[term.text].append(term.pos)
    encode = _TEXT_FORMAT.encode
    items = [
        (term.encode("utf-8"), len(poses), float(len(poses)), encode(sorted(set(poses))))
        for term, poses in positions.items()
    ]
    return Postings(items), array("I", [i for span in analysis.words for i in span]).tobytes()
