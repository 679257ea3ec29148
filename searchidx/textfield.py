"""The Whoosh field for Vietnamese text, and its postings computed ahead of time.

Segmentation is the expensive step of indexing: worker processes turn a text into
ready-made ``Postings`` and the writer only stores them. The field's class is named
in every index's pickled schema (``safe_unpickle`` allows it by this module's name).
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from whoosh import fields

from searchidx.analysis import WORD_JOINER, Analysis, VietnameseAnalyzer


@dataclass(frozen=True)
class Postings:
    """A field value analysed ahead of time: Whoosh's (term, freq, weight, positions)
    tuples, so the analysis can run in another process."""

    items: list[tuple[bytes, int, float, bytes]]


class VietnameseText(fields.TEXT):
    """A text field analysed by ``VietnameseAnalyzer``, with positions for phrases
    (of syllables: see ``postings``).

    Accepts ready ``Postings`` as well as plain text."""

    def __init__(self) -> None:
        super().__init__(analyzer=VietnameseAnalyzer(), phrase=True, stored=True)

    def index(self, value, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(value, Postings):
            return iter(value.items)
        return super().index(value, **kwargs)


_TEXT_FORMAT = VietnameseText().format
NO_POSITIONS: bytes = _TEXT_FORMAT.encode([])


def postings(analysis: Analysis) -> tuple[Postings, bytes]:
    """A text's postings, and its multi-syllable word spans packed as uint32 pairs.

    Only syllables keep their positions: phrases are matched syllable by syllable,
    and a word term ("gia_lai") is only ever scored, never placed, so its positions
    would be a fifth of the postings' bytes for nothing. A word stores the encoding of
    no positions, one shared object that pickles to a back-reference: an empty value
    would be dropped by the codec, and Whoosh's merge asks every posting for one."""
    positions: dict[str, list[int]] = defaultdict(list)
    for term in analysis.terms:
        positions[term.text].append(term.pos)
    items = [
        (term.encode("utf-8"), len(poses), float(len(poses)), NO_POSITIONS if WORD_JOINER in term else _encoded(poses))
        for term, poses in positions.items()
    ]
    return Postings(items), array("I", [i for span in analysis.words for i in span]).tobytes()


def _encoded(positions: list[int]) -> bytes:
    """The format's encoding of a term's distinct positions; most terms occur once
    in a text, and the encoding of a single position is cached."""
    if len(positions) == 1:
        return _single_position(positions[0])
    encoded: bytes = _TEXT_FORMAT.encode(sorted(set(positions)))
    return encoded


@lru_cache(maxsize=100_000)
def _single_position(position: int) -> bytes:
    encoded: bytes = _TEXT_FORMAT.encode([position])
    return encoded
