"""What a search asks for and how it is compiled: query trees to Whoosh queries,
the matching rule, ranking weights and filters.

Matching: every syllable of the query must occur (in any of title, sapo, body), in
the form the user typed it; long queries (questions, pasted headlines) need only most
of their meaningful syllables (``matching_rule``). A query typed with diacritics matches exactly those
words (tone placement, case and Unicode form aside): "bão" (storm) must not drown in
"báo" (newspaper). A query typed without any diacritics matches the folded forms, so
"ha noi" finds "Hà Nội"; so does one typed with only some ("ha nội") when the marks it
lacks are restored (``restore``).

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
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, datetime

from whoosh import query as wq
from whoosh import scoring
from whoosh.reading import IndexReader

from searchidx import restore
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
    term_forms,
)
from searchidx.dates import VIETNAM, parse_date
from searchidx.errors import InvalidArgument, QueryError, kind
from searchidx.minimum_match import AtLeast
from searchidx.query import (
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
from searchidx.snippets import MatchTerms

FIELD_WEIGHTS = {"title": 2.5, "sapo": 1.5, "body": 1.0}
WORD_WEIGHT = 0.5
PHRASE_WEIGHT = 1.0
EXACT_WEIGHT = 0.5
PHRASE_FIELDS = ("title", "sapo")
#: For a query typed without diacritics, the exact terms of its restored form
#: ("hà", "nội", "hà_nội" for "ha noi") score again, so the likeliest meaning comes first.
RESTORED_WEIGHT = 2.0


def weighting(body_b: float = 0.75) -> scoring.BM25F:
    """BM25F; titles and leads are short, so their length matters less (lower B).
    ``body_b``: how much a body's length counts (``similar`` counts it fully)."""
    return scoring.BM25F(B=body_b, K1=1.2, title_B=0.3, sapo_B=0.5)


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
    restore: bool = True  # rank the restored form of a query typed without diacritics first
    snippet_chars: int | None = None  # the longest snippet; None: up to 3 sentences of ~200 characters

    def __post_init__(self) -> None:
        """Refuse what no search can use, in one line (InvalidArgument), rather than
        fail deep inside or silently match nothing."""
        if not isinstance(self.query, str):
            raise InvalidArgument(f"the query must be a string, not {kind(self.query)}")
        for name in ("limit", "offset"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidArgument(f"{name} must be a whole number, not {kind(value)}")
        if self.limit < 0 or self.offset < 0:
            raise QueryError("limit and offset must not be negative")
        if self.sort not in SORTS:
            raise QueryError(f"unknown sort {self.sort!r} (use one of: {', '.join(SORTS)})")
        for name in ("date_from", "date_to"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), datetime):
                raise InvalidArgument(f"{name} must be a datetime or None, not {kind(getattr(self, name))}")
        for name in ("categories", "sources"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
                raise InvalidArgument(f"{name} must be a tuple of strings, not {kind(value)}")
        if self.snippet_chars is not None and (
            isinstance(self.snippet_chars, bool) or not isinstance(self.snippet_chars, int)
        ):
            raise InvalidArgument(f"snippet_chars must be a whole number or None, not {kind(self.snippet_chars)}")
        for name in ("facets", "snippets", "match_any", "restore"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidArgument(f"{name} must be True or False, not {kind(getattr(self, name))}")
        for text in (self.query, *self.categories, *self.sources):
            valid_text(text)


#: A day as users give one: a date, a datetime or a string ("2024-01-01", "31/7/2024").
DateLike = date | str
#: Labels as users give them: one, or several.
Labels = str | Sequence[str] | AbstractSet[str]


def as_datetime(value: DateLike | None, name: str) -> datetime | None:
    """A date as the index stores them: naive, in Vietnam time (an aware datetime is
    converted). InvalidArgument for anything that is not a date."""
    if value is None or (isinstance(value, datetime) and value.tzinfo is None):
        return value
    if isinstance(value, datetime):
        return value.astimezone(VIETNAM).replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return parse_date(value)
        except ValueError:
            raise InvalidArgument(f"{name}: {value!r} is not a date (give one such as '2024-01-01')") from None
    raise InvalidArgument(f"{name} must be a date, a datetime or a string such as '2024-01-01', not {kind(value)}")


def as_labels(value: Labels, name: str) -> tuple[str, ...]:
    """One label or several, as a tuple. InvalidArgument for anything else."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (Sequence, AbstractSet)) and not isinstance(value, (bytes, bytearray)):
        labels = tuple(value)
        if all(isinstance(v, str) for v in labels):
            return labels
    raise InvalidArgument(f"{name} must be a string or a sequence of strings, not {kind(value)}")


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


def _typed_terms(text: str, folded: bool = False) -> tuple[list[tuple[str, str]], bool, list[str]]:
    """A query text's (exact, folded) syllables, whether it is matched as typed with
    diacritics (not when ``folded``), and the form of each syllable that must match."""
    syllables = query_syllables(text)
    if not syllables:
        raise QueryError(f"nothing searchable in {text!r}")
    accented = has_diacritics(text) and not folded
    return syllables, accented, [exact if accented else folded for exact, folded in syllables]


#: A query of more than this many syllables is long: it needs only most of its words...
LONG_QUERY = 8
#: ...and so does one of more than this many that asks a question ("... gì?", "vì sao
#: ...") or that no article has all the words of.
SHORT_QUERY = 4
#: The share of a long query's meaningful syllables an article must have (rounded up).
#: Measured on 500 vietnews-val headlines (seed 11, known-item MRR@10 with / without
#: diacritics) and the 124 questions (as typed): 0.6 gave 0.784 / 0.761 and 0.908;
#: 0.5 0.791 / 0.767 and 0.908; 0.4 0.795 / 0.767 but 0.904, below ``--any``'s 0.906.
MOST_WORDS = 0.5
# without diacritics, phrases only: "ha" is "Hà" more often than "hả"
_QUESTIONS = QUESTION_WORDS | {fold(w) for w in QUESTION_WORDS if " " in w}
LIGHT_TERMS = frozenset(
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


def matching_rule(terms: Sequence[str], match_any: bool, relaxed: bool = False, question: bool = False) -> Matching:
    """Short queries need all their syllables, as they always did. Long ones (questions,
    pasted headlines) need most of their meaningful ones: function and question words
    are optional, and an article may lack half of the rest, as with Elasticsearch's
    ``minimum_should_match: "8<50%"``. Questions (a question word, or a ``question``
    mark, which is all that shows a question typed without diacritics: "... gi?") are
    long from ``SHORT_QUERY`` up, and so is any query that found nothing (``relaxed``)."""
    if match_any:
        return Matching(tuple(terms), 1)
    if len(terms) <= (SHORT_QUERY if relaxed or question or _asks(terms) else LONG_QUERY):
        return Matching(tuple(terms), len(terms))
    unique = list(dict.fromkeys(terms))
    meaningful = [t for t in unique if t not in LIGHT_TERMS] or unique
    optional = tuple(t for t in unique if t not in meaningful)
    return Matching(tuple(meaningful), math.ceil(MOST_WORDS * len(meaningful)), optional)


def _asks(terms: Sequence[str]) -> bool:
    """Whether the query has a question word ("gì", "vì sao", "bao nhieu")."""
    text = f" {' '.join(t.removeprefix(FOLDED) for t in terms)} "
    return any(f" {w} " in text for w in _QUESTIONS)


def _question(node: Text) -> bool:
    return "?" in node.text


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
    rules = [matching_rule(_typed_terms(t.text)[2], match_any, relaxed, _question(t)) for t in texts]
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


def _text_query(node: Text, reader: IndexReader, match_any: bool, relaxed: bool, folded: bool) -> wq.Query:
    """The syllables ``matching_rule`` asks for must match, in the form the user typed
    (exact with diacritics, folded without); optional syllables, words, the typed
    form and the phrase add to the score."""
    fields = node.fields or TEXT_FIELDS
    syllables, accented, terms = _typed_terms(node.text, folded)
    rule = matching_rule(terms, match_any, relaxed, _question(node))
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


def _phrase_query(node: Phrase, folded: bool) -> wq.Query:
    fields = node.fields or TEXT_FIELDS
    _, _, terms = _typed_terms(node.text, folded)
    queries = [
        wq.Term(f, terms[0], boost=FIELD_WEIGHTS[f]) if len(terms) == 1 else wq.Phrase(f, terms, boost=FIELD_WEIGHTS[f])
        for f in fields
    ]
    return queries[0] if len(queries) == 1 else wq.Or(queries)


def _date_query(start: datetime | None, end: datetime | None) -> wq.Query:
    return wq.DateRange("date", start, end, endexcl=end is not None)


def to_whoosh(
    node: Node, reader: IndexReader, match_any: bool = False, relaxed: bool = False, folded: bool = False
) -> wq.Query:
    """``folded``: text matches in its folded form, marks or not (a query whose
    missing marks were restored: it finds what it would find typed without any)."""

    def sub(n: Node) -> wq.Query:
        return to_whoosh(n, reader, match_any, relaxed, folded)

    if isinstance(node, Text):
        return _text_query(node, reader, match_any, relaxed, folded)
    if isinstance(node, Phrase):
        return _phrase_query(node, folded)
    if isinstance(node, Label):
        return wq.Term(key_field(node.field), key(node.value))
    if isinstance(node, DateRange):
        return _date_query(node.start, node.end)
    if isinstance(node, Not):
        return wq.Not(sub(node.node))
    if isinstance(node, Or) or (isinstance(node, And) and match_any):
        wanted = [sub(n) for n in node.nodes if not isinstance(n, Not)]
        excluded = [sub(n) for n in node.nodes if isinstance(n, Not)]
        if not wanted:
            return wq.And(excluded)
        either = wq.Or(wanted) if len(wanted) > 1 else wanted[0]
        return wq.And([either, *excluded]) if excluded else either
    if isinstance(node, And):
        return wq.And([sub(n) for n in node.nodes])
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


def match_terms(node: Node | None, units: bool = False, restored: Sequence[str] = ()) -> MatchTerms:
    """The terms worth highlighting: those of positive text and phrase clauses.
    With ``units``, also what an occurrence must hold (``snippets.occurrences``):
    each quoted phrase; each word of a text clause as pyvi segments it ("bão miền
    Trung": "bão", "miền trung"); a text typed without diacritics, which pyvi
    cannot segment, as its syllables in order ("ha noi"). ``restored`` holds the
    terms of a query whose diacritics were restored (``restore.Restoration.terms``;
    it matched folded, as typed without any): they are highlighted as if typed, so
    "ha noi" lights up "Hà Nội", and "nói" only in a text without it."""
    exact: set[str] = set()
    folded: set[str] = set()
    found: set[tuple[str, ...]] = set()

    def walk(n: Node | None) -> None:
        if isinstance(n, (Text, Phrase)):
            accented = has_diacritics(n.text) and not restored
            typed = [e if accented else f for e, f in query_syllables(n.text)]
            (exact if accented else folded).update(typed)
            if units:
                found.update(_units(n, typed, accented))
        elif isinstance(n, (And, Or)):
            for child in n.nodes:
                walk(child)

    walk(node)
    syllables = {s for term in restored for s in term.split(WORD_JOINER)}
    exact.update(s for s in syllables if term_forms(s)[1] in folded)  # a negated word stays dark
    return MatchTerms(frozenset(exact), frozenset(folded), frozenset(found))


def _units(node: Text | Phrase, typed: list[str], accented: bool) -> list[tuple[str, ...]]:
    if isinstance(node, Phrase) or not accented:
        return [tuple(typed)]
    words = [tuple(w.split(WORD_JOINER)) for w in query_words(node.text)]
    in_words = {syllable for word in words for syllable in word}
    return words + [(t,) for t in typed if t not in in_words]


def compile_query(
    options: SearchOptions, reader: IndexReader, relaxed: bool = False, restored: restore.Restoration | None = None
) -> tuple[ParsedQuery, wq.Query]:
    """The parsed query and its Whoosh query (every article, for a filter alone);
    with ``restored``, the text matches folded (as typed without any diacritics)
    and the exact terms of the restored query score again."""
    parsed = parse(options.query)
    if parsed.node is None:
        if search_filter(options) is None:
            raise QueryError("empty query: give search terms or a filter")
        return parsed, wq.Every()
    query = to_whoosh(parsed.node, reader, options.match_any, relaxed, folded=restored is not None)
    weights = {f: w * RESTORED_WEIGHT for f, w in FIELD_WEIGHTS.items()}
    return parsed, restore.boosted(query, restored, reader, weights)
