"""Long-running readers: one Index shared by many threads and kept open across many
commits stays correct (equal to a freshly opened reader) and bounded (memory and
open files do not grow with requests or commits)."""

from __future__ import annotations

import gc
import itertools
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from searchidx import Article, Index, shipped_corpus
from searchidx.corpus import ReadOptions, read_corpus

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux /proc")

QUERIES = ["và", "người", "Gia Lai", "giá", "ha noi"]


@pytest.fixture(scope="module")
def articles() -> list[Article]:
    found = [r for r in read_corpus([shipped_corpus()], ReadOptions()) if isinstance(r, Article)]
    assert len(found) >= 30
    return found


@pytest.fixture
def busy_threads() -> Iterator[None]:
    """Switch threads far more often than usual, so unsafe sharing shows up."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    yield
    sys.setswitchinterval(before)


def open_files() -> int:
    """Files held open by live objects: writing leaves some in reference cycles
    (Whoosh's writer), which only the cycle collector closes."""
    gc.collect()
    return len(os.listdir("/proc/self/fd"))


def files_under(path: Path) -> list[str]:
    """The files under ``path`` that this process holds open."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except FileNotFoundError:  # the listing's own descriptor, closed by now
            continue
        if target.startswith(f"{path}/"):
            held.append(target)
    return held


def rss_mb() -> float:
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def copies(articles: list[Article], prefix: str, start: int, count: int) -> list[Article]:
    """Real articles under new ids: ``count`` of them, cycling through the sample."""
    return [replace(articles[(start + i) % len(articles)], id=f"{prefix}{start + i}") for i in range(count)]


def answer(index: Index, query: str) -> tuple[int, list[str]]:
    results = index.search(query, limit=50)
    return results.total, [h.id for h in results.hits]


def fresh_answer(path: Path, query: str) -> tuple[int, list[str]]:
    with Index(path) as fresh:
        return answer(fresh, query)


def request(index: Index, number: int, doc_id: str, errors: list[BaseException]) -> None:
    """One web request: a search, a full walk, an article or its neighbours."""
    try:
        kind = number % 4
        if kind == 0:
            index.search(QUERIES[number % len(QUERIES)], facets=True)
        elif kind == 1:
            sum(1 for _ in index.iter_hits(QUERIES[number % len(QUERIES)]))
        elif kind == 2:
            index.show(doc_id)
        else:
            index.similar(doc_id, limit=5)
    except BaseException as error:
        errors.append(error)


def wave(index: Index, articles: list[Article], numbers: range, errors: list[BaseException]) -> None:
    """Requests served at once, each by a new thread (as ``ThreadingHTTPServer`` does)."""
    threads = [
        threading.Thread(target=request, args=(index, n, articles[n % len(articles)].id, errors)) for n in numbers
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_a_closed_index_closes_its_files_without_the_cycle_collector(tmp_path, articles):
    """A server retires a searcher on every commit: its files (mapped segments) must
    close then, not whenever the cycle collector next runs."""
    index = Index(tmp_path / "ix")
    index.add(articles)
    gc.collect()
    gc.disable()
    try:
        index.search("ha noi", facets=True)
        index.similar(articles[0].id, limit=5)
        index.show(articles[1].id)
        index.close()
        assert files_under(index.path) == []
    finally:
        gc.enable()


@pytest.mark.slow
def test_a_thread_per_request_server_stays_bounded(tmp_path, articles):
    index = Index(tmp_path / "ix")
    index.add(articles)
    errors: list[BaseException] = []
    wave(index, articles, range(8), errors)  # warm up: models, caches, the first searchers
    rss, files = rss_mb(), open_files()
    requests, at_once = 1000, 8
    for first in range(0, requests, at_once):
        wave(index, articles, range(first, first + at_once), errors)
        if first % 40 == 0:  # a small update every five waves: a commit
            index.add(copies(articles, "new", first, 2))
    assert not errors, errors[:3]
    grown, more_files = rss_mb() - rss, open_files() - files
    print(f"{requests} requests: RSS +{grown:.1f} MB, open files {more_files:+d}")
    assert grown < 50
    # at most four idle searchers, each holding per segment its file and the map of its posting arrays
    assert more_files <= 4 * 2 * index.stats().segments


@pytest.mark.slow
def test_a_long_lived_reader_agrees_with_a_fresh_one_across_300_commits(tmp_path, articles):
    path = tmp_path / "ix"
    writer, reader = Index(path), Index(path)
    writer.add(articles)
    answer(reader, QUERIES[0])
    files = open_files()
    segments: list[int] = []
    wrong: list[tuple[int, str]] = []
    for commit in range(300):
        # a new article and an update of an earlier one (a delete plus an add)
        update = replace(articles[commit % len(articles)], id=f"upd{commit % 17}")
        writer.add([*copies(articles, "new", commit, 1), update])
        if commit % 5 == 4:
            wrong += [(commit, q) for q in QUERIES if answer(reader, q) != fresh_answer(path, q)]
            segments.append(reader.stats().segments)
    assert not wrong, f"{len(wrong)} of {60 * len(QUERIES)} checks disagreed with a fresh reader: {wrong[:5]}"
    assert any(later < earlier for earlier, later in itertools.pairwise(segments)), "Whoosh never merged"
    assert open_files() - files <= 2 * max(segments)  # one searcher: a segment's file and its posting arrays' map


def test_close_after_refreshes_is_safe_and_the_index_reopens(tmp_path, articles):
    path = tmp_path / "ix"
    index = Index(path)
    index.add(articles[:10])
    for n in range(6):
        index.search("và")
        index.add(copies(articles, "more", 10 + 2 * n, 2))
    index.search("và")
    index.close()
    index.close()
    assert answer(index, "và") == fresh_answer(path, "và")
    index.close()


@pytest.mark.slow
def test_concurrent_searches_during_commits_get_exact_totals(tmp_path, articles, busy_threads):
    index = Index(tmp_path / "ix")
    index.add(articles)
    query = "Gia Lai"
    matching = {h.id for h in index.search(query, limit=100).hits}
    batches = [copies(articles, "w", 3 * j, 3) for j in range(5)]
    totals = [len(matching)]  # the exact total after each commit: a copy matches as its original
    for j in range(len(batches)):
        totals.append(totals[-1] + sum(articles[(3 * j + i) % len(articles)].id in matching for i in range(3)))
    seen: set[int] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def search() -> None:
        while not stop.is_set():
            try:
                results = index.search(query, limit=100)
                assert len({h.id for h in results.hits}) == len(results.hits), "duplicate hits"
                seen.add(results.total)
                time.sleep(0.002)  # readers that never pause would starve the writer of the GIL
            except BaseException as error:
                errors.append(error)
                return

    threads = [threading.Thread(target=search) for _ in range(4)]
    for t in threads:
        t.start()
    for batch in batches:
        index.add(batch)
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert seen <= set(totals), f"totals seen {sorted(seen - set(totals))} are no committed state's"
    assert index.search(query).total == totals[-1]


def test_an_iter_hits_walk_sees_one_snapshot_across_commits(tmp_path, articles):
    index = Index(tmp_path / "ix")
    index.add(copies(articles, "a", 0, 5 * len(articles)))
    before = index.search("và").total
    assert before > 100  # more than one page
    walk = index.iter_hits("và")
    seen = [next(walk).id for _ in range(10)]
    index.add(copies(articles, "b", 0, len(articles)))
    assert index.search("và").total > before  # this thread moved on to the new state
    seen += [hit.id for hit in walk]
    assert len(seen) == len(set(seen)) == before
