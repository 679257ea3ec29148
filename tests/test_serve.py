"""``searchidx serve`` over real HTTP: a uvicorn server process on a loopback port,
answering with the library's own results, refusing bad input in one JSON line, and
picking up index updates without a restart."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from conftest import ROOT, Server, serving, worker_pids, write_jsonl

from searchidx import Article, Index, shipped_corpus
from searchidx.generations import META_FILE, current_generation

pytest.importorskip("starlette", reason="searchidx serve needs its extra: pip install 'searchidx[serve]'")
pytest.importorskip("uvicorn", reason="searchidx serve needs its extra: pip install 'searchidx[serve]'")
httpx = pytest.importorskip("httpx", reason="the server's tests talk to it with httpx (the test extra)")

STATIC = ROOT / "searchidx" / "serve" / "static"


@pytest.fixture(scope="module")
def incompatible_index(tmp_path_factory: pytest.TempPathFactory, sample_index: Index) -> Path:
    """A copy of the sample that claims to be built by another schema version."""
    path = tmp_path_factory.mktemp("old") / "old"
    shutil.copytree(sample_index.path, path)
    generation = current_generation(path)
    assert generation is not None
    meta = json.loads((generation / META_FILE).read_text())
    (generation / META_FILE).write_text(json.dumps({**meta, "schema": 0}))
    return path


@pytest.fixture(scope="module")
def server(sample_index: Index, incompatible_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The sample (the default index), an incompatible index and one not built yet."""
    missing = tmp_path_factory.mktemp("none") / "missing"
    with serving(sample_index.path, incompatible_index, missing) as running:
        yield running


def get(server: Server, path: str, **params: object) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", params=params, timeout=30)


def same_as_library(answer: httpx.Response, results: object) -> dict:
    """The server's JSON and the library's ``to_dict()``, both without the timing."""
    assert answer.status_code == 200, answer.text
    served, expected = answer.json(), orjson.loads(orjson.dumps(results.to_dict()))  # type: ignore[attr-defined]
    served.pop("took_ms"), expected.pop("took_ms")
    assert served == expected
    return served


def test_the_server_says_where_it_listens(server: Server):
    assert f"serving index, old, missing at {server.url}/" in server.log()
    assert "missing" in server.log() and "503" in server.log()  # the warning for the index not built yet


def test_search_answers_with_the_librarys_results(server: Server, sample_index: Index):
    answer = get(server, "/v1/search", q="ha noi", facets="true", limit=2)
    served = same_as_library(answer, sample_index.search("ha noi", facets=True, limit=2))
    assert served["total"] == 3 and served["hits"][0]["highlights"] and served["facets"]["month"]
    hit = served["hits"][0]
    for start, end in hit["highlights"]:
        assert bare(hit["snippet"][start:end]) in ("ha", "noi", "ha noi")  # typed without diacritics


def test_search_filters_sorts_and_pages_as_the_library_does(server: Server, sample_index: Index):
    answer = get(server, "/v1/search", q="bão OR lũ OR thi đua", sort="-date", limit=2, page=2,
                 **{"from": "2024-01-01", "to": "2025-12-31"})  # fmt: skip
    same_as_library(answer, sample_index.search(
        "bão OR lũ OR thi đua", sort="-date", limit=2, offset=2,
        date_from=datetime(2024, 1, 1), date_to=datetime(2025, 12, 31),
    ))  # fmt: skip
    category = sample_index.search("bão OR lũ", facets=True).facets["category"][0][0]
    answer = httpx.get(f"{server.url}/v1/search", params=[("category", category), ("source", "baomau.vn")])
    same_as_library(answer, sample_index.search("", categories=(category,), sources=("baomau.vn",)))


def test_an_empty_result_suggests_a_spelling(server: Server, sample_index: Index):
    served = same_as_library(get(server, "/v1/search", q="Hà Nọi"), sample_index.search("Hà Nọi"))
    assert served["total"] == 0 and served["suggestion"] == "Hà Nội"


def test_similar_by_id_and_by_posted_text(server: Server, sample_index: Index):
    same_as_library(get(server, "/v1/similar", id="xa-hoi-02", limit=3, explain="true"),
                    sample_index.similar("xa-hoi-02", limit=3, explain=True))  # fmt: skip
    text = sample_index.show("xa-hoi-02").body
    answer = httpx.post(f"{server.url}/v1/similar", params={"limit": 3}, json={"text": text})
    same_as_library(answer, sample_index.similar(text=text, limit=3))


