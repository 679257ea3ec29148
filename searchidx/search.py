"""Searching an open index: query trees to Whoosh queries, ranking, filters, facets,
snippets and spelling suggestions.

Matching: every syllable of the query must occur (in any of title, sapo, body), in
the form the user typed it; long queries (questions, pasted headlines) need only most
of their meaningful syllables (``matching_rule``). A query typed with diacritics matches exactly those
words (tone placement, case and Unicode form aside): "bão" (storm) must not drown in
"báo" (newspaper). A query typed without any diacritics matches the folded forms, so
"ha noi" finds "Hà Nội".

Ranking is Whoosh's BM25F over title, sapo and body, with these weights:

- ``FIELD_WEIGHTS``: a match in the title counts 2.5 times one in the body and a
  match in the lead 1.5 times: headlines and leads say what an article is about.
- ``WORD_WEIGHT``: the query's multi-syllable words ("gia_lai"; for a query without
  diacritics every run of 2-3 syllables, "~ha_noi") are scored again as whole terms,
  so a whole-word match outranks the same syllables scattered;
- ``PHRASE_WEIGHT``: the query's syllables in order, as a phrase, score again, so
  closeness helps;
- ``EXACT_WEIGHT``: for a query typed without diacritics, text that has the very
  same unaccented syllables ("tin", not "tín") scores a little higher, so exact
  matches come before folded ones.

``scripts/evaluate.py`` shows what each of these does to known-item retrieval.
"""

from __future__ import annotations

import itertools
import math
import string
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from whoosh import query as wq
from whoosh import scoring
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from searchidx import execute
from searchidx.analysis import (
    FOLDED,
    QUESTION_WORDS,
    STOP_WORDS,
    WORD_JOINER,
    fold,
    has_diacritics,
    key,
    query_syllables,
    query_words,
)
from searchidx.errors import QueryError
from searchidx.minimum_match import AtLeast
from searchidx.query import (
    FACETS,
    SORTS,
    And,
    DateRange,
    Label,
    Node,
    Not,
    Or,
    ParsedQuery,
    Phrase,
    Text,
    days_after,
    parse,
    valid_text,
)
from searchidx.schema import TEXT_FIELDS, key_field
from searchidx.snippets import MatchTerms, Snippet, highlight_spans, make_snippet, unpack_spans

FIELD_WEIGHTS = {"title": 2.5, "sapo": 1.5, "body": 1.0}
WORD_WEIGHT = 0.5
PHRASE_WEIGHT = 1.0
EXACT_WEIGHT = 0.5
PHRASE_FIELDS = ("title", "sapo")


def weighting() -> scoring.WeightingModel:
    """BM25F; titles and leads are short, so their length matters less (lower B)."""
    return scoring.BM25F(B=0.75, K1=1.2, title_B=0.3, sapo_B=0.5)


@dataclass(frozen=True)
class SearchOptions:
    """Everything a search can be asked for, CLI and library alike."""

    query: str = ""
    limit: int = 10
    offset: int = 0
    sort: str = "relevance"
    date_from: datetime | None = None
    date_to: datetime | None = None  # inclusive: the whole day
    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    facets: bool = False
    snippets: bool = True
    match_any: bool = False  # rank articles that have any of the words, not only all

    def __post_init__(self) -> None:
        for text in (self.query, *self.categories, *self.sources):
            valid_text(text)


@dataclass
class Hit:
    """One result, the same for search and similar."""

    rank: int
    id: str
    score: float | None  # relevance; None when sorted by date, which computes none
    title: str
    url: str = ""
    date: datetime | None = None
    category: str = ""
    source: str = ""
    snippet: str = ""
    highlights: list[tuple[int, int]] = field(default_factory=list)
    title_highlights: list[tuple[int, int]] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # ids of near-copies it stands for
    shared_terms: list[str] = field(default_factory=list)  # similar --explain

    def to_dict(self) -> dict[str, object]:
        d = {
            "rank": self.rank, "id": self.id, "title": self.title,
            "score": None if self.score is None else round(self.score, 4),
            "url": self.url, "date": self.date.isoformat() if self.date else None,
            "category": self.category, "source": self.source, "snippet": self.snippet,
            "highlights": [list(h) for h in self.highlights],
            "title_highlights": [list(h) for h in self.title_highlights],
        }  # fmt: skip
        if self.duplicates:
            d["duplicates"] = self.duplicates
        if self.shared_terms:
            d["shared_terms"] = self.shared_terms
        return d


