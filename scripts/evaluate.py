#!/usr/bin/env python3
"""Relevance of searchidx beside plain Whoosh, on real corpora, in one run.

    python scripts/evaluate.py [--parts known-item,questions,similar,topics] [--json FILE]

known-item  News corpora rarely come with relevance judgements, so each sampled
            article's title is the query and its body the one right answer: only
            bodies are indexed. MRR@10 and Recall@10 for queries typed with
            diacritics, without (marks stripped, đ -> d) and in NFD, and for plain
            Whoosh (StandardAnalyzer, OR of the words) with the same queries; plus
            searchidx with each ranking feature switched off, to show what it adds.
            searchidx is run with --any (the earlier setting), with its default
            matching and with all words required (the default before long queries
            needed only most of their words).
questions   Questions people type (scripts/data/questions.tsv, written by hand, one
            known answer article each) over titles, leads and bodies: MRR@10,
            Recall@10, the share of questions with no result and latency, for the
            default matching, for --any, for all words required, and for plain Whoosh
            (OR of the words); as typed and with the marks stripped.
similar     Each sampled article is cut in two; the second halves are indexed among
            the rest of the corpus and the first half asks for similar articles:
            how often the other half comes first (P@1), MRR@10, and the latency of
            `similar ID` on that index; for the current key terms, those of
            2026-12-07 (SIMILAR_DEC7) and those before (SIMILAR_BEFORE), in turns.
accents     Diacritics restored from the index's vocabulary (searchidx.restore) on the
            known-item headlines with their marks stripped: the share of syllables
            and of whole headlines restored exactly, beside pyvi's
            ViUtils.add_accents; known-item MRR@10 with diacritics and without,
            restoration on and off; and what restoring costs a search (median ms,
            beside the same search unrestored). Also headlines with the marks of
            about half their syllables stripped (a query typed with only some):
            accuracy as typed, with all marks stripped and restored, and restored
            keeping the typed marks; their MRR@10 restored and not; and the
            fully marked headlines restored (what restoring damages: should be all
            right). --accents-index PATH takes the
            vocabulary from another index for the accuracy figures (read only).
topics      On VNTC (10 topics): the share of the top 10 similar articles in the
            article's own topic (precision@10) per topic, beside the key terms
            of 2026-12-07 and before (SIMILAR_DEC7, SIMILAR_BEFORE), random
            articles (the topic prior) and plain Whoosh's more_like_this; and
            `similar ID` latency, old and new in turns.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import statistics
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import plain_whoosh  # noqa: E402
from bench import articles, percentile  # noqa: E402

from searchidx import Article, Index, restore  # noqa: E402
from searchidx import querying as search_module  # noqa: E402
from searchidx import similar as similar_module  # noqa: E402
from searchidx.analysis import canonical_tone, fold, normalize  # noqa: E402
from searchidx.generations import open_generation  # noqa: E402

SHARED = HERE.parent.parent / "shared" / "corpus"
QUESTIONS = HERE / "data" / "questions.tsv"


def reciprocal_rank(ranked: list[str], wanted: str) -> float:
    return next((1.0 / rank for rank, doc_id in enumerate(ranked[:10], 1) if doc_id == wanted), 0.0)


def score(run: Callable[[str], list[str]], queries: list[tuple[str, str]]) -> dict[str, float]:
    ranks, empty, times = [], 0, []
    for q, wanted in queries:
        started = time.perf_counter()
        ranked = run(q)
        times.append((time.perf_counter() - started) * 1000)
        ranks.append(reciprocal_rank(ranked, wanted))
        empty += not ranked
    return {
        "mrr@10": statistics.mean(ranks), "recall@10": sum(r > 0 for r in ranks) / len(ranks),
        "no_results": empty / len(queries), "median_ms": statistics.median(times), "p95_ms": percentile(times, 0.95),
    }  # fmt: skip


@contextlib.contextmanager
def settings(module: ModuleType = search_module, **values: object) -> Iterator[None]:
    """A module's settings (searchidx.querying's unless told) changed for the duration."""
    saved = {k: getattr(module, k) for k in values}
    for k, v in values.items():
        setattr(module, k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(module, k, v)


#: The matching rule before long queries needed only most of their words.
ALL_WORDS = {"LONG_QUERY": 10**9, "SHORT_QUERY": 10**9}


def searchidx_runs(index: Index) -> dict[str, Callable[[str], list[str]]]:
    """searchidx's ways of matching, by name."""

    def run(match_any: bool) -> Callable[[str], list[str]]:
        return lambda q: [h.id for h in index.search(q, limit=10, match_any=match_any, snippets=False).hits]

    def all_words(q: str) -> list[str]:
        with settings(**ALL_WORDS):
            return run(False)(q)

    return {"searchidx default": run(False), "searchidx --any": run(True), "searchidx all words (before)": all_words}


