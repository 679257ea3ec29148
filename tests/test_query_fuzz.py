"""Hostile queries: whatever is typed or pasted gets results or one line of error,
never a traceback, and never a runaway in time or memory.

A seeded generator mixes the query language (operators, quotes, parentheses,
fields, dates) with Vietnamese syllables typed with and without diacritics, NFD
text, junk characters and very long inputs; every crasher a fuzz run found is kept
below as an explicit regression case.
"""

from __future__ import annotations

import random
import time
import unicodedata
from datetime import datetime

import pytest
from click.testing import CliRunner

from searchidx import Index
from searchidx.cli import main
from searchidx.errors import QueryError, SearchidxError

SEED = 20261129
LIBRARY_QUERIES = 1500
CLI_QUERIES = 120
SECONDS_PER_QUERY = 2.0  # of CPU time: other processes on a busy machine must not fail the test

SYLLABLES = " ".join(
    (
        "Hà Nội Gia Lai thi đua bão số 3 giá vàng tăng mạnh cồng chiêng Tây Nguyên Đà Nẵng "
        "học sinh ngân hàng lãi suất COVID-19 vắc xin Đông y thuỷ mặc hoà Việt Nam 3,5 tỷ đồng "
        "ha noi gia lai thi dua bao gia vang cong chieng da nang hoc sinh viet nam dong y",
    )
).split()
OPERATORS = ["AND", "OR", "NOT", "-", "(", ")", "((", "))", '"', "“", "”", "„", "'", "|", "&&", "+"]
FIELDS = ["title:", "sapo:", "body:", "category:", "source:", "tags:", "date:", "author:", "TITLE:", "x_y:", ":"]
DATES = [
    "2024", "2024-07", "2024-07-15", "2024-13", "2024-02-30", "9999", "9999-12", "9999-12-31",
    "0001", "0001-01", "0001-01-01", ">=2024-01-01", ">9999-12-31", "<0001-01-01", "<=9999", ">9999",
    "..2023-12-31", "2024-07-01..2024-07-31", "9999..", "..0001", "0001..9999-12-31", "2024..2023", "hôm-qua",
]  # fmt: skip
JUNK = [
    "\x00", "\x1b[31m", "\x07", "\u200b", "\ufeff", "\ufffd", "\udcff", "\ud800", "🙂", "𝕏", "\\", "*", "?",
    "~", "^", "…", "–", "!", "\t", "\n", "\r", "\u0301", "\u202e", "%s", "{}", "'; DROP TABLE", "\u3000",
]  # fmt: skip


def _piece(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.45:
        return rng.choice(SYLLABLES)
    if kind < 0.6:
        return rng.choice(OPERATORS)
    if kind < 0.72:
        field = rng.choice(FIELDS)
        return field + (rng.choice(DATES) if field == "date:" else rng.choice([*SYLLABLES, '"Gia Lai"', "(", ""]))
    if kind < 0.8:
        return f'"{" ".join(rng.choices(SYLLABLES, k=rng.randint(0, 4)))}"'
    if kind < 0.95:
        return rng.choice(JUNK)
    return "".join(rng.choices(SYLLABLES, k=rng.randint(2, 5)))  # run together


def _long(rng: random.Random) -> str:
    n = rng.choice([300, 1000, 2000])
    return rng.choice([
        "(" * n + "bão" + ")" * n,
        "NOT " * n + "bão",
        " ".join(rng.choices(SYLLABLES, k=n)),
        " ".join(f"-{rng.choice(SYLLABLES)}{i}" for i in range(n)),
        rng.choice("aăâbđ") * n,
        '"' + " ".join(rng.choices(SYLLABLES, k=n)) + '"',
        " OR ".join(rng.choices(SYLLABLES, k=n)),
    ])  # fmt: skip


def fuzz_queries(count: int, seed: int = SEED) -> list[str]:
    """``count`` hostile queries, the same for the same seed."""
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        if rng.random() < 0.02:
            query = _long(rng)
        else:
            pieces = [_piece(rng) for _ in range(rng.randint(1, 10))]
            query = "".join(p + rng.choice([" ", " ", " ", ""]) for p in pieces)
        if rng.random() < 0.1:
            query = unicodedata.normalize("NFD", query)
        if rng.random() < 0.05:
            query = query.upper()
        queries.append(query)
    return queries


def fuzz_options(rng: random.Random) -> dict[str, object]:
    """Search options worth trying with a query: edge dates, sorts, filters."""
    options: dict[str, object] = {}
    if rng.random() < 0.1:
        options["date_from"] = rng.choice([datetime(1, 1, 1), datetime(9999, 12, 31), datetime(2024, 7, 1)])
    if rng.random() < 0.1:
        options["date_to"] = rng.choice([datetime(1, 1, 1), datetime(9999, 12, 31), datetime(2024, 7, 31)])
    if rng.random() < 0.1:
        options["sort"] = rng.choice(["date", "-date"])
    if rng.random() < 0.05:
        options["match_any"] = True
    if rng.random() < 0.05:
        options["categories"] = (rng.choice([*SYLLABLES, *JUNK]),)
    return options


def check_library(index: Index, query: str, **options: object) -> None:
    """Results or a one-line user error, quickly; anything else fails the test."""
    started = time.process_time()
    try:
        index.search(query, **options)
    except SearchidxError as error:
        assert "\n" not in str(error) and str(error), (query, str(error))
    elapsed = time.process_time() - started
    assert elapsed < SECONDS_PER_QUERY, f"{elapsed:.1f}s for {query[:80]!r} {options}"


@pytest.mark.slow
def test_fuzzed_queries_get_results_or_one_line_errors(sample_index):
    rng = random.Random(SEED)
    for query in fuzz_queries(LIBRARY_QUERIES):
        check_library(sample_index, query, **fuzz_options(rng))


def check_cli(index: Index, *args: str) -> None:
    started = time.process_time()
    result = CliRunner().invoke(main, [*args, "--index", str(index.path)])
    elapsed = time.process_time() - started
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exc_info)
    assert result.exit_code in (0, 2), (args, result.output)
    if result.exit_code == 2:
        errors = [line for line in result.stderr.splitlines() if line.startswith("searchidx: error:")]
        assert len(errors) == 1 or result.stderr.startswith("Usage:"), (args, result.stderr)
    assert elapsed < SECONDS_PER_QUERY, f"{elapsed:.1f}s for {args}"


