"""pyvi's word segmentation model, read straight from pyvi's package files.

Everything that depends on pyvi's internals lives here, so that a pyvi upgrade
touches this one file. We do not import ``pyvi.ViTokenizer``: at import it unpickles
its model as a ``sklearn_crfsuite.CRF``, which imports scikit-learn and SciPy (about
0.8 s, most of every command's start-up) and writes the model to a temporary
``/tmp/model*.crfsuite`` that is never removed. The pickle only wraps the bytes of a
CRFsuite model; we take those bytes out with an unpickler that constructs nothing
but inert stand-ins, and hand them to python-crfsuite's tagger in memory.

Taking the bytes out costs about 8 ms per process, so they are not cached on disk.
"""

from __future__ import annotations

import _codecs
import io
import pickle
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from searchidx.errors import SearchidxError

if TYPE_CHECKING:
    import pycrfsuite

#: The files ``pyvi.ViTokenizer`` loads on Python 3.
MODEL_FILE, LEXICON_FILE = "pyvi3.pkl", "words.txt"


def package_file(name: str) -> Path:
    """A file of pyvi's models; pyvi and the tagger are imported on first use, so
    that the normalisation and folding in ``analysis`` cost no more than they need."""
    import pyvi  # its __init__ is empty: the files are all we use

    return Path(pyvi.__file__).parent / "models" / name


class Lexicon(NamedTuple):
    """pyvi's dictionary of two- and three-syllable words, lower case, space-joined."""

    bi_grams: frozenset[str]
    tri_grams: frozenset[str]


@cache
def lexicon() -> Lexicon:
    """pyvi's word list, split as ``ViTokenizer`` splits it."""
    entries = package_file(LEXICON_FILE).read_bytes().decode("utf-8").split("\n")
    return Lexicon(
        frozenset(entry for entry in entries if entry.count(" ") == 1),
        frozenset(entry for entry in entries if entry.count(" ") == 2),
    )


class _Inert:
    """Stands in for every class and function named in pyvi's pickle: it keeps the
    state it is given and runs nothing, so neither scikit-learn nor numpy is needed."""

    def __init__(self, *args: object) -> None:
        self.args = args

    def __setstate__(self, state: object) -> None:
        self.state = state


class _ModelUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) == ("_codecs", "encode"):
            return _codecs.encode  # how pickle protocol 2 spells a bytes object
        return _Inert


def model_bytes(path: Path | None = None) -> bytes:
    """The CRFsuite model inside pyvi's pickled ``sklearn_crfsuite.CRF``: its
    ``modelfile`` (a ``FileResource``) pickles the model file's content."""
    path = path or package_file(MODEL_FILE)
    crf = _ModelUnpickler(io.BytesIO(path.read_bytes())).load()
    try:
        data = crf.state["modelfile"].state["__FILE_RESOURCE_DATA__"]
    except (AttributeError, KeyError, TypeError):
        data = None
    if not isinstance(data, bytes) or not data.startswith(b"lCRF"):
        raise SearchidxError(f"{path} does not hold a CRFsuite model where pyvi 0.1 keeps it")
    return data


class _Tagger(NamedTuple):
    tagger: pycrfsuite.Tagger
    model: bytes  # CRFsuite reads the model in place: it must live as long as the tagger


_opening = threading.Lock()


def _tagger() -> _Tagger:
    """The process's one tagger. Threads that first segment at once (a server's first
    requests) each opened one, and the model of those dropped was freed while they
    read it: a segfault."""
    with _opening:
        return _open_tagger()


@cache
def _open_tagger() -> _Tagger:
    import pycrfsuite

    data = model_bytes()
    tagger = pycrfsuite.Tagger()
    tagger.open_inmemory(data)
    return _Tagger(tagger, data)


def labels(words: list[str]) -> list[str]:
    """pyvi's label for each word: "B_W" begins a word, "I_W" continues one."""
    result: list[str] = _tagger().tagger.tag(model_features(words))
    return result


def continues(words: list[str]) -> list[bool]:
    """Whether pyvi's tokenizer joins each word to the one before: the model labels
    it "I_W", and it is not a capitalised word after a lower-case one (the rule of
    ``ViTokenizer.tokenize``; its tests for punctuation and digits are the caller's,
    which knows its own pieces)."""
    tags = labels(words)
    return [
        i > 0 and tags[i] == "I_W" and not (words[i][0].isupper() and not words[i - 1][0].isupper())
        for i in range(len(words))
    ]


def model_features(words: list[str]) -> list[dict[str, object]]:
    """pyvi's CRF features for each word, exactly as its ``sent2features`` makes
    them, but with each word's properties and each dictionary look-up computed
    once instead of up to three times: pyvi's own version is 40% of our analysis."""
    n = len(words)
    bi_grams, tri_grams = lexicon()
    lower = [w.lower() for w in words]
    upper = [w.isupper() for w in words]
    title = [w.istitle() for w in words]
    bigram = [" ".join(words[i : i + 2]).lower() in bi_grams for i in range(n - 1)]
    trigram = [" ".join(words[i : i + 3]).lower() in tri_grams for i in range(n - 2)]
    features = []
    for i, word in enumerate(words):
        f: dict[str, object] = {
            "bias": 1.0, "word.lower()": lower[i], "word.isupper()": upper[i],
            "word.istitle()": title[i], "word.isdigit()": word.isdigit(),
        }  # fmt: skip
        if i > 0:
            f["-1:word.lower()"] = lower[i - 1]
            f["-1:word.istitle()"] = title[i - 1]
            f["-1:word.isupper()"] = upper[i - 1]
            f["-1:word.bi_gram()"] = bigram[i - 1]
            if i > 1:
                f["-2:word.tri_gram()"] = trigram[i - 2]
        if i < n - 1:
            f["+1:word.lower()"] = lower[i + 1]
            f["+1:word.istitle()"] = title[i + 1]
            f["+1:word.isupper()"] = upper[i + 1]
            f["+1:word.bi_gram()"] = bigram[i]
            if i < n - 2:
                f["+2:word.tri_gram()"] = trigram[i]
        features.append(f)
    return features
