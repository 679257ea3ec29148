"""The baseline a user would otherwise pick: plain Whoosh, StandardAnalyzer, no
segmentation and no folding, queried the way its documentation suggests."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from whoosh import fields, index, qparser
from whoosh.analysis import StandardAnalyzer
from whoosh.searching import Searcher

from searchidx import Article

FIELDS = ("title", "sapo", "body")


def build(directory: Path, articles: Iterable[Article], text_fields: tuple[str, ...] = FIELDS) -> int:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    analyzer = StandardAnalyzer()
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        category=fields.ID(stored=True),
        **{name: fields.TEXT(analyzer, stored=True) for name in text_fields},
    )
    ix = index.create_in(str(directory), schema)
    writer = ix.writer(limitmb=256)
    count = 0
    for article in articles:
        writer.add_document(id=article.id, category=article.category, **{n: getattr(article, n) for n in text_fields})
        count += 1
    writer.commit()
    return count


class PlainSearch:
    def __init__(self, directory: Path, any_word: bool = False) -> None:
        self.ix = index.open_dir(str(directory))
        self.searcher: Searcher = self.ix.searcher()
        names = [n for n in FIELDS if n in self.ix.schema]
        group = qparser.OrGroup if any_word else qparser.AndGroup
        self.parser = qparser.MultifieldParser(names, self.ix.schema, group=group)

    def search(self, text: str, limit: int = 10, snippets: bool = True) -> list[str]:
        results = self.searcher.search(self.parser.parse(text), limit=limit)
        len(results)  # the total, as searchidx reports it
        if snippets:
            for hit in results:
                hit.highlights("body")
        return [hit["id"] for hit in results]

    def more_like_this(self, doc_id: str, limit: int = 10) -> list[str]:
        docnum = self.searcher.document_number(id=doc_id)
        results = self.searcher.more_like(docnum, "body", top=limit)
        return [hit["id"] for hit in results]

    def size(self) -> int:
        return sum(p.stat().st_size for p in Path(self.ix.storage.folder).iterdir())
