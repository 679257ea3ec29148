"""The fingerprint stored at indexing is made from the syllables the analysis
found, field by field; it must be the signature of the article's whole text, which
``similar --text`` and duplicate detection compare it with."""

from __future__ import annotations

import gzip
import itertools
import json

import pytest
from conftest import VIETNEWS, needs_shared

from searchidx.article import Article
from searchidx.fingerprint import signature
from searchidx.schema import document


def _article(title: str, sapo: str, body: str) -> Article:
    return Article(id="a", title=title, sapo=sapo, body=body)


def test_the_indexed_fingerprint_is_the_signature_of_the_text_of_real_articles() -> None:
    needs_shared(VIETNEWS)
    with gzip.open(VIETNEWS, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in itertools.islice(lines, 150)]
    for record in records:
        article = _article(record.get("title", ""), record.get("sapo", ""), record.get("body", ""))
        assert document(article, "s", "d")["fingerprint"] == signature(article.text), record.get("id")


@pytest.mark.parametrize(
    ("title", "sapo", "body"),
    [
        ("Bão số 3", "", "Gió mạnh cấp 12 ở Quảng Ninh và Hải Phòng."),  # no lead
        (
            "Xem tại",
            "trang",
            "www.vnexpress.net hoặc gửi thư tới ban.doc@vnexpress.net ngay",
        ),  # links: body only
        ("Hoà bình", "\u0301Khánh Hoà", "COVID-19 ngày 31-7-2024 ở TP.HCM"),  # a lead that begins with a lone mark
        ("Một", "hai", "ba"),  # fewer syllables than a shingle in each field, not in all
        ("", "", ""),
    ],
)
def test_the_indexed_fingerprint_is_the_signature_of_the_text_at_field_edges(title: str, sapo: str, body: str) -> None:
    article = _article(title, sapo, body)
    assert document(article, "s", "d")["fingerprint"] == signature(article.text)
