""" "More like this": key terms of an article, the articles that share them, and
near-duplicates collapsed.

Key terms are weighed as BM25 weighs a term in a document: the term's frequency in
the article, counted with the same field weights as search (title 2.5, lead 1.5,
body 1) and saturated (``K1``: the tenth mention of a name says little more than the
third), times its inverse document frequency in the index (to the power
``IDF_POWER``). Multi-syllable words are
preferred over bare syllables (a syllable inside a word adds little the word does not
say); function words, boilerplate and single letters ("d", "z") fall out through a
short stop list, a minimum of two letters, and because any term in more than
``COMMON_DF`` of the articles (and more than ``MIN_COMMON``) is dropped.

Measured on VNTC topic precision@10 and split-half first rank (``scripts/evaluate.py
--parts topics,similar``; 500 articles each, 2026-12-07, key terms matched in leads
and bodies): the earlier rule, linear tf-idf with 25 terms under 8% of the articles,
gave 0.773 and 24.4%; saturating the frequency 0.772 and 30.2%; and more terms,
commoner ones too, help topics and cost split halves a little: 60 terms 0.814 /
30.6%, 100 under 15% 0.830 / 29.2%, 150 under 20% 0.835 / 27.0%. Weighing rare terms
more (idf squared) gave the best split halves (32.8% with 150 terms) but lost topics
(0.808); divergence from randomness (Bo1, 25 terms) 0.764 / 27.4%.

Issue #17 (tuned on another sample, ``--seed 11``: 500 topic articles, 250 split
halves; figures below are that sample's, topics first): from 100 terms under 15%
(0.820 / 36.0%), 200 terms under 25% with the key-term weight taking idf to the
power ``IDF_POWER`` 0.5 and bodies scored with ``BODY_B`` 1 gave 0.832 / 37.2%
(seed 7: 0.843 / 39.2% against 0.835 / 36.2%, 1.24x the time). Tried, not kept:

- titles matched too, at 0.3: topics 0.799 (0.800, 200 articles), with the kept settings 0.830 (0.832); halves 32.8%.
- B for bodies 0.5 / 1.0 alone: topics 0.799 / 0.804 (0.800); halves 32.0 / 42.4%, so 1.0 is kept for them.
- idf power 0.25 / 0: topics 0.834 / 0.833, halves 33.6 / 30.8%.
- 300 terms under 30%, 400 under 40% (idf power 1): 0.828 / 0.830 against 0.827 for 200, slower.
- Rocchio, the top 3 hits' key terms added at 0.5 / 0.3: 0.802 (0.800) / 0.826 (0.827), 2.4-2.5x the time;
  with the kept settings, 3 at 0.3 / 5 at 0.7: 0.834 / 0.831 (0.832), 2.6 / 3.4x.
- key terms reweighted by how many of the top 5 hits hold them: 0.801 (0.800); halves 30.0% (Rocchio 28.4%).
- syllable weight 0.25 / 1.0: 0.803 / 0.806 (0.807, 200 articles); a document K1 of 0.6 / 2: 0.806 / 0.802.
- leads at 0.25: topics 0.832 (0.832), halves 43.6% (the halves have no lead); at 1 (idf power 1) 0.824 (0.827).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

from whoosh import query as wq
from whoosh.scoring import BM25F
from whoosh.searching import Searcher

from searchidx import execute
from searchidx.analysis import FOLDED, STOP_WORDS, WORD_JOINER, analyze
from searchidx.article import Article
from searchidx.errors import QueryError
from searchidx.fingerprint import DUPLICATE_THRESHOLD, signature, similarity
from searchidx.query import Text
from searchidx.querying import FIELD_WEIGHTS, SearchOptions, match_terms, search_filter, weighting
from searchidx.results import SimilarHit, SimilarResults, make_hit
from searchidx.schema import TEXT_FIELDS
from searchidx.snippets import MatchTerms

KEY_TERMS = 200
COMMON_DF = 0.25  # a term in more than 25% of the articles says little about any one
MIN_COMMON = 10  # ...but in a small index, a term in a handful of articles is no stop word
SYLLABLE_WEIGHT = 0.5  # a bare syllable counts half a whole word
K1 = 1.2  # BM25's saturation of a term's frequency
#: A key term's weight takes its idf to this power: the match's own BM25 score has
#: the idf once more, and common topic words matter for "like this" too.
IDF_POWER = 0.5
#: BM25's B for bodies in the similar query: fully normalised by length, so that a
#: long article is not found for every term it happens to hold (search uses 0.75).
BODY_B = 1.0
MIN_LETTERS = 2  # "d" and "z" (initials, "thế hệ Z") are no key terms
#: Where key terms are looked for, and their weight there: a lead mostly repeats its
#: body's words, so it counts half (short articles may have little else).
MATCH_FIELDS = {"sapo": 0.5, "body": 1.0}


@dataclass(frozen=True)
class KeyTerm:
    term: str
    weight: float

    @property
    def label(self) -> str:
        return self.term.replace(WORD_JOINER, " ")


class TermCounts(Protocol):
    """What key terms are weighed with: a Whoosh reader, or the counts of several
    indexes added up (``shards.TermStatistics``)."""

    def doc_count(self) -> int: ...

    def doc_frequency(self, fieldname: str, text: str) -> int: ...


def term_frequencies(article: Article) -> dict[str, float]:
    """The article's candidate key terms, each with its weighted frequency."""
    tf: defaultdict[str, float] = defaultdict(float)
    for name in TEXT_FIELDS:
        text = getattr(article, name)
        if not text:
            continue
        for term in analyze(text).terms:
            word = term.text
            if word.startswith(FOLDED) or word in STOP_WORDS or sum(c.isalpha() for c in word) < MIN_LETTERS:
                continue
            tf[word] += FIELD_WEIGHTS[name] * (1.0 if WORD_JOINER in word else SYLLABLE_WEIGHT)
    return tf


