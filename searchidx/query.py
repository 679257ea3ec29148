"""The query language, parsed into a small syntax tree.

    thi đua "Gia Lai"             words (all must match) and a quoted phrase
    bão OR lũ, (bão OR lũ) miền Trung, NOT COVID, -COVID
    title:"Gia Lai"  body:(thi đua)  category:"Thể thao"  source:vnexpress.net  tags:covid
    date:2024-07  date:2024-07-01..2024-07-31  date:>=2024-01-01  date:..2023-12-31

Grammar (implicit AND binds tighter than OR)::

    query   := or
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*
    unary   := ("NOT" | "-") unary | primary
    primary := "(" or ")" | field ":" (word | phrase | "(" or ")") | phrase | word

Adjacent plain words form one ``Text`` node, so that the analyzer sees them together
and can find the multi-syllable words among them. Errors raise ``QueryError`` with a
one-line message that says what is wrong and where.

Pasted text is read leniently, as lenient query parsers do: a quote or parenthesis
that does not pair is read as text (it is punctuation to the analyzer) and the
parse says so in a warning; any two quotes pair, straight or curly, because
headlines mix them (``" tăng mạnh”``, ``“Mắt biếc “``). What a user clearly meant as
syntax (an unknown field, a bad date) stays an error. The ``MAX_*`` limits bound
the work a query can cause; the parse refuses a query beyond them.
"""

from __future__ import annotations

import re
from calendar import isleap, monthrange
from dataclasses import dataclass
from datetime import datetime, timedelta

from searchidx.errors import QueryError
from searchidx.schema import LABEL_FIELDS, TEXT_FIELDS

MAX_QUERY_CHARS = 1000  # a pasted paragraph; more is not a query
MAX_TERMS = 100  # words and phrase words: each costs a posting list or more
MAX_TERM_CHARS = 200  # one word or field value: a long URL fits
MAX_DEPTH = 20  # nested parentheses and NOTs

FIELDS = TEXT_FIELDS + LABEL_FIELDS + ("date",)
#: Result orders and facets a search offers; here rather than in ``search`` so that
#: the CLI can list them without importing Whoosh.
SORTS = ("relevance", "date", "-date")
FACETS = ("category", "source", "month")
#: The periods ``trend`` counts by.
PERIODS = ("day", "week", "month", "year")


@dataclass(frozen=True)
class Text:
    """Words that must all match; ``fields`` None means title, sapo and body."""

    text: str
    fields: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Phrase:
    text: str
    fields: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Label:
    """An exact (diacritic- and case-insensitive) category, source or tag."""

    field: str
    value: str


@dataclass(frozen=True)
class DateRange:
    start: datetime | None  # inclusive
    end: datetime | None  # exclusive


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class And:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    nodes: tuple[Node, ...]


Node = Text | Phrase | Label | DateRange | Not | And | Or

