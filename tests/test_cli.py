"""The command line: what researchers and scripts see."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_jsonl

from searchidx.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("cli") / "index"
    result = CliRunner().invoke(main, ["index", "--index", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    return str(path)


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def test_index_reports_counts(tmp_path):
    bad = write_jsonl(tmp_path / "c.jsonl", [{"id": "1", "title": "Tin tốt"}, {"id": "2"}])
    (tmp_path / "c.jsonl").write_text((tmp_path / "c.jsonl").read_text() + "{broken\n", encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    result = run("index", str(bad), "--index", str(tmp_path / "ix"), "--rejects", str(rejects))
    assert result.exit_code == 3
    assert "indexed 1, updated 0, skipped 0 unchanged, rejected 2" in result.output
    assert f"{bad}:2: record has neither title nor body" in result.output
    logged = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["line"], r["level"]) for r in logged] == [(2, "rejected"), (3, "rejected")]
    again = run("index", str(bad), "--index", str(tmp_path / "ix"), "--quiet")
    assert "indexed 0, updated 0, skipped 1 unchanged" in again.output


def test_index_progress_shows_the_commit_as_a_phase_of_its_own(tmp_path):
    result = CliRunner().invoke(main, ["index", "--index", str(tmp_path / "ix"), "--workers", "1"])
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert "articles handed over; finishing the index" in lines[-2]  # after every article, before the summary


def test_search_jsonl_contract(index_dir):
    result = run("search", "ha noi", "--index", index_dir, "--limit", "3", "--format", "jsonl")
    hits = [json.loads(line) for line in result.output.splitlines()]
    assert result.exit_code == 0 and len(hits) == 3
    for hit in hits:
        assert {"id", "score", "title", "snippet", "highlights", "rank"} <= set(hit)
        for start, end in hit["highlights"]:
            assert hit["snippet"][start:end]


def test_search_json_has_totals_and_facets(index_dir):
    result = run("search", "Gia Lai", "--index", index_dir, "--format", "json", "--facets")
    data = json.loads(result.output)
    assert data["total"] >= 4 and data["took_ms"] > 0 and data["hits"]
    assert {f["value"] for f in data["facets"]["category"]} >= {"Chính trị - Xã hội"}


def test_search_text_output(index_dir):
    result = run("search", "cồng chiêng", "--index", index_dir)
    assert "Lễ hội cồng chiêng Tây Nguyên" in result.output and "results" in result.output
    assert "Did you mean: cồng chiêng" in run("search", "cồng chiên", "--index", index_dir).output


def test_filters_sort_and_pages(index_dir):
    result = run(
        "search", "", "--index", index_dir, "--category", "the thao", "--sort", "-date",
        "--limit", "2", "--page", "2", "--format", "jsonl",
    )  # fmt: skip
    hits = [json.loads(line) for line in result.output.splitlines()]
    assert [h["rank"] for h in hits] == [3, 4] and all(h["category"] == "Thể thao" for h in hits)
    assert hits[0]["date"] >= hits[1]["date"]


@pytest.mark.parametrize("query", ["Gia OR", "author:x", "NOT", "date:2024-99"])
def test_malformed_query_is_one_line_and_exit_2(index_dir, query):
    result = CliRunner().invoke(main, ["search", query, "--index", index_dir])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("searchidx: error:")
    assert "Traceback" not in result.output


def test_show(index_dir):
    data = json.loads(run("show", "xa-hoi-03", "--index", index_dir, "--format", "json").output)
    assert data["title"].startswith("Hội Chữ thập đỏ trao nhà") and data["date"].startswith("2024-07-15")
    assert "Hội Chữ thập đỏ" in run("show", "xa-hoi-03", "--index", index_dir).output
    missing = CliRunner().invoke(main, ["show", "nope", "--index", index_dir])
    assert missing.exit_code == 2 and "no article with id 'nope'" in missing.output


def test_batch_jsonl_and_trec(index_dir):
    queries = "q1\tGia Lai\nq2\tha noi\n\nbão\n"
    jsonl = run("search", "--batch", "-", "--index", index_dir, "--limit", "2", "--format", "jsonl", input=queries)
    rows = [json.loads(line) for line in jsonl.output.splitlines()]
    assert {r["qid"] for r in rows} == {"q1", "q2", "4"}
    assert all({"qid", "rank", "id", "score", "title", "snippet"} <= set(r) for r in rows)
    trec = run("search", "--batch", "-", "--index", index_dir, "--limit", "2", "--format", "trec", input=queries)
    first = trec.output.splitlines()[0].split()
    assert first[0] == "q1" and first[1] == "Q0" and first[3] == "1" and first[5] == "searchidx"


def test_batch_reports_bad_lines_and_carries_on(index_dir):
    result = CliRunner().invoke(
        main, ["search", "--batch", "-", "--index", index_dir, "--format", "jsonl"], input="a\tauthor:x\nb\tbão\n"
    )
    assert result.exit_code == 2
    assert "line 1 (a): unknown field 'author'" in result.output
    assert '"qid": "b"' in result.output.replace('":"', '": "')


def test_similar_and_explain(index_dir):
    result = run("similar", "xa-hoi-01", "--index", index_dir, "--explain", "--limit", "2")
    assert "key terms:" in result.output and "shares:" in result.output
    hits = [
        json.loads(x)
        for x in run(
            "similar", "--text", "giá vàng tăng mạnh", "--index", index_dir, "--format", "jsonl"
        ).output.splitlines()
    ]
    assert hits[0]["id"] == "kinh-doanh-01" and {"id", "score", "title", "snippet"} <= set(hits[0])
    unknown = CliRunner().invoke(main, ["similar", "nope", "--index", index_dir])
    assert unknown.exit_code == 2 and "no article" in unknown.output
    empty = CliRunner().invoke(main, ["similar", "--text", "và của là", "--index", index_dir])
    assert empty.exit_code == 2 and "nothing to go on" in empty.output


def test_duplicates_stats_delete(tmp_path, index_dir):
    assert "xa-hoi-01" in run("duplicates", "--index", index_dir).output
    stats = json.loads(run("stats", "--index", index_dir, "--format", "json").output)
    assert stats["documents"] == 31 and stats["first_date"].startswith("2024-07-15")
    assert stats["analyzer_version"] >= 1 and "title" in stats["fields"]
    own = tmp_path / "ix"
    run("index", "--index", str(own), "--quiet")
    assert run("delete", "xa-hoi-01", "--index", str(own)).exit_code == 0
    assert json.loads(run("stats", "--index", str(own), "--format", "json").output)["documents"] == 30


def test_missing_index_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["search", "x", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1 and "no index at" in result.output and "searchidx index" in result.output


def test_first_search_at_the_default_location_builds_the_sample(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    env.pop("SEARCHIDX_INDEX", None)
    result = subprocess.run(
        [sys.executable, "-m", "searchidx", "search", "thi đua", "--format", "jsonl", "--limit", "2"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "building one from the sample corpus" in result.stderr
    assert json.loads(result.stdout.splitlines()[0])["id"]
    assert (tmp_path / "data" / "searchidx" / "index" / "CURRENT").exists()


def test_any_ranks_articles_with_some_of_the_words(index_dir):
    every = run("search", "cồng chiêng Đà Nẵng", "--index", index_dir, "--format", "json")
    some = run("search", "cồng chiêng Đà Nẵng", "--index", index_dir, "--format", "json", "--any")
    assert json.loads(every.output)["total"] == 0
    ids = [h["id"] for h in json.loads(some.output)["hits"]]
    assert {"van-hoa-01", "kinh-doanh-04"} <= set(ids)
