"""The typed library API: the forms users naturally pass are accepted, anything else
is refused with a one-line SearchidxError instead of matching nothing or failing deep
inside."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from searchidx import Article, Index
from searchidx.errors import InvalidArgument, QueryError, SearchidxError
from searchidx.index import BuildOptions


def ids(results) -> set[str]:
    return {hit.id for hit in results.hits}


def test_one_category_as_a_string_filters_like_a_sequence_of_one(sample_index):
    one = sample_index.search("", categories="Thể thao", limit=50)
    assert one.total == 4
    assert ids(one) == ids(sample_index.search("", categories=["Thể thao"], limit=50))
    assert ids(one) == ids(sample_index.search("", categories=("Thể thao",), limit=50))
    assert ids(one) == ids(sample_index.search("", categories={"Thể thao"}, limit=50))


def test_sources_as_a_string_or_a_list(sample_index):
    two = sample_index.search("", sources=["baomau.vn", "thoisu-demo.vn"], limit=100)
    one = sample_index.search("", sources="baomau.vn", limit=100)
    assert one.total and ids(one) < ids(two)


@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [
        ("2024-09-08", "2024-09-09"),
        (date(2024, 9, 8), date(2024, 9, 9)),
        (datetime(2024, 9, 8), datetime(2024, 9, 9)),
        ("08/09/2024", "09/09/2024"),  # the Vietnamese day/month/year
    ],
)
def test_dates_as_date_datetime_or_string_filter_alike(sample_index, date_from, date_to):
    expected = sample_index.search("", date_from=datetime(2024, 9, 8), date_to=datetime(2024, 9, 9), limit=50)
    assert expected.total
    got = sample_index.search("", date_from=date_from, date_to=date_to, limit=50)
    assert ids(got) == ids(expected)


def test_an_aware_datetime_is_read_in_vietnam_time(sample_index):
    """17:00 UTC on 7 September is midnight, 8 September, in Vietnam."""
    utc = datetime(2024, 9, 7, 17, 0, tzinfo=timezone.utc)
    vietnam = datetime(2024, 9, 8)
    assert utc.astimezone(timezone(timedelta(hours=7))).replace(tzinfo=None) == vietnam
    got = sample_index.search("", date_from=utc, date_to="2024-09-09", limit=50)
    assert ids(got) == ids(sample_index.search("", date_from=vietnam, date_to="2024-09-09", limit=50))


def test_iter_hits_and_similar_take_the_same_natural_forms(sample_index):
    walked = [hit.id for hit in sample_index.iter_hits("", categories="Thể thao")]
    assert set(walked) == ids(sample_index.search("", categories="Thể thao", limit=50))
    similar = sample_index.similar("xa-hoi-01", categories="Giáo dục", date_from="2000-01-01", limit=10)
    assert similar.hits
    assert all(sample_index.show(hit.id).category == "Giáo dục" for hit in similar.hits)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"categories": 5}, "categories must be a string or a sequence of strings, not int"),
        ({"sources": [1, 2]}, "sources must be a string or a sequence of strings, not list"),
        ({"categories": "Thể thao".encode()}, "categories must be a string or a sequence of strings, not bytes"),
        ({"date_from": "yesterday"}, "date_from: 'yesterday' is not a date"),
        ({"date_to": 20240101}, "date_to must be a date, a datetime or a string"),
        ({"limit": "5"}, "limit must be a whole number, not str"),
        ({"offset": True}, "offset must be a whole number, not bool"),
        ({"facets": "yes"}, "facets must be True or False, not str"),
        ({"sort": "newest"}, "unknown sort 'newest'"),
    ],
)
def test_anything_else_is_a_one_line_error(sample_index, arguments, message):
    with pytest.raises(SearchidxError, match=message) as raised:
        sample_index.search("bão", **arguments)
    assert "\n" not in str(raised.value)
    assert raised.value.exit_code == 2


def test_iter_hits_refuses_bad_arguments_as_search_does(sample_index):
    with pytest.raises(InvalidArgument, match="categories"):
        next(sample_index.iter_hits("bão", categories=5))


@pytest.mark.parametrize(
    "sources",
    [
        {},
        {"text": "Giá vàng tăng mạnh", "doc_id": "xa-hoi-01"},
        {"doc_id": "xa-hoi-01", "article": Article(id="x", body="Giá vàng tăng mạnh")},
    ],
)
def test_similar_needs_exactly_one_of_id_text_article_or_file(sample_index, sources):
    with pytest.raises(QueryError, match="give exactly one of an article id, a text, an article or a file"):
        sample_index.similar(**sources)


def test_similar_refuses_an_id_or_a_text_that_is_not_a_string(sample_index):
    with pytest.raises(InvalidArgument, match="an article id must be a string, not int"):
        sample_index.similar(5)
    with pytest.raises(InvalidArgument, match="text must be a string, not list"):
        sample_index.similar(text=["giá vàng"])


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"workers": 0}, "workers must be a whole number of at least 1, not 0"),
        ({"workers": "2"}, "workers must be a whole number of at least 1, not '2'"),
        ({"max_rejected": 1.5}, "max_rejected must be a share from 0 to 1, not 1.5"),
        ({"rebuild": "yes"}, "rebuild must be True or False, not str"),
        ({"wait": -1}, "wait must be a number of seconds, not -1"),
        ({"on_progress": "print"}, "on_progress must be a function or None, not str"),
    ],
)
def test_bad_build_settings_are_refused_before_anything_is_written(tmp_path, settings, message):
    index = Index(tmp_path / "ix")
    with pytest.raises(InvalidArgument, match=message):
        index.add([Article(id="a", title="Bão số 3")], **settings)
    assert not index.exists()


def test_build_options_and_keywords_are_one_set_of_settings(tmp_path):
    index = Index(tmp_path / "ix")
    index.add([Article(id="a", title="Bão số 3"), Article(id="b", title="Giá vàng")])
    options = BuildOptions(rebuild=True)
    assert index.add([Article(id="c", title="Mưa lớn")], options).indexed == 1
    assert index.stats().documents == 1
    report = index.add([Article(id="d", title="Nắng nóng")], options, rebuild=False)
    assert report.indexed == 1 and index.stats().documents == 2


def test_help_reads_like_a_reference():
    for name in ("open", "exists", "close", "add", "index_paths", "delete", "search", "iter_hits", "show", "similar"):
        assert getattr(Index, name).__doc__, name
    for name in ("search", "iter_hits", "similar", "add"):
        assert "Raises" in getattr(Index, name).__doc__ or "errors" in getattr(Index, name).__doc__, name


def test_trend_takes_one_query_and_the_natural_forms_of_dates_and_labels(sample_index):
    def rows(trend):
        return [(row.period, row.query, row.count) for row in trend.rows]

    one = sample_index.trend("bão", by="year", date_from="2024-01-01", categories="Chính trị - Xã hội")
    assert rows(one) == rows(
        sample_index.trend(["bão"], by="year", date_from=datetime(2024, 1, 1), categories=["Chính trị - Xã hội"])
    )
    assert rows(one)[0] == ("2024", "bão", 3) and {query for _, query, _ in rows(one)} == {"bão"}
    with pytest.raises(InvalidArgument, match="categories must be a string or a sequence of strings, not int"):
        sample_index.trend("bão", categories=5)