@pytest.mark.slow
def test_fuzzed_queries_on_the_command_line(sample_index):
    rng = random.Random(SEED + 1)
    for query in rng.sample(fuzz_queries(LIBRARY_QUERIES), CLI_QUERIES):
        check_cli(sample_index, "search", query, "--format", rng.choice(["text", "json", "jsonl", "trec"]))


# --- every crasher found, kept (with neighbours at the same edges that main survived) ----

CRASHERS = [
    # OverflowError at the edges of the calendar
    "date:9999-12", "date:9999-12-31", "date:9999", "date:>9999-12-31", "date:>=9999-12-31", "date:<=9999",
    "date:0001-01", "date:0001-01-01", "date:<0001-01-01", "date:0001..9999-12-31", "bão date:9999..",
    # RecursionError: deep nesting, long chains, many clauses
    "(" * 300 + "bão" + ")" * 300, "NOT " * 1000 + "bão", "- " * 1000 + "bão", "-" * 1000 + "bão",
    " ".join(["Hà Nội"] * 1000), " ".join(f"-từ{i}" for i in range(1000)), " OR ".join(["bão"] * 1000),
    "title:(" * 300 + "bão" + ")" * 300, '"' + " ".join(["bão số"] * 1000) + '"',
    # lone surrogates (bytes that are not UTF-8, decoded with surrogateescape) reach the CRF
    "Hà N\udcffội", "\udcff", "bão \ud800", '"Gia \udcc3Lai"', "category:\udcff",
    # "did you mean" on one long unknown word: minutes and gigabytes
    "a" * 2000, "ă" * 10000, "x" * 100, "bão " + "đ" * 500,
]  # fmt: skip


@pytest.mark.parametrize("query", CRASHERS, ids=lambda q: repr(q[:40]))
def test_crashers_get_results_or_one_line_errors(sample_index, query):
    check_library(sample_index, query)


@pytest.mark.parametrize(
    "options",
    [
        {"date_to": datetime(9999, 12, 31)},
        {"date_from": datetime(9999, 12, 31), "date_to": datetime(9999, 12, 31)},
        {"date_from": datetime(1, 1, 1), "date_to": datetime(1, 1, 1)},
        {"categories": ("\udcff",)},
        {"sources": ("x\ud800",)},
    ],
)
def test_edge_options_get_results_or_one_line_errors(sample_index, options):
    check_library(sample_index, "bão", **options)
    check_library(sample_index, "", **options)


def test_lone_surrogates_are_refused_as_a_query_error(sample_index):
    for query in ("Hà N\udcffội", "\ud800"):
        with pytest.raises(QueryError, match="not valid UTF-8"):
            sample_index.search(query)
    with pytest.raises(QueryError, match="not valid UTF-8"):
        sample_index.show("x\udcff")
    with pytest.raises(QueryError, match="not valid UTF-8"):
        sample_index.similar("x\udcff")
    with pytest.raises(QueryError, match="not valid UTF-8"):
        sample_index.similar(text="giá vàng \udcff")


@pytest.mark.parametrize(
    "args",
    [
        ["search", "-COVID x"],
        ["search", "-COVID"],
        ["search", "--to", "9999-12-31", "bão"],
        ["search", "bão", "--from", "0001-01-01", "--sort", "-date"],
        ["search", "Hà N\udcffội"],
        ["search", "(" * 300 + "bão" + ")" * 300],
        ["search", "a" * 2000],
        ["show", "x\udcff"],
        ["similar", "x\udcff"],
    ],
    ids=lambda args: repr(args)[:50],
)
def test_cli_crashers_get_one_line(sample_index, args):
    check_cli(sample_index, *args)


def test_a_query_starting_with_a_dash_needs_no_double_dash(sample_index):
    def ids(*args: str) -> list[str]:
        result = CliRunner().invoke(main, ["search", "--index", str(sample_index.path), "--format", "jsonl", *args])
        assert result.exit_code == 0, result.output
        return [line.split('"id":"')[1].split('"')[0] for line in result.stdout.splitlines()]

    expected = ids("--", "-COVID bão")
    assert expected and ids("-COVID bão") == expected == ids("--limit", "10", "-COVID bão")
    assert ids("-COVID") == ids("--", "-COVID")


def test_a_batch_with_bad_bytes_reports_the_line_and_goes_on(sample_index, tmp_path):
    batch = tmp_path / "queries.tsv"
    batch.write_bytes("q1\tHà N".encode() + b"\xff" + "ội\nq2\tbão\n".encode())
    result = CliRunner().invoke(
        main, ["search", "--batch", str(batch), "--index", str(sample_index.path), "--format", "jsonl"]
    )
    assert result.exit_code == 2
    assert "line 1 (q1)" in result.stderr and "not valid UTF-8" in result.stderr
    assert '"qid":"q2"' in result.stdout
