""" "Did you mean": a respelling of a query's unknown words that finds something.

Candidates are the classic speller's (one delete, swap, replace or insert away),
restricted to words the index has; a respelling that forms a known word with its
neighbour comes first ("Hà Nọi" -> "Hà Nội", not "Hà nơi"), then the most frequent.
"""

from __future__ import annotations

import itertools
import string
from dataclasses import replace

from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from searchidx import execute
from searchidx.analysis import FOLDED, WORD_JOINER, has_diacritics, query_syllables
from searchidx.errors import QueryError
from searchidx.querying import SearchOptions, compile_query, search_filter
from searchidx.schema import TEXT_FIELDS

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