def key_terms(counts: TermCounts, article: Article) -> list[KeyTerm]:
    """The article's ``KEY_TERMS`` best terms, weighed as the module says."""
    total = max(counts.doc_count(), 1)
    scored = []
    for word, weight in term_frequencies(article).items():
        df = max(counts.doc_frequency(f, word) for f in MATCH_FIELDS)
        if df == 0 or df > max(COMMON_DF * total, MIN_COMMON):
            continue
        scored.append(KeyTerm(word, _saturated(weight) * math.log(1 + total / df) ** IDF_POWER))
    return sorted(scored, key=lambda k: -k.weight)[:KEY_TERMS]


def _saturated(tf: float) -> float:
    """BM25's term frequency: 1 for one mention, at most ``K1 + 1`` for many."""
    return tf * (K1 + 1) / (tf + K1)


def similar_query(terms: list[KeyTerm], counts: TermCounts) -> wq.Query | None:
    """The key terms, weighted, against the leads and bodies of other articles:
    content with content; None for an empty index (nothing to be like), QueryError
    for a text with no specific word. (Matching titles too, with search's title
    weight, let any article whose headline shares a term outrank the real match.
    Topic precision with leads weighing 1, 0.5 and 0: 0.828, 0.834, 0.830.)"""
    if not terms and not counts.doc_count():
        return None
    if not terms:
        raise QueryError("nothing to go on: the text has no words specific enough to search for")
    top = terms[0].weight
    return wq.Or([wq.Term(f, k.term, boost=w * k.weight / top) for k in terms for f, w in MATCH_FIELDS.items()])


def similar_weighting() -> BM25F:
    """How the similar query's matches are scored (``BODY_B``)."""
    return weighting(BODY_B)


@dataclass
class Candidate:
    """A ranked article before near-copies are folded: ``where`` finds it again (a
    document number, or the shard that holds it)."""

    where: int
    score: float
    fingerprint: bytes
    id: str
    duplicates: list[str] = field(default_factory=list)


def fetched(options: SearchOptions, keep_duplicates: bool) -> int:
    """How many to rank so that a page is left once near-copies are folded."""
    wanted = options.offset + options.limit
    return wanted if keep_duplicates else wanted * 3 + 10


