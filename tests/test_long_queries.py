"""Long queries (whole questions, pasted headlines) need most of their words, not all,
and so do queries of a few words that no article has all of; short ones still need
every word; the output says which rule was applied."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from whoosh import query as wq

from searchidx import execute
from searchidx import querying as search_module
from searchidx.cli import main
from searchidx.minimum_match import AtLeast
from searchidx.readers import SearcherPool

QUESTIONS = Path(__file__).resolve().parent.parent / "scripts" / "data" / "questions.tsv"


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Giá cà phê nhân xô ở Tây Nguyên bao nhiêu tiền một ký?", "kinh-doanh-02"),
        ("Hà Nội lạnh bao nhiêu độ trong đợt rét đậm này?", "thoi-tiet-01"),
        ("ha noi lanh bao nhieu do trong dot ret dam nay", "thoi-tiet-01"),
    ],
)
def test_a_whole_question_finds_its_article_in_the_top_3(sample_index, question, answer):
    results = sample_index.search(question)
    assert answer in [h.id for h in results.hits[:3]]
    assert results.matching == "most"


def test_a_question_about_a_real_article_finds_it(vietnews_index):
    """One of scripts/data/questions.tsv, about an article of the first 300."""
    question = "Nghi phạm sát hại cháu trai ở Chương Mỹ được hưởng trợ cấp bao nhiêu mỗi tháng?"
    assert f"vietnews-val-000138\t{question}" in QUESTIONS.read_text(encoding="utf-8")
    assert "vietnews-val-000138" in [h.id for h in vietnews_index.search(question).hits[:3]]


@pytest.mark.parametrize("query", ["giá bitcoin", "gia bitcoin", "cà phê bitcoin", "Gia Lai bitcoin tăng"])
def test_a_short_query_needs_all_its_words(sample_index, query):
    assert sample_index.search("giá").total and sample_index.search("Gia Lai").total
    results = sample_index.search(query)
    assert results.total == 0
    assert results.matching == "all"


def test_function_words_are_required_in_a_short_query(sample_index):
    assert search_module.matching_rule(["giá", "vàng", "có", "tăng"], match_any=False).required == 4


def test_a_long_query_needs_most_of_its_meaningful_words():
    terms = ["vì", "sao", "hà", "nội", "tính", "cấm", "xe", "máy", "ở", "nội", "thành", "từ", "năm", "2030"]
    rule = search_module.matching_rule(terms, match_any=False)
    assert set(rule.optional) == {"vì", "sao", "ở", "từ", "năm"}
    assert rule.terms == ("hà", "nội", "tính", "cấm", "xe", "máy", "thành", "2030")
    assert rule.required == 4  # half of 8


def test_a_query_of_a_few_words_needs_all_unless_no_article_has_them_all(sample_index):
    complete = sample_index.search("rét đậm Hà Nội xuống 12 độ")
    assert complete.matching == "all" and [h.id for h in complete.hits] == ["thoi-tiet-01"]
    results = sample_index.search("Hà Nội rét đậm tuyết rơi 12 độ")
    assert results.hits[0].id == "thoi-tiet-01"
    assert results.matching == "most" and results.matching_note.startswith("no article has all the words; ")


@pytest.mark.parametrize("question", ["Hà Nội rét đậm bao nhiêu độ", "ha noi ret dam bao nhieu do"])
def test_a_question_of_a_few_words_needs_most_of_them(sample_index, question):
    results = sample_index.search(question)
    assert results.hits[0].id == "thoi-tiet-01"
    assert results.matching == "most" and results.matching_note.startswith("long query: at least ")


def test_a_long_query_of_unknown_words_finds_nothing(sample_index):
    assert sample_index.search("Giá bitcoin ethereum dogecoin solana tăng vọt").total == 0


def test_at_least_matches_the_documents_with_k_clauses_scored_as_or(sample_index):
    """Checked against brute force: which documents have at least k of the words;
    Whoosh's matcher and the array execution agree on them and their scores."""
    with SearcherPool(sample_index.path).acquire() as snapshot:
        searcher = snapshot.searcher
        words = ["giá", "gia", "lai", "tăng", "mạnh", "bão", "năm", "tỉnh"]
        clauses = [wq.Term("body", w) for w in words]
        has = {w: set(wq.Term("body", w).docs(searcher)) for w in words}
        everyone = set().union(*has.values())
        ors = dict(_scored_by_whoosh(searcher, wq.Or(clauses)))
        for k in (2, 3, 4):
            expected = {d for d in everyone if sum(d in has[w] for w in words) >= k}
            got = dict(_scored_by_whoosh(searcher, AtLeast(clauses, k)))
            assert set(got) == expected and expected
            assert all(got[d] == pytest.approx(ors[d]) for d in got)
            ranked = execute.run(searcher, AtLeast(clauses, k), 1000)
            assert dict(zip(ranked.docnums, ranked.scores, strict=True)) == pytest.approx(got)


def _scored_by_whoosh(searcher, query):
    _, docnums, scores = execute.whoosh_reference(searcher, query, 1000)
    return list(zip(docnums, scores, strict=True))


def test_the_output_says_what_matching_was_done(sample_index):
    path = str(sample_index.path)
    question = "Hà Nội lạnh bao nhiêu độ trong đợt rét đậm này?"
    text = CliRunner().invoke(main, ["search", question, "--index", path], catch_exceptions=False).output
    assert "matching most words: long query: at least 4 of its 7 main words must match" in text
    assert "bao, nhiêu, trong, này only add to the score" in text
    as_json = CliRunner().invoke(main, ["search", question, "--index", path, "--format", "json"]).output
    assert json.loads(as_json)["matching"] == "most"
    short = CliRunner().invoke(main, ["search", "rét đậm", "--index", path, "--format", "json"]).output
    assert (json.loads(short)["matching"], json.loads(short)["matching_note"]) == ("all", "all words must match")
    any_words = CliRunner().invoke(main, ["search", "rét đậm", "--index", path, "--any"]).output
    assert "matching any words" in any_words
