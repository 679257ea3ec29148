"""The API's OpenAPI 3.1 description, served at ``/v1/openapi.json``: the one place
where the JSON shapes (the library's ``to_dict()``) are written down for clients."""

from __future__ import annotations

from searchidx._version import __version__
from searchidx.query import PERIODS, SORTS


def _string(description: str = "", **more: object) -> dict[str, object]:
    return {"type": "string", **({"description": description} if description else {}), **more}


def _nullable(kind: str, description: str = "", **more: object) -> dict[str, object]:
    return {"type": [kind, "null"], **({"description": description} if description else {}), **more}


def _array(items: dict[str, object], description: str = "") -> dict[str, object]:
    return {"type": "array", "items": items, **({"description": description} if description else {})}


def _object(properties: dict[str, object], description: str = "") -> dict[str, object]:
    return {"type": "object", "properties": properties, **({"description": description} if description else {})}


_SPANS = _array(_array({"type": "integer"}), "[start, end) offsets in characters (code points)")
_DATE = _nullable("string", format="date-time")

# fmt: off
SCHEMAS: dict[str, object] = {
    "Error": _object({"error": _string("one line: what is wrong"), "status": {"type": "integer"}}),
    "Hit": _object({
        "rank": {"type": "integer"}, "id": _string(), "title": _string(),
        "score": _nullable("number", "relevance; null when sorted by date"),
        "url": _string(), "date": _DATE, "category": _string(), "source": _string(),
        "snippet": _string("the best passage of the text"),
        "highlights": {**_SPANS, "description": "the matched words in snippet, [start, end) in characters"},
        "title_highlights": {**_SPANS, "description": "the matched words in title"},
        "duplicates": _array(_string(), "similar: ids of near-copies this hit stands for"),
        "shared_terms": _array(_string(), "similar with explain: key terms this hit shares"),
    }),
    "Results": _object({
        "query": _string(), "total": {"type": "integer"}, "took_ms": {"type": "number"},
        "hits": _array({"$ref": "#/components/schemas/Hit"}),
        "facets": {
            "type": "object", "description": "with facets=true: category, source and month (YYYY-MM)",
            "additionalProperties": _array(_object({"value": _string(), "count": {"type": "integer"}})),
        },
        "suggestion": _nullable("string", "a spelling with hits, when this query has none"),
        "warnings": _array(_string(), "parts of the query read leniently"),
        "matching": _string("all, most or any of the words"), "matching_note": _string(),
        "key_terms": _array(_object({"term": _string(), "weight": {"type": "number"}}), "similar only"),
        "source_duplicates": _array(_string(), "similar only: near-copies of the article left out"),
    }),
    "Article": _object({
        "id": _string(), "url": _string(), "title": _string(), "sapo": _string("the lead"), "body": _string(),
        "date": _DATE, "category": _string(), "source": _string(), "tags": _array(_string()), "author": _string(),
    }),
    "Stats": _object({
        "path": _string(), "documents": {"type": "integer"}, "fields": _array(_string()),
        "size_bytes": {"type": "integer"}, "segments": {"type": "integer"},
        "analyzer_version": {"type": "integer"}, "schema_version": {"type": "integer"},
        "first_date": _DATE, "last_date": _DATE,
    }),
    "Duplicates": _object({"clusters": _array(_object({
        "cluster": {"type": "integer"}, "size": {"type": "integer"}, "ids": _array(_string()),
    }))}),
    "Indexes": _object({"indexes": _array(_object({"name": _string(), "path": _string()}))}),
    "Kwic": _object({"query": _string(), "lines": _array(_object({
        "id": _string(), "date": _DATE, "field": _string("title, sapo or body"),
        "start": {"type": "integer", "description": "where the match starts in the field, in characters"},
        "left": _string(), "match": _string(), "right": _string(),
    }))}),
    "Terms": _object({
        "query": _string(), "matched": {"type": "integer"}, "documents": {"type": "integer"},
        "sampled": {"type": "integer"},
        "terms": _array(_object({
            "word": _string(), "matches": {"type": "integer"}, "documents": {"type": "integer"},
            "score": {"type": "number", "description": "JLH, as Elasticsearch's significant_terms"},
        })),
    }),
    "Trend": _object({
        "by": {"enum": list(PERIODS)}, "from": _nullable("string", format="date"),
        "to": _nullable("string", format="date"),
        "queries": _array(_object({"query": _string(), "total": {"type": "integer"}, "undated": {"type": "integer"}})),
        "rows": _array(_object({
            "period": _string("2026-02-03, 2026-W05, 2026-02 or 2026"), "start": _string(format="date"),
            "end": _string(format="date"), "query": _string(), "count": {"type": "integer"},
            "articles": {"type": "integer", "description": "the period's articles that pass the filters"},
            "share": {"type": "number"},
        })),
    }),
}
# fmt: on


def _parameter(name: str, schema: dict[str, object], description: str, where: str = "query") -> dict[str, object]:
    return {"name": name, "in": where, "schema": schema, "description": description, "required": where == "path"}


def _response(schema: str, description: str) -> dict[str, object]:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {"description": description, "content": {"application/json": {"schema": ref}}}


