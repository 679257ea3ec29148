"""Queries typed without diacritics: the likeliest accented form is restored from the
index's own text, ranked first and shown; every accented form still matches."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter

import pytest
from click.testing import CliRunner

from searchidx import Article, Index, execute, restore, shipped_corpus
from searchidx.analysis import normalize
from searchidx.cli import main
from searchidx.corpus import read_corpus
from searchidx.querying import SearchOptions, compile_query
from searchidx.readers import SearcherPool


@pytest.mark.parametrize(
    ("typed", "restored"),
    [
        ("ha noi", "Hà Nội"),
        ("Ha Noi", "Hà Nội"),
        ("thi dua", "thi đua"),
        ("bao so 3", "bão số 3"),
        ("HOANG ANH GIA LAI", "HOÀNG ANH GIA LAI"),
    ],
)
def test_a_query_without_diacritics_is_restored_from_the_sample_index(sample_index, typed, restored):
    assert sample_index.search(typed).restored == restored


@pytest.mark.parametrize(
    ("typed", "restored"),
    [("khoi to", "khởi tố"), ("tam giam", "tạm giam"), ("cong an", "công an"), ("xe may", "xe máy")],
)
def test_real_news_words_are_restored_from_a_real_index(vietnews_index, typed, restored):
    assert vietnews_index.search(typed).restored == restored


@pytest.mark.parametrize("query", ["Hà Nội", "bão", "thi đua Gia Lai", "Hoàng Anh Gia Lai"])
def test_a_query_whose_unmarked_syllables_are_already_likeliest_is_not_restored(sample_index, query):
    assert sample_index.search(query).restored is None


@pytest.mark.parametrize(
    ("typed", "restored"),
    [("ha nội", "hà nội"), ("Ha Nội", "Hà Nội"), ("hà noi", "hà nội"), ("bao số 3", "bão số 3")],
)
def test_a_query_with_some_diacritics_gets_the_ones_it_lacks(sample_index, typed, restored):
    assert sample_index.search(typed).restored == restored


@pytest.mark.parametrize(
    ("typed", "restored"),
    [("cong an tỉnh", "công an tỉnh"), ("khởi to", "khởi tố"), ("xe máy bi tai nan", "xe máy bị tai nạn")],
)
def test_real_news_queries_with_some_diacritics_are_completed(vietnews_index, typed, restored):
    assert vietnews_index.search(typed).restored == restored


def test_a_typed_mark_is_kept_even_against_the_likelier_form(vietnews_index):
    """ "nói" (to say) is rarer after "hà" than "nội" is, but the user typed it."""
    with SearcherPool(vietnews_index.path).acquire() as snapshot:
        vocab = restore.vocabulary(snapshot.searcher)
    assert restore.restore_syllables(vocab, ["ha", "noi"]) == ["hà", "nội"]
    assert restore.restore_syllables(vocab, ["ha", "nói"]) == ["hà", "nói"]
    assert restore.restore_text(vocab, "ha nói").text == "hà nói"


@pytest.mark.parametrize(
    "headline",
    ["Hoa sữa vẫn luôn thi vị dưới lăng kính của người nghệ sĩ", "cá sấu mang thai"],
)
def test_a_syllable_typed_bare_among_marked_ones_stays_bare_unless_far_likelier(vietnews_index, headline):
    """ "thi" and "mang" are words of their own, though "thì" and "mạng" are
    commoner: among typed marks they stay as typed."""
    with SearcherPool(vietnews_index.path).acquire() as snapshot:
        vocab = restore.vocabulary(snapshot.searcher)
    assert restore.restore_text(vocab, headline).text == headline
    assert vietnews_index.search(headline).restored is None


def test_some_diacritics_find_every_article_the_folded_query_finds(vietnews_index):
    """Matching is the folded query's, ranking the restored form's: "ha nội" typed
    with one mark finds "Hà Nội" (which, matched as typed, it would not)."""
    for typed, folded in [("ha nội", "ha noi"), ("xe máy bi tai nan", "xe may bi tai nan")]:
        partial = vietnews_index.search(typed, limit=10, snippets=False)
        plain = vietnews_index.search(folded, limit=10, snippets=False, restore=False)
        literal = vietnews_index.search(typed, limit=10, snippets=False, restore=False)
        assert partial.restored is not None and literal.restored is None
        assert partial.total == plain.total > literal.total
        first = vietnews_index.show(partial.hits[0].id)
        restored_words = normalize(partial.restored).text.lower().split()
        text = normalize(f"{first.title} {first.sapo} {first.body}").text.lower()
        assert all(word in text for word in restored_words)


def test_some_diacritics_highlight_what_they_match(vietnews_index):
    """ "ha" matched folded is highlighted where it is "Hà", not only where it is "ha"."""
    hits = vietnews_index.search("ha nội", limit=3).hits
    marked = {normalize(h.snippet[s:e]).text.lower() for h in hits for s, e in h.highlights}
    assert marked & {"hà", "hà nội"}


def test_a_query_already_in_its_likeliest_form_shows_no_restoration(sample_index):
    assert sample_index.search("gia lai").restored is None


def test_operators_field_names_and_label_values_stay_as_typed(sample_index):
    results = sample_index.search("title:ha noi OR source:thoisu-demo.vn NOT bao")
    assert results.restored == "title:Hà Nội OR source:thoisu-demo.vn NOT bão"


def _has_word(index: Index, doc_id: str, word: str) -> bool:
    article = index.show(doc_id)
    return word in re.findall(r"\w+", normalize(f"{article.title} {article.sapo} {article.body}").text.lower())


def test_the_restored_form_ranks_first_and_every_form_still_matches(vietnews_index):
    """ "bao" is "báo" (newspaper, report) far more often than "bao" (bag) in the
    news: with restoration every one of the top ten has it; typed as is, fewer do."""
    restored = vietnews_index.search("bao", snippets=False)
    typed = vietnews_index.search("bao", snippets=False, restore=False)
    assert restored.restored == "báo" and typed.restored is None
    assert restored.total == typed.total
    with_exact = [_has_word(vietnews_index, h.id, "báo") for h in restored.hits]
    assert all(with_exact[:4])
    assert sum(with_exact) > sum(_has_word(vietnews_index, h.id, "báo") for h in typed.hits)


def test_restoration_is_in_the_json_output(sample_index):
    data = sample_index.search("ha noi").to_dict()
    assert data["restored"] == "Hà Nội"
    assert "restored" not in sample_index.search("ha noi", restore=False).to_dict()


def test_the_cli_shows_what_it_searched_for_and_how_to_search_as_typed(sample_index):
    out = CliRunner().invoke(main, ["search", "ha noi", "--index", str(sample_index.path)])
    assert out.exit_code == 0, out.output
    assert "Showing results for: Hà Nội" in out.output
    assert "Search instead for: ha noi" in out.output
    literal = CliRunner().invoke(main, ["search", "ha noi", "--no-restore", "--index", str(sample_index.path)])
    assert literal.exit_code == 0, literal.output
    assert "Showing results for" not in literal.output and "Search instead" not in literal.output
    as_json = CliRunner().invoke(main, ["search", "ha noi", "--format", "json", "--index", str(sample_index.path)])
    assert json.loads(as_json.output)["restored"] == "Hà Nội"


def test_the_build_counts_the_vocabulary_so_no_query_waits_for_it(sample_index):
    generation = sample_index.path / (sample_index.path / "CURRENT").read_text().strip()
    assert (generation / restore.VOCABULARY_FILE).exists()


def test_the_counts_are_saved_in_the_generation_and_read_back(sample_index):
    sample_index.search("ha noi")
    generation = sample_index.path / (sample_index.path / "CURRENT").read_text().strip()
    saved = restore._load(generation, documents=1)
    assert saved is not None and saved.counts["nội"] > 0
    assert restore.restore_syllables(saved, ["ha", "noi"]) == ["hà", "nội"]


def test_the_counts_are_of_letter_syllables_and_punctuation_breaks_pairs(sample_index):
    with sample_index._searchers.acquire() as snapshot:
        vocab = restore.build_vocabulary(snapshot.searcher.reader())
    assert vocab.pairs["hà nội"] >= 1 and vocab.counts["bão"] >= 3
    assert all(re.fullmatch(r"[^\W\d_]+ [^\W\d_]+", pair) for pair in vocab.pairs)
    assert all(re.fullmatch(r"[^\W\d_]+", syllable) for syllable in vocab.counts)


def test_restored_queries_score_exactly_as_whoosh_does(vietnews_index):
    """The boost of the restored form is one more AndMaybe: array execution must
    still equal Whoosh's exhaustive scoring, total, top ten and scores."""
    with SearcherPool(vietnews_index.path).acquire() as snapshot:
        searcher = snapshot.searcher
        for text in ["ha noi", "khoi to tam giam", "bao", "cong an tinh dak lak", "title:xe may OR tai nan -chay"]:
            restored = restore.restore_query(searcher, text)
            assert restored is not None
            _, query = compile_query(SearchOptions(query=text), searcher.reader(), restored=restored)
            total, docnums, scores = execute.whoosh_reference(searcher, query, 10)
            got = execute.run(searcher, query, 10)
            assert (got.total, got.docnums) == (total, docnums), text
            assert got.scores == pytest.approx(scores, abs=1e-6), text


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"counts": 5}', b"[1, 2, 3]"])
def test_a_damaged_vocabulary_file_is_counted_again_not_an_error(sample_index, tmp_path, damage):
    copy = tmp_path / "index"
    shutil.copytree(sample_index.path, copy)
    generation = copy / (copy / "CURRENT").read_text().strip()
    (generation / restore.VOCABULARY_FILE).write_bytes(damage)
    restore._cache.clear()  # as a new process would
    assert Index(copy).search("ha noi").restored == "Hà Nội"
    assert restore._load(generation, documents=1) is not None  # counted and written again


