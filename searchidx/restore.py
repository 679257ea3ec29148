"""Restoring the diacritics of a query typed without them, from the index's own text.

"ha noi" finds "Hà Nội" anyway (folded terms match every accented form), but also
"hà nói" and "hạ nổi"; knowing which text the user most likely meant lets the ranking
put the exact forms first and the output say "Showing results for: Hà Nội".

The model is a syllable bigram model of the indexed articles, nothing downloaded: how
often each accented syllable occurs and how often one follows another (within a run of
words: punctuation breaks it), counted from the index's stored text. A query's folded
syllables take the sequence of accented forms that the model finds likeliest (Viterbi
over each syllable's commonest forms, bigrams interpolated with unigrams), so "bao lu"
is "bão lũ" although "báo" alone is commoner. Counting is bounded (``MAX_DOCS``
articles chosen by a hash of their id, ``MAX_CHARS`` of each field), so it takes
seconds at most, and two builds of the same articles count the same ones. It happens
at the end of a build (or on the first query without diacritics), once per
generation: the counts are kept in memory and, where the index directory is
writable, in a file of the generation (``VOCABULARY_FILE``), rebuilt when the index
has grown by a fifth since.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from searchidx import generations
from searchidx.analysis import STOP_WORDS, WORD_JOINER, canonical_tone, fold, has_diacritics, normalize

TEXT_FIELDS = ("title", "sapo", "body")
VOCABULARY_FILE = "searchidx-restore.json"
#: Articles counted at most, and characters of each field.
MAX_DOCS = 5000
MAX_CHARS = 2000
#: Accented forms tried for each syllable, the commonest first.
FORMS = 6
#: Weight of the bigram estimate against the unigram one.
BIGRAM_WEIGHT = 0.9
#: A pair seen once is noise more often than knowledge, and most of the file.
MIN_PAIR = 2
#: Count given to a syllable the index does not know.
UNKNOWN_COUNT = 0.5
#: The counts of a generation serve until the index holds this much more.
REGROW = 1.2
#: In a query typed with some diacritics, how much likelier than the syllable as
#: typed another form must be to replace it (measured: ``scripts/evaluate.py``).
TYPED_ODDS = 20.0

_TOKEN = re.compile(r"[^\W\d_]+|\S")  # letter runs; any other character breaks a run
_SYLLABLE = re.compile(r"[^\W\d_]+")
_QUERY_TOKEN = re.compile(r"\S+")
_FIELD = re.compile(r"^[-(]*([A-Za-z_]+):")
_OPERATORS = frozenset({"AND", "OR", "NOT"})


class Vocabulary:
    """Syllable and adjacent-pair counts of the index's text, in exact forms."""

    def __init__(
        self, counts: Mapping[str, int], pairs: Mapping[str, int], documents: int, names: Iterable[str] = ()
    ) -> None:
        self.counts = counts  # "nội" -> 5123
        self.pairs = pairs  # "hà nội" -> 2047 ("nội" right after "hà")
        self.documents = documents  # articles in the index when counted
        self.names = frozenset(names)  # pairs written capitalised mostly ("hà nội": "Hà Nội")
        self.total = max(sum(counts.values()), 1)
        forms: dict[str, list[str]] = {}
        for form, _ in sorted(counts.items(), key=lambda item: -item[1]):
            forms.setdefault(fold(form), []).append(form)
        #: "noi" -> ("nội", "nói", "nơi", ...), the commonest first
        self.forms = {folded: tuple(fs[:FORMS]) for folded, fs in forms.items()}

    def cost(self, previous: str | None, form: str) -> float:
        """-log P(form | previous), the bigram estimate smoothed by the unigram one."""
        unigram = self.counts.get(form, UNKNOWN_COUNT) / self.total
        if previous is None:
            return -math.log(unigram)
        bigram = self.pairs.get(f"{previous} {form}", 0) / self.counts.get(previous, 1)
        return -math.log(BIGRAM_WEIGHT * bigram + (1 - BIGRAM_WEIGHT) * unigram)


