"""pyvi's model as searchidx loads it (python-crfsuite, no scikit-learn) must segment
exactly as pyvi's own ``ViTokenizer`` (scikit-learn's CRF wrapper) does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pyvi.ViTokenizer import ViTokenizer  # the reference: pyvi's own loader

from searchidx import pyvi_model, shipped_corpus
from searchidx.analysis import normalize, syllabify
from searchidx.article import Article
from searchidx.corpus import read_path
from searchidx.errors import SearchidxError


def articles(path: Path) -> list[str]:
    return [r.text for r in read_path(path) if isinstance(r, Article)]


def assert_same_labels(texts: list[str]) -> None:
    """Label by label, on the syllables as searchidx gives them to the model and in
    capitals (the model input for headlines in capitals differs)."""
    checked = 0
    for text in texts:
        for variant in (text, text.upper()):
            words = [p.text for p in syllabify(normalize(variant).text)]
            if words:
                theirs = list(ViTokenizer.model.predict([ViTokenizer.sent2features(words, False)])[0])
                assert pyvi_model.labels(words) == theirs
                checked += len(words)
    assert checked > 1000


def test_model_bytes_are_the_file_pyvis_loader_writes():
    ViTokenizer.model.predict([ViTokenizer.sent2features(["Gia", "Lai"], False)])  # makes it open its file
    assert pyvi_model.model_bytes() == Path(ViTokenizer.model.modelfile.name).read_bytes()


def test_lexicon_is_pyvis_own():
    bi_grams, tri_grams = pyvi_model.lexicon()
    assert bi_grams == ViTokenizer.bi_grams and tri_grams == ViTokenizer.tri_grams
    assert "thi đua" in bi_grams and "chữ thập đỏ" in tri_grams


def test_labels_are_pyvis_own_on_the_sample():
    assert_same_labels(articles(shipped_corpus()))


@pytest.mark.slow
def test_labels_are_pyvis_own_on_real_news(vietnews_slice):
    assert_same_labels(articles(vietnews_slice))


def test_a_pickle_that_is_not_pyvis_model_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    crafted = tmp_path / "pyvi3.pkl"
    crafted.write_bytes(f"cos\nsystem\n(S'touch {marker}'\ntR.".encode())
    with pytest.raises(SearchidxError, match="does not hold a CRFsuite model"):
        pyvi_model.model_bytes(crafted)
    assert not marker.exists()


def test_threads_may_segment_at_once():
    """A server's first requests segment their queries in several threads at once: each
    opened a tagger, and the model bytes of those dropped were freed under them (a
    segfault, about one run in two), so each run is a process of its own here."""
    code = """
import threading
from searchidx import pyvi_model
words = "Bão số 3 gây mưa lớn ở các tỉnh phía Bắc và Hà Nội".split() * 5
start, labels = threading.Barrier(8), []
def segment():
    start.wait()
    labels.extend(pyvi_model.labels(words) for _ in range(10))
threads = [threading.Thread(target=segment) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
assert len(labels) == 80 and all(one == labels[0] for one in labels)
"""
    for _ in range(3):
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, (run.returncode, run.stderr[-2000:])