@dataclass
class Results:
    query: str
    total: int
    took_ms: float
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    suggestion: str | None = None
    key_terms: list[tuple[str, float]] = field(default_factory=list)  # similar only
    source_duplicates: list[str] = field(default_factory=list)  # similar only
    warnings: list[str] = field(default_factory=list)  # parts of the query read leniently
    matching: str = ""  # search only: "all", "most" or "any" of the words (see matching_rule)
    matching_note: str = ""  # ...and what that meant for this query, in words

    def to_dict(self) -> dict[str, object]:
        return {
            "query": self.query,
            "total": self.total,
            "took_ms": round(self.took_ms, 2),
            "hits": [h.to_dict() for h in self.hits],
            "facets": {name: [{"value": v, "count": c} for v, c in counts] for name, counts in self.facets.items()},
            "suggestion": self.suggestion,
            "warnings": self.warnings,
            **({"key_terms": [{"term": t, "weight": w} for t, w in self.key_terms]} if self.key_terms else {}),
            **({"source_duplicates": self.source_duplicates} if self.source_duplicates else {}),
            **({"matching": self.matching, "matching_note": self.matching_note} if self.matching else {}),
        }


# --- query trees to Whoosh queries ---------------------------------------------------


def _each_field(fields: Sequence[str], term: str, reader: IndexReader, scale: float = 1.0) -> list[wq.Query]:
    """The term in every field that has it, weighted by field."""
    return [wq.Term(f, term, boost=FIELD_WEIGHTS[f] * scale) for f in fields if reader.doc_frequency(f, term)]


def _any_field(fields: Sequence[str], term: str, reader: IndexReader) -> wq.Query:
    queries = _each_field(fields, term, reader)
    if not queries:
        return wq.NullQuery
    return queries[0] if len(queries) == 1 else wq.Or(queries)


def _folded_ngrams(folded: list[str]) -> list[str]:
    """Candidate words for a query typed without diacritics, which pyvi cannot
    segment: every run of two or three syllables ("~ha_noi")."""
    bare = [t[len(FOLDED) :] for t in folded]
    return [FOLDED + WORD_JOINER.join(bare[i : i + n]) for n in (2, 3) for i in range(len(bare) - n + 1)]


def _typed_terms(text: str) -> tuple[list[tuple[str, str]], bool, list[str]]:
    """A query text's (exact, folded) syllables, whether it was typed with
    diacritics, and the form of each syllable that must match."""
    syllables = query_syllables(text)
    if not syllables:
        raise QueryError(f"nothing searchable in {text!r}")
    accented = has_diacritics(text)
    return syllables, accented, [exact if accented else folded for exact, folded in syllables]


#: A query of more than this many syllables is long: it needs only most of its words...
LONG_QUERY = 8
#: ...and so does one of more than this many that asks a question ("... gì?", "vì sao
#: ...") or that no article has all the words of.
SHORT_QUERY = 4
#: The share of a long query's meaningful syllables an article must have (rounded up).
MOST_WORDS = 0.6
# without diacritics, phrases only: "ha" is "Hà" more often than "hả"
_QUESTIONS = QUESTION_WORDS | {fold(w) for w in QUESTION_WORDS if " " in w}
_LIGHT_TERMS = frozenset(
    form for words in (STOP_WORDS, QUESTION_WORDS) for word in words for form in itertools.chain(*query_syllables(word))
)


@dataclass(frozen=True)
class Matching:
    """How the syllables of one text clause must match: at least ``required`` of
    ``terms``; ``optional`` ones only add to the score."""

    terms: tuple[str, ...]
    required: int
    optional: tuple[str, ...] = ()

    @property
    def rule(self) -> str:
        if self.required == len(self.terms) and not self.optional:
            return "all"
        return "any" if self.required == 1 else "most"


def matching_rule(terms: Sequence[str], match_any: bool, relaxed: bool = False) -> Matching:
    """Short queries need all their syllables, as they always did. Long ones (questions,
    pasted headlines) need most of their meaningful ones: function and question words
    are optional, and an article may lack 2 in 5 of the rest, as with Elasticsearch's
    ``minimum_should_match: "8<60%"``. Questions are long from ``SHORT_QUERY`` up, and
    so is any query that found nothing (``relaxed``)."""
    if match_any:
        return Matching(tuple(terms), 1)
    if len(terms) <= (SHORT_QUERY if relaxed or _asks(terms) else LONG_QUERY):
        return Matching(tuple(terms), len(terms))
    unique = list(dict.fromkeys(terms))
    meaningful = [t for t in unique if t not in _LIGHT_TERMS] or unique
    optional = tuple(t for t in unique if t not in meaningful)
    return Matching(tuple(meaningful), math.ceil(MOST_WORDS * len(meaningful)), optional)


