"""Array execution returns exactly what Whoosh's exhaustive scoring returns: the
same totals, the same top 10 in the same order, the same scores (to 1e-6), on
real articles, for every kind of query searchidx builds."""

from __future__ import annotations

import gzip
import itertools
import json
import random
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import SHARED, VIETNEWS, needs_shared
from whoosh import sorting

from searchidx import Article, Index, execute
from searchidx.query import FACETS
from searchidx.querying import SearchOptions, compile_query, search_filter
from searchidx.readers import SearcherPool

VNTC = SHARED / "corpus" / "vntc-train.jsonl.gz"


def _articles(path: Path, count: int, dated: bool) -> list[Article]:
    """Real articles; with ``dated``, every other one gets a date (the corpora
    have none), so that date filters and sorting have something to work on."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in itertools.islice(f, count)]
    start = datetime(2024, 1, 1)
    return [
        Article(
            id=str(r["id"]),
            title=r.get("title", ""),
            sapo=r.get("sapo", ""),
            body=r.get("body", ""),
            category=r.get("category", ""),
            source=r.get("source", ""),
            date=start + timedelta(days=i % 97) if dated and i % 2 else None,
        )
        for i, r in enumerate(records)
    ]


@pytest.fixture(scope="module")
def mixed_index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    """Three segments of real articles (news without labels, VNTC with categories
    and sources, some dated), and deletions in the first segment."""
    needs_shared(VIETNEWS)
    needs_shared(VNTC)
    index = Index(tmp_path_factory.mktemp("mixed") / "index")
    news = _articles(VIETNEWS, 240, dated=True)
    topics = _articles(VNTC, 160, dated=True)
    index.add(news[:160])
    index.add(topics)
    index.add(news[160:])
    index.delete([a.id for a in news[:12:3]])
    return index


def _strip(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


def _queries(index: Index, count: int) -> list[SearchOptions]:
    """Queries as users type them, cut from the indexed headlines: 1-4 words with
    and without diacritics, phrases, exclusions, OR, fields, whole headlines (by
    default and with --any), and filters on category, source and dates."""
    rng = random.Random(13)
    with SearcherPool(index.path).acquire() as snapshot:
        titles = [d.get("title", "").split() for d in snapshot.searcher.all_stored_fields()]
    titles = [t for t in titles if len(t) > 3]
    categories = ["Thể thao", "Kinh doanh", "the thao", "Vi tính", "Pháp luật"]
    out: list[SearchOptions] = []
    while len(out) < count:
        words = rng.choice(titles)
        n = rng.randint(1, 4)
        at = rng.randrange(len(words) - n + 1)
        text = " ".join(w.strip('.,:;?!"“”()') for w in words[at : at + n]).strip() or "Hà Nội"
        kind = rng.randrange(10)
        if kind == 0:
            text = _strip(text)
        elif kind == 1:
            text = f'"{text}"'
        elif kind == 2:
            text = f"{text} -{rng.choice(rng.choice(titles)).strip('.,:;?!()“”')}"
        elif kind == 3:
            text = f"{text} OR {' '.join(rng.choice(titles)[:2])}"
        elif kind == 4:
            text = f"title:({text})"
        elif kind == 5:
            text = f"{text} date:2024-02"
        options = SearchOptions(query=text, match_any=kind == 6)
        if kind == 6:
            options = SearchOptions(query=" ".join(words), match_any=True)
        elif kind == 7:
            options = SearchOptions(query=text, categories=(rng.choice(categories),))
        elif kind == 8:
            options = SearchOptions(query=text, date_from=datetime(2024, 1, 15), date_to=datetime(2024, 3, 1))
        elif kind == 9:  # a whole headline: most of its words must match
            options = SearchOptions(query=" ".join(words))
        out.append(options)
    return out


def _compare(index: Index, count: int) -> list[str]:
    """The queries whose results differ, with what differed."""
    mismatches = []
    with SearcherPool(index.path).acquire() as snapshot:
        searcher = snapshot.searcher
        for options in _queries(index, count):
            try:
                _, query = compile_query(options, searcher.reader())
            except Exception:
                continue
            filter = search_filter(options)
            total, docnums, scores = execute.whoosh_reference(searcher, query, 10, filter=filter)
            got = execute.run(searcher, query, 10, filter=filter)
            same_scores = all(abs(a - b) <= 1e-6 for a, b in zip(got.scores, scores, strict=True))
            if (got.total, got.docnums) != (total, docnums) or not same_scores:
                mismatches.append(f"{options}: {got.total} {got.docnums[:3]} vs {total} {docnums[:3]}")
    return mismatches


def test_top_ten_and_totals_equal_whooshs_exhaustive_scoring(mixed_index: Index) -> None:
    assert _compare(mixed_index, 150) == []


@pytest.mark.slow
def test_a_thousand_queries_equal_whooshs_exhaustive_scoring(mixed_index: Index) -> None:
    assert _compare(mixed_index, 1000) == []


def test_facet_counts_equal_whooshs(mixed_index: Index) -> None:
    with SearcherPool(mixed_index.path).acquire() as snapshot:
        searcher = snapshot.searcher
        for text in ("bóng đá", "thị trường", "công an"):
            _, query = compile_query(SearchOptions(query=text), searcher.reader())
            groups = {name: sorting.FieldFacet(name) for name in FACETS}
            whoosh = searcher.search(query, groupedby=groups, maptype=sorting.Count)
            got = execute.run(searcher, query, 10, facets=FACETS)
            for name in FACETS:
                expected = {v: c for v, c in whoosh.groups(name).items() if v}
                assert dict(got.facets[name]) == expected
                assert got.total == len(whoosh)


def test_sorting_by_date_puts_undated_articles_last_both_ways(mixed_index: Index) -> None:
    with SearcherPool(mixed_index.path).acquire() as snapshot:
        searcher = snapshot.searcher
        _, query = compile_query(SearchOptions(query="người"), searcher.reader())
        for reverse in (False, True):
            got = execute.run(searcher, query, 1000, sort="date", reverse=reverse)
            dates = [searcher.stored_fields(d).get("date") for d in got.docnums]
            dated = [d for d in dates if d is not None]
            assert dates[: len(dated)] == dated, "undated articles come after every dated one"
            assert dated == sorted(dated, reverse=reverse)
            assert 0 < len(dated) < len(dates)
            whoosh = searcher.search(query, limit=None, sortedby="date", reverse=reverse)
            assert {hit.docnum for hit in whoosh} == set(got.docnums)


def test_injected_statistics_score_as_the_searchers_own_and_leak_into_no_other_search(sample_index):
    """``stats``: the same code path, with the counts from elsewhere (shards)."""
    from dataclasses import replace

    from searchidx.shards import TermStatistics, query_terms

    with sample_index._searchers.acquire() as snapshot:
        searcher = snapshot.searcher
        for text in ("thi đua", "ha noi", "bão OR lũ", '"Gia Lai"'):
            options = SearchOptions(text)
            _, query = compile_query(options, searcher.reader())
            own = TermStatistics.of(searcher, query_terms(options, None))
            plain = execute.run(searcher, query, 10)
            assert execute.run(searcher, query, 10, stats=own) == plain
            doubled = replace(own, documents=own.documents * 2)  # other counts: other idf and lengths
            bigger = execute.run(searcher, query, 10, stats=doubled)
            assert bigger.total == plain.total and bigger.scores != plain.scores
            assert execute.run(searcher, query, 10) == plain


def test_injected_weighting_scores_as_whoosh_with_it_and_leaks_into_no_other_search(sample_index):
    """``weighting`` (similar's bodies fully normalised by length): Whoosh's own
    exhaustive scores with that BM25F, and search's unchanged afterwards."""
    from searchidx.generations import open_generation
    from searchidx.querying import weighting

    full = weighting(body_b=1.0)
    _, ix = open_generation(sample_index.path)
    with ix.searcher(weighting=full) as reference, sample_index._searchers.acquire() as snapshot:
        searcher = snapshot.searcher
        for text in ("thi đua", "bão OR lũ", "học sinh"):
            _, query = compile_query(SearchOptions(text), searcher.reader())
            plain = execute.run(searcher, query, 10)
            got = execute.run(searcher, query, 10, weighting=full)
            total, docnums, scores = execute.whoosh_reference(reference, query, 10)
            assert (got.total, got.docnums) == (total, docnums)
            assert got.scores == pytest.approx(scores, abs=1e-6) and got.scores != plain.scores
            assert execute.run(searcher, query, 10) == plain