def test_show_stats_and_duplicates(server: Server, sample_index: Index):
    assert get(server, "/v1/articles/van-hoa-03").json() == sample_index.show("van-hoa-03").to_dict()
    stats = get(server, "/v1/stats").json()
    assert stats == orjson.loads(orjson.dumps(sample_index.stats().to_dict()))
    clusters = get(server, "/v1/duplicates").json()["clusters"]
    assert [c["ids"] for c in clusters] == sample_index.duplicates()
    indexes = get(server, "/v1/indexes").json()["indexes"]
    assert [i["name"] for i in indexes] == ["index", "old", "missing"]


def bare(text: str) -> str:
    """Lower case without diacritics."""
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if not unicodedata.combining(c))


def test_kwic_terms_and_trend_answer_as_the_library_does(server: Server, sample_index: Index):
    kwic = get(server, "/v1/kwic", q="mưa lớn", width=20, limit=3).json()
    assert kwic == {
        "query": "mưa lớn",
        "lines": [line.to_dict() for line in sample_index.kwic("mưa lớn", width=20, limit=3)],
    }
    terms = get(server, "/v1/terms", q="bão", limit=5).json()
    assert terms == orjson.loads(orjson.dumps(sample_index.terms("bão", limit=5).to_dict()))
    answer = httpx.get(
        f"{server.url}/v1/trend", params=[("q", "bão"), ("q", "lũ"), ("by", "month"), ("from", "2024-01-01")]
    )
    expected = sample_index.trend(["bão", "lũ"], by="month", date_from=datetime(2024, 1, 1).date())
    assert answer.json() == orjson.loads(orjson.dumps(expected.to_dict())) and expected.rows


def one_line_error(answer: httpx.Response, status: int) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert "\n" not in error and "Traceback" not in error and answer.json()["status"] == status
    return str(error)


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"q": "title:("}, "missing search terms"),
        ({"q": "foo:bar"}, "unknown field"),
        ({"q": "date:2024-13"}, "date"),
        ({"q": "x", "from": "2024-02-30"}, "bad date for from"),
        ({"q": "x", "to": "yesterday"}, "bad date for to"),
        ({"q": "x", "sort": "score"}, "unknown sort"),
        ({"q": "x", "limit": 101}, "limit out of range"),
        ({"q": "x", "limit": -1}, "limit out of range"),
        ({"q": "x", "limit": "ten"}, "limit must be a whole number"),
        ({"q": "x", "offset": 10_001}, "offset out of range"),
        ({"q": "x", "page": 2000}, "page out of range"),
        ({"q": "x", "facets": "maybe"}, "facets must be true or false"),
        ({"q": "x", "lmit": 3}, "unknown parameter 'lmit'"),
        ({"q": "x" * 1001}, "query too long"),
    ],
)
def test_bad_search_input_is_a_400_in_one_line(server: Server, params: dict, says: str):
    assert says in one_line_error(get(server, "/v1/search", **params), 400)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"x" * (1 << 20 | 1), "too large"),
        (b"{not json", "must be JSON"),
        (b'{"text": 3}', "one string"),
        (b'{"text": "   "}', "empty"),
    ],
)
def test_a_bad_posted_text_is_a_400(server: Server, body: bytes, says: str):
    answer = httpx.post(f"{server.url}/v1/similar", content=body, headers={"content-type": "application/json"})
    assert says in one_line_error(answer, 400)


@pytest.mark.parametrize(
    ("route", "params", "says"),
    [
        ("/v1/trend", [("q", "bão"), ("by", "fortnight")], "unknown period 'fortnight'"),
        ("/v1/trend", [], "give from 1 to 10 queries"),
        ("/v1/trend", [("q", str(n)) for n in range(11)], "give from 1 to 10 queries"),
        ("/v1/trend", [("q", "bão"), ("to", "2024-1-1x")], "bad date for to"),
        ("/v1/kwic", [("q", "bão"), ("sort", "middle")], "unknown kwic sort"),
        ("/v1/kwic", [("q", "bão"), ("width", "0")], "width out of range"),
        ("/v1/terms", [("q", "bão"), ("limit", "1000")], "limit out of range"),
        ("/v1/similar", [("id", "xa-hoi-02"), ("sort", "date")], "unknown parameter 'sort'"),
        ("/v1/similar", [], "give an article id"),
    ],
)
def test_bad_input_to_the_other_routes_is_a_400(server: Server, route: str, params: list, says: str):
    assert says in one_line_error(httpx.get(f"{server.url}{route}", params=params), 400)


def test_unknown_ids_indexes_and_routes_are_404(server: Server):
    assert "no article with id" in one_line_error(get(server, "/v1/articles/Vi tinh/VT_TT_ (2446)"), 404)
    assert "no article" in one_line_error(get(server, "/v1/similar", id="nope"), 404)
    assert "no index named 'x'" in one_line_error(get(server, "/v1/stats", index="x"), 404)
    one_line_error(get(server, "/v2/search"), 404)


