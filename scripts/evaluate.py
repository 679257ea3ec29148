#!/usr/bin/env python3
"""Relevance of searchidx beside plain Whoosh, on real corpora, in one run.

    python scripts/evaluate.py [--parts known-item,similar,topics] [--json FILE]

known-item  News corpora rarely come with relevance judgements, so each sampled
            article's title is the query and its body the one right answer: only
            bodies are indexed. MRR@10 and Recall@10 for queries typed with
            diacritics, without (marks stripped, đ -> d) and in NFD, and for plain
            Whoosh (StandardAnalyzer, OR of the words) with the same queries; plus
            searchidx with each ranking feature switched off, to show what it adds.
similar     Each sampled article is cut in two; the second halves are indexed among
            the rest of the corpus and the first half asks for similar articles:
            how often the other half comes first (P@1), MRR@10, and the latency of
            `similar ID` on that index.
topics      On VNTC (10 topics): the share of the top 10 similar articles in the
            article's own topic (precision@10) per topic, beside random articles
            (the topic prior) and plain Whoosh's more_like_this.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import plain_whoosh  # noqa: E402
from bench import articles, percentile  # noqa: E402

from searchidx import Article, Index  # noqa: E402
from searchidx import search as search_module  # noqa: E402
from searchidx.analysis import fold  # noqa: E402

SHARED = HERE.parent.parent / "shared" / "corpus"


def reciprocal_rank(ranked: list[str], wanted: str) -> float:
    return next((1.0 / rank for rank, doc_id in enumerate(ranked[:10], 1) if doc_id == wanted), 0.0)


def score(run: Callable[[str], list[str]], queries: list[tuple[str, str]]) -> dict[str, float]:
    ranks = [reciprocal_rank(run(q), wanted) for q, wanted in queries]
    return {"mrr@10": statistics.mean(ranks), "recall@10": sum(r > 0 for r in ranks) / len(ranks)}


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
    bodies = [replace(a, title="", sapo="") for a in articles(corpus, limit)]
    sample = rng.sample([a for a in articles(corpus, limit) if a.title and a.body], sample_size)
    ours, plain = Index(work / "known-item"), work / "known-item-plain"
    ours.add(bodies, rebuild=True, workers=workers)
    plain_whoosh.build(plain, bodies, text_fields=("body",))
    baseline = plain_whoosh.PlainSearch(plain, any_word=True)
    variants = {
        "with diacritics": [(as_free_text(a.title), a.id) for a in sample],
        "without diacritics": [(strip_marks(as_free_text(a.title)), a.id) for a in sample],
        "NFD": [(unicodedata.normalize("NFD", as_free_text(a.title)), a.id) for a in sample],
    }

    def ours_run(q: str) -> list[str]:
        return [h.id for h in ours.search(q, limit=10, match_any=True, snippets=False).hits]

    def plain_run(q: str) -> list[str]:
        return baseline.search(q, snippets=False)

    out: dict[str, dict] = {
        "articles": len(bodies), "queries": sample_size, "ablation_queries": ablation_queries,
        "searchidx": {}, "plain_whoosh": {},
    }  # fmt: skip
    for name, queries in variants.items():
        out["searchidx"][name] = score(ours_run, queries)
        out["plain_whoosh"][name] = score(plain_run, queries)
    out["ablations"] = {}
    for name, (settings, variant) in ABLATIONS.items():
        queries = variants[variant][:ablation_queries]
        saved = {k: getattr(search_module, k) for k in settings}
        for k, v in settings.items():
            setattr(search_module, k, v)
        try:
            without = score(ours_run, queries)
        finally:
            for k, v in saved.items():
                setattr(search_module, k, v)
        # compared with the whole system on the very same queries, not the full sample
        out["ablations"][f"{name} ({variant})"] = {**without, "whole_system": score(ours_run, queries)}
    return out


# --- similar: split halves -------------------------------------------------------------


def halves(article: Article) -> tuple[str, str]:
    paragraphs = article.body.split("\n")
    if len(paragraphs) >= 2:
        middle = len(paragraphs) // 2
        return "\n".join(paragraphs[:middle]), "\n".join(paragraphs[middle:])
    words = article.body.split()
    return " ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2 :])


def split_halves(corpus: Path, sample_size: int, limit: int, workers: int, work: Path, rng: random.Random) -> dict:
    everything = list(articles(corpus, limit))
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
    index = Index(work / "halves")
    index.add(indexed, rebuild=True, workers=workers)
    ranks = [
        reciprocal_rank([h.id for h in index.similar(text=text, limit=10, snippets=False).hits], doc_id)
        for doc_id, text in firsts.items()
    ]
    times = []
    for doc_id in list(chosen)[:200]:
        started = time.perf_counter()
        index.similar(doc_id)
        times.append((time.perf_counter() - started) * 1000)
    return {
        "articles": len(indexed), "queries": len(firsts),
        "p@1": sum(r == 1.0 for r in ranks) / len(ranks), "mrr@10": statistics.mean(ranks),
        "similar_id_latency_ms": {"median": statistics.median(times), "p95": percentile(times, 0.95)},
    }  # fmt: skip


# --- topic precision on VNTC -----------------------------------------------------------


def topic_precision(corpus: Path, sample_size: int, limit: int, workers: int, work: Path, rng: random.Random) -> dict:
    everything = [a for a in articles(corpus, limit) if a.category]
    category = {a.id: a.category for a in everything}
    index, plain = Index(work / "vntc"), work / "vntc-plain"
    index.add(everything, rebuild=True, workers=workers)
    plain_whoosh.build(plain, everything)
    baseline = plain_whoosh.PlainSearch(plain)
    sample = rng.sample(everything, sample_size)
    per: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for a in sample:
        ours = [h.id for h in index.similar(a.id, limit=10, snippets=False).hits]
        theirs = baseline.more_like_this(a.id, limit=10)
        for name, ids in (("searchidx", ours), ("plain_whoosh_more_like_this", theirs)):
            if ids:
                per[name][a.category].append(sum(category[i] == a.category for i in ids) / len(ids))
    counts = Counter(category.values())
    total = len(category)
    prior = {c: (n - 1) / (total - 1) for c, n in counts.items()}
    out: dict[str, dict] = {"articles": total, "queries": sample_size, "random (topic prior)": {}}
    sampled = Counter(a.category for a in sample)
    out["random (topic prior)"] = {"overall": sum(prior[c] * n for c, n in sampled.items()) / sample_size, **prior}
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
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    parts = args.parts.split(",")
    report: dict[str, object] = {"date": time.strftime("%Y-%m-%d"), "corpus": str(args.corpus)}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
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