def count_text(text: str, counts: Counter[str], pairs: Counter[tuple[str, str]]) -> None:
    """Add one text's tokens and adjacent pairs, as written, to the counts; punctuation
    is counted too, and ``build_vocabulary`` drops it, so that it breaks runs.

    At index time the same could be counted from each article's analysed syllables,
    beside its postings, which would make the counts exact and free at query time."""
    tokens = _TOKEN.findall(text)
    counts.update(tokens)
    pairs.update(itertools.pairwise(tokens))


def build_vocabulary(reader: IndexReader) -> Vocabulary:
    """Count the stored text of up to ``MAX_DOCS`` articles of the index."""
    counts: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for docnum in _sampled(reader):  # reads only the sampled articles
        stored = reader.stored_fields(docnum)
        for field in TEXT_FIELDS:
            count_text(stored.get(field, "")[:MAX_CHARS], counts, pairs)
    canonical = {s: canonical_tone(s.lower()) for s in counts if s.isalpha() and fold(s).isascii()}
    syllables: Counter[str] = Counter()
    for s, n in counts.items():
        if s in canonical:
            syllables[canonical[s]] += n
    merged: Counter[str] = Counter()
    capitalised: Counter[str] = Counter()
    for (a, b), n in pairs.items():
        if a in canonical and b in canonical:
            pair = f"{canonical[a]} {canonical[b]}"
            merged[pair] += n
            capitalised[pair] += n if a.istitle() and b.istitle() else 0
    kept = {pair: n for pair, n in merged.items() if n >= MIN_PAIR}
    names = sorted(pair for pair, n in kept.items() if 2 * capitalised[pair] > n)
    return Vocabulary(syllables, kept, reader.doc_count(), names)


def _sampled(reader: IndexReader) -> list[int]:
    """Up to ``MAX_DOCS`` live articles, those whose ids hash lowest: the same
    articles whichever order a build's workers wrote them in (a sample taken by
    document number made two builds of one corpus restore some queries apart)."""
    live = list(reader.all_doc_ids())
    if len(live) <= MAX_DOCS:
        return live
    ids = reader.column_reader("id")
    chosen = heapq.nsmallest(MAX_DOCS, live, key=lambda d: hashlib.blake2b(ids[d].encode(), digest_size=8).digest())
    return sorted(chosen)


# --- one vocabulary per generation ---------------------------------------------------------

_cache: dict[object, Vocabulary] = {}
_lock = threading.Lock()


def vocabulary(searcher: Searcher) -> Vocabulary:
    """The vocabulary of the searcher's generation: from memory, from the
    generation's file, or counted (and saved) now."""
    reader = searcher.reader()
    folder = _generation(searcher)
    key: object = folder or tuple(leaf.segment().segment_id() for leaf, _ in reader.leaf_readers())
    with _lock:
        vocab = _cache.get(key)
        if vocab is None or vocab.documents * REGROW < reader.doc_count():
            vocab = _load(folder, reader.doc_count()) if folder else None
            if vocab is None:
                vocab = build_vocabulary(reader)
                if folder:
                    _save(folder, vocab)
            _cache.clear()  # only the latest generation is searched
            _cache[key] = vocab
        return vocab


def prepare(ix: whoosh_index.Index) -> None:
    """Count a newly written index's vocabulary at the end of its build (and
    again when it has grown by a fifth), so that no query waits for it."""
    with ix.searcher() as searcher:
        vocabulary(searcher)


def _generation(searcher: Searcher) -> Path | None:
    """The directory of the index the searcher reads, if it came from one on disk."""
    folder = getattr(getattr(getattr(searcher, "_ix", None), "storage", None), "folder", None)
    return Path(folder) if isinstance(folder, str) else None


