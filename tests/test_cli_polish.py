"""The command line as a researcher meets it: colour as asked, a pager for long
output on a terminal, options before the command, short snippets, and a reason
when nothing matched."""

from __future__ import annotations

import os
import pty
import re
import sys
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchidx import Index
from searchidx.cli import main

ROOT = Path(__file__).resolve().parent.parent
ANSI = "\x1b["


def run(*args: str, color: bool = False, env: dict[str, str] | None = None, code: int = 0):
    result = CliRunner(env=env).invoke(main, list(args), color=color)
    assert result.exit_code == code, result.output
    return result


def test_no_color_and_color_option_decide_the_colour(sample_index: Index):
    index = str(sample_index.path)
    assert ANSI in run("--index", index, "search", "bão", color=True).stdout  # a terminal, by default
    assert ANSI not in run("--index", index, "search", "bão", color=True, env={"NO_COLOR": "1"}).stdout
    assert ANSI not in run("--color", "never", "--index", index, "search", "bão", color=True).stdout
    assert ANSI in run("--color", "always", "--index", index, "search", "bão", color=False).stdout
    forced = run("--color", "always", "--index", index, "search", "bão", env={"NO_COLOR": "1"}).stdout
    assert ANSI in forced


def test_index_before_the_command_and_after_it(sample_index: Index, tmp_path: Path):
    index = str(sample_index.path)
    assert "xa-hoi-01" in run("--index", index, "search", "bão").stdout
    assert "xa-hoi-01" in run("--index", str(tmp_path / "none"), "search", "bão", "--index", index).stdout
    missing = run("--index", str(tmp_path / "none"), "search", "bão", code=1)
    assert "no index" in missing.output


def _on_a_terminal(*args: str, lines: int = 10, **env: str) -> str:
    """What ``searchidx ARGS`` shows on a pseudo-terminal of ``lines`` rows."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "LINES": str(lines), "COLUMNS": "100", **env}
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(sys.executable, [sys.executable, "-m", "searchidx", *args], environment)
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    return out.decode("utf-8", "replace")


def test_long_output_on_a_terminal_goes_through_the_pager(sample_index: Index):
    index = str(sample_index.path)
    pager = {"PAGER": "sed s/^/paged:/"}
    assert "paged:" in _on_a_terminal("--index", index, "search", "ha noi", **pager)
    assert "paged:" not in _on_a_terminal("--index", index, "search", "ha noi", "--limit", "1", lines=40, **pager)
    assert "paged:" not in _on_a_terminal("--no-pager", "--index", index, "search", "ha noi", **pager)
    # not a terminal: never paged
    assert "paged:" not in run("--index", index, "search", "ha noi", env=pager).stdout


def test_snippet_chars_bounds_every_snippet(vietnews_index: Index):
    hits = vietnews_index.search("công an", limit=20, snippet_chars=90).hits
    assert all(0 < len(h.snippet) <= 90 for h in hits)
    assert all(e <= len(h.snippet) for h in hits for _, e in h.highlights)
    assert max(len(h.snippet) for h in vietnews_index.search("công an", limit=20).hits) > 200
    out = run("--index", str(vietnews_index.path), "search", "công an", "--snippet-chars", "60").stdout
    snippets = [line.strip() for line in out.splitlines()[1:] if line.startswith("     ") and "·" not in line]
    assert snippets and all(len(s) <= 60 for s in snippets)


def test_nothing_matched_says_why_where_the_index_knows(sample_index: Index, vietnews_index: Index):
    def warnings(index: Index, query: str, **options: object) -> list[str]:
        return index.search(query, **options).warnings

    assert warnings(sample_index, "bão", sources=("baomau",)) == [
        "--source baomau: no article has this source; did you mean baomau.vn?"
    ]
    assert "did you mean Thể thao?" in warnings(sample_index, "bão category:thethao")[0]
    assert warnings(sample_index, "bão", limit=1, offset=30) == ["3 results; page 31 is past the last page, 3"]
    assert warnings(sample_index, "bão") == []
    undated = ["no article in this index has a date, so a date filter matches none"]
    assert warnings(vietnews_index, "công an", date_from=datetime(2020, 1, 1)) == undated
    assert warnings(vietnews_index, "công an date:2024") == undated
    out = run("--index", str(sample_index.path), "search", "bão", "--source", "VnExpress", "--page", "2")
    assert "searchidx: warning: --source VnExpress: no article has this source" in out.stderr


def test_help_shows_examples_and_plain_date_formats():
    assert 'searchidx search "ha noi"' in run("search", "--help").stdout
    for command in main.commands:
        text = run(command, "--help").stdout
        assert "%Y" not in text, command
    assert "--from YYYY-MM-DD" in run("kwic", "--help").stdout


def test_similar_explain_shows_the_weights_of_the_key_terms(sample_index: Index):
    out = run("--index", str(sample_index.path), "similar", "xa-hoi-02", "--explain", "--limit", "1").stdout
    assert re.search(r"^key terms: \w[^,]* \d+\.\d\d, ", out, re.MULTILINE), out


@pytest.mark.parametrize("args", [["search", "--batch", "-", "bão"], ["similar", "xa-hoi-01", "--limit", "all"]])
def test_contradictory_options_are_errors(sample_index: Index, args: list[str]):
    run("--index", str(sample_index.path), *args, code=2)
