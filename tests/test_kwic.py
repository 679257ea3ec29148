"""Keyword in context: every occurrence, in the original text, cut at whole words,
aligned on the match; found with or without diacritics."""

from __future__ import annotations

import csv
import io
import re

from click.testing import CliRunner

from searchidx import Index
from searchidx.cli import main
from searchidx.kwic import KwicLine


def _texts(index: Index, ids: set[str]) -> dict[tuple[str, str], str]:
    return {(i, f): getattr(index.show(i), f) for i in ids for f in ("title", "sapo", "body")}


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_occurrence_is_a_line_of_original_text_cut_at_whole_words(vietnews_index: Index):
    lines = list(vietnews_index.kwic("công an", width=30, limit=None))
    ids = {hit.id for hit in vietnews_index.iter_hits("công an", snippets=False)}
    texts = _texts(vietnews_index, ids)
    expected = sum(len(re.findall(r"(?<!\w)công an(?!\w)", t, re.IGNORECASE)) for t in texts.values())
    assert len(lines) == expected > 100
    for line in lines:
        text = texts[line.id, line.field]
        assert "công an" in line.match.lower() and "_" not in line.match + line.left + line.right
        assert _flat(text[line.start :]).startswith(line.match)
        before = _flat(text[: line.start])
        assert before.endswith(line.left) and len(line.left) <= 30
        # the context starts and ends at a word boundary of the original
        cut = before[: len(before) - len(line.left)]
        assert not cut or cut.endswith(" ") or not line.left
        after = _flat(text[line.start :])[len(line.match) :].lstrip()
        assert after.startswith(line.right)
        rest = after[len(line.right) :]
        assert not rest or rest.startswith(" ") or not line.right


def test_a_query_without_diacritics_finds_the_same_occurrences(vietnews_index: Index):
    def where(query: str) -> list[tuple[str, str, int]]:
        return sorted((x.id, x.field, x.start) for x in vietnews_index.kwic(query, limit=None))

    assert where("canh sat") == where("cảnh sát") != []


def test_a_phrase_is_matched_whole_and_a_word_never_inside_another(vietnews_index: Index):
    phrase = list(vietnews_index.kwic('"cảnh sát giao thông"', limit=None))
    assert phrase and all("cảnh sát giao thông" in x.match.lower() for x in phrase)
    # "an" is a word of the query "công an", but "an toàn" is no occurrence of it
    assert not [x for x in vietnews_index.kwic("công an", limit=None) if x.match.lower() == "an toàn"]


def test_lines_sort_by_left_context_right_context_or_date(vietnews_index: Index, sample_index: Index):
    left = list(vietnews_index.kwic("cảnh sát", sort="left", limit=None))
    assert [x.left.lower().split()[::-1] for x in left] == sorted(x.left.lower().split()[::-1] for x in left)
    right = list(vietnews_index.kwic("cảnh sát", sort="right", limit=None))
    assert [x.right.lower() for x in right] == sorted(x.right.lower() for x in right)
    dated = [x.date for x in sample_index.kwic("mưa", sort="date", limit=None)]
    assert len(dated) > 3 and dated == sorted(dated)  # type: ignore[type-var]
    assert len(list(vietnews_index.kwic("cảnh sát", limit=5))) == 5


def test_cli_aligns_lines_on_the_match_and_writes_csv(vietnews_index: Index):
    index = str(vietnews_index.path)
    out = CliRunner().invoke(main, ["kwic", "cảnh sát", "--index", index, "--width", "25", "--limit", "12"])
    assert out.exit_code == 0, out.output
    rows = [r for r in out.stdout.splitlines() if r]
    assert len(rows) == 12
    assert all(r[11 + 25 + 1 :].lower().startswith("cảnh sát") for r in rows), rows
    out = CliRunner().invoke(main, ["kwic", "cảnh sát", "--index", index, "--limit", "all", "--format", "csv"])
    table = list(csv.DictReader(io.StringIO(out.stdout)))
    assert tuple(table[0]) == tuple(KwicLine.__dataclass_fields__)
    assert len(table) == len(list(vietnews_index.kwic("cảnh sát", limit=None)))


def test_a_bad_query_or_option_is_one_line_and_exit_code_2(sample_index: Index):
    index = str(sample_index.path)
    bad = (["bão date:2024-13"], ["nosuch:bão"], ["bão", "--limit", "many"], ["bão", "--width", "0"])
    for args in (["kwic", *b, "--index", index] for b in bad):
        out = CliRunner().invoke(main, args)
        assert out.exit_code == 2, (args, out.output)
        reasons = [line for line in out.output.splitlines() if line.startswith(("Error:", "searchidx: error"))]
        assert "Traceback" not in out.output and len(reasons) == 1, out.output
    assert CliRunner().invoke(main, ["kwic", "bão", "--index", index]).exit_code == 0  # the index is unharmed
