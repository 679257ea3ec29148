"""Snippets from stored text and stored word spans."""

from __future__ import annotations

import unicodedata

from searchidx.analysis import analyze
from searchidx.snippets import ELLIPSIS, MatchTerms, highlight_spans, make_snippet

TEXT = (
    "Hội nghị có sự tham gia của 8 đơn vị. Các cấp Hội Chữ thập đỏ bàn giao 9 căn nhà. "
    "Người dân tỉnh Gia Lai phấn khởi, nhiều gia đình được hỗ trợ.\nHội Đông y khám bệnh miễn phí."
)
WORDS = analyze(TEXT).words


def terms(*exact: str) -> MatchTerms:
    return MatchTerms(frozenset(exact), frozenset())


def test_a_match_inside_a_word_lights_up_the_whole_word():
    spans = highlight_spans(TEXT, WORDS, terms("lai"))
    assert [TEXT[s:e] for s, e in spans] == ["Gia Lai"]


def test_adjacent_matches_merge_into_one_highlight():
    spans = highlight_spans(TEXT, WORDS, terms("chữ", "thập", "đỏ"))
    assert [TEXT[s:e] for s, e in spans] == ["Chữ thập đỏ"]


def test_folded_matches_are_used_only_when_there_is_no_exact_one():
    folded = MatchTerms(frozenset({"gìa"}), frozenset({"~gia"}))
    assert {TEXT[s:e] for s, e in highlight_spans(TEXT, WORDS, folded)} == {"tham gia", "Gia Lai", "gia đình"}


def test_best_sentences_in_text_order_with_offsets_into_the_snippet():
    snippet = make_snippet(TEXT, WORDS, terms("hội", "đông", "y"), fragments=2)
    assert snippet.text.startswith("Hội nghị") and ELLIPSIS.strip() in snippet.text
    assert [snippet.text[s:e] for s, e in snippet.highlights] == ["Hội nghị", "Hội", "Đông y"]


def test_long_sentences_are_cut_at_word_boundaries_around_the_match():
    long = "Mở đầu, " + "nội dung dài dòng " * 40 + "rồi tới Gia Lai ở cuối câu, " + "thêm chữ " * 40 + "hết."
    snippet = make_snippet(long, analyze(long).words, terms("gia", "lai"), width=120)
    assert len(snippet.text) <= 121
    assert [snippet.text[s:e] for s, e in snippet.highlights] == ["Gia Lai"]
    assert long.find(snippet.text) >= 0
    start = long.find(snippet.text)
    assert long[start - 1] == " " and long[start + len(snippet.text)] == " "


def test_no_match_gives_the_opening_of_the_text():
    snippet = make_snippet("Tin ngắn.", [], terms("không"))
    assert snippet.text == "Tin ngắn." and snippet.highlights == []


def test_matches_are_found_in_nfd_text_old_tone_marks_and_codes():
    text = unicodedata.normalize("NFD", "Mùa xuân hoà bình. Dịch COVID-19 ở Gia Lai.")
    found = highlight_spans(text, analyze(text).words, terms("hòa", "covid-19", "lai"))
    assert [unicodedata.normalize("NFC", text[s:e]) for s, e in found] == ["hoà bình", "COVID-19", "Gia Lai"]


def test_text_whose_lowercase_changes_length_is_still_highlighted():
    text = "İstanbul đón đoàn Gia Lai."  # "İ".lower() is two characters
    assert [text[s:e] for s, e in highlight_spans(text, analyze(text).words, terms("lai"))] == ["Gia Lai"]