def test_a_missing_or_incompatible_index_is_a_503_that_says_why(server: Server):
    assert "no index at" in one_line_error(get(server, "/v1/search", q="bão", index="missing"), 503)
    assert "incompatible" in one_line_error(get(server, "/v1/articles/van-hoa-03", index="old"), 503)
    assert get(server, "/v1/search", q="bão").status_code == 200  # the others still answer


def test_an_unexpected_error_is_a_500_in_one_line_without_a_traceback(sample_index: Index):
    """The catch-all for bugs, on the application the CLI serves, with a route that fails."""
    from searchidx.serve.app import Settings, create_app

    app = create_app(Settings({"index": sample_index.path}))

    def broken(request: object) -> None:
        raise RuntimeError("a bug\nFile 'app.py', line 1")

    app.add_route("/v1/broken", broken)

    async def ask() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://server") as client:
            return await client.get("/v1/broken")

    answer = asyncio.run(ask())
    assert one_line_error(answer, 500) == "internal error (RuntimeError); the server's log has the details"


def test_a_request_over_the_time_limit_is_a_503(sample_index: Index):
    with serving(sample_index.path, options=("--timeout", "0.001")) as slow:
        answer = get(slow, "/v1/search", q="bão OR lũ OR thi đua OR Hà Nội", facets="true", any="true")
        assert "longer than 0.001 s" in one_line_error(answer, 503)


def test_the_openapi_description_documents_every_route_and_shape(server: Server):
    spec = get(server, "/v1/openapi.json").json()
    paths = set(spec["paths"])
    assert paths == {
        "/v1/search", "/v1/similar", "/v1/articles/{id}", "/v1/kwic", "/v1/terms", "/v1/trend", "/v1/stats",
        "/v1/duplicates", "/v1/indexes",
    }  # fmt: skip
    schemas = spec["components"]["schemas"]
    results = get(server, "/v1/similar", id="xa-hoi-02", explain="true").json()
    assert set(results) <= set(schemas["Results"]["properties"])
    assert set(results["hits"][0]) <= set(schemas["Hit"]["properties"])
    assert set(get(server, "/v1/stats").json()) == set(schemas["Stats"]["properties"])
    assert set(get(server, "/v1/articles/van-hoa-03").json()) == set(schemas["Article"]["properties"])
    kwic = get(server, "/v1/kwic", q="bão").json()
    assert set(kwic["lines"][0]) == set(schemas["Kwic"]["properties"]["lines"]["items"]["properties"])
    terms = get(server, "/v1/terms", q="bão").json()
    assert set(terms) == set(schemas["Terms"]["properties"])
    assert set(terms["terms"][0]) == set(schemas["Terms"]["properties"]["terms"]["items"]["properties"])
    trend = get(server, "/v1/trend", q="bão").json()
    assert set(trend) == set(schemas["Trend"]["properties"])
    assert set(trend["rows"][0]) == set(schemas["Trend"]["properties"]["rows"]["items"]["properties"])


def test_the_page_ships_with_the_package_and_loads_nothing_from_elsewhere(server: Server):
    page = get(server, "/")
    assert page.status_code == 200 and 'src="/static/app.js"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ("app.js", "style.css"):
        assert get(server, f"/static/{name}").status_code == 200
    for path in STATIC.iterdir():
        assert not re.search(r"""(src|href)=["']?(https?:)?//|url\(["']?(https?:)?//|@import""", path.read_text())


def test_an_updated_or_rebuilt_index_is_served_without_a_restart(tmp_path: Path):
    first = write_jsonl(tmp_path / "a.jsonl", [{"id": "a1", "title": "Khối thi đua Gia Lai", "body": "Hội nghị."}])
    index = Index(tmp_path / "index")
    index.index_paths([first])
    with serving(index.path) as live:
        assert get(live, "/v1/search", q="gia lai").json()["total"] == 1
        index.add([Article(id="a2", title="Gia Lai đón mưa lớn", body="Mưa lớn ở Gia Lai.")])
        assert get(live, "/v1/search", q="gia lai").json()["total"] == 2
        rebuilt = write_jsonl(tmp_path / "b.jsonl", [{"id": "b1", "title": "Bão số 3 vào Hà Nội", "body": "Bão."}])
        index.index_paths([rebuilt], rebuild=True)
        assert get(live, "/v1/search", q="gia lai").json()["total"] == 0
        assert get(live, "/v1/articles/b1").json()["title"] == "Bão số 3 vào Hà Nội"