def build_once(directory: Path, build: Callable[[Path], object], key: str) -> Path:
    """``build(directory)`` unless a build for the same ``key`` is there (``--work``)."""
    stamp = directory.with_name(directory.name + ".built")
    if not (stamp.exists() and stamp.read_text() == key):
        build(directory)
        stamp.write_text(key)
    return directory


def strip_marks(text: str) -> str:
    return fold(text)


def as_free_text(title: str) -> str:
    """A headline as plain words: quotes, brackets, colons and leading dashes are
    query syntax to searchidx and to Whoosh's parser alike."""
    text = re.sub(r"[\"“”()\[\]:]", " ", title)
    text = re.sub(r"(^|\s)[-–—+]+", " ", text)
    return " ".join(w.lower() if w in ("AND", "OR", "NOT") else w for w in text.split())


# --- known item ------------------------------------------------------------------------

#: Each ranking feature switched off in turn, and the queries that show its effect.
#: (The phrase bonus applies to titles and leads, which this setting leaves out.)
ABLATIONS = {
    "without word terms": ({"WORD_WEIGHT": 0.0}, "with diacritics"),
    "without exact-form bonus": ({"EXACT_WEIGHT": 0.0}, "without diacritics"),
}


def known_item(
    corpus: Path, sample_size: int, limit: int, workers: int, work: Path, rng: random.Random, ablation_queries: int
) -> dict:
    bodies = [replace(a, title="", sapo="") for a in articles([corpus], limit)]
    sample = rng.sample([a for a in articles([corpus], limit) if a.title and a.body], sample_size)
    key = f"{corpus}:{limit}"
    ours = Index(build_once(work / "known-item", lambda d: Index(d).add(bodies, rebuild=True, workers=workers), key))
    plain = build_once(work / "known-item-plain", lambda d: plain_whoosh.build(d, bodies, text_fields=("body",)), key)
    baseline = plain_whoosh.PlainSearch(plain, any_word=True)
    variants = {
        "with diacritics": [(as_free_text(a.title), a.id) for a in sample],
        "without diacritics": [(strip_marks(as_free_text(a.title)), a.id) for a in sample],
        "NFD": [(unicodedata.normalize("NFD", as_free_text(a.title)), a.id) for a in sample],
    }

    runs = searchidx_runs(ours)
    ours_run = runs["searchidx --any"]  # the setting the figures in the README were taken with

    def plain_run(q: str) -> list[str]:
        return baseline.search(q, snippets=False)

    out: dict[str, dict] = {
        "articles": len(bodies), "queries": sample_size, "ablation_queries": ablation_queries,
        "searchidx": {}, "plain_whoosh": {},
    }  # fmt: skip
    for name, queries in variants.items():
        out["searchidx"][name] = score(ours_run, queries)
        out["plain_whoosh"][name] = score(plain_run, queries)
    for run_name in ("searchidx default", "searchidx all words (before)"):
        out[run_name] = {name: score(runs[run_name], queries) for name, queries in variants.items() if name != "NFD"}
    out["ablations"] = {}
    for name, (changes, variant) in ABLATIONS.items() if ablation_queries else ():
        queries = variants[variant][:ablation_queries]
        with settings(**changes):
            without = score(ours_run, queries)
        # compared with the whole system on the very same queries, not the full sample
        out["ablations"][f"{name} ({variant})"] = {**without, "whole_system": score(ours_run, queries)}
    return out


