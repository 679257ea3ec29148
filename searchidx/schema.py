"""The stored-document layout, in one place: which fields an index has, what
``document()`` writes for an article, and how a stored document becomes an
``Article`` again.

Text fields (``TEXT_FIELDS``) hold analysed Vietnamese text with positions, and the
text itself, stored. A label (``LABEL_FIELDS``) is stored as given and indexed under
``key_field(name)`` by its ``analysis.key`` (case, diacritics and spacing aside), which
is what queries and filters match. Bump ``SCHEMA_VERSION`` whenever the fields or what
they hold change: older indexes are then refused with a request to rebuild.

The names import nothing: the query language, and through it ``searchidx --help``,
uses them without loading Whoosh or pyvi; the functions import what they use.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from searchidx.article import Article

if TYPE_CHECKING:
    from whoosh import fields

#: Bumped whenever the fields or what they hold change.
SCHEMA_VERSION = 1
TEXT_FIELDS = ("title", "sapo", "body")
LABEL_FIELDS = ("category", "source", "tags")


def key_field(label: str) -> str:
    """The field that holds a label's keys ("category" -> "category_key")."""
    return f"{label}_key"


def schema() -> fields.Schema:
    from whoosh import columns, fields

    from searchidx.textfield import VietnameseText

    return fields.Schema(
        id=fields.ID(stored=True, unique=True, sortable=True),
        stamp=fields.ID(unique=True),  # one per add, to undo a repeat within a build
        title=VietnameseText(),
        sapo=VietnameseText(),
        body=VietnameseText(),
        url=fields.ID(stored=True),
        date=fields.DATETIME(stored=True, sortable=True),
        month=fields.ID(sortable=True),
        category=fields.ID(stored=True, sortable=True),
        category_key=fields.ID(),
        source=fields.ID(stored=True, sortable=True),
        source_key=fields.ID(),
        tags=fields.STORED(),
        tags_key=fields.KEYWORD(commas=True, lowercase=False),
        author=fields.STORED(),
        spans=fields.STORED(),  # word boundaries per text field, for highlighting
        fingerprint=fields.COLUMN(columns.VarBytesColumn()),  # MinHash, for near-duplicates
        digest=fields.STORED(),  # content hash: unchanged articles are skipped
    )


def digest(article: Article) -> str:
    """Content hash: an article whose digest is unchanged need not be re-indexed."""
    payload = json.dumps(article.to_dict(), ensure_ascii=False, sort_keys=True)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()


def document(article: Article, stamp: str, content_digest: str) -> dict[str, object]:
    """The Whoosh document for an article: analysed text plus everything stored
    (runs in the indexing worker processes)."""
    from searchidx.analysis import key
    from searchidx.fingerprint import signature
    from searchidx.textfield import postings

    doc: dict[str, object] = {"id": article.id, "stamp": stamp, "digest": content_digest}
    spans: dict[str, bytes] = {}
    for name in TEXT_FIELDS:
        text = getattr(article, name)
        if text:
            doc[name], spans[name] = postings(text)
            doc[f"_stored_{name}"] = text
    doc["spans"] = spans
    doc["fingerprint"] = signature(article.text)
    if article.url:
        doc["url"] = article.url
    if article.date:
        doc["date"] = article.date
        doc["month"] = article.date.strftime("%Y-%m")
    for name in ("category", "source"):
        value = getattr(article, name)
        if value:
            doc[name], doc[key_field(name)] = value, key(value)
    if article.tags:
        doc["tags"] = list(article.tags)
        doc[key_field("tags")] = ",".join(key(t) for t in article.tags)
    if article.author:
        doc["author"] = article.author
    return doc


def stored_article(doc: Mapping[str, Any]) -> Article:
    """The article a stored document was made from (its analysis aside)."""
    return Article(
        id=doc["id"], title=doc.get("title", ""), sapo=doc.get("sapo", ""), body=doc.get("body", ""),
        url=doc.get("url", ""), date=doc.get("date"), category=doc.get("category", ""),
        source=doc.get("source", ""), tags=tuple(doc.get("tags", ())), author=doc.get("author", ""),
    )  # fmt: skip


def article_id(doc_id: str) -> str:
    """An id (or URL) as a user gives it, normalised as stored ids are (NFC, no
    invisible characters), so that an id typed or pasted in NFD is found."""
    from searchidx.analysis import normalize
    from searchidx.errors import InvalidArgument, kind
    from searchidx.query import valid_text

    if not isinstance(doc_id, str):
        raise InvalidArgument(f"an article id must be a string, not {kind(doc_id)}")
    return normalize(valid_text(doc_id, "id")).text.strip()