@pytest.mark.slow
def test_several_worker_processes_serve_the_same_port(sample_index: Index):
    with serving(sample_index.path, options=("--workers", "2")) as live:
        answers = [get(live, "/v1/search", q="bão").json()["total"] for _ in range(8)]
        assert answers == [sample_index.search("bão").total] * 8
        assert len(worker_pids(live.process, 2)) >= 2


def test_without_the_extra_serve_says_how_to_install_it():
    blocked = "import sys; sys.modules['uvicorn'] = None; from searchidx.cli import main; main(['serve'])"
    run = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True)
    assert run.returncode == 1
    assert run.stderr == "searchidx: error: serve needs its extra: pip install 'searchidx[serve]'\n"


# --- under load ---------------------------------------------------------------------------

LOAD_REQUESTS = [
    ("/v1/search", {"q": "ha noi", "facets": "true"}),
    ("/v1/search", {"q": "bão OR lũ", "sort": "-date"}),
    ("/v1/search", {"q": '"Gia Lai" thi đua', "page": 1}),
    ("/v1/search", {"q": "giao duc", "any": "true", "limit": 20}),
    ("/v1/similar", {"id": "xa-hoi-02", "limit": 5}),
    ("/v1/articles/van-hoa-03", {}),
    ("/v1/stats", {}),
    ("/v1/search", {"q": "title:(", "limit": 5}),  # a 400: refused work must not leak either
]


def _resources(pid: int) -> tuple[int, int]:
    """The process's resident memory (bytes) and open file descriptors."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+) kB", status)[1]) * 1024  # type: ignore[index]
    return rss, len(list(Path(f"/proc/{pid}/fd").iterdir()))


@pytest.mark.slow
def test_under_load_with_an_update_memory_and_open_files_stay_flat(tmp_path: Path, sample_index: Index):
    """8 clients, 400 requests; meanwhile an article is added (a commit) and then the
    index is rebuilt (a new generation): no errors, and once every route has been
    asked again, no memory or open files left behind by the old generation."""
    path = tmp_path / "index"
    shutil.copytree(sample_index.path, path)
    rebuilt = write_jsonl(tmp_path / "new.jsonl", [{"id": "load-2", "title": "Lũ quét ở Lào Cai", "body": "Mưa."}])
    clients, each = 8, 50
    timings: list[float] = []
    errors: list[str] = []
    a_third_done = threading.Event()

    def client(number: int, count: int) -> None:
        with httpx.Client(base_url=live.url, timeout=60) as http:
            for i in range(count):
                route, params = LOAD_REQUESTS[(number + i) % len(LOAD_REQUESTS)]
                started = time.perf_counter()
                answer = http.get(route, params=params)
                timings.append(time.perf_counter() - started)
                if answer.status_code != (400 if "title:(" in str(params) else 200):
                    errors.append(f"{route} {params}: {answer.status_code} {answer.text[:200]}")
                if len(timings) >= clients * each // 3:
                    a_third_done.set()

    def update() -> None:
        assert a_third_done.wait(300)
        Index(path).add([Article(id="load-1", title="Bão số 3 đổ bộ Hà Nội", body="Hà Nội mưa lớn vì bão.")])
        # a new generation in one segment, as before the run: the old one's files must all close
        Index(path).index_paths([shipped_corpus(), rebuilt], rebuild=True)

    def run(work: list[threading.Thread]) -> None:
        for thread in work:
            thread.start()
        for thread in work:
            thread.join()

    def every_route_once() -> None:
        run([threading.Thread(target=client, args=(n, len(LOAD_REQUESTS))) for n in range(clients)])

    with serving(path) as live:
        every_route_once()
        timings.clear()
        before = _resources(live.process.pid)
        run(
            [
                threading.Thread(target=update),
                *(threading.Thread(target=client, args=(n, each)) for n in range(clients)),
            ]
        )
        load = timings.copy()
        every_route_once()  # on the new generation: the old one's searchers are retired
        after = _resources(live.process.pid)
        assert get(live, "/v1/articles/load-2").status_code == 200  # the rebuild is served
        assert get(live, "/v1/articles/load-1").status_code == 404  # ...and only the rebuild
    quantiles = statistics.quantiles(load, n=20)
    print(f"\n{len(load)} requests, {clients} clients: p50 {quantiles[9] * 1000:.0f} ms, "
          f"p95 {quantiles[18] * 1000:.0f} ms; RSS {before[0] >> 20} -> {after[0] >> 20} MiB, "
          f"open files {before[1]} -> {after[1]}")  # fmt: skip
    assert errors == [] and len(load) == clients * each
    assert after[0] - before[0] < 50 * 2**20
    assert after[1] <= before[1] + 2  # a client connection or two may still be closing
