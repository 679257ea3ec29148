"""Export for researchers: every hit with ``--limit all``, CSV that reads back as
written, and batch output in the format asked for."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from searchidx import Index
from searchidx.cli import CSV_COLUMNS, main


def run(*args: str, input: str | None = None, code: int = 0):
    result = CliRunner().invoke(main, list(args), input=input)
    assert result.exit_code == code, result.output
    return result


def test_limit_all_streams_every_hit_past_the_first_pages(vietnews_index: Index):
    total = vietnews_index.search("người").total
    assert total > 100  # more than one of iter_hits' pages
    out = run("search", "người", "--index", str(vietnews_index.path), "--limit", "all", "--format", "jsonl")
    ids = [json.loads(line)["id"] for line in out.stdout.splitlines()]
    assert ids == [hit.id for hit in vietnews_index.iter_hits("người")]
    assert len(ids) == len(set(ids)) == total


def test_csv_has_a_header_and_reads_back_hit_for_hit(vietnews_index: Index):
    index = str(vietnews_index.path)
    query = ("search", "công an", "--index", index, "--limit", "all", "--format")
    expected = [json.loads(line) for line in run(*query, "jsonl").stdout.splitlines()]
    rows = list(csv.DictReader(io.StringIO(run(*query, "csv").stdout)))
    assert expected and len(rows) == len(expected)
    assert tuple(rows[0]) == CSV_COLUMNS
    for row, hit in zip(rows, expected, strict=True):
        assert row["id"] == hit["id"] and row["title"] == hit["title"] and row["snippet"] == hit["snippet"]
        assert int(row["rank"]) == hit["rank"] and float(row["score"]) == pytest.approx(hit["score"])


def test_csv_sorted_by_date_leaves_the_score_empty(sample_index: Index):
    out = run("search", "bão", "--index", str(sample_index.path), "--sort", "-date", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and all(row["score"] == "" for row in rows)
    assert [row["date"] for row in rows] == sorted((row["date"] for row in rows), reverse=True)


def test_batch_json_is_one_array_with_a_result_per_query(sample_index: Index):
    out = run(
        "search", "--batch", "-", "--index", str(sample_index.path), "--format", "json", input="a\tbão\nb\tha noi\n"
    )
    data = json.loads(out.stdout)
    assert [(d["qid"], d["query"]) for d in data] == [("a", "bão"), ("b", "ha noi")]
    assert data[0]["total"] == sample_index.search("bão").total


def test_batch_csv_has_one_header_and_a_qid_column(sample_index: Index):
    out = run(
        "search", "--batch", "-", "--index", str(sample_index.path), "--format", "csv", input="a\tbão\nb\tha noi\n"
    )
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert rows[0] == ["qid", *CSV_COLUMNS]
    assert {r[0] for r in rows[1:]} == {"a", "b"} and ["qid", *CSV_COLUMNS] not in rows[1:]


def test_a_query_with_batch_is_an_error(sample_index: Index):
    out = run("search", "bão", "--batch", "-", "--index", str(sample_index.path), input="lũ\n", code=2)
    assert "not both" in out.output


def test_page_needs_a_numeric_limit(sample_index: Index):
    run("search", "bão", "--index", str(sample_index.path), "--limit", "all", "--page", "2", code=2)
    run("search", "bão", "--index", str(sample_index.path), "--limit", "many", code=2)