# --- accent restoration -------------------------------------------------------------------


def syllables(text: str) -> list[str]:
    """The letter syllables of a text, lower case, tone placed canonically."""
    return [canonical_tone(s.lower()) for s in re.findall(r"[^\W\d_]+", normalize(text).text)]


def half_marked(title: str, seed: int) -> str:
    """The title with the marks of about half its syllables stripped (the same half
    on every run): a query typed with only some diacritics."""
    rng = random.Random(f"{seed}:{title}")
    return re.sub(r"[^\W\d_]+", lambda m: m.group() if rng.random() < 0.5 else strip_marks(m.group()), title)


def restoration_accuracy(
    restorer: Callable[[str], str], titles: list[str], typed: Callable[[str], str] = strip_marks
) -> dict[str, float]:
    """Shares of syllables and of whole titles restored exactly from their ``typed``
    form (marks stripped); a restoration with another number of syllables counts as
    all wrong."""
    right = total = whole = misaligned = 0
    times = []
    for title in titles:
        wanted = syllables(title)
        started = time.perf_counter()
        got = syllables(restorer(typed(title)))
        times.append((time.perf_counter() - started) * 1000)
        if len(got) != len(wanted):
            misaligned += 1
            got = [""] * len(wanted)
        hits = sum(a == b for a, b in zip(got, wanted, strict=True))
        right, total, whole = right + hits, total + len(wanted), whole + (hits == len(wanted))
    return {
        "syllables": right / total, "whole_titles": whole / len(titles), "misaligned": misaligned,
        "median_ms": statistics.median(times),
    }  # fmt: skip


def pyvi_accents(add_accents: Callable[[str], str], text: str) -> str:
    """pyvi's restoration; it fails on a few inputs (a KeyError on a label it cannot
    map back), which then count as not restored."""
    try:
        return add_accents(text)
    except KeyError:
        return text


def accents(
    corpus: Path, sample_size: int, limit: int, workers: int, work: Path, seed: int, vocabulary: Path | None
) -> dict:
    from pyvi import ViUtils

    rng = random.Random(seed)
    bodies = [replace(a, title="", sapo="") for a in articles([corpus], limit)]
    sample = rng.sample([a for a in articles([corpus], limit) if a.title and a.body], sample_size)
    key = f"{corpus}:{limit}"
    ours = Index(build_once(work / "known-item", lambda d: Index(d).add(bodies, rebuild=True, workers=workers), key))
    _, ix = open_generation(vocabulary or ours.path)
    with ix.reader() as reader:
        started = time.perf_counter()
        vocab = restore.build_vocabulary(reader)
        built_s = time.perf_counter() - started
    titles = [a.title for a in sample]
    out: dict[str, dict] = {
        "articles": len(bodies), "queries": sample_size, "vocabulary_index": str(vocabulary or ours.path),
        "vocabulary": {"syllables": len(vocab.counts), "pairs": len(vocab.pairs), "build_s": built_s},
        "searchidx.restore": restoration_accuracy(lambda t: restore.restore_text(vocab, t).text, titles),
        "pyvi add_accents": restoration_accuracy(lambda t: pyvi_accents(ViUtils.add_accents, t), titles),
    }  # fmt: skip
    some = {t: half_marked(t, seed) for t in titles}
    out["half the syllables marked"] = {
        "as typed (not restored)": restoration_accuracy(lambda t: t, titles, some.__getitem__),
        "marks stripped and restored": restoration_accuracy(
            lambda t: restore.restore_text(vocab, strip_marks(t)).text, titles, some.__getitem__
        ),
        "restored, typed marks kept": restoration_accuracy(
            lambda t: restore.restore_text(vocab, t).text, titles, some.__getitem__
        ),
        "all marks typed, restored": restoration_accuracy(
            lambda t: restore.restore_text(vocab, t).text, titles, lambda t: t
        ),
    }
    with_marks = [(as_free_text(a.title), a.id) for a in sample]
    without = [(strip_marks(q), doc_id) for q, doc_id in with_marks]
    half = [(half_marked(q, seed), doc_id) for q, doc_id in with_marks]

    def run(match_any: bool, restored: bool) -> Callable[[str], list[str]]:
        return lambda q: [
            h.id for h in ours.search(q, limit=10, match_any=match_any, snippets=False, restore=restored).hits
        ]

    for name, match_any in (("searchidx default", False), ("searchidx --any", True)):
        out[name] = {
            "with diacritics": score(run(match_any, True), with_marks),
            "without diacritics, not restored": score(run(match_any, False), without),
            "without diacritics, restored": score(run(match_any, True), without),
            "half the syllables marked, not restored": score(run(match_any, False), half),
            "half the syllables marked, restored": score(run(match_any, True), half),
        }
    out["cost"] = restoration_cost(ours, [q for q, _ in without])
    return out


