"""A Whoosh query that matches documents having at least ``k`` of its clauses, like
Elasticsearch's ``minimum_should_match`` or a Lucene BooleanQuery with
``minimumNumberShouldMatch``.

Whoosh's ``Or`` takes a ``minmatch`` argument but ignores it ("not yet implemented"),
so long queries need this. Scores are those of ``Or``: among the documents that pass,
the ranking is exactly that of ``Or``.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence

from whoosh import matching
from whoosh import query as wq
from whoosh.reading import IndexReader
from whoosh.searching import Searcher


class AtLeast(wq.CompoundQuery):
    """Documents matching at least ``k`` of ``subqueries``, scored like ``Or``."""

    JOINT = " OR "

    def __init__(self, subqueries: Sequence[wq.Query], k: int, boost: float = 1.0) -> None:
        super().__init__(list(subqueries), boost=boost)
        self.k = k

    def __repr__(self) -> str:
        return f"AtLeast({self.subqueries!r}, k={self.k})"

    def __unicode__(self) -> str:
        return f"({self.JOINT.join(str(q) for q in self.subqueries)})>={self.k}"

    __str__ = __unicode__

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and self.k == getattr(other, "k", None)

    def __hash__(self) -> int:
        return super().__hash__() ^ hash(self.k)  # type: ignore[no-any-return]

    def apply(self, fn: object) -> AtLeast:
        return AtLeast([fn(q) for q in self.subqueries], self.k, boost=self.boost)  # type: ignore[operator]

    def normalize(self) -> wq.Query:
        """Whoosh's own And and Or where they say the same; clauses that match nothing
        (words not in the index) still count towards ``k``."""
        subs = [q.normalize() for q in self.subqueries]
        live = [q for q in subs if q is not wq.NullQuery]
        if len(live) < self.k:
            return wq.NullQuery
        if self.k == len(subs):
            return wq.And(live, boost=self.boost).normalize()
        if self.k <= 1:
            return wq.Or(live, boost=self.boost).normalize()
        return AtLeast(live, self.k, boost=self.boost)

    def simplify(self, ixreader: IndexReader) -> wq.Query:
        return AtLeast([q.simplify(ixreader) for q in self.subqueries], self.k, boost=self.boost).normalize()

    def _matcher(self, subs: Sequence[wq.Query], searcher: Searcher, context: object) -> matching.Matcher:
        """Counting each document's clauses over the postings first, then scoring only
        the documents that have ``k`` with ``Or``, is several times faster in Python
        than moving a matcher per clause document by document."""
        counts: Counter[int] = Counter()
        for q in subs:
            counts.update(set(q.matcher(searcher, context).all_ids()))
        allowed = sorted(doc for doc, n in counts.items() if n >= self.k)
        if not allowed:
            return matching.NullMatcher()
        return OnlyMatcher(wq.Or(list(subs), boost=self.boost).matcher(searcher, context), allowed)


class OnlyMatcher(matching.WrappingMatcher):
    """The child's documents that are in ``allowed`` (sorted), with the child's
    scores; the child skips from one allowed document to the next."""

    def __init__(self, child: matching.Matcher, allowed: Sequence[int], at: int = 0) -> None:
        super().__init__(child)
        self._allowed = allowed
        self._at = at
        self._settle()

    def _settle(self) -> None:
        child, allowed = self.child, self._allowed
        while self._at < len(allowed) and child.is_active():
            wanted = allowed[self._at]
            if child.id() < wanted:
                child.skip_to(wanted)
            elif child.id() == wanted:
                return
            else:
                self._at = bisect.bisect_left(allowed, child.id(), self._at)
        self._at = len(allowed)

    def _rewrap(self, newchild: matching.Matcher) -> OnlyMatcher:
        return OnlyMatcher(newchild, self._allowed, self._at)

    def is_active(self) -> bool:
        return self._at < len(self._allowed)

    def reset(self) -> None:
        self.child.reset()
        self._at = 0
        self._settle()

    def next(self) -> None:
        if not self.is_active():
            raise matching.ReadTooFar
        self._at += 1
        self._settle()

    def skip_to(self, id: int) -> None:
        if not self.is_active():
            raise matching.ReadTooFar
        self._at = bisect.bisect_left(self._allowed, id, self._at)
        self._settle()

    def supports_block_quality(self) -> bool:
        return False

    def replace(self, minquality: float = 0) -> matching.Matcher:
        # a child's quality bounds only its share of the score, so none may be dropped for it
        if not self.is_active():
            return matching.NullMatcher()
        return self