def _asks(terms: Sequence[str]) -> bool:
    """Whether the query has a question word ("gì", "vì sao", "bao nhieu")."""
    text = f" {' '.join(t.removeprefix(FOLDED) for t in terms)} "
    return any(f" {w} " in text for w in _QUESTIONS)


def describe_matching(node: Node | None, match_any: bool, relaxed: bool = False) -> tuple[str, str]:
    """The rule applied to the query's words ("all", "most", "any") and a note that
    says what it meant, for the output."""
    texts: list[Text] = []

    def walk(n: Node | None) -> None:
        if isinstance(n, Text):
            texts.append(n)
        elif isinstance(n, (And, Or)):
            for child in n.nodes:
                walk(child)

    walk(node)
    rules = [matching_rule(_typed_terms(t.text)[2], match_any, relaxed) for t in texts]
    if not rules:
        return "", ""
    if match_any:
        return "any", "articles with any of the words (--any), the most matching first"
    most = [r for r in rules if r.rule == "most"]
    if not most:
        return "all", "all words must match"

    def words(terms: Sequence[str]) -> str:
        return ", ".join(t.removeprefix(FOLDED) for t in terms)

    notes = [
        f"long query: at least {r.required} of its {len(r.terms)} main words must match"
        + (f"; {words(r.optional)} only add to the score" if r.optional else "")
        for r in most
    ]
    return "most", ("no article has all the words; " if relaxed else "") + "; ".join(notes)


def _at_least(clauses: list[wq.Query], k: int) -> wq.Query:
    """Whoosh's own And and Or where they do the job: they are faster."""
    if len(clauses) == 1:
        return clauses[0]
    if k >= len(clauses):
        return wq.And(clauses)
    return wq.Or(clauses) if k <= 1 else AtLeast(clauses, k)


def _text_query(node: Text, reader: IndexReader, match_any: bool, relaxed: bool) -> wq.Query:
    """The syllables ``matching_rule`` asks for must match, in the form the user typed
    (exact with diacritics, folded without); optional syllables, words, the typed
    form and the phrase add to the score."""
    fields = node.fields or TEXT_FIELDS
    syllables, accented, terms = _typed_terms(node.text)
    rule = matching_rule(terms, match_any, relaxed)
    required = [_any_field(fields, t, reader) for t in rule.terms]
    bonus = [q for t in rule.optional for q in _each_field(fields, t, reader)]
    words = query_words(node.text) if accented else _folded_ngrams(terms)
    bonus += [q for w in words for q in _each_field(fields, w, reader, WORD_WEIGHT)]
    if not accented:
        bonus += [q for exact, _ in syllables for q in _each_field(fields, exact, reader, EXACT_WEIGHT)]
    if len(terms) > 2 or (len(terms) == 2 and not bonus):
        # two syllables that form a word are already scored as that word
        # in the short fields only: phrase matching in bodies costs more than the whole
        # rest of the query, and words already reward closeness there
        bonus += [wq.Phrase(f, terms, boost=FIELD_WEIGHTS[f] * PHRASE_WEIGHT) for f in fields if f in PHRASE_FIELDS]
    query = _at_least(required, rule.required)
    return wq.AndMaybe(query, wq.Or(bonus)) if bonus else query


def _phrase_query(node: Phrase) -> wq.Query:
    fields = node.fields or TEXT_FIELDS
    _, _, terms = _typed_terms(node.text)
    queries = [
        wq.Term(f, terms[0], boost=FIELD_WEIGHTS[f]) if len(terms) == 1 else wq.Phrase(f, terms, boost=FIELD_WEIGHTS[f])
        for f in fields
    ]
    return queries[0] if len(queries) == 1 else wq.Or(queries)


def _date_query(start: datetime | None, end: datetime | None) -> wq.Query:
    return wq.DateRange("date", start, end, endexcl=end is not None)


