"""What the command line prints: ids typed in any Unicode form, no raw control
characters on a terminal, TREC run files that evaluation tools can read, and a score
that means relevance."""

from __future__ import annotations

import json
import unicodedata
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from conftest import write_jsonl

from searchidx import Index
from searchidx.cli import main

HOSTILE_TITLE = "Tin nóng \x1b[2J\x1b]0;pwned\x07 về bão \x9b31m số 3"
ARTICLES = [
    {"id": "Vi tinh/VT_TT_ (2446)", "title": "Máy tính bảng giá rẻ về bão", "body": "Bão giá máy tính.",
     "date": "2024-07-01"},
    {"id": "bài-viết-đầu", "title": "Bão số 3 đổ bộ miền Bắc", "body": "Mưa lớn vì bão số 3 ở Hà Nội.",
     "date": "2024-07-03"},
    {"id": "esc-1", "title": HOSTILE_TITLE, "body": "Bão \x1b[31m đỏ \x1b[0m và mưa lớn.", "date": "2024-07-02"},
]  # fmt: skip


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> str:
    corpus = write_jsonl(tmp_path_factory.mktemp("out") / "c.jsonl", ARTICLES)
    path = corpus.parent / "index"
    result = CliRunner().invoke(main, ["index", str(corpus), "--index", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    return str(path)


def run(index_dir: str, *args: str, color: bool = False):
    result = CliRunner().invoke(main, [*args, "--index", index_dir], color=color)
    assert result.exit_code == 0, result.output
    return result


def test_ids_are_found_in_any_unicode_form(index_dir, tmp_path):
    nfd = unicodedata.normalize("NFD", "bài-viết-đầu")
    assert nfd != "bài-viết-đầu"
    assert "Bão số 3 đổ bộ" in run(index_dir, "show", nfd).stdout
    assert run(index_dir, "similar", nfd, "--format", "jsonl").exit_code == 0
    own = tmp_path / "ix"
    Index(own).add(Index.open(index_dir).show(i) for i in ("bài-viết-đầu", "esc-1"))
    assert Index(own).delete([nfd, "\u200besc-1"]) == 2


def test_control_characters_never_reach_the_terminal_raw(index_dir):
    for args in (["search", "bão"], ["show", "esc-1"]):
        shown = run(index_dir, *args, color=True).stdout
        assert "Tin nóng" in shown
        for raw in ("\x1b[2J", "\x1b]0;", "\x07", "\x9b", "\x1b[31m đỏ"):
            assert raw not in shown, (args, raw)
        assert "␛[2J␛]0;pwned␇" in shown
    data = json.loads(run(index_dir, "show", "esc-1", "--format", "json").stdout)
    assert data["title"] == HOSTILE_TITLE  # JSON keeps the data as it is


def test_file_names_with_control_characters_are_shown_safely(tmp_path):
    bad = write_jsonl(tmp_path / "x\x1b]0;pwned\x07.jsonl", [{"id": "1"}, {"id": "2", "title": "Tin vắn"}])
    result = CliRunner().invoke(main, ["index", str(bad), "--index", str(tmp_path / "ix")], color=True)
    assert result.exit_code == 3 and "record has neither title nor body" in result.stderr
    assert "\x1b]0;" not in result.stderr and "\x07" not in result.stderr


def test_trec_run_files_have_safe_ids_and_a_run_tag(index_dir):
    lines = run(index_dir, "search", "máy tính", "--format", "trec", "--run-tag", "bm25f").stdout.splitlines()
    columns = lines[0].split(" ")
    assert columns == ["1", "Q0", "Vi%20tinh/VT_TT_%20(2446)", "1", columns[4], "bm25f"]
    assert unquote(columns[2]) == "Vi tinh/VT_TT_ (2446)" and float(columns[4]) > 0
    batch = CliRunner().invoke(
        main, ["search", "--batch", "-", "--index", index_dir, "--format", "trec"], input="q 1\tbão\n"
    )
    assert all(len(line.split(" ")) == 6 for line in batch.stdout.splitlines())
    assert batch.stdout.startswith("q%201 Q0 ") and batch.stdout.splitlines()[0].endswith(" searchidx")


def test_sorted_by_date_the_score_is_absent_not_the_sort_key(index_dir):
    by_date = json.loads(run(index_dir, "search", "bão", "--sort", "-date", "--format", "json").stdout)["hits"]
    assert [h["date"][:10] for h in by_date] == ["2024-07-03", "2024-07-02", "2024-07-01"]
    assert all(h["score"] is None for h in by_date)
    by_relevance = json.loads(run(index_dir, "search", "bão", "--format", "json").stdout)["hits"]
    assert all(0 < h["score"] < 100 for h in by_relevance)
    assert "score" not in run(index_dir, "search", "bão", "--sort", "date").stdout
    trec = run(index_dir, "search", "bão", "--sort", "-date", "--format", "trec").stdout.splitlines()
    scores = [float(line.split(" ")[4]) for line in trec]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 3  # trec_eval sorts by score