def folded(candidates: list[Candidate], own: bytes, keep_duplicates: bool) -> tuple[list[Candidate], list[str]]:
    """Unless ``keep_duplicates``, near-copies folded into the best-ranked of them
    (``duplicates``) and copies of the article itself (``own``, its signature)
    dropped; returns the kept candidates and the ids of those copies."""
    if keep_duplicates:
        return candidates, []
    kept: list[Candidate] = []
    source_copies: list[str] = []
    for c in candidates:
        if similarity(own, c.fingerprint) >= DUPLICATE_THRESHOLD:
            source_copies.append(c.id)
            continue
        original = next((k for k in kept if similarity(k.fingerprint, c.fingerprint) >= DUPLICATE_THRESHOLD), None)
        if original is not None:
            original.duplicates.append(c.id)
        else:
            kept.append(c)
    return kept, source_copies


def highlighted(terms: list[KeyTerm], options: SearchOptions) -> MatchTerms | None:
    """What the hits' snippets highlight: the key terms (made once for a page: its
    pattern of up to ``KEY_TERMS`` alternatives costs more to build than to use)."""
    return match_terms(Text(" ".join(k.label for k in terms))) if options.snippets else None


def similar_hit(
    searcher: Searcher, docnum: int, rank: int, candidate: Candidate, terms: list[KeyTerm],
    highlight: MatchTerms | None, options: SearchOptions, explain: bool,
) -> SimilarHit:  # fmt: skip
    """A kept candidate as a hit; with ``explain``, the key terms it shares."""
    shared: list[str] = []
    if explain:
        matched = {
            text for _, text in execute.terms_in(searcher, docnum, [(f, k.term) for k in terms for f in MATCH_FIELDS])
        }
        shared = [k.label for k in terms if k.term in matched]
    return SimilarHit(
        **vars(make_hit(searcher, docnum, rank, candidate.score, highlight, options.snippet_chars)),
        duplicates=candidate.duplicates,
        shared_terms=shared,
    )


def similar_results(
    article: Article, total: int, hits: list[SimilarHit], terms: list[KeyTerm], source_copies: list[str], started: float
) -> SimilarResults:
    out = SimilarResults(article.title, total, 0.0, hits)
    out.key_terms = [(k.label, round(k.weight, 3)) for k in terms]
    out.source_duplicates = source_copies
    out.took_ms = (time.perf_counter() - started) * 1000
    return out


def similar(
    searcher: Searcher,
    article: Article,
    options: SearchOptions,
    *,
    exclude_id: str | None = None,
    keep_duplicates: bool = False,
    explain: bool = False,
) -> SimilarResults:
    """Articles like ``article``; ``exclude_id`` is the article's own id if indexed.

    Unless ``keep_duplicates``, near-copies are folded into the best-ranked of them,
    whose ``duplicates`` lists the others; copies of the article itself are dropped
    and listed in the results' ``source_duplicates``."""
    started = time.perf_counter()
    reader = searcher.reader()
    terms = key_terms(reader, article)
    query = similar_query(terms, reader)
    if query is None:
        return SimilarResults(article.title, 0, 0.0, [])
    exclude = wq.Term("id", exclude_id) if exclude_id else None
    ranked = execute.run(
        searcher,
        query,
        fetched(options, keep_duplicates),
        filter=search_filter(options),
        exclude=exclude,
        weighting=similar_weighting(),
    )
    fingerprints, ids = reader.column_reader("fingerprint"), reader.column_reader("id")
    candidates = [Candidate(d, s, fingerprints[d], ids[d]) for d, s in zip(ranked.docnums, ranked.scores, strict=True)]
    kept, source_copies = folded(candidates, signature(article.text), keep_duplicates)
    window = kept[options.offset : options.offset + options.limit]
    highlight = highlighted(terms, options)
    hits = [
        similar_hit(searcher, c.where, rank, c, terms, highlight, options, explain)
        for rank, c in enumerate(window, options.offset + 1)
    ]
    return similar_results(article, ranked.total, hits, terms, source_copies, started)