def restoration_cost(index: Index, queries: list[str]) -> dict[str, float]:
    """Median time of a search without diacritics, unrestored and restored, taken
    in turns so that both see the same load."""
    times: dict[str, list[float]] = {"not restored": [], "restored": []}
    for q in queries:
        for name, restored in (("not restored", False), ("restored", True)):
            started = time.perf_counter()
            index.search(q, limit=10, snippets=False, restore=restored)
            times[name].append((time.perf_counter() - started) * 1000)
    medians = {f"{name} median_ms": statistics.median(ts) for name, ts in times.items()}
    return {**medians, "ratio": medians["restored median_ms"] / medians["not restored median_ms"]}


# --- questions -------------------------------------------------------------------------


def read_questions(path: Path) -> list[tuple[str, str]]:
    """(question, answer id) pairs of a questions file: ``qid<TAB>id<TAB>question``."""
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
    return [(question, doc_id) for _qid, doc_id, question in (r for r in rows if len(r) == 3 and r[0][:1] != "#")]


def questions(corpus: Path, limit: int, workers: int, work: Path, path: Path) -> dict:
    """Each question's known answer must be among the indexed articles."""
    everything = list(articles([corpus], limit))
    asked = read_questions(path)
    missing = {doc_id for _, doc_id in asked} - {a.id for a in everything}
    if missing:
        raise SystemExit(
            f"evaluate.py: {len(missing)} answers not among the first {limit} articles: {sorted(missing)[:3]}"
        )
    key = f"{corpus}:{limit}"
    ours = Index(build_once(work / "questions", lambda d: Index(d).add(everything, rebuild=True, workers=workers), key))
    plain = build_once(work / "questions-plain", lambda d: plain_whoosh.build(d, everything), key)
    baseline = plain_whoosh.PlainSearch(plain, any_word=True)
    runs = {**searchidx_runs(ours), "plain Whoosh OR": lambda q: baseline.search(as_free_text(q), snippets=False)}
    variants = {"as typed": asked, "without diacritics": [(strip_marks(q), doc_id) for q, doc_id in asked]}
    for run in runs.values():
        for q, _ in asked[:5]:
            run(q)  # warm caches
    return {
        "articles": len(everything), "questions": len(asked),
        **{name: {v: score(run, queries) for v, queries in variants.items()} for name, run in runs.items()},
    }  # fmt: skip


# --- similar: split halves -------------------------------------------------------------


