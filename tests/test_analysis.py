"""The Vietnamese analysis chain, on real sentences from the seed article."""

from __future__ import annotations

import unicodedata

import pytest
from pyvi.ViTokenizer import ViTokenizer

from searchidx import shipped_corpus
from searchidx.analysis import (
    FOLDED,
    VietnameseAnalyzer,
    analyze,
    canonical_tone,
    fold,
    has_diacritics,
    key,
    normalize,
    query_syllables,
    query_words,
    syllabify,
)  # fmt: skip
from searchidx.article import Article
from searchidx.corpus import read_path
from searchidx.pyvi_model import model_features

SEED = (
    "(GLO)- Chiều 31-7, tại TP. Pleiku, Khối thi đua các tổ chức Chính trị-Xã hội-Nghề "
    "nghiệp tỉnh Gia Lai tổ chức hội nghị triển khai phương hướng, nhiệm vụ 6 tháng cuối "
    "năm 2024. Hội Đông y, Hội Chữ thập đỏ tặng 3.343 suất quà với tổng trị giá 1,6 tỷ đồng."
)


def exact_terms(text: str) -> list[str]:
    return [t.text for t in analyze(text).terms if not t.text.startswith(FOLDED)]


def test_multi_syllable_words_are_terms_of_their_own():
    terms = exact_terms(SEED)
    for word in ("gia_lai", "thi_đua", "chữ_thập_đỏ", "đông_y", "hội_nghị"):
        assert word in terms


def test_syllables_are_indexed_beside_words():
    terms = exact_terms("tỉnh Gia Lai")
    assert {"gia", "lai", "gia_lai"} <= set(terms)


def test_every_term_points_at_its_surface_text():
    for term in analyze(SEED).terms:
        surface = SEED[term.start : term.end].lower()
        syllables = [canonical_tone(s) for s in surface.split()]
        if term.text.startswith(FOLDED):
            syllables = [fold(s) for s in syllables]
        word = term.text.lstrip(FOLDED)
        # a word spells its syllables; a syllable or code is its surface (or part of it)
        assert word == "_".join(syllables) or word in syllables[0]


def test_offsets_point_into_nfd_input():
    nfd = unicodedata.normalize("NFD", SEED)
    nfc_terms = [t.text for t in analyze(SEED).terms]
    nfd_analysis = analyze(nfd)
    assert [t.text for t in nfd_analysis.terms] == nfc_terms
    gia_lai = next(t for t in nfd_analysis.terms if t.text == "gia_lai")
    assert unicodedata.normalize("NFC", nfd[gia_lai.start : gia_lai.end]) == "Gia Lai"


@pytest.mark.parametrize(
    "old, new",
    [("hoà", "hòa"), ("thuý", "thúy"), ("uỷ ban", "ủy ban"), ("khoẻ", "khỏe"), ("Hoà Bình", "Hòa Bình")],
)
def test_old_and_new_tone_placement_give_the_same_terms(old, new):
    assert exact_terms(old) == exact_terms(new)


def test_tone_placement_leaves_qu_and_closed_syllables_alone():
    assert canonical_tone("quý") == "quý"
    assert canonical_tone("hoàng") == "hoàng"
    assert canonical_tone("thủy") == "thủy"


def test_lower_case_includes_d_with_stroke():
    assert exact_terms("ĐÀ NẴNG")[:1] == exact_terms("đà nẵng")[:1]


def test_invisible_characters_and_odd_spaces_are_removed():
    text = "Gia\u200bLai\u00a0tỉnh"
    norm = normalize(text)
    assert "\u200b" not in norm.text and "\u00a0" not in norm.text
    assert [p.text for p in syllabify(norm.text)] == ["GiaLai", "tỉnh"]
    assert exact_terms("Hà\u00a0Nội") == exact_terms("Hà Nội")


@pytest.mark.parametrize(
    "accented, folded",
    [
        ("Hà Nội", "ha noi"),
        ("Đông y", "dong y"),
        ("Chữ thập đỏ", "chu thap do"),
        ("ĐƯỜNG", "DUONG"),
        ("đường", "duong"),
    ],
)
def test_folding_removes_diacritics_and_maps_d(accented, folded):
    assert fold(accented).lower() == folded.lower()
    assert has_diacritics(accented) and not has_diacritics(folded)


