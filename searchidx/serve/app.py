"""The ASGI application: routes, parameter checks, error mapping and time limits.

Every route checks its parameters (a 400 with one line says which is wrong), then
runs one ``searchidx.api.Index`` call in a small thread pool and answers with the
library's ``to_dict()``. ``Index`` lends each call its own Whoosh searcher on the
latest commit (see ``searchidx.readers``), so a rebuilt or updated index is served
without a restart. Nothing here writes an index.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypedDict, TypeVar

import orjson
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from searchidx.api import Index
from searchidx.errors import SearchidxError, UnknownArticle
from searchidx.limits import REQUEST_TIMEOUT
from searchidx.query import PERIODS, SORTS
from searchidx.serve.openapi import openapi

API = "/v1"
MAX_LIMIT = 100  # hits a page
MAX_OFFSET = 10_000  # as deep as paging goes (Elasticsearch's max_result_window)
MAX_BODY_BYTES = 1 << 20  # a posted text: more than any real article
MAX_KWIC_LINES = 1000
MAX_TREND_QUERIES = 10
THREADS = 4  # library calls running at once in one server process
ENVIRONMENT = "SEARCHIDX_SERVE"  # the settings, for uvicorn's worker processes
STATIC = Path(__file__).resolve().parent / "static"

SEARCH_PARAMETERS = {"q", "index", "from", "to", "category", "source", "sort", "limit", "offset", "page", "facets",
                     "snippets", "any", "restore"}  # fmt: skip
SIMILAR_PARAMETERS = {"id", "index", "from", "to", "category", "source", "limit", "offset", "page", "duplicates",
                      "explain"}  # fmt: skip
FILTERS = {"index", "from", "to", "category", "source"}

T = TypeVar("T")


class ApiError(Exception):
    """A request the server refuses, with its HTTP status and one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Settings:
    """What a server serves: named index directories (the first is the default) and its limits."""

    indexes: dict[str, Path] = field(default_factory=dict)
    timeout: float = REQUEST_TIMEOUT
    threads: int = THREADS

    def to_json(self) -> str:
        indexes = {name: str(path) for name, path in self.indexes.items()}
        return json.dumps({"indexes": indexes, "timeout": self.timeout, "threads": self.threads})

    @classmethod
    def from_json(cls, text: str) -> Settings:
        data = json.loads(text)
        indexes = {name: Path(path) for name, path in data["indexes"].items()}
        return cls(indexes, float(data["timeout"]), int(data["threads"]))


class Runner:
    """Runs library calls in a few threads, each within the request's time limit.

    Whoosh cannot stop a search half-way, so a call that times out keeps its thread
    until it ends; a new call waits for a free thread (within its own time limit).
    At most ``threads`` calls thus run at once, however many time out."""

    def __init__(self, threads: int, timeout: float) -> None:
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="searchidx-serve")
        self._free = asyncio.Semaphore(threads)

    async def __call__(self, call: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        try:
            await asyncio.wait_for(self._free.acquire(), self.timeout)
        except asyncio.TimeoutError:
            raise ApiError(503, f"the server is busy: no thread came free within {self.timeout:g} s") from None
        future = loop.run_in_executor(self._pool, call)
        future.add_done_callback(self._finished)
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(deadline - loop.time(), 0))
        except asyncio.TimeoutError:
            raise ApiError(503, f"the request took longer than {self.timeout:g} s; narrow it down") from None

    def _finished(self, future: asyncio.Future[T]) -> None:
        self._free.release()
        if not future.cancelled():
            future.exception()  # an abandoned call's error is not reported as never retrieved

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class JSON(Response):
    media_type = "application/json"

    def render(self, content: object) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


# --- parameters -------------------------------------------------------------------------


def _check_known(params: QueryParams, known: set[str]) -> None:
    unknown = sorted(set(params.keys()) - known)
    if unknown:
        raise ApiError(400, f"unknown parameter {unknown[0]!r} (known: {', '.join(sorted(known))})")


def _integer(params: QueryParams, name: str, default: int, low: int, high: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number, not {text[:40]!r}") from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} out of range: {value} (from {low} to {high})")
    return value