_ERRORS: dict[str, object] = {
    "400": _response("Error", "bad input: malformed query, bad date, unknown sort or parameter, out of range, body"),
    "404": _response("Error", "no such article or index"),
    "503": _response("Error", "the index is missing, incompatible or damaged, or the request took too long"),
}


def _responses(schema: str, description: str) -> dict[str, object]:
    """The answer, or one of the errors."""
    return {"200": _response(schema, description), **_ERRORS}


def openapi(max_limit: int, max_offset: int, max_body: int, max_lines: int, max_queries: int) -> dict[str, object]:
    integer = {"type": "integer"}
    index = _parameter("index", _string(), "which index (GET /v1/indexes); default the first")
    filters = [
        _parameter("from", _string(format="date"), "only articles from this day on (YYYY-MM-DD)"),
        _parameter("to", _string(format="date"), "only articles up to this day, inclusive"),
        _parameter("category", _array(_string()), "only these categories (repeatable; accents, case ignored)"),
        _parameter("source", _array(_string()), "only these sources (repeatable)"),
        index,
    ]
    paging = [
        _parameter("limit", {**integer, "minimum": 0, "maximum": max_limit, "default": 10}, "hits a page"),
        _parameter("offset", {**integer, "minimum": 0, "maximum": max_offset, "default": 0}, "hits to skip"),
        _parameter("page", {**integer, "minimum": 1}, "page number (sets offset from limit)"),
        *filters,
    ]
    query = _parameter("q", _string(), "a query, as for /v1/search")
    flag = {"type": "boolean", "default": False}
    results = _responses("Results", "the hits")
    return {
        "openapi": "3.1.0",
        "info": {"title": "searchidx", "version": __version__,
                 "description": "Full-text search for Vietnamese news. Read-only; the API is versioned by its path."},
        "paths": {
            "/v1/search": {"get": {
                "summary": "Search",
                "parameters": [
                    _parameter("q", _string(), 'the query: words, "phrases", OR, -word, (groups), title: sapo: '
                               "body: category: source: tags: date: fields; with or without diacritics"),
                    _parameter("sort", {"enum": list(SORTS), "default": "relevance"}, "order of the hits"),
                    _parameter("facets", flag, "count hits by category, source and month"),
                    _parameter("snippets", {**flag, "default": True}, "make snippets with highlights"),
                    _parameter("any", flag, "rank articles with any of the words, not only all"),
                    _parameter("restore", {**flag, "default": True},
                               "rank the restored form of a query typed without diacritics first (results: restored)"),
                    *paging,
                ],
                "responses": results,
            }},
            "/v1/similar": {
                "get": {"summary": "Articles like an indexed one", "parameters": [
                    _parameter("id", _string(), "the article's id or URL"),
                    _parameter("duplicates", flag, "keep near-duplicates instead of collapsing them"),
                    _parameter("explain", flag, "key terms, and the terms each hit shares"),
                    *paging,
                ], "responses": results},
                "post": {
                    "summary": "Articles like a text", "parameters": paging,
                    "requestBody": {"required": True, "description": f"at most {max_body} bytes", "content": {
                        "application/json": {"schema": _object({"text": _string()})}}},
                    "responses": results,
                },
            },
            "/v1/articles/{id}": {"get": {
                "summary": "One whole article",
                "parameters": [_parameter("id", _string(), "the article's id or URL", "path"), index],
                "responses": _responses("Article", "the article"),
            }},
            "/v1/kwic": {"get": {
                "summary": "Keyword in context: each occurrence of the query's words in the matches",
                "parameters": [
                    query, _parameter("width", {**integer, "minimum": 1, "maximum": 200, "default": 40},
                                      "characters of context each side (whole words)"),
                    _parameter("sort", {"enum": ["left", "right", "date"]}, "order (default: as found)"),
                    _parameter("limit", {**integer, "minimum": 0, "maximum": max_lines, "default": 25}, "lines"),
                    *filters,
                ],
                "responses": _responses("Kwic", "the lines"),
            }},
            "/v1/terms": {"get": {
                "summary": "Words unusually frequent in the matches (significant terms)",
                "parameters": [
                    query, _parameter("limit", {**integer, "minimum": 0, "maximum": max_limit, "default": 20}, "words"),
                    *filters,
                ],
                "responses": _responses("Terms", "the words, best first"),
            }},
            "/v1/trend": {"get": {
                "summary": "Matching articles per period for each query",
                "parameters": [
                    _parameter("q", _array(_string()), f"the queries (repeat q, 1 to {max_queries})"),
                    _parameter("by", {"enum": list(PERIODS)}, "the period (default: what suits the range)"),
                    *filters,
                ],
                "responses": _responses("Trend", "a row per period and query"),
            }},
            "/v1/stats": {"get": {"summary": "Size, fields, versions and dates of the index", "parameters": [index],
                                  "responses": _responses("Stats", "the figures")}},
            "/v1/duplicates": {"get": {"summary": "Clusters of near-duplicate articles", "parameters": [index],
                                       "responses": _responses("Duplicates", "the clusters")}},
            "/v1/indexes": {"get": {"summary": "The indexes served",
                                    "responses": {"200": _response("Indexes", "name and path of each")}}},
        },
        "components": {"schemas": SCHEMAS},
    }  # fmt: skip
