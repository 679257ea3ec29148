"""Several indexes searched as one answer as one index holding every article: a corpus
split in two by ``index_shards`` against the same corpus indexed whole (real pyvi, real
Whoosh, the shipped sample and a slice of vietnews)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import needs_shared

from searchidx import Index, shipped_corpus
from searchidx.errors import IndexNotFound, UnknownArticle
from searchidx.querying import SearchOptions, compile_query
from searchidx.sharded import ShardedIndex, index_shards
from searchidx.shards import MANIFEST, TermStatistics, query_terms, shard_of

SAMPLE_QUERIES = [
    "thi đua", "ha noi", "bão OR lũ", "mưa lớn -bão", '"Gia Lai"', "gia lai thi dua khoi", "title:bão",
    "Hà Nội có gì mới trong mùa đông năm nay và người dân chuẩn bị ra sao",
]  # fmt: skip
VIETNEWS_QUERIES = [
    "bóng đá", "kinh tế", "giáo dục", "chính phủ", "công an", '"thành phố"', "bão OR lũ", "người dân -tai nạn",
    "title:việt nam", "bệnh viện", "tăng trưởng", "học sinh thi đại học", "giá xăng tăng",
    "tai nạn giao thông trên quốc lộ khiến nhiều người bị thương và phải nhập viện",
]  # fmt: skip


def ranked(results) -> list[tuple[str, float]]:
    """Hits as (id, score), equal scores by id: which of two equal scores comes first
    is the order of insertion in one index, of shards across several."""
    return sorted(((h.id, round(h.score or 0.0, 6)) for h in results.hits), key=lambda h: (-h[1], h[0]))


def assert_same(whole, split) -> None:
    assert split.total == whole.total
    assert split.facets == whole.facets
    assert ranked(split) == ranked(whole)
    assert split.warnings == whole.warnings
    assert (split.matching, split.matching_note) == (whole.matching, whole.matching_note)
    # a respelling ("did you mean") is one shard's: it has hits, but may not be the whole index's pick
    assert (split.suggestion is None) <= (whole.suggestion is None) or split.total


@pytest.fixture(scope="module")
def split_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shards") / "sample"
    report = index_shards(root, [shipped_corpus()], 2)
    assert report.indexed >= 30 and not report.rejected
    return root


@pytest.fixture(scope="module")
def sharded(split_sample: Path):
    with ShardedIndex.open(split_sample) as index:
        yield index


def test_a_split_sample_answers_as_the_whole_one(sample_index, sharded):
    found = 0
    for query in SAMPLE_QUERIES:
        whole, split = sample_index.search(query, facets=True), sharded.search(query, facets=True)
        assert_same(whole, split)
        assert split.restored == whole.restored, query
        found += bool(whole.hits)
    assert found >= len(SAMPLE_QUERIES) - 2  # the long question and "-bão" find nothing: hints, respellings
    for sort in ("date", "-date"):
        whole, split = (
            sample_index.search("", sort=sort, categories="Thể thao"),
            sharded.search("", sort=sort, categories="Thể thao"),
        )
        assert [h.id for h in split.hits] == [h.id for h in whole.hits]


def test_both_shards_hold_articles_and_paging_continues_across_them(split_sample, sample_index, sharded):
    sizes = [Index(split_sample / name).stats().documents for name in ("shard-0", "shard-1")]
    assert min(sizes) > 5 and sum(sizes) == sample_index.stats().documents
    every = [h.id for h in sharded.search("ha noi OR bão OR thi đua", limit=50, restore=False).hits]
    paged = [h.id for h in sharded.iter_hits("ha noi OR bão OR thi đua", restore=False)]
    assert paged == every and len(every) > 3
    assert [h.rank for h in sharded.search("ha noi OR bão OR thi đua", limit=2, offset=2).hits] == [3, 4]


def test_show_and_stats_cover_every_shard(sample_index, sharded, split_sample):
    for doc_id in ("giao-duc-03", "baogialai-2024-07-31-khoi-thi-dua", "van-hoa-02"):
        assert sharded.show(doc_id) == sample_index.show(doc_id)
    with pytest.raises(UnknownArticle, match="any of the 2 shards"):
        sharded.show("no-such-article")
    whole, split = sample_index.stats(), sharded.stats()
    assert (split.documents, split.first_date, split.last_date, split.fields) == (
        whole.documents, whole.first_date, whole.last_date, whole.fields,
    )  # fmt: skip
    assert split.shards == 2 and split.path == split_sample / MANIFEST


def test_summed_statistics_are_the_whole_index_statistics(sample_index, split_sample):
    options = SearchOptions("mưa lớn ở Hà Nội")
    terms = query_terms(options, None)
    parts = []
    for name in ("shard-0", "shard-1"):
        with Index(split_sample / name)._searchers.acquire() as snapshot:
            parts.append(TermStatistics.of(snapshot.searcher, terms))
    summed = TermStatistics.summed(parts)
    with sample_index._searchers.acquire() as snapshot:
        searcher = snapshot.searcher
        for field, text in terms:
            assert summed.doc_frequency(field, text) == searcher.doc_frequency(field, text)
            assert summed.idf(field, text.encode()) == pytest.approx(searcher.idf(field, text), abs=1e-12)
        for field in ("title", "sapo", "body"):
            assert summed.avg_field_length(field) == pytest.approx(searcher.avg_field_length(field))
        # the same compiled query: a term that only one shard has still counts
        assert compile_query(options, summed)[1] == compile_query(options, searcher.reader())[1]
        only_one = [t for t in terms if (parts[0].frequencies[t] == 0) != (parts[1].frequencies[t] == 0)]
        assert only_one


def test_the_split_is_stable_and_spread():
    assert [shard_of(f"article-{i}", 4) for i in range(8)] == [shard_of(f"article-{i}", 4) for i in range(8)]
    counts = [0] * 4
    for i in range(4000):
        counts[shard_of(f"article-{i}", 4)] += 1
    assert min(counts) > 900


def test_a_missing_shard_or_a_bad_manifest_is_one_line(split_sample, tmp_path):
    with pytest.raises(IndexNotFound, match=r"shard .*nowhere: no such directory"):
        ShardedIndex.open([split_sample / "shard-0", tmp_path / "nowhere"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(IndexNotFound, match=r"^shard .*empty: "):
        ShardedIndex.open([split_sample / "shard-0", empty])
    (tmp_path / MANIFEST).write_text('{"shards": 3}')
    with pytest.raises(IndexNotFound, match="expected"):
        ShardedIndex(tmp_path)


def searchidx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "searchidx", *args], capture_output=True, text=True, timeout=120)


def test_the_cli_builds_shards_and_searches_them_as_one(tmp_path, sample_index):
    built = searchidx("index", "--index", str(tmp_path / "split"), "--shards", "2", "-q", str(shipped_corpus()))
    assert built.returncode == 0, built.stderr
    assert json.loads((tmp_path / "split" / MANIFEST).read_text()) == {"shards": ["shard-0", "shard-1"]}
    whole = searchidx("search", "ha noi", "--index", str(sample_index.path), "--format", "json", "--facets")
    for how in (
        ["--index", str(tmp_path / "split")],
        ["--index", str(tmp_path / "split/shard-0"), "--index", str(tmp_path / "split/shard-1")],
    ):
        split = searchidx("search", "ha noi", *how, "--format", "json", "--facets")
        assert split.returncode == 0, split.stderr
        a, b = json.loads(whole.stdout), json.loads(split.stdout)
        a.pop("took_ms"), b.pop("took_ms")
        assert [(h["id"], h["score"]) for h in b["hits"]] == [(h["id"], h["score"]) for h in a["hits"]]
        assert b == a
    stats = searchidx("stats", "--index", str(tmp_path / "split"), "--format", "json")
    assert json.loads(stats.stdout)["shards"] == 2
    missing = searchidx("search", "bão", "--index", str(tmp_path / "split/shard-0"), "--index", str(tmp_path / "gone"))
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [f"searchidx: error: shard {tmp_path / 'gone'}: no such directory"]


@pytest.mark.slow
def test_vietnews_split_in_two_answers_as_the_whole(vietnews_slice, vietnews_index, tmp_path):
    needs_shared(vietnews_slice)
    index_shards(tmp_path / "split", [vietnews_slice], 2, workers=1)
    with ShardedIndex.open(tmp_path / "split") as split:
        found = 0
        for query in VIETNEWS_QUERIES:
            whole, parts = vietnews_index.search(query, facets=True), split.search(query, facets=True)
            assert_same(whole, parts)
            for a, b in zip(whole.hits, parts.hits, strict=True):
                assert abs((a.score or 0) - (b.score or 0)) < 1e-6
            found += len(whole.hits) == 10
        assert found >= 5
        for query in ("ha noi", "chinh phu", "bong da"):  # restored from the shards' vocabularies added up
            assert split.search(query).restored == vietnews_index.search(query).restored
            assert_same(vietnews_index.search(query, restore=False), split.search(query, restore=False))


def test_similar_over_shards_is_similar_over_the_whole(sample_index, sharded):
    text = "Mưa lớn kéo dài gây ngập úng ở nhiều tỉnh phía Bắc, người dân được sơ tán khỏi vùng lũ"
    for kwargs in ({"doc_id": "xa-hoi-02"}, {"text": text}, {"doc_id": "giao-duc-03", "explain": True}):
        whole, split = sample_index.similar(**kwargs), sharded.similar(**kwargs)
        assert split.total == whole.total and split.key_terms == whole.key_terms
        assert ranked(split) == ranked(whole)
        assert [(h.duplicates, h.shared_terms) for h in split.hits] == [
            (h.duplicates, h.shared_terms) for h in whole.hits
        ]
        assert split.source_duplicates == whole.source_duplicates
    with pytest.raises(UnknownArticle):
        sharded.similar("no-such-article")


@pytest.mark.slow
def test_shards_searched_on_a_dask_cluster_answer_as_the_whole(sample_index, split_sample):
    pytest.importorskip("distributed", reason="the dask extra is not installed (pip install 'searchidx[dask]')")
    with ShardedIndex.open(split_sample, dask="local:2") as on_dask:
        for query in SAMPLE_QUERIES[:4]:
            assert_same(sample_index.search(query, facets=True), on_dask.search(query, facets=True))
        assert on_dask.similar("xa-hoi-02").key_terms == sample_index.similar("xa-hoi-02").key_terms
        assert on_dask.stats().documents == sample_index.stats().documents
    with pytest.raises(IndexNotFound, match=r"shard .*gone: no such directory"):
        ShardedIndex.open([split_sample / "shard-0", split_sample / "gone"], dask="local:1")


@pytest.mark.slow
def test_the_shards_benchmark_runs_on_a_tiny_corpus(tmp_path):
    from conftest import ROOT, VIETNEWS

    needs_shared(VIETNEWS)
    out = tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_shards.py"), "--articles", "80", "--queries", "12",
         "--json", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    report = json.loads(out.read_text())
    assert report["queries"] == 12
    for name in ("whole", "sharded", "shard-0", "shard-1"):
        assert 0 < report[name]["median_ms"] <= report[name]["p95_ms"]
    assert set(report["model"]["median_ms_on_n_machines"]) == {"1", "2", "4", "8", "16"}
