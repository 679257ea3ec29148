"""Significant terms: the words that characterise the articles matching a query, with
exact counts in the matches and in the index, on real news."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import re
from datetime import datetime

import pytest
from click.testing import CliRunner
from conftest import SHARED, needs_shared, write_jsonl
from whoosh import query as wq

from searchidx import Index
from searchidx.analysis import STOP_WORDS, WORD_JOINER, term_forms
from searchidx.cli import main
from searchidx.generations import open_generation
from searchidx.schema import TEXT_FIELDS

VNTC = SHARED / "corpus" / "vntc-train.jsonl.gz"


def _index_term(word: str) -> str:
    return WORD_JOINER.join(term_forms(s)[0] for s in word.split())


def test_terms_characterise_the_matches_not_the_whole_index(vietnews_index: Index):
    found = vietnews_index.terms("ma túy", limit=10)
    assert found.matched == vietnews_index.search("ma túy").total > 20
    words = [t.word for t in found.terms]
    assert len({"trái phép", "tàng trữ", "thu giữ", "vận chuyển", "mua bán"} & set(words)) >= 3, words
    assert all(t.documents < 0.3 * found.documents for t in found.terms), found.terms
    assert not {"ma túy", "ma", "túy"} & set(words) and not STOP_WORDS & set(words)
    assert [t.score for t in found.terms] == sorted((t.score for t in found.terms), reverse=True)


def test_counts_in_the_matches_and_in_the_index_are_exact(vietnews_index: Index):
    found = vietnews_index.terms("ma túy", limit=20)
    matching = {hit.id for hit in vietnews_index.iter_hits("ma túy", snippets=False)}
    _, ix = open_generation(vietnews_index.path)
    with ix.searcher() as searcher:
        for t in found.terms:
            term = _index_term(t.word)
            having = {
                searcher.stored_fields(d)["id"] for d in wq.Or([wq.Term(f, term) for f in TEXT_FIELDS]).docs(searcher)
            }
            assert (t.matches, t.documents) == (len(having & matching), len(having)), t


def test_filters_narrow_the_matches(sample_index: Index):
    every = sample_index.terms("bão")
    later = sample_index.terms("bão", date_from=datetime(2024, 9, 8, 12))
    assert 0 < later.matched < every.matched


def test_cli_says_how_many_articles_matched_and_writes_csv(vietnews_index: Index):
    index = str(vietnews_index.path)
    text = CliRunner().invoke(main, ["terms", "ma túy", "--index", index, "--limit", "5"])
    assert text.exit_code == 0, text.output
    assert re.search(r"^\d+ of 300 articles match", text.stdout)
    rows = list(
        csv.DictReader(
            io.StringIO(CliRunner().invoke(main, ["terms", "ma túy", "--index", index, "--format", "csv"]).stdout)
        )
    )
    assert tuple(rows[0]) == ("word", "matches", "documents", "score") and len(rows) == 20
    data = json.loads(CliRunner().invoke(main, ["terms", "ma túy", "--index", index, "--format", "json"]).stdout)
    assert data["matched"] == vietnews_index.search("ma túy").total and len(data["terms"]) == 20


@pytest.fixture(scope="module")
def storm_index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    """Real VNTC news: the first 600 articles and the storm reports among the next
    thousands, a few per cent of the index, as in a news archive."""
    needs_shared(VNTC)
    with gzip.open(VNTC, "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in itertools.islice(f, 4000)]
    storms = [r for r in records[600:] if re.search(r"(?<!\w)[Bb]ão(?!\w)", r["title"] + " " + r["body"])]
    path = write_jsonl(tmp_path_factory.mktemp("vntc") / "storms.jsonl", records[:600] + storms)
    index = Index(path.parent / "index")
    index.index_paths([path], workers=2)
    return index


@pytest.mark.slow
def test_storms_bring_up_storm_words_and_places(storm_index: Index):
    found = storm_index.terms("bão", limit=25)
    words = {t.word for t in found.terms}
    assert len(words & {"tâm bão", "lũ", "lụt", "sạt lở", "đê biển", "lũ quét", "cuồng phong", "ngập lụt"}) >= 4, words
    coast = {"Nam Định", "Thanh Hóa", "Thái Bình", "Hải Phòng", "Quảng Ninh", "Nghệ An", "Hà Tĩnh", "Quảng Ngãi"}
    assert len(words & (coast | {"Hậu Lộc", "Giao Thủy", "Hải Hậu", "Tĩnh Gia", "Đồ Sơn"})) >= 2, words
    assert not {"năm", "người"} & words
    assert all(t.documents < 0.2 * found.documents for t in found.terms)


def test_a_bad_query_or_option_is_one_line_and_exit_code_2(sample_index: Index):
    index = str(sample_index.path)
    bad = (["nosuch:bão"], ["bão", "--from", "yesterday"], ["bão", "--limit", "-1"])
    for args in (["terms", *b, "--index", index] for b in bad):
        out = CliRunner().invoke(main, args)
        assert out.exit_code == 2, (args, out.output)
        reasons = [line for line in out.output.splitlines() if line.startswith(("Error:", "searchidx: error"))]
        assert "Traceback" not in out.output and len(reasons) == 1, out.output
    assert CliRunner().invoke(main, ["terms", "bão", "--index", index]).exit_code == 0
