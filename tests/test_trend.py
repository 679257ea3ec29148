"""searchidx.trend and ``searchidx trend``: counts per period, exact against search,
on the shipped sample and on the real 24h.com.vn crawl."""

from __future__ import annotations

import csv
import io
import itertools
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from conftest import SHARED, needs_shared, write_jsonl

from searchidx import Index, Trend
from searchidx.article import Article
from searchidx.cli import main, sparkline
from searchidx.corpus import read_path
from searchidx.errors import QueryError
from searchidx.trend import default_period, period_label

CRAWL = SHARED / "corpus" / "24h-2026-01.csv"


def _assert_matches_search(index: Index, trend: Trend, categories: tuple[str, ...] = ()) -> None:
    """Every row's count is the total ``search`` gives over the row's days, and
    its article count the total of an empty query with the same filters."""
    for row in trend.rows:
        days = {"date_from": _midnight(row.start), "date_to": _midnight(row.end)}
        found = index.search(row.query, limit=0, categories=categories, snippets=False, **days)  # type: ignore[arg-type]
        assert row.count == found.total, (row.period, row.query)
        everything = index.search("", limit=0, categories=categories, snippets=False, **days)  # type: ignore[arg-type]
        assert row.articles == everything.total, row.period


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def _assert_consecutive(trend: Trend) -> None:
    """Periods follow one another without a gap, in date order, over the range."""
    starts = list(dict.fromkeys((row.start, row.end) for row in trend.rows))
    assert starts[0][0] == trend.date_from and starts[-1][1] == trend.date_to
    for (_, end), (start, _) in itertools.pairwise(starts):
        assert start == end + timedelta(days=1)


# --- library, on the shipped sample ---------------------------------------------------------


def test_counts_per_month_equal_search_totals_over_the_same_days(sample_index: Index) -> None:
    trend = sample_index.trend(["bão", "ha noi", '"Gia Lai"', "bão OR lũ -miền"], by="month")
    assert trend.by == "month" and {row.query for row in trend.rows} == {q.query for q in trend.queries}
    assert sum(row.count for row in trend.rows if row.query == "bão") == 3
    _assert_matches_search(sample_index, trend)


def test_a_query_no_article_has_all_the_words_of_is_loosened_as_search_loosens_it(sample_index: Index) -> None:
    query = "bão số 3 gây mưa lớn Hà Nội"
    found = sample_index.search(query, limit=0)
    assert found.matching == "most" and found.total == 3  # 4 of its 8 main words must match
    assert sample_index.trend([query]).queries[0].total == 3


def test_every_period_of_the_range_appears_in_order_zero_periods_included(sample_index: Index) -> None:
    trend = sample_index.trend(["bão"], by="month", date_from=date(2024, 6, 10), date_to=date(2025, 1, 5))
    assert trend.periods() == [f"2024-{m:02d}" for m in range(6, 13)] + ["2025-01"]
    assert trend.counts("bão") == [0, 0, 0, 3, 0, 0, 0, 0]
    first, last = trend.rows[0], trend.rows[-1]
    assert (first.start, first.end, last.start, last.end) == (
        date(2024, 6, 10), date(2024, 6, 30), date(2025, 1, 1), date(2025, 1, 5),
    )  # fmt: skip
    _assert_consecutive(trend)


def test_weeks_are_iso_weeks_cut_to_the_range(sample_index: Index) -> None:
    trend = sample_index.trend(["bão", "lũ"], by="week", date_from=date(2024, 9, 1), date_to=date(2024, 9, 30))
    assert trend.periods()[0] == "2024-W35" and trend.rows[0].start == date(2024, 9, 1)
    assert all(row.start.weekday() == 0 for row in trend.rows[2:])
    _assert_consecutive(trend)
    _assert_matches_search(sample_index, trend)


def test_share_is_the_count_out_of_the_periods_articles(sample_index: Index) -> None:
    trend = sample_index.trend(["bão"], by="year")
    assert [(r.period, r.count, r.articles) for r in trend.rows] == [("2024", 3, 22), ("2025", 0, 9)]
    assert trend.rows[0].share == pytest.approx(3 / 22) and trend.rows[1].share == 0


def test_the_range_defaults_to_the_dated_articles_and_the_period_to_its_length(sample_index: Index) -> None:
    trend = sample_index.trend(["bão"])
    assert (trend.date_from, trend.date_to) == (date(2024, 7, 15), date(2025, 8, 30))
    assert trend.by == "week"  # 412 days
    assert sample_index.trend(["bão"], date_from=date(2024, 9, 1), date_to=date(2024, 9, 30)).by == "day"


@pytest.mark.parametrize(
    ("days", "period"), [(1, "day"), (60, "day"), (61, "week"), (548, "week"), (549, "month"), (3654, "year")]
)
def test_the_default_period_follows_the_length_of_the_range(days: int, period: str) -> None:
    first = date(2020, 1, 1)
    assert default_period(first, first + timedelta(days=days - 1)) == period