def _load(folder: Path, documents: int) -> Vocabulary | None:
    try:
        data = orjson.loads((folder / VOCABULARY_FILE).read_bytes())
        vocab = Vocabulary(data["counts"], data["pairs"], data["documents"], data["names"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return vocab if vocab.documents * REGROW >= documents else None


def _save(folder: Path, vocab: Vocabulary) -> None:
    """Write the file atomically; an index the user cannot write is fine."""
    tmp = folder / f".{VOCABULARY_FILE}.{os.getpid()}.{threading.get_ident()}"
    data = {"counts": vocab.counts, "pairs": vocab.pairs, "documents": vocab.documents, "names": sorted(vocab.names)}
    try:
        generations.write_durably(tmp, orjson.dumps(data))  # a build publishes it with the index
        os.replace(tmp, folder / VOCABULARY_FILE)
        generations.fsync(folder)
    except OSError:
        tmp.unlink(missing_ok=True)


# --- restoring ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Restoration:
    """A query with its diacritics restored, and the exact terms (syllables, and
    runs of two or three as words) that rank its likeliest meaning first."""

    text: str
    terms: tuple[str, ...]


def restore_syllables(vocab: Vocabulary, typed: Sequence[str], marked: bool = False) -> list[str]:
    """The likeliest accented forms of lower-case syllables (Viterbi). A syllable
    typed with a diacritic is kept as typed: the user meant that mark. In a text
    that has some (``marked``), a syllable typed bare is taken as meant bare unless
    another form is ``TYPED_ODDS`` times likelier ("ha nội", but not "thi vị")."""
    paths: dict[str | None, tuple[float, list[str]]] = {None: (0.0, [])}
    typed_bonus = math.log(TYPED_ODDS) if marked else 0.0
    for syllable in typed:
        if has_diacritics(syllable):
            forms: tuple[str, ...] = (canonical_tone(syllable),)
        else:
            forms = vocab.forms.get(syllable, (syllable,))
            forms += (syllable,) if marked and syllable not in forms else ()
        step: dict[str | None, tuple[float, list[str]]] = {}
        for form in forms:
            bonus = typed_bonus if form == syllable else 0.0
            cost, path = min((c + vocab.cost(prev, form) - bonus, p) for prev, (c, p) in paths.items())
            step[form] = (cost, [*path, form])
        paths = step
    return min(paths.values())[1]


def _cased(form: str, typed: str) -> str:
    """The restored syllable in the case the user typed it."""
    if typed.isupper() and len(typed) > 1:
        return form.upper()
    return form.capitalize() if typed[:1].isupper() else form


def restore_text(vocab: Vocabulary, text: str) -> Restoration:
    """Restore plain text: each run of syllables separated by spaces is restored as
    one sequence; anything else breaks a run and stays as typed."""
    return _restore_spans(vocab, text, [m.span() for m in _SYLLABLE.finditer(text)])


def _restore_spans(vocab: Vocabulary, text: str, spans: list[tuple[int, int]]) -> Restoration:
    out: list[str] = []
    terms: list[str] = []
    done = 0
    marked = any(has_diacritics(text[s:e]) for s, e in spans)
    for run in _runs(text, spans):
        typed = [text[s:e] for s, e in run]
        restored = restore_syllables(vocab, [t.lower() for t in typed], marked)
        terms += restored + _ngrams(restored)
        # names capitalised only where the user typed neither case nor marks
        shown = _names(vocab, restored) if all(t.islower() and not has_diacritics(t) for t in typed) else restored
        for (start, end), form, as_typed in zip(run, shown, typed, strict=True):
            out.append(text[done:start] + (as_typed if has_diacritics(as_typed) else _cased(form, as_typed)))
            done = end
    out.append(text[done:])
    return Restoration("".join(out), tuple(dict.fromkeys(terms)))


def _names(vocab: Vocabulary, syllables: list[str]) -> list[str]:
    """Syllables capitalised where the index mostly writes the pair so ("Hà Nội"),
    for a query typed all in lower case."""
    capital = [False] * len(syllables)
    for i in range(len(syllables) - 1):
        if f"{syllables[i]} {syllables[i + 1]}" in vocab.names:
            capital[i] = capital[i + 1] = True
    return [s.capitalize() if c else s for s, c in zip(syllables, capital, strict=True)]


def _ngrams(syllables: list[str]) -> list[str]:
    """Runs of two and three syllables as word terms ("hà_nội"): the index has those
    that pyvi found to be words."""
    return [WORD_JOINER.join(syllables[i : i + n]) for n in (2, 3) for i in range(len(syllables) - n + 1)]


def _runs(text: str, spans: Iterable[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Spans grouped into runs joined by nothing but spaces."""
    runs: list[list[tuple[int, int]]] = []
    for span in spans:
        if runs and text[runs[-1][-1][1] : span[0]].isspace():
            runs[-1].append(span)
        else:
            runs.append([span])
    return runs


def _query_spans(query: str) -> list[tuple[int, int]]:
    """The syllables of a query that are text: not operators, field names, or the
    values of label fields (a source "vnexpress.net" is no Vietnamese)."""
    spans: list[tuple[int, int]] = []
    for token in _QUERY_TOKEN.finditer(query):
        word, base = token.group(), token.start()
        if word in _OPERATORS:
            continue
        field = _FIELD.match(word)
        if field and field.group(1) not in TEXT_FIELDS:
            continue
        skip = field.end() if field else 0
        spans.extend((base + m.start(), base + m.end()) for m in _SYLLABLE.finditer(word, skip))
    return spans


def restore_query(searcher: Searcher, query: str) -> Restoration | None:
    """The query with the diacritics it lacks restored ("ha nội": "hà nội"), or None
    when restoring changes nothing. Marks the user typed are kept: they constrain
    the syllables around them."""
    return restore_with(lambda: vocabulary(searcher), query)


def restore_with(vocab: Callable[[], Vocabulary], query: str) -> Restoration | None:
    """``restore_query`` with a given vocabulary (asked for only when needed)."""
    query = normalize(query).text
    if not any(not has_diacritics(s) for s in _SYLLABLE.findall(query)):
        return None
    restored = _restore_spans(vocab(), query, _query_spans(query))
    return restored if restored.text.lower() != query.lower() else None


def merged(vocabularies: Sequence[Vocabulary]) -> Vocabulary:
    """Several indexes' vocabularies as one: counts added up, names of any. Close to,
    not exactly, the vocabulary of one index holding them all (each dropped its rare
    pairs, and decided its names, alone)."""
    counts: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    for vocab in vocabularies:
        counts.update(vocab.counts)
        pairs.update(vocab.pairs)
    names = {name for vocab in vocabularies for name in vocab.names}
    return Vocabulary(counts, pairs, sum(v.documents for v in vocabularies), names)


def boosted(
    query: wq.Query, restoration: Restoration | None, reader: IndexReader, weights: Mapping[str, float]
) -> wq.Query:
    """The query, with the exact terms of its restored form adding to the score:
    every article it matched still matches, those with the restored words first.
    Those terms are the words the index has ("hà_nội") and the syllables outside them,
    function words aside: measured, that ranks best and reads the fewest postings."""
    if restoration is None:
        return query

    holding: dict[str, list[str]] = {}

    def fields(term: str) -> list[str]:
        """The fields whose postings hold the term (asked once: each asks every segment)."""
        if term not in holding:
            holding[term] = [field for field in weights if reader.doc_frequency(field, term)]
        return holding[term]

    words = [t for t in restoration.terms if WORD_JOINER in t and fields(t)]
    covered = {s for word in words for s in word.split(WORD_JOINER)}
    syllables = [t for t in restoration.terms if WORD_JOINER not in t and t not in covered | STOP_WORDS]
    bonus = [wq.Term(field, term, boost=weights[field]) for term in words + syllables for field in fields(term)]
    return wq.AndMaybe(query, wq.Or(bonus)) if bonus else query
