"""More like this, and near-duplicates."""

from __future__ import annotations

import json

import pytest

from searchidx import Article, Index
from searchidx import similar as similar_module
from searchidx.errors import QueryError, UnknownArticle
from searchidx.fingerprint import clusters, signature, similarity


def test_similar_articles_share_the_story(sample_index):
    results = sample_index.similar("xa-hoi-01", limit=3)
    assert "xa-hoi-02" in [h.id for h in results.hits]  # the aftermath of the same storm
    assert all(h.snippet for h in results.hits)


def test_the_article_itself_is_never_among_its_results(sample_index):
    for doc_id in ("xa-hoi-01", "the-thao-01", "baogialai-2024-07-31-khoi-thi-dua"):
        assert doc_id not in [h.id for h in sample_index.similar(doc_id, limit=50, duplicates=True).hits]


def test_near_duplicates_are_collapsed_unless_asked_for(sample_index):
    collapsed = sample_index.similar("xa-hoi-02", limit=10)
    ids = [h.id for h in collapsed.hits]
    assert ("xa-hoi-01" in ids) != ("xa-hoi-01-copy" in ids)
    kept = next(h for h in collapsed.hits if h.id in ("xa-hoi-01", "xa-hoi-01-copy"))
    other = "xa-hoi-01-copy" if kept.id == "xa-hoi-01" else "xa-hoi-01"
    assert kept.duplicates == [other]
    expanded = [h.id for h in sample_index.similar("xa-hoi-02", limit=10, duplicates=True).hits]
    assert {"xa-hoi-01", "xa-hoi-01-copy"} <= set(expanded)


def test_copies_of_the_article_itself_are_left_out_and_named(sample_index):
    results = sample_index.similar("xa-hoi-01", limit=10)
    assert "xa-hoi-01-copy" not in [h.id for h in results.hits]
    assert results.source_duplicates == ["xa-hoi-01-copy"]


def test_filters_apply(sample_index):
    results = sample_index.similar("xa-hoi-01", categories=("Giáo dục",), limit=10)
    assert results.hits and all(h.category == "Giáo dục" for h in results.hits)


def test_similar_to_a_text(sample_index):
    results = sample_index.similar(
        text="Giá vàng miếng hôm nay tăng mạnh, doanh nghiệp kinh doanh vàng điều chỉnh giá", limit=3
    )
    assert results.hits[0].id == "kinh-doanh-01"


def test_similar_to_a_file(sample_index, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(
        "Lễ hội cồng chiêng\n\nCác đội cồng chiêng Tây Nguyên biểu diễn tại Pleiku, du khách múa xoang.",
        encoding="utf-8",
    )
    assert sample_index.similar(path=page, limit=1).hits[0].id == "van-hoa-01"
    record = tmp_path / "a.json"
    record.write_text(
        json.dumps(
            [{"title": "Học sinh Gia Lai khai giảng năm học mới", "body": "Thầy cô vận động học sinh ra lớp."}],
            ensure_ascii=False,
        )
    )
    assert sample_index.similar(path=record, limit=1).hits[0].id == "giao-duc-02"


def test_explain_shows_key_terms_and_what_each_result_shares(sample_index):
    results = sample_index.similar("kinh-doanh-01", explain=True, limit=3)
    terms = [t for t, _ in results.key_terms]
    assert "vàng" in terms[:3]
    assert all(set(h.shared_terms) <= set(terms) and h.shared_terms for h in results.hits)


def test_key_terms_are_words_not_single_letters_and_weighed_heaviest_first(vietnews_index):
    """vietnews-val-000009 has initials and abbreviations ("a", "h", "n", "t", "đ"):
    none of them is a key term; words of several syllables lead."""
    results = vietnews_index.similar("vietnews-val-000009", explain=True, limit=3)
    terms = [t for t, _ in results.key_terms]
    weights = [w for _, w in results.key_terms]
    assert terms and all(len(t.replace(" ", "")) > 1 for t in terms)
    assert weights == sorted(weights, reverse=True) and weights[-1] > 0
    assert sum(" " in t for t in terms[:10]) >= 5


def test_a_term_repeated_in_the_article_counts_less_than_its_mentions():
    """Saturated term frequency (BM25's k1): ten mentions weigh less than ten times one."""
    assert similar_module._saturated(10.0) < 3 * similar_module._saturated(1.0)
    assert similar_module._saturated(2.0) > similar_module._saturated(1.0)


@pytest.mark.parametrize("text", ["", "   ", "và của là các có được cho với"])
def test_empty_or_stop_word_text_gives_a_clear_message(sample_index, text):
    with pytest.raises(QueryError):
        sample_index.similar(text=text)


def test_unknown_id(sample_index):
    with pytest.raises(UnknownArticle, match="no article with id 'nope'"):
        sample_index.similar("nope")


def test_similar_by_url(sample_index):
    url = sample_index.show("xa-hoi-01").url
    assert [h.id for h in sample_index.similar(url, limit=3).hits] == [
        h.id for h in sample_index.similar("xa-hoi-01", limit=3).hits
    ]


def test_duplicates_lists_clusters(sample_index):
    assert ["xa-hoi-01", "xa-hoi-01-copy"] in [sorted(c) for c in sample_index.duplicates()]


def test_minhash_estimates_overlap():
    text = "Bão số 3 đổ bộ vào đất liền với sức gió mạnh cấp 12, gây mưa rất to và ngập úng nhiều nơi ở phía Bắc."
    edited = text.replace("rất to", "to")
    other = "Giá vàng trong nước tăng mạnh đầu tuần theo đà tăng của thị trường thế giới hôm nay."
    assert similarity(signature(text), signature(text)) == 1.0
    assert similarity(signature(text), signature(edited)) > 0.6
    assert similarity(signature(text), signature(other)) < 0.1
    assert clusters([("a", signature(text)), ("b", signature(text)), ("c", signature(other))]) == [["a", "b"]]


def test_similar_on_real_articles_finds_a_split_article(tmp_path, vietnews_slice):
    """The second half of an article is the best match for its first half."""
    records = [json.loads(line) for line in open(vietnews_slice, encoding="utf-8")]
    halves = []
    for r in records:
        paragraphs = r["body"].split("\n")
        middle = len(paragraphs) // 2
        halves.append(Article(id=r["id"], body="\n".join(paragraphs[middle:])))
    index = Index(tmp_path / "ix")
    index.add(halves, workers=2)
    found = 0
    for r in records[:30]:
        first = "\n".join(r["body"].split("\n")[: len(r["body"].split("\n")) // 2])
        if first.strip():
            hits = index.similar(text=first, limit=1).hits
            found += bool(hits) and hits[0].id == r["id"]
    assert found >= 20