def to_whoosh(node: Node, reader: IndexReader, match_any: bool = False, relaxed: bool = False) -> wq.Query:
    if isinstance(node, Text):
        return _text_query(node, reader, match_any, relaxed)
    if isinstance(node, Phrase):
        return _phrase_query(node)
    if isinstance(node, Label):
        return wq.Term(key_field(node.field), key(node.value))
    if isinstance(node, DateRange):
        return _date_query(node.start, node.end)
    if isinstance(node, Not):
        return wq.Not(to_whoosh(node.node, reader, match_any, relaxed))
    if isinstance(node, Or) or (isinstance(node, And) and match_any):
        wanted = [to_whoosh(n, reader, match_any, relaxed) for n in node.nodes if not isinstance(n, Not)]
        excluded = [to_whoosh(n, reader, match_any, relaxed) for n in node.nodes if isinstance(n, Not)]
        if not wanted:
            return wq.And(excluded)
        either = wq.Or(wanted) if len(wanted) > 1 else wanted[0]
        return wq.And([either, *excluded]) if excluded else either
    if isinstance(node, And):
        return wq.And([to_whoosh(n, reader, match_any, relaxed) for n in node.nodes])
    raise TypeError(node)


def search_filter(options: SearchOptions) -> wq.Query | None:
    parts: list[wq.Query] = []
    if options.categories:
        parts.append(wq.Or([wq.Term(key_field("category"), key(c)) for c in options.categories]))
    if options.sources:
        parts.append(wq.Or([wq.Term(key_field("source"), key(s)) for s in options.sources]))
    if options.date_from or options.date_to:
        end = options.date_to.replace(hour=0, minute=0, second=0) if options.date_to else None
        parts.append(_date_query(options.date_from, end and days_after(end, 1)))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else wq.And(parts)


def match_terms(node: Node | None) -> MatchTerms:
    """The terms worth highlighting: those of positive text and phrase clauses."""
    exact: set[str] = set()
    folded: set[str] = set()

    def walk(n: Node | None) -> None:
        if isinstance(n, (Text, Phrase)):
            accented = has_diacritics(n.text)
            for e, f in query_syllables(n.text):
                (exact if accented else folded).add(e if accented else f)
        elif isinstance(n, (And, Or)):
            for child in n.nodes:
                walk(child)

    walk(node)
    return MatchTerms(frozenset(exact), frozenset(folded))


# --- running searches ------------------------------------------------------------------


def compile_query(options: SearchOptions, reader: IndexReader, relaxed: bool = False) -> tuple[ParsedQuery, wq.Query]:
    parsed = parse(options.query)
    if parsed.node is None:
        if search_filter(options) is None:
            raise QueryError("empty query: give search terms or a filter")
        return parsed, wq.Every()
    return parsed, to_whoosh(parsed.node, reader, options.match_any, relaxed)


def make_hit(searcher: Searcher, docnum: int, rank: int, score: float | None, terms: MatchTerms | None) -> Hit:
    """A hit from a stored document; ``terms`` None means no snippet."""
    doc = searcher.stored_fields(docnum)
    title = doc.get("title", "")
    hit = Hit(
        rank=rank, id=doc["id"], score=score, title=title, url=doc.get("url", ""),
        date=doc.get("date"), category=doc.get("category", ""), source=doc.get("source", ""),
    )  # fmt: skip
    if terms is not None:
        spans = doc.get("spans", {})
        hit.title_highlights = highlight_spans(title, unpack_spans(spans.get("title", b"")), terms)
        snippet = _article_snippet(doc, terms)
        hit.snippet, hit.highlights = snippet.text, snippet.highlights
    return hit


def _article_snippet(doc: dict, terms: MatchTerms) -> Snippet:  # type: ignore[type-arg]
    """The snippet is drawn from the lead and the body as one text."""
    sapo, body = doc.get("sapo", ""), doc.get("body", "")
    spans = doc.get("spans", {})
    words = unpack_spans(spans.get("sapo", b""))
    text = sapo
    if body:
        base = len(sapo) + 1 if sapo else 0
        words += [(s + base, e + base) for s, e in unpack_spans(spans.get("body", b""))]
        text = f"{sapo}\n{body}" if sapo else body
    return make_snippet(text, words, terms)


def search(searcher: Searcher, options: SearchOptions) -> Results:
    started = time.perf_counter()
    if options.sort not in SORTS:
        raise QueryError(f"unknown sort {options.sort!r} (use one of: {', '.join(SORTS)})")
    if options.limit < 0 or options.offset < 0:
        raise QueryError("limit and offset must not be negative")
    parsed, query = compile_query(options, searcher.reader())
    node = parsed.node
    by_relevance = options.sort == "relevance"

    def run(query: wq.Query) -> execute.Ranked:
        return execute.run(
            searcher,
            query,
            limit=options.offset + options.limit,
            filter=search_filter(options),
            sort=None if by_relevance else "date",
            reverse=options.sort == "-date",
            facets=FACETS if options.facets else (),
        )

    ranked, relaxed = run(query), False
    if not ranked.total and node is not None:
        _, loose = compile_query(options, searcher.reader(), relaxed=True)
        if loose != query:  # a query of a few words that no article has all of
            ranked, relaxed = run(loose), True
    terms = match_terms(node) if options.snippets else None
    window = range(options.offset, len(ranked.docnums))
    hits = [
        make_hit(searcher, ranked.docnums[i], i + 1, ranked.scores[i] if by_relevance else None, terms) for i in window
    ]
    total = ranked.total
    out = Results(options.query, total, 0.0, hits, facets=ranked.facets, warnings=list(parsed.warnings))
    out.matching, out.matching_note = describe_matching(node, options.match_any, relaxed)
    if total == 0 and node is not None:
        out.suggestion = suggest(searcher, options)
    out.took_ms = (time.perf_counter() - started) * 1000
    return out