def test_period_labels_name_the_period() -> None:
    day = date(2026, 2, 3)
    assert [period_label(day, by) for by in ("day", "week", "month", "year")] == [  # type: ignore[arg-type]
        "2026-02-03", "2026-W06", "2026-02", "2026",
    ]  # fmt: skip


def test_filters_narrow_the_counts_and_the_shares(sample_index: Index) -> None:
    category = sample_index.show("thoi-tiet-01").category
    trend = sample_index.trend(["bão"], by="year", categories=[category])
    assert sum(row.count for row in trend.rows) >= 1
    _assert_matches_search(sample_index, trend, categories=(category,))


def test_articles_without_a_date_are_counted_apart(tmp_path: Path) -> None:
    records = [
        {"id": "a", "title": "Bão số 3 đổ bộ", "date": "2024-09-07"},
        {"id": "b", "title": "Bão số 3 suy yếu", "date": "2024-09-08T02:00:00+07:00"},
        {"id": "c", "title": "Bão và lũ ở miền núi"},
        {"id": "d", "title": "Giá vàng hôm nay"},
    ]
    index = Index(tmp_path / "index")
    index.index_paths([write_jsonl(tmp_path / "c.jsonl", records)])
    trend = index.trend(["bão", "vàng"])
    assert [(q.query, q.total, q.undated) for q in trend.queries] == [("bão", 2, 1), ("vàng", 0, 1)]
    assert [(row.period, row.count, row.articles) for row in trend.rows if row.query == "bão"] == [
        ("2024-09-07", 1, 1), ("2024-09-08", 1, 1),
    ]  # fmt: skip


def test_an_index_without_dates_gives_no_periods_but_the_undated_count(tmp_path: Path) -> None:
    index = Index(tmp_path / "index")
    index.index_paths([write_jsonl(tmp_path / "c.jsonl", [{"id": "a", "title": "Bão số 3"}])])
    trend = index.trend(["bão"])
    assert trend.rows == [] and trend.queries[0].undated == 1 and trend.date_from is None


def test_bad_periods_and_empty_ranges_are_refused(sample_index: Index) -> None:
    with pytest.raises(QueryError, match="unknown period"):
        sample_index.trend(["bão"], by="decade")  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="after"):
        sample_index.trend(["bão"], date_from=date(2025, 1, 2), date_to=date(2025, 1, 1))
    with pytest.raises(QueryError):
        sample_index.trend([])


def test_to_dict_carries_the_range_the_totals_and_every_row(sample_index: Index) -> None:
    data = sample_index.trend(["bão"], by="year").to_dict()
    assert data["by"] == "year" and data["from"] == "2024-07-15" and data["to"] == "2025-08-30"
    assert data["queries"] == [{"query": "bão", "total": 3, "undated": 0}]
    assert data["rows"][0] == {  # type: ignore[index]
        "period": "2024", "start": "2024-07-15", "end": "2024-12-31", "query": "bão",
        "count": 3, "articles": 22, "share": round(3 / 22, 6),
    }  # fmt: skip


# --- command line -----------------------------------------------------------------------------


def _run(index: Index, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["trend", "--index", str(index.path), *args])
    return result.exit_code, result.stdout, result.stderr


def test_the_table_shows_a_chart_line_per_query_and_a_row_per_period(sample_index: Index) -> None:
    code, out, _ = _run(sample_index, "bão", "ha noi", "--by", "year")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("bão") and "3 articles" in lines[0] and "█" in lines[0]
    assert lines[1].startswith("ha noi")
    assert "per year, 2024-07-15 to 2025-08-30" in out
    assert lines[-2].split()[:4] == ["2024", "22", "3", "13.6%"]


