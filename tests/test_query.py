"""The query language: pasted text with stray quotes and parentheses is searched as
text (with a warning), syntax a user clearly meant stays strict, and the documented
limits give one-line errors."""

from __future__ import annotations

import gzip
import itertools
import json

import pytest
from click.testing import CliRunner
from conftest import VIETNEWS, needs_shared, write_jsonl

from searchidx import Index
from searchidx.cli import main
from searchidx.errors import QueryError
from searchidx.query import MAX_DEPTH, MAX_QUERY_CHARS, MAX_TERM_CHARS, MAX_TERMS, And, Phrase, Text, parse


@pytest.mark.parametrize(
    "query, phrase",
    [
        ('Giá vàng hôm nay " tăng mạnh” sau …', "tăng mạnh"),
        ("Phim “Mắt biếc “ trở lại rạp", "Mắt biếc"),
        ("„Gia Lai“ thi đua", "Gia Lai"),
    ],
)
def test_any_two_quotes_pair_into_a_phrase(query, phrase):
    parsed = parse(query)
    assert isinstance(parsed.node, And)
    assert [n.text.strip() for n in parsed.node.nodes if isinstance(n, Phrase)] == [phrase]
    assert parsed.warnings == ()


@pytest.mark.parametrize(
    "query, text, warning",
    [
        ('"Gia Lai', "Gia Lai", 'unpaired quote " at column 1 read as text'),
        ("Thái Thuỳ Linh: “Không có bùn” thì”", None, "unpaired quote ” at column 35 read as text"),
        ("Gia Lai)", "Gia Lai", "unpaired ')' at column 8 read as text"),
        ("(bão OR lũ", None, "unpaired '(' at column 1 closed at the end"),
    ],
)
def test_unpaired_quotes_and_parentheses_are_read_as_text_with_a_warning(query, text, warning):
    parsed = parse(query)
    assert parsed.warnings == (warning,)
    if text is not None:
        assert parsed.node == Text(text)


def test_an_unclosed_parenthesis_groups_to_the_end():
    assert parse("(bão OR lũ) miền Trung").node != parse("(bão OR lũ miền Trung").node
    assert parse("(bão OR lũ miền Trung").node == parse("(bão OR lũ miền Trung)").node


@pytest.mark.parametrize(
    "query, message",
    [
        ("author:ai", "unknown field 'author'"),
        ("date:2024-13", "no such day"),
        ('title:"', "no value after 'title:'"),
        ("bão OR", "missing search terms"),
        ("x" * (MAX_QUERY_CHARS // 2) + " " + "y" * (MAX_QUERY_CHARS // 2), "query too long"),
        (" ".join(["bão"] * (MAX_TERMS + 1)), "too many words"),
        ('"' + " ".join(["bão"] * (MAX_TERMS + 1)) + '"', "too many words"),
        ("a" * (MAX_TERM_CHARS + 1), "word too long"),
        ("(" * (MAX_DEPTH + 1) + "bão" + ")" * (MAX_DEPTH + 1), "nested too deeply"),
        ("NOT " * (MAX_DEPTH + 1) + "bão", "nested too deeply"),
    ],
)
def test_meant_syntax_and_limits_stay_strict(query, message):
    with pytest.raises(QueryError, match=message) as error:
        parse(query)
    assert "\n" not in str(error.value) and len(str(error.value)) < 200


def test_queries_at_the_limits_parse():
    assert parse(" ".join(["bão"] * MAX_TERMS)).node
    assert parse("a" * MAX_TERM_CHARS).node
    assert parse("(" * MAX_DEPTH + "bão" + ")" * MAX_DEPTH).node


def test_a_pasted_headline_finds_its_article_and_says_what_it_did(sample_index):
    results = sample_index.search('Giá vàng trong nước " tăng mạnh” đầu tuần “')
    assert results.hits[0].title == "Giá vàng trong nước tăng mạnh đầu tuần"
    assert results.warnings == ["unpaired quote “ at column 43 read as text"]
    assert results.to_dict()["warnings"] == results.warnings
    assert sample_index.search("Giá vàng trong nước tăng mạnh").warnings == []


def test_the_cli_prints_warnings_on_stderr_and_in_json(sample_index):
    query = "Phim “Mắt biếc “ trở lại rạp “"
    args = ["search", "--index", str(sample_index.path), "Giá vàng “tăng mạnh“ đầu tuần “"]
    text = CliRunner().invoke(main, args)
    assert text.exit_code == 0 and "Giá vàng trong nước tăng mạnh đầu tuần" in text.stdout
    assert text.stderr == "searchidx: warning: unpaired quote “ at column 31 read as text\n"
    data = json.loads(CliRunner().invoke(main, [*args, "--format", "json"]).stdout)
    assert data["warnings"] == ["unpaired quote “ at column 31 read as text"] and data["hits"]
    batch = CliRunner().invoke(
        main, ["search", "--batch", "-", "--index", str(sample_index.path), "--format", "jsonl"], input=f"q1\t{query}\n"
    )
    assert batch.exit_code == 0
    assert batch.stderr == "searchidx: warning: query q1: unpaired quote “ at column 30 read as text\n"


def _stray_quotes(title: str) -> bool:
    """Quotes a strict parser cannot pair: an odd number of straight ones, or curly
    ones that do not come in “…” pairs."""
    return title.count('"') % 2 == 1 or title.count("“") != title.count("”")


@pytest.fixture(scope="module")
def stray_quote_headlines(tmp_path_factory):
    """Real vietnews-val articles whose headlines have stray quotes, indexed among
    other articles of the same collection."""
    needs_shared(VIETNEWS)
    with gzip.open(VIETNEWS, "rt", encoding="utf-8") as lines:
        articles = [json.loads(line) for line in itertools.islice(lines, 3000)]
    stray = [a for a in articles if _stray_quotes(a["title"])][:8]
    others = [a for a in articles[:80] if not _stray_quotes(a["title"])]
    assert len(stray) == 8
    path = write_jsonl(tmp_path_factory.mktemp("stray") / "c.jsonl", stray + others)
    index = Index(path.parent / "index")
    index.index_paths([path], workers=2)
    return index, stray


@pytest.mark.slow
def test_real_headlines_with_stray_quotes_find_their_article(stray_quote_headlines):
    index, stray = stray_quote_headlines
    for article in stray:
        results = index.search(article["title"], limit=3)
        assert article["id"] in [h.id for h in results.hits], article["title"]


def test_a_pasted_link_is_text_not_a_field(sample_index):
    results = sample_index.search("bấm vào http://nganhang-xacthuc.example.com/dang-nhap")
    assert [h.id for h in results.hits] == ["cong-nghe-02"]
    with pytest.raises(QueryError, match="unknown field"):
        parse("htp:nganhang")