QUOTES = '"“”„'
_TOKEN = re.compile(
    rf"""\s*(?:
        (?P<phrase>[{QUOTES}][^{QUOTES}]*[{QUOTES}])
      | (?P<quote>[{QUOTES}])
      | (?P<field>[A-Za-z_]+):(?=\S)(?!//)  # "http://..." is a link, not a field
      | (?P<open>\()
      | (?P<close>\))
      | (?P<minus>-(?=[^\s\-]))
      | (?P<word>[^\s(){QUOTES}]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    at: int


def valid_text(text: str, what: str = "query") -> str:
    """The text, if it can be encoded: a lone surrogate (what Python makes of bytes
    that are not UTF-8, on a command line or in a file read with surrogateescape)
    would otherwise fail deep inside the segmenter or the index."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise QueryError(f"the {what} is not valid UTF-8 text (bad byte at character {error.start + 1})") from None
    return text


def _shown(query: str) -> str:
    """The query as an error message quotes it: on one line, not too long."""
    return repr(query if len(query) <= 80 else query[:80] + "…")


def _tokens(query: str) -> tuple[list[_Tok], list[str]]:
    """The tokens, with unpaired parentheses settled, and warnings about what was
    read leniently."""
    tokens: list[_Tok] = []
    warnings: list[str] = []
    opened: list[_Tok] = []
    pos = 0
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        kind = m.lastgroup
        assert kind is not None
        token = _Tok(kind, m.group(kind), m.start(kind) + 1)
        if kind == "quote":
            warnings.append(f"unpaired quote {token.text} at column {token.at} read as text")
            continue
        if kind == "close" and not opened:
            warnings.append(f"unpaired ')' at column {token.at} read as text")
            continue
        if kind == "phrase":
            token = _Tok(kind, token.text[1:-1], token.at)
        elif kind == "word" and token.text in ("AND", "OR", "NOT"):
            token = _Tok(token.text, token.text, token.at)
        elif kind == "open":
            opened.append(token)
        elif kind == "close":
            opened.pop()
        tokens.append(token)
    for token in opened:
        warnings.append(f"unpaired '(' at column {token.at} closed at the end")
        tokens.append(_Tok("close", ")", len(query) + 1))
    return tokens, warnings


def _check_size(query: str, tokens: list[_Tok]) -> None:
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long: {len(query)} characters (at most {MAX_QUERY_CHARS})")
    terms = 0
    for token in tokens:
        if token.kind in ("word", "phrase"):
            terms += len(token.text.split())
            longest = max(token.text.split(), key=len, default="")
            if len(longest) > MAX_TERM_CHARS:
                raise QueryError(
                    f"word too long at column {token.at}: {len(longest)} characters (at most {MAX_TERM_CHARS})"
                )
    if terms > MAX_TERMS:
        raise QueryError(f"too many words in the query: {terms} (at most {MAX_TERMS})")


@dataclass(frozen=True)
class ParsedQuery:
    node: Node | None  # None for an empty query
    warnings: tuple[str, ...] = ()  # what was read leniently


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens, self.warnings = _tokens(query)
        _check_size(query, self.tokens)
        self.i = 0
        self.depth = 0

    def peek(self) -> _Tok | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Tok:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def error(self, message: str) -> QueryError:
        return QueryError(f"{message} in query {_shown(self.query)}")

    def nest(self, t: _Tok, by: int = 1) -> None:
        """Enter (or with -1 leave) a group or a NOT; the depth is bounded because
        the parser and Whoosh's query tree both recurse."""
        self.depth += by
        if self.depth > MAX_DEPTH:
            raise self.error(f"nested too deeply at column {t.at} (at most {MAX_DEPTH} levels of () and NOT)")

    def parse(self) -> Node | None:
        if not self.tokens:
            return None
        node = self.or_()
        token = self.peek()
        if token is not None:
            raise self.error(f"unexpected {token.text!r} at column {token.at}")
        return node

    def or_(self) -> Node:
        nodes = [self.and_()]
        while (t := self.peek()) is not None and t.kind == "OR":
            self.take()
            nodes.append(self.and_())
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def and_(self) -> Node:
        nodes: list[Node] = []
        while (t := self.peek()) is not None and t.kind not in ("OR", "close"):
            if t.kind == "AND":
                self.take()
                if not nodes:
                    raise self.error(f"AND with nothing before it at column {t.at}")
                continue
            node = self.unary()
            if node is None:
                continue  # a lone "!" or "–": nothing to search for
            if (
                isinstance(node, Text)
                and nodes
                and isinstance(nodes[-1], Text)
                and nodes[-1].fields is None
                and node.fields is None
            ):
                nodes[-1] = Text(f"{nodes[-1].text} {node.text}")
            else:
                nodes.append(node)
        if not nodes:
            t = self.peek()
            where = f"at column {t.at}" if t else "at the end"
            raise self.error(f"missing search terms {where}")
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def unary(self) -> Node | None:
        t = self.peek()
        if t is not None and t.kind in ("NOT", "minus"):
            self.take()
            if self.peek() is None:
                raise self.error(f"nothing to exclude after {t.text!r}")
            self.nest(t)
            excluded = self.unary()
            self.nest(t, -1)
            return Not(excluded) if excluded is not None else None
        return self.primary()

    def primary(self) -> Node | None:
        t = self.take()
        if t.kind == "open":
            self.nest(t)
            node = self.or_()
            self.nest(t, -1)
            self.take()  # the closing parenthesis: _tokens pairs them all
            return node
        if t.kind == "close":
            raise self.error(f"missing search terms before ')' at column {t.at}")
        if t.kind == "field":
            return self.field(t)
        if not any(c.isalnum() for c in t.text):
            return None  # a lone "!" or an empty phrase: nothing to search for
        return Phrase(t.text) if t.kind == "phrase" else Text(t.text)

    def field(self, t: _Tok) -> Node:
        name = t.text.lower()
        if name not in FIELDS:
            raise self.error(f"unknown field {t.text!r} (known: {', '.join(FIELDS)})")
        value = self.peek()
        if value is None or value.kind not in ("word", "phrase", "open"):
            raise self.error(f"no value after '{t.text}:'")
        self.take()
        if name == "date":
            return parse_date_range(value.text)
        if name in LABEL_FIELDS:
            if value.kind not in ("word", "phrase"):
                raise self.error(f'{name}: takes one value, e.g. {name}:"…"')
            return Label(name, value.text)
        if value.kind == "phrase":
            return Phrase(value.text, (name,))
        if value.kind == "open":
            self.i -= 1
            group = self.primary()
            assert group is not None  # an opening parenthesis always yields a node or fails
            return _restrict(group, (name,))
        return Text(value.text, (name,))


def _restrict(node: Node, fields: tuple[str, ...]) -> Node:
    """Apply a field prefix to a parenthesised group: body:(a OR b)."""
    if isinstance(node, (Text, Phrase)):
        return type(node)(node.text, fields)
    if isinstance(node, Not):
        return Not(_restrict(node.node, fields))
    if isinstance(node, (And, Or)):
        return type(node)(tuple(_restrict(n, fields) for n in node.nodes))
    return node


def parse(query: str) -> ParsedQuery:
    """Parse a query. Raises QueryError."""
    parser = _Parser(query)
    return ParsedQuery(parser.parse(), tuple(parser.warnings))


# --- dates ---------------------------------------------------------------------------

_DAY = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def date_bounds(text: str) -> tuple[datetime, datetime]:
    """The [start, end) of a year, month or day: "2024", "2024-07", "2024-07-31"."""
    m = _DAY.match(text.strip())
    if not m:
        raise QueryError(f"bad date {text!r}: use YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = int(m[1]), int(m[2] or 0), int(m[3] or 0)
    try:
        if day:
            start = datetime(year, month, day)
            return start, days_after(start, 1)
        if month:
            start = datetime(year, month, 1)
            return start, days_after(start, monthrange(year, month)[1])
        start = datetime(year, 1, 1)
        return start, days_after(start, 366 if isleap(year) else 365)
    except ValueError:
        raise QueryError(f"bad date {text!r}: no such day") from None


def days_after(start: datetime, days: int) -> datetime:
    """``start`` plus whole days, at most the last representable moment: the end
    of year 9999 is an open end, not an OverflowError."""
    try:
        return start + timedelta(days=days)
    except OverflowError:
        return datetime.max


def parse_date_range(text: str) -> DateRange:
    """date:2024-07, date:2024-07-01..2024-07-31, date:>=2024-01-01, date:<2024."""
    for op in (">=", "<=", ">", "<"):
        if text.startswith(op):
            start, end = date_bounds(text[len(op) :])
            return {
                ">=": DateRange(start, None), ">": DateRange(end, None),
                "<=": DateRange(None, end), "<": DateRange(None, start),
            }[op]  # fmt: skip
    if ".." in text:
        low, high = text.split("..", 1)
        low_start = date_bounds(low)[0] if low else None
        high_end = date_bounds(high)[1] if high else None
        if low_start and high_end and low_start >= high_end:
            raise QueryError(f"empty date range {text!r}: the start is after the end")
        return DateRange(low_start, high_end)
    return DateRange(*date_bounds(text))