def test_the_cli_shows_the_completed_query_and_the_one_typed(sample_index):
    out = CliRunner().invoke(main, ["search", "ha nội", "--index", str(sample_index.path)])
    assert out.exit_code == 0, out.output
    assert "Showing results for: hà nội" in out.output
    assert "Search instead for: ha nội" in out.output


def test_two_builds_of_the_same_articles_in_another_order_count_the_same(tmp_path, monkeypatch):
    # the workers of a build write articles in an order that depends on timing: the
    # counted sample must not, or two builds of one corpus restore queries apart
    articles = [r for r in read_corpus([shipped_corpus()]) if isinstance(r, Article)]
    monkeypatch.setattr(restore, "MAX_DOCS", 10)
    counted = []
    for name, order in (("forward", articles), ("backward", articles[::-1])):
        index = Index(tmp_path / name)
        index.add(order)
        with index._searchers.acquire() as snapshot:
            counted.append(restore.build_vocabulary(snapshot.searcher.reader()))
    forward, backward = counted
    assert forward.counts == backward.counts and forward.pairs == backward.pairs
    assert sum(forward.counts.values()) < sum(_all_counts(articles).values())  # a sample, not everything


def _all_counts(articles: list[Article]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for article in articles:
        for text in (article.title, article.sapo, article.body):
            restore.count_text(text[: restore.MAX_CHARS], counts, Counter())
    return counts