def halves(article: Article) -> tuple[str, str]:
    paragraphs = article.body.split("\n")
    if len(paragraphs) >= 2:
        middle = len(paragraphs) // 2
        return "\n".join(paragraphs[:middle]), "\n".join(paragraphs[middle:])
    words = article.body.split()
    return " ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2 :])


#: similar before 2026-12: tf-idf (linear term frequency), 25 terms, at most in 8% of
#: the articles, single letters allowed, matched in leads and bodies; beside the
#: current method in one run.
SIMILAR_BEFORE = {
    "K1": 1e9,
    "KEY_TERMS": 25,
    "COMMON_DF": 0.08,
    "MIN_LETTERS": 1,
    "MATCH_FIELDS": {"sapo": 1.0, "body": 1.0},
    "IDF_POWER": 1.0,
    "BODY_B": 0.75,
}
#: similar of 2026-12-07 (BM25-weighted key terms: 100 under 15% of the articles,
#: leads at half weight, full idf, search's length normalisation): what the
#: issue #17 change is timed and weighed against.
SIMILAR_DEC7 = {"KEY_TERMS": 100, "COMMON_DF": 0.15, "IDF_POWER": 1.0, "BODY_B": 0.75}
SIMILAR_METHODS = {
    "searchidx": {},
    "searchidx 2026-12-07 (100 BM25 key terms)": SIMILAR_DEC7,
    "searchidx before (tf-idf, 25 terms)": SIMILAR_BEFORE,
}


def similar_ids(
    index: Index, method: dict[str, object], doc_id: str | None = None, text: str | None = None
) -> list[str]:
    with settings(similar_module, **method):
        return [h.id for h in index.similar(doc_id, text=text, limit=10, snippets=False).hits]


def split_halves(corpus: Path, sample_size: int, limit: int, workers: int, work: Path, rng: random.Random) -> dict:
    everything = list(articles([corpus], limit))
    chosen = {a.id for a in rng.sample([a for a in everything if len(a.body.split()) >= 80], sample_size)}
    firsts = {}
    indexed = []
    for a in everything:
        if a.id in chosen:
            first, second = halves(a)
            firsts[a.id] = first
            indexed.append(Article(id=a.id, body=second))
        else:
            indexed.append(a)
    key = f"{corpus}:{limit}:{sample_size}:{sorted(chosen)[:3]}"
    index = Index(build_once(work / "halves", lambda d: Index(d).add(indexed, rebuild=True, workers=workers), key))
    out: dict[str, object] = {"articles": len(indexed), "queries": len(firsts)}
    for name, method in SIMILAR_METHODS.items():
        ranks = [reciprocal_rank(similar_ids(index, method, text=text), doc_id) for doc_id, text in firsts.items()]
        out[name] = {"p@1": sum(r == 1.0 for r in ranks) / len(ranks), "mrr@10": statistics.mean(ranks)}
    out["similar_id_latency_ms"] = similar_latency(index, sorted(chosen)[:200])
    return out


def similar_latency(index: Index, ids: list[str]) -> dict[str, dict[str, float]]:
    """``similar ID`` as the CLI runs it (snippets on), each method in turn on each
    article, so that all see the same load."""
    times: dict[str, list[float]] = {name: [] for name in SIMILAR_METHODS}
    for doc_id in ids:
        for name, method in SIMILAR_METHODS.items():
            with settings(similar_module, **method):
                started = time.perf_counter()
                index.similar(doc_id)
                times[name].append((time.perf_counter() - started) * 1000)
    return {name: {"median": statistics.median(ts), "p95": percentile(ts, 0.95)} for name, ts in times.items()}


# --- topic precision on VNTC -----------------------------------------------------------


