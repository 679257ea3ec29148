"""Searching: what users type, what they get back."""

from __future__ import annotations

import threading
import time
import unicodedata
from datetime import datetime

import pytest
from conftest import write_jsonl

from searchidx import Article, Index
from searchidx.errors import QueryError


def ids(results) -> list[str]:
    return [h.id for h in results.hits]


def test_query_without_diacritics_finds_accented_text(sample_index):
    accented = sample_index.search("Hội Chữ thập đỏ", limit=50)
    folded = sample_index.search("hoi chu thap do", limit=50)
    assert accented.total >= 3
    assert set(ids(folded)) >= set(ids(accented))


@pytest.mark.parametrize("variant", ["hà nội", "HÀ NỘI", "ha noi", "Ha Noi", unicodedata.normalize("NFD", "Hà Nội")])
def test_case_nfd_and_missing_diacritics_find_the_same_articles(sample_index, variant):
    assert set(ids(sample_index.search(variant, limit=50))) == set(ids(sample_index.search("Hà Nội", limit=50)))


def test_old_and_new_tone_placement_find_the_same_articles(sample_index):
    old = sample_index.search("thuỷ mặc hoà", limit=50)
    new = sample_index.search("thủy mặc hòa", limit=50)
    assert ids(old) == ids(new) == ["van-hoa-03"]


def test_accented_query_matches_exactly_what_was_typed(sample_index):
    storms = sample_index.search("bão", limit=50)  # "bão" (storm), not "báo" or "bao"
    assert storms.total >= 3
    for hit in storms.hits:
        article = sample_index.show(hit.id)
        assert "bão" in (article.title + article.sapo + article.body).lower()


def tiny_index(path, **articles: tuple[str, str]) -> Index:
    """An index of a few articles given as id=(title, body)."""
    index = Index(path / "ix")
    index.add([Article(id=i, title=title, body=body) for i, (title, body) in articles.items()])
    return index


def test_exact_unaccented_text_ranks_above_folded_matches(tmp_path):
    index = tiny_index(
        tmp_path,
        accented=("Tín dụng tăng", "Tín dụng ngân hàng tăng mạnh."),
        plain=("Tin tức tăng", "Tin tức mới nhất hôm nay."),
    )
    assert ids(index.search("tin")) == ["plain", "accented"]


def test_whole_word_match_outranks_scattered_syllables(tmp_path):
    index = tiny_index(
        tmp_path,
        scattered=("Tin vắn", "Người dân Gia Định nói chuyện lai rai về thời tiết."),
        word=("Tin vắn", "Người dân tỉnh Gia Lai nói chuyện về thời tiết."),
    )
    assert ids(index.search("gia lai")) == ["word", "scattered"]
    assert ids(index.search("Gia Lai")) == ["word", "scattered"]


def test_title_match_outranks_body_match(tmp_path):
    index = tiny_index(
        tmp_path,
        body=("Tin trong ngày", "Hôm nay giá cà phê tăng nhẹ ở nhiều nơi, nông dân vui."),
        title=("Giá cà phê tăng", "Hôm nay thị trường nông sản biến động ở nhiều nơi."),
    )
    assert ids(index.search("cà phê")) == ["title", "body"]


def test_quoted_phrase_matches_syllables_in_order(sample_index):
    assert ids(sample_index.search('"bão số 3"', limit=50)) != []
    assert sample_index.search('"số 3 bão"').total == 0
    # across pyvi's wrong "triển_khai_phương_hướng": the phrase still matches
    assert "baogialai-2024-07-31-khoi-thi-dua" in ids(sample_index.search('"triển khai phương"'))


def test_boolean_operators(sample_index):
    both = set(ids(sample_index.search("bão AND Bắc", limit=50)))
    either = set(ids(sample_index.search("cồng chiêng OR Đông y", limit=50)))
    without = set(ids(sample_index.search("bão -khắc", limit=50)))
    with_not = set(ids(sample_index.search("bão NOT khắc", limit=50)))
    assert both and either >= {"van-hoa-01", "suc-khoe-02"}
    assert "xa-hoi-02" not in without and without == with_not
    assert set(ids(sample_index.search("(cồng chiêng OR Đông y) Tây Nguyên", limit=50))) == {"van-hoa-01"}


@pytest.mark.parametrize(
    "query, expected",
    [
        ('title:"Gia Lai"', {"kinh-doanh-02", "giao-duc-02", "the-thao-01", "baogialai-2024-07-31-khoi-thi-dua"}),
        ("sapo:Pleiku", {"van-hoa-01", "baogialai-2024-07-31-khoi-thi-dua"}),
        ('category:"the thao"', {"the-thao-01", "the-thao-02", "the-thao-03", "the-thao-04"}),
        ("source:thoisu-demo.vn date:2024-09", {"the-thao-03"}),
        ("tags:covid-19", {"suc-khoe-01"}),
        ("body:(Chư Prông)", {"kinh-doanh-02"}),
        ("date:2024-09-08..2024-09-09 bão", {"xa-hoi-01", "xa-hoi-02", "xa-hoi-01-copy"}),
        ("date:>=2025-08-01", {"giao-duc-03"}),
    ],
)
def test_fields_in_the_query(sample_index, query, expected):
    assert set(ids(sample_index.search(query, limit=50))) == expected