def test_csv_has_a_header_and_a_row_per_period_and_query(sample_index: Index) -> None:
    code, out, _ = _run(sample_index, "bão", "lũ", "--by", "year", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 4
    assert rows[0] == {
        "period": "2024", "start": "2024-07-15", "end": "2024-12-31", "query": "bão",
        "count": "3", "articles": "22", "share": "0.136364",
    }  # fmt: skip


def test_json_and_jsonl_carry_the_same_rows(sample_index: Index) -> None:
    _, out, _ = _run(sample_index, "bão", "--by", "month", "--format", "json")
    whole = orjson.loads(out)
    _, lines, _ = _run(sample_index, "bão", "--by", "month", "--format", "jsonl")
    assert whole["rows"] == [orjson.loads(line) for line in lines.splitlines()]
    assert len(whole["rows"]) == 14


def test_the_command_says_how_many_matches_have_no_date(tmp_path: Path) -> None:
    index = Index(tmp_path / "index")
    records = [{"id": "a", "title": "Bão số 3", "date": "2024-09-07"}, {"id": "b", "title": "Bão lớn"}]
    index.index_paths([write_jsonl(tmp_path / "c.jsonl", records)])
    code, _, err = _run(index, "bão", "--format", "csv")
    assert code == 0 and "bão: 1 matching articles have no date" in err


def test_a_bad_query_is_one_line_and_exit_code_2(sample_index: Index) -> None:
    code, _, err = _run(sample_index, "date:2024-13")
    assert code == 2 and err.startswith("searchidx: error:") and len(err.splitlines()) == 1


def test_the_sparkline_fits_its_width_and_shows_gaps() -> None:
    assert sparkline([0, 1, 2, 4], 10) == "·▂▄█"
    assert len(sparkline(list(range(100)), 30)) <= 30


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_draws_a_chart_file(sample_index: Index, tmp_path: Path, suffix: str) -> None:
    pytest.importorskip("matplotlib", reason="the plot extra (pip install 'searchidx[plot]') is not installed")
    target = tmp_path / f"trend{suffix}"
    code, _, err = _run(sample_index, "bão", "lũ", "--by", "month", "--plot", str(target))
    assert code == 0 and f"chart written to {target}" in err
    data = target.read_bytes()
    if suffix == ".png":
        assert data.startswith(b"\x89PNG") and len(data) > 10_000
    else:  # the title and the axis labels are text in an SVG
        assert b"<svg" in data and b"matching articles per month" in data


def test_plot_without_matplotlib_says_how_to_install_it(
    sample_index: Index, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # as if it were not installed
    code, _, err = _run(sample_index, "bão", "--plot", str(tmp_path / "t.png"))
    assert code == 2 and "pip install 'searchidx[plot]'" in err and len(err.splitlines()) == 1


def test_plot_refuses_other_file_types(sample_index: Index, tmp_path: Path) -> None:
    code, _, err = _run(sample_index, "bão", "--plot", str(tmp_path / "t.pdf"))
    assert code == 2 and ".png or .svg" in err


# --- the 24h.com.vn crawl ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def crawl_articles() -> list[Article]:
    needs_shared(CRAWL)
    records = list(read_path(CRAWL))
    assert all(isinstance(r, Article) for r in records)
    return records  # type: ignore[return-value]


@pytest.fixture(scope="module")
def crawl_index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    needs_shared(CRAWL)
    index = Index(tmp_path_factory.mktemp("crawl") / "index")
    report = index.index_paths([CRAWL], workers=2)
    assert report.indexed == 891 and not report.rejected and not report.warnings
    return index


def test_the_crawl_reads_without_preparation(crawl_articles: list[Article]) -> None:
    assert len(crawl_articles) == 891
    article = next(a for a in crawl_articles if a.id == "e0316bcfd0a55c8a7586bdfc2715c6ec")
    assert article.title == "Dự báo số cơn bão có thể ảnh hưởng tới Việt Nam trong năm 2026"
    assert (article.category, article.source) == ("trang-chu", "24h")
    assert article.date == datetime(2026, 2, 4, 0, 1)  # 2026-02-03T17:01:00+00:00, in Vietnam time
    assert article.tags[0] == "dự báo bão 2026" and len(article.tags) == 5
    assert article.body.startswith("Chiều 3-2, Cục Khí tượng thủy văn")


@pytest.mark.parametrize(
    "chrome",
    [
        "Lưu bài viết thành công",
        "trangTin bài đã lưu",
        "[Link nguồn]",
        "Cơ hội trúng ngay 500.000 đồng",
        "Liverpool - Man City 08.02",
        "Đang cập nhật Đang cập nhật",
        "Xem Thêm Xem Thêm",
    ],
)
def test_the_crawls_page_chrome_is_not_in_the_bodies(crawl_articles: list[Article], chrome: str) -> None:
    assert not [a.id for a in crawl_articles if chrome in a.body]


def test_removing_the_betting_teaser_keeps_the_sentences_around_it(crawl_articles: list[Article]) -> None:
    bodies = [a.body for a in crawl_articles]
    assert sum("Tuy nhiên tranh tường sau đó đã được khôi phục. Jamie Carragher" in b for b in bodies) == 1


@pytest.mark.slow
def test_the_crawl_indexed_has_its_dates_and_clean_stored_bodies(crawl_index: Index) -> None:
    article = crawl_index.show("e0316bcfd0a55c8a7586bdfc2715c6ec")
    assert article.date == datetime(2026, 2, 4, 0, 1) and "Lưu bài viết" not in article.body
    stats = crawl_index.stats()
    assert stats.documents == 891
    # the file's first and last published_at, 07:23 and 04:25:23 UTC, in Vietnam time
    assert (stats.first_date, stats.last_date) == (datetime(2026, 1, 21, 14, 23), datetime(2026, 2, 8, 11, 25, 23))


@pytest.mark.slow
def test_the_crawls_daily_counts_equal_search_totals(crawl_index: Index) -> None:
    trend = crawl_index.trend(["Tết", "giá vàng", "bão OR mưa", '"Man City"'])
    assert trend.by == "day" and len(trend.periods()) == 19
    assert sum(row.articles for row in trend.rows if row.query == "Tết") == 891
    _assert_consecutive(trend)
    _assert_matches_search(crawl_index, trend)
    sports = crawl_index.trend(["MU"], by="week", categories=["bong-da"])
    _assert_matches_search(crawl_index, sports, categories=("bong-da",))