def topic_precision(corpus: Path, sample_size: int, limit: int, workers: int, work: Path, rng: random.Random) -> dict:
    everything = [a for a in articles([corpus], limit) if a.category]
    category = {a.id: a.category for a in everything}
    key = f"{corpus}:{limit}"
    index = Index(build_once(work / "vntc", lambda d: Index(d).add(everything, rebuild=True, workers=workers), key))
    plain = build_once(work / "vntc-plain", lambda d: plain_whoosh.build(d, everything), key)
    baseline = plain_whoosh.PlainSearch(plain)
    sample = rng.sample(everything, sample_size)
    per: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for a in sample:
        found = {name: similar_ids(index, method, a.id) for name, method in SIMILAR_METHODS.items()}
        found["plain_whoosh_more_like_this"] = baseline.more_like_this(a.id, limit=10)
        for name, ids in found.items():
            if ids:
                per[name][a.category].append(sum(category[i] == a.category for i in ids) / len(ids))
    counts = Counter(category.values())
    total = len(category)
    prior = {c: (n - 1) / (total - 1) for c, n in counts.items()}
    out: dict[str, dict] = {"articles": total, "queries": sample_size, "random (topic prior)": {}}
    sampled = Counter(a.category for a in sample)
    out["random (topic prior)"] = {"overall": sum(prior[c] * n for c, n in sampled.items()) / sample_size, **prior}
    out["similar_id_latency_ms"] = similar_latency(index, [a.id for a in sample[:200]])
    for name, by_cat in per.items():
        out[name] = {"overall": statistics.mean(v for vs in by_cat.values() for v in vs)}
        out[name].update({c: statistics.mean(vs) for c, vs in sorted(by_cat.items())})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=SHARED / "vietnews-val.jsonl.gz")
    parser.add_argument("--topics-corpus", type=Path, default=SHARED / "vntc-train.jsonl.gz")
    parser.add_argument("--parts", default="known-item,similar,topics")
    parser.add_argument("--limit", type=int, default=10**9, help="use only the first N articles")
    parser.add_argument("--queries", type=int, default=1000, help="known-item queries")
    parser.add_argument("--similar-queries", type=int, default=500)
    parser.add_argument("--ablation-queries", type=int, default=300, help="known-item queries for each ablation")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--accents-index", type=Path, help="restore from this index's vocabulary (accents part)")
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="questions file (qid, article id, question)")
    parser.add_argument("--work", type=Path, help="keep the indexes here and reuse them (default: a temporary dir)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    parts = args.parts.split(",")
    report: dict[str, object] = {"date": time.strftime("%Y-%m-%d"), "corpus": str(args.corpus)}
    with contextlib.ExitStack() as stack:
        work = args.work or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        work.mkdir(parents=True, exist_ok=True)
        if "known-item" in parts:
            report["known-item"] = known_item(
                args.corpus,
                args.queries,
                args.limit,
                args.workers,
                work,
                random.Random(args.seed),
                args.ablation_queries,
            )
            print(json.dumps(report["known-item"], ensure_ascii=False, indent=1), flush=True)
        if "accents" in parts:
            report["accents"] = accents(
                args.corpus, args.queries, args.limit, args.workers, work, args.seed, args.accents_index
            )
            print(json.dumps(report["accents"], ensure_ascii=False, indent=1), flush=True)
        if "questions" in parts:
            report["questions"] = questions(args.corpus, args.limit, args.workers, work, args.questions)
            print(json.dumps(report["questions"], ensure_ascii=False, indent=1), flush=True)
        if "similar" in parts:
            report["similar"] = split_halves(
                args.corpus, args.similar_queries, args.limit, args.workers, work, random.Random(args.seed)
            )
            print(json.dumps(report["similar"], ensure_ascii=False, indent=1), flush=True)
        if "topics" in parts:
            report["topics"] = topic_precision(
                args.topics_corpus, args.similar_queries, args.limit, args.workers, work, random.Random(args.seed)
            )
            print(json.dumps(report["topics"], ensure_ascii=False, indent=1), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