def iter_hits(searcher: Searcher, options: SearchOptions, page_size: int = 100) -> Iterator[Hit]:
    """Every hit of a search, fetched a page at a time."""
    offset = options.offset
    while True:
        page = search(searcher, replace(options, offset=offset, limit=page_size, facets=False))
        yield from page.hits
        offset += page_size
        if offset >= page.total or not page.hits:
            return


# --- "did you mean" --------------------------------------------------------------------

RESPELL_CHARS = 8  # longer words are not respelled: a syllable has at most 7 letters
RESPELL_WORDS = 3  # unknown words respelled at most; more and a respelling is a guess
PROBES = 27  # respelled queries tried at most

_VIETNAMESE_LETTERS = string.ascii_lowercase + "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"


def _edits(word: str, letters: str) -> set[str]:
    """Words one edit away (delete, swap, replace, insert): the classic speller's
    candidates, over an alphabet."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in letters}
    inserts = {a + c + b for a, b in splits for c in letters}
    return (deletes | swaps | replaces | inserts) - {word}


def _df(reader: IndexReader, term: str) -> int:
    return sum(reader.doc_frequency(f, term) for f in TEXT_FIELDS)


def _respellings(reader: IndexReader, words: list[str], i: int, keep: int = 3) -> list[str]:
    """Known words one edit from ``words[i]`` if it is unknown, the ones that form a
    known word with a neighbour first ("Hà Nọi" -> "Hà Nội", not "Hà nơi"), then
    the most frequent; in the form and case the user typed; [word] if it is known."""
    word = words[i]
    accented = has_diacritics(word)

    def form(w: str) -> str | None:
        syllables = query_syllables(w)
        return None if len(syllables) != 1 else syllables[0][0 if accented else 1]

    term = form(word)
    if term is None or len(term) > RESPELL_CHARS or _df(reader, term):
        return [word]
    before = form(words[i - 1]) if i > 0 else None
    after = form(words[i + 1]) if i + 1 < len(words) else None
    if accented:
        candidates = _edits(term, _VIETNAMESE_LETTERS)
    else:  # folded terms have no diacritics: their candidates need none
        candidates = {FOLDED + c for c in _edits(term.removeprefix(FOLDED), string.ascii_lowercase)}

    def join(a: str, b: str) -> str:
        return a + WORD_JOINER + b.removeprefix(FOLDED)

    def rank(c: str) -> tuple[bool, int]:
        words_formed = [join(before, c)] if before else []
        words_formed += [join(c, after)] if after else []
        return any(_df(reader, w) for w in words_formed), _df(reader, c)

    known = sorted(((rank(c), c) for c in candidates if _df(reader, c)), reverse=True)
    spelled = [c.removeprefix(FOLDED) for _, c in known[:keep]]
    return [c.capitalize() if word[:1].isupper() else c for c in spelled]


def suggest(searcher: Searcher, options: SearchOptions) -> str | None:
    """A respelling of the query's unknown words that has hits, or None: the likeliest
    candidates first, a few combinations at most."""
    reader = searcher.reader()
    words = options.query.split()
    choices: list[list[str]] = []
    unknown = 0
    for i, word in enumerate(words):
        spellings = [word] if ":" in word or unknown == RESPELL_WORDS else _respellings(reader, words, i)
        unknown += spellings != [word]
        choices.append(spellings)
    if not unknown or not all(choices):
        return None
    for respelled in itertools.islice(itertools.product(*choices), PROBES):
        probe = replace(options, query=" ".join(respelled), limit=1, offset=0, facets=False, snippets=False)
        try:
            _parsed, query = compile_query(probe, reader)
        except QueryError:
            return None
        if execute.run(searcher, query, 1, filter=search_filter(probe)).total:
            return probe.query
    return None