def test_filters_as_options(sample_index):
    sport = sample_index.search("", categories=("Thể thao",), limit=50)
    assert sport.total == 4 and all(h.category == "Thể thao" for h in sport.hits)
    assert sample_index.search("", categories=("THE THAO",), limit=50).total == 4
    dated = sample_index.search("", date_from=datetime(2024, 9, 8), date_to=datetime(2024, 9, 9), limit=50)
    assert {h.id for h in dated.hits} == {"xa-hoi-01", "xa-hoi-02", "xa-hoi-01-copy"}  # 8 and 9 September
    two = sample_index.search("", sources=("baomau.vn", "thoisu-demo.vn"), limit=100)
    assert {h.source for h in two.hits} == {"baomau.vn", "thoisu-demo.vn"}


def test_sort_by_date_both_ways(sample_index):
    newest = sample_index.search("", categories=("Kinh doanh",), sort="-date")
    oldest = sample_index.search("", categories=("Kinh doanh",), sort="date")
    dates = [h.date for h in newest.hits]
    assert dates == sorted(dates, reverse=True) and ids(oldest) == ids(newest)[::-1]


def test_pagination_has_no_gaps_or_duplicates(vietnews_index):
    everything = ids(vietnews_index.search("Hà Nội", limit=60))
    pages = [ids(vietnews_index.search("Hà Nội", limit=7, offset=o)) for o in range(0, 60, 7)]
    assert [i for page in pages for i in page] == everything
    assert len(set(everything)) == len(everything)
    assert [h.id for h in vietnews_index.iter_hits("Hà Nội")][:60] == everything
    assert sum(1 for _ in vietnews_index.iter_hits("Hà Nội")) == vietnews_index.search("Hà Nội").total


def test_snippets_show_original_text_with_whole_words_highlighted(sample_index):
    hit = sample_index.search("lai", limit=50).hits
    seed = next(h for h in hit if h.id == "baogialai-2024-07-31-khoi-thi-dua")
    marked = {seed.snippet[s:e] for s, e in seed.highlights}
    assert "Gia Lai" in marked  # the whole word, never "Lai" alone
    assert "_" not in seed.snippet
    assert {seed.title[s:e] for s, e in seed.title_highlights} == {"Gia Lai"}


def test_snippet_offsets_point_at_matches(vietnews_index):
    for hit in vietnews_index.search("giao thông", limit=10).hits:
        assert hit.highlights
        for start, end in hit.highlights:
            assert (
                "giao thông" in hit.snippet[start:end].lower()
                or "giao" in hit.snippet[start:end].lower()
                or "thông" in hit.snippet[start:end].lower()
            )
        assert len(hit.snippet) <= 3 * 200 + 10


def test_facets_count_hits(sample_index):
    results = sample_index.search("Gia Lai", facets=True, limit=1)
    categories = dict(results.facets["category"])
    assert sum(categories.values()) == results.total
    assert dict(results.facets["month"])["2024-07"] >= 1


def test_empty_result_suggests_a_spelling(sample_index):
    results = sample_index.search("cồng chiên")
    assert results.total == 0 and results.suggestion == "cồng chiêng"
    assert sample_index.search("ha noii").suggestion == "ha noi"
    assert sample_index.search("Hà Nọi").suggestion == "Hà Nội"


@pytest.mark.parametrize(
    "query, message",
    [
        ('"Gia Lai', "unbalanced quotes"),
        ("(Gia Lai", "unbalanced parenthesis"),
        ("Gia Lai)", "unbalanced parenthesis"),
        ("author:ai", "unknown field 'author'"),
        ("date:2024-13", "no such day"),
        ("date:hôm-qua", "bad date"),
        ("bão OR", "missing search terms"),
        ("", "empty query"),
    ],
)
def test_malformed_queries_raise_one_line_errors(sample_index, query, message):
    with pytest.raises(QueryError, match=message) as error:
        sample_index.search(query)
    assert "\n" not in str(error.value)


@pytest.mark.slow
def test_concurrent_readers_during_a_write(tmp_path, vietnews_slice):
    index = Index(tmp_path / "ix")
    index.index_paths([vietnews_slice])
    expected = index.search("Hà Nội").total
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        mine = Index(tmp_path / "ix")
        while not stop.is_set():
            time.sleep(0.05)  # readers that never pause would starve the writer of the GIL
            try:
                assert mine.search("Hà Nội").total >= expected
            except BaseException as error:
                errors.append(error)
                return

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    extra = write_jsonl(
        tmp_path / "more.jsonl", [{"id": f"new{i}", "title": f"Hà Nội mới {i}", "body": "Tin."} for i in range(50)]
    )
    index.index_paths([extra], workers=2)
    index.index_paths([vietnews_slice], rebuild=True, workers=2)
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert index.search("Hà Nội").total == expected


def test_stray_punctuation_is_ignored(sample_index):
    assert ids(sample_index.search('bão "số 3" !', limit=50)) == ids(sample_index.search('bão "số 3"', limit=50))
    with pytest.raises(QueryError, match="missing search terms"):
        sample_index.search("!")