def _flag(params: QueryParams, name: str, default: bool = False) -> bool:
    text = params.get(name)
    if text is None:
        return default
    if text.lower() in ("", "1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise ApiError(400, f"{name} must be true or false, not {text[:40]!r}")


def _day(params: QueryParams, name: str) -> datetime | None:
    text = params.get(name)
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise ApiError(400, f"bad date for {name}: {text[:40]!r} (expected YYYY-MM-DD)") from None


class _Filters(TypedDict):
    date_from: datetime | None
    date_to: datetime | None
    categories: tuple[str, ...]
    sources: tuple[str, ...]


class _PageAndFilters(_Filters):
    limit: int
    offset: int


def _filters(params: QueryParams) -> _Filters:
    """The filters every route over articles takes: dates, categories, sources."""
    return {
        "date_from": _day(params, "from"), "date_to": _day(params, "to"),
        "categories": tuple(params.getlist("category")), "sources": tuple(params.getlist("source")),
    }  # fmt: skip


def _page_and_filters(params: QueryParams) -> _PageAndFilters:
    """Options search and similar share: paging and the filters."""
    limit = _integer(params, "limit", 10, 0, MAX_LIMIT)
    offset = _integer(params, "offset", 0, 0, MAX_OFFSET)
    if "page" in params:
        page = _integer(params, "page", 1, 1, MAX_OFFSET)
        offset = (page - 1) * limit
        if offset > MAX_OFFSET:
            raise ApiError(400, f"page out of range: {page} starts at hit {offset + 1} (at most {MAX_OFFSET})")
    return {"limit": limit, "offset": offset, **_filters(params)}


async def _body_text(request: Request) -> str:
    """The ``text`` of a posted JSON object, read no further than MAX_BODY_BYTES."""
    too_big = ApiError(400, f"request body too large (at most {MAX_BODY_BYTES} bytes)")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_big
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise too_big
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ApiError(400, 'the body must be JSON: {"text": "..."}') from None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str) or set(data) != {"text"}:
        raise ApiError(400, 'the body must be a JSON object with one string: {"text": "..."}')
    text: str = data["text"]
    return text


# --- routes -----------------------------------------------------------------------------