def test_folded_terms_of_accented_text_match_the_unaccented_query():
    document = {t.text for t in analyze("Hội Chữ thập đỏ tỉnh Gia Lai").terms}
    for _, folded in query_syllables("chu thap do gia lai"):
        assert folded in document
    assert FOLDED + "chu_thap_do" in document


@pytest.mark.parametrize("code", ["3.343", "1,6", "31-7", "2024", "31/07/2024", "14:30"])
def test_numbers_and_dates_stay_whole(code):
    assert code in exact_terms(f"Ngày {code} có tin")


def test_codes_stay_whole_and_their_parts_are_findable():
    terms = exact_terms("dịch COVID-19 lan rộng")
    assert "covid-19" in terms and "covid" in terms and "19" in terms


def test_urls_and_email_addresses_are_one_token_each():
    text = "Xem http://baogialai.com.vn/tin-tuc/a-b.html hoặc gửi hotro@baogialai.com.vn nhé"
    terms = exact_terms(text)
    assert "http://baogialai.com.vn/tin-tuc/a-b.html" in terms
    assert "hotro@baogialai.com.vn" in terms
    assert "tin" not in terms and "html" not in terms


def test_hyphenated_words_without_digits_split_into_syllables():
    terms = exact_terms("Chính trị-Xã hội")
    assert {"chính_trị", "xã_hội"} <= set(terms)
    assert "trị_xã" not in terms


def test_all_caps_headline_is_segmented():
    caps = exact_terms("UBND TỈNH GIA LAI KHẨN TRƯƠNG TRIỂN KHAI DỰ ÁN TÁI ĐỊNH CƯ")
    assert "gia_lai" in caps and "triển_khai" in caps and "dự_án" in caps


def test_acronym_in_ordinary_text_is_left_as_it_is():
    assert "ubnd" in exact_terms("UBND tỉnh Gia Lai họp")


def test_a_wrongly_joined_word_keeps_its_dictionary_parts():
    # pyvi joins "triển_khai_phương_hướng" here; its parts must stay findable
    terms = exact_terms("tổ chức hội nghị triển khai phương hướng, nhiệm vụ")
    assert "triển_khai" in terms and "phương_hướng" in terms
    assert {"triển", "khai", "phương", "hướng"} <= set(terms)


def test_positions_count_syllables_and_words_sit_on_their_first_syllable():
    terms = analyze("tỉnh Gia Lai").terms
    positions = {t.text: t.pos for t in terms}
    assert positions["tỉnh"] == 0 and positions["gia"] == 1 and positions["lai"] == 2
    assert positions["gia_lai"] == 1


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "…!?"])
def test_empty_and_whitespace_only_input(text):
    analysis = analyze(text)
    assert analysis.terms == [] and analysis.syllables == 0


def test_very_long_input():
    text = " ".join([SEED] * 300)  # ~90,000 characters
    analysis = analyze(text)
    assert analysis.syllables == 300 * analyze(SEED).syllables
    last = analysis.terms[-1]
    assert text[last.start : last.end] in SEED


def test_query_words_segment_like_documents():
    assert query_words("hội nghị Chữ thập đỏ") == ["hội_nghị", "chữ_thập_đỏ", "chữ_thập"]


def test_labels_compare_by_key():
    assert key("Thể thao") == key("the thao") == key("THỂ THAO") == "the thao"
    assert key("Chính trị - Xã hội") == key("Chinh tri Xa hoi")


def test_whoosh_analyzer_yields_the_same_terms_with_offsets():
    tokens = [(t.text, t.startchar, t.endchar) for t in VietnameseAnalyzer()(SEED, chars=True, positions=True)]
    assert tokens == [(t.text, t.start, t.end) for t in analyze(SEED).terms]


def assert_pyvi_features(texts: list[str]) -> None:
    """The CRF model must see what pyvi would give it, key for key, in order."""
    for text in texts:
        words = [p.text for p in syllabify(normalize(text).text)]
        ours, pyvis = model_features(words), ViTokenizer.sent2features(words, False)
        assert [list(f.items()) for f in ours] == [list(f.items()) for f in pyvis]


def test_model_features_are_pyvis_own_on_the_sample():
    articles = [r.text for r in read_path(shipped_corpus()) if isinstance(r, Article)]
    assert_pyvi_features([SEED.upper(), "Ζωή σας ΚΑΙ ΟΔΟΣ", *articles])  # capitals; Greek final sigma


def test_model_features_are_pyvis_own_on_real_news(vietnews_slice):
    assert_pyvi_features([r.text for r in read_path(vietnews_slice) if isinstance(r, Article)])
