"""What a text field stores for each term: positions for syllables, none for words."""

from __future__ import annotations

import dataclasses

import pytest

from searchidx import Index, posting_arrays, shipped_corpus, textfield
from searchidx.analysis import FOLDED, WORD_JOINER, analyze
from searchidx.generations import open_generation
from searchidx.textfield import Postings

TEXT = "Khối thi đua tỉnh Gia Lai triển khai phong trào thi đua ở Gia Lai"

#: Every kind of query that reads positions (phrases, typed with or without marks, in
#: one field, in long queries' phrase bonus) or scores words, and similar articles.
QUERIES = [
    '"thi đua"',
    '"thi dua"',
    '"gia lai" "thi đua"',
    'title:"Gia Lai"',
    "thi đua Gia Lai",
    "ha noi",
    "Gia Lai -Pleiku",
    "Vì sao tỉnh Gia Lai triển khai phong trào thi đua trong năm 2024?",
    "Khối thi đua các tổ chức Chính trị-Xã hội-Nghề nghiệp tỉnh Gia Lai",
]


def test_syllables_keep_their_positions_and_words_store_none():
    items, _ = textfield.postings(analyze(TEXT))
    stored = {term.decode(): (freq, value) for term, freq, _, value in items.items}
    decode = textfield.VietnameseText().format.decode_positions
    assert decode(stored["thi"][1]) == [1, 10] and decode(stored[FOLDED + "dua"][1]) == [2, 11]
    words = {term: entry for term, entry in stored.items() if WORD_JOINER in term}
    assert {"thi_đua", "gia_lai", FOLDED + "thi_dua", FOLDED + "gia_lai"} <= words.keys()
    assert all(decode(value) == [] for _, value in words.values())
    assert stored["thi_đua"][0] == 2  # counted (and scored) all the same


def _with_word_positions(analysis):  # type: ignore[no-untyped-def]
    """The postings as the previous version wrote them, positions on every term."""
    items, spans = _written_by_this_version(analysis)
    encode = textfield.VietnameseText().format.encode
    positions: dict[str, list[int]] = {}
    for term in analysis.terms:
        positions.setdefault(term.text, []).append(term.pos)
    return Postings([(t, f, w, encode(sorted(positions[t.decode()]))) for t, f, w, _ in items.items]), spans


_written_by_this_version = textfield.postings


@pytest.fixture(scope="module")
def earlier_index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    patch = pytest.MonkeyPatch()
    patch.setattr(textfield, "postings", _with_word_positions)
    try:
        index = Index(tmp_path_factory.mktemp("earlier") / "index")
        index.index_paths([shipped_corpus()], workers=1)
    finally:
        patch.undo()
    return index


def _answer(index: Index, query: str) -> list[tuple[str, float | None, str, list[tuple[int, int]]]]:
    results = index.search(query, limit=20)
    return [(h.id, h.score, h.snippet, h.highlights) for h in results.hits]


@pytest.mark.parametrize("query", QUERIES)
def test_an_index_with_word_positions_answers_the_same(earlier_index: Index, sample_index: Index, query: str):
    # indexes written before word terms lost their positions need no rebuild, and
    # dropping them changed no result, score, snippet or highlight
    answer = _answer(sample_index, query)
    assert answer == _answer(earlier_index, query)
    assert answer, f"{query!r} should find something in the sample"


def test_the_earlier_index_really_stored_word_positions(earlier_index: Index, sample_index: Index):
    # the comparison above means something only if the two indexes differ on disk
    def word_positions(index: Index) -> list[list[int]]:
        _, whoosh_index = open_generation(index.path)
        with whoosh_index.reader() as reader:
            (segment,) = reader.leaf_readers()
            values = posting_arrays.decode(segment[0], "body", "thi_đua".encode(), values=True).values
            assert values
            return [textfield.VietnameseText().format.decode_positions(v) for v in values]

    assert all(word_positions(earlier_index)) and not any(word_positions(sample_index))


def test_similar_articles_are_the_same(earlier_index: Index, sample_index: Index):
    first = sample_index.search("Gia Lai").hits[0].id
    ours, earlier = sample_index.similar(first), earlier_index.similar(first)
    assert [dataclasses.astuple(h) for h in ours.hits] == [dataclasses.astuple(h) for h in earlier.hits]
    assert ours.hits