class Service:
    """The indexes being served and the routes over them."""

    def __init__(self, settings: Settings) -> None:
        self.indexes = {name: Index(path) for name, path in settings.indexes.items()}
        self.run = Runner(settings.threads, settings.timeout)

    def routes(self) -> list[Route | Mount]:
        return [
            Route("/", self.page),
            Route(f"{API}/search", self.search),
            Route(f"{API}/similar", self.similar, methods=["GET", "POST"]),
            Route(f"{API}/articles/{{id:path}}", self.show),
            Route(f"{API}/kwic", self.kwic),
            Route(f"{API}/terms", self.terms),
            Route(f"{API}/trend", self.trend),
            Route(f"{API}/stats", self.stats),
            Route(f"{API}/duplicates", self.duplicates),
            Route(f"{API}/indexes", self.list_indexes),
            Route(f"{API}/openapi.json", self.openapi),
            Mount("/static", StaticFiles(directory=STATIC)),
        ]

    def close(self) -> None:
        self.run.close()
        for index in self.indexes.values():
            index.close()

    def _index(self, params: QueryParams) -> Index:
        name = params.get("index") or next(iter(self.indexes))
        if name not in self.indexes:
            raise ApiError(404, f"no index named {name[:40]!r} (serving: {', '.join(self.indexes)})")
        return self.indexes[name]

    async def page(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def search(self, request: Request) -> Response:
        params = request.query_params
        _check_known(params, SEARCH_PARAMETERS)
        sort = params.get("sort", "relevance")
        if sort not in SORTS:
            raise ApiError(400, f"unknown sort {sort[:40]!r} (one of {', '.join(SORTS)})")
        index = self._index(params)
        call = functools.partial(
            index.search, params.get("q", ""), sort=sort, facets=_flag(params, "facets"),
            snippets=_flag(params, "snippets", True), match_any=_flag(params, "any"),
            restore=_flag(params, "restore", True), **_page_and_filters(params),
        )  # fmt: skip
        results = await self.run(call)
        return JSON(results.to_dict())

    async def similar(self, request: Request) -> Response:
        """Articles like one in the index (``?id=``) or like a posted text."""
        params = request.query_params
        _check_known(params, SIMILAR_PARAMETERS)
        options = _page_and_filters(params)
        duplicates, explain = _flag(params, "duplicates"), _flag(params, "explain")
        index = self._index(params)
        doc_id, text = params.get("id"), None
        if request.method == "POST":
            if doc_id is not None:
                raise ApiError(400, "give either an id or a posted text, not both")
            text = await _body_text(request)
        elif not doc_id:
            raise ApiError(400, 'give an article id (?id=...) or POST {"text": "..."}')
        call = functools.partial(
            index.similar, doc_id, text=text, duplicates=duplicates, explain=explain,
            **options,
        )  # fmt: skip
        return JSON((await self.run(call)).to_dict())

    async def show(self, request: Request) -> Response:
        index = self._index(request.query_params)
        article = await self.run(functools.partial(index.show, request.path_params["id"]))
        return JSON(article.to_dict())

    async def kwic(self, request: Request) -> Response:
        """Keyword in context: each occurrence of the query's words in the matches."""
        params = request.query_params
        _check_known(params, FILTERS | {"q", "width", "sort", "limit"})
        query, sort = params.get("q", ""), params.get("sort")
        width = _integer(params, "width", 40, 1, 200)
        limit = _integer(params, "limit", 25, 0, MAX_KWIC_LINES)
        filters, index = _filters(params), self._index(params)

        def lines() -> list[dict[str, object]]:
            return [line.to_dict() for line in index.kwic(query, width=width, sort=sort, limit=limit, **filters)]

        return JSON({"query": query, "lines": await self.run(lines)})

    async def terms(self, request: Request) -> Response:
        """The words unusually frequent in the matches."""
        params = request.query_params
        _check_known(params, FILTERS | {"q", "limit"})
        limit = _integer(params, "limit", 20, 0, MAX_LIMIT)
        index = self._index(params)
        call = functools.partial(index.terms, params.get("q", ""), limit=limit, **_filters(params))
        return JSON((await self.run(call)).to_dict())

    async def trend(self, request: Request) -> Response:
        """Matching articles per period for each query (``q`` repeated)."""
        params = request.query_params
        _check_known(params, FILTERS | {"q", "by"})
        queries, by = params.getlist("q"), params.get("by")
        if not 1 <= len(queries) <= MAX_TREND_QUERIES:
            raise ApiError(400, f"give from 1 to {MAX_TREND_QUERIES} queries (q=...&q=...), not {len(queries)}")
        if by is not None and by not in PERIODS:
            raise ApiError(400, f"unknown period {by[:40]!r} (one of {', '.join(PERIODS)})")
        start, end, index = _day(params, "from"), _day(params, "to"), self._index(params)
        call = functools.partial(
            index.trend, queries, by=by,  # type: ignore[arg-type]
            date_from=start.date() if start else None, date_to=end.date() if end else None,
            categories=params.getlist("category"), sources=params.getlist("source"),
        )  # fmt: skip
        return JSON((await self.run(call)).to_dict())

    async def stats(self, request: Request) -> Response:
        index = self._index(request.query_params)
        return JSON((await self.run(index.stats)).to_dict())

    async def duplicates(self, request: Request) -> Response:
        index = self._index(request.query_params)
        clusters = await self.run(index.duplicates)
        return JSON({"clusters": [{"cluster": n, "size": len(ids), "ids": ids} for n, ids in enumerate(clusters, 1)]})

    async def list_indexes(self, request: Request) -> Response:
        return JSON({"indexes": [{"name": name, "path": str(index.path)} for name, index in self.indexes.items()]})

    async def openapi(self, request: Request) -> Response:
        return JSON(openapi(MAX_LIMIT, MAX_OFFSET, MAX_BODY_BYTES, MAX_KWIC_LINES, MAX_TREND_QUERIES))


# --- errors -----------------------------------------------------------------------------


def _error(status: int, message: str) -> Response:
    return JSON({"error": " ".join(message.split()), "status": status}, status_code=status)


async def _refused(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return _error(error.status, str(error))


async def _library_error(request: Request, error: Exception) -> Response:
    """The library's errors: bad input 400, unknown id 404, an index that cannot be used 503."""
    assert isinstance(error, SearchidxError)
    if isinstance(error, UnknownArticle):
        return _error(404, str(error))
    return _error(400 if error.exit_code == 2 else 503, str(error))


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    return _error(error.status_code, error.detail)


async def _unexpected(request: Request, error: Exception) -> Response:
    """A bug: the traceback goes to the server's log, the client gets one line."""
    return _error(500, f"internal error ({type(error).__name__}); the server's log has the details")


_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class _SecurityHeaders:
    """The page loads nothing from elsewhere, and says so to the browser."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


def create_app(settings: Settings) -> Starlette:
    if not settings.indexes:
        raise ValueError("no index to serve")
    service = Service(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        service.close()

    return Starlette(
        routes=service.routes(),
        middleware=[Middleware(_SecurityHeaders)],
        exception_handlers={
            ApiError: _refused, SearchidxError: _library_error, HTTPException: _http_error, Exception: _unexpected,
        },
        lifespan=lifespan,
    )  # fmt: skip


def app_from_environment() -> Starlette:
    """The application for uvicorn's worker processes (``factory=True``)."""
    return create_app(Settings.from_json(os.environ[ENVIRONMENT]))
