"""Bad input never costs the good records beside it.

Each case writes one kind of bad input (from issue 11's audit) next to good records
in the same file or folder, indexes it with the real CLI and checks that every good
record is searchable, the bad one is reported as ``file:line: reason``, the exit code
is the documented one (3 when something was rejected) and nothing raised.
"""

from __future__ import annotations

import codecs
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchidx import Index
from searchidx.article import Article, Reject
from searchidx.cli import main
from searchidx.corpus import ReadOptions, read_json_array, read_path
from searchidx.errors import UnknownArticle

ROOT = Path(__file__).resolve().parent.parent

GOOD = [
    {"id": "good-1", "title": "Bão số 3 đổ bộ Quảng Ninh", "body": "Mưa lớn kéo dài ở nhiều tỉnh miền Bắc."},
    {"id": "good-2", "title": "Giá xăng giảm mạnh từ chiều nay", "body": "Liên bộ Công Thương điều chỉnh giá."},
]
#: A word of each good record that only it has, to find it by searching.
FIND = {"good-1": "Quảng Ninh", "good-2": "xăng"}


def line(record: object) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode() + b"\n"


def around(bad: bytes) -> bytes:
    """A JSON Lines file: a good record, the bad line (line 2), another good one."""
    return line(GOOD[0]) + bad + b"\n" + line(GOOD[1])


@dataclass
class Case:
    """``write`` fills the corpus folder and returns the path to index; ``problem``
    is (file name, line, part of the reason) of the report expected; ``extra`` are
    ids of the bad-looking input that are in fact good and must be indexed."""

    write: Callable[[Path], Path]
    problem: tuple[str, int, str] | None
    exit_code: int = 3
    extra: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()


def jsonl(bad: bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        (folder / "c.jsonl").write_bytes(around(bad))
        return folder / "c.jsonl"

    return write


def json_array(bad: bytes) -> Callable[[Path], Path]:
    """A JSON array: a good object, the bad element (line 2), another good one."""

    def write(folder: Path) -> Path:
        (folder / "c.json").write_bytes(b"[" + line(GOOD[0]) + b"," + bad + b",\n" + line(GOOD[1]) + b"]\n")
        return folder / "c.json"

    return write


def beside(name: str, content: bytes | Callable[[Path], None]) -> Callable[[Path], Path]:
    """A folder holding good.jsonl and a bad file ``name``."""

    def write(folder: Path) -> Path:
        (folder / "good.jsonl").write_bytes(line(GOOD[0]) + line(GOOD[1]))
        if callable(content):
            content(folder / name)
        else:
            (folder / name).write_bytes(content)
        return folder

    return write


def truncated_gzip(folder: Path) -> Path:
    data = gzip.compress(line(GOOD[0]) + line(GOOD[1]) + line({"id": "lost", "title": "Phần bị cắt"}))
    (folder / "c.jsonl.gz").write_bytes(data[:-12])
    return folder / "c.jsonl.gz"


def csv_file(*rows: str) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        good = [f"{r['id']},{r['title']},{r['body']}" for r in GOOD]
        text = "\n".join(["id,title,body", good[0], *rows, good[1]]) + "\n"
        (folder / "c.csv").write_text(text, encoding="utf-8")
        return folder / "c.csv"

    return write


def symlink(target: str) -> Callable[[Path], None]:
    return lambda path: path.symlink_to(target)


def loop_in_folder(folder: Path) -> Path:
    (folder / "good.jsonl").write_bytes(line(GOOD[0]) + line(GOOD[1]))
    (folder / "sub").mkdir()
    (folder / "sub" / "back").symlink_to("..")
    return folder


def text_file(name: str, data: bytes) -> Callable[[Path], Path]:
    """good.jsonl, and a bad .txt in a topic folder beside it."""

    def write(folder: Path) -> Path:
        (folder / "The thao").mkdir()
        return beside(f"The thao/{name}", data)(folder)

    return write


LONG_WORDS = "Đội tuyển Việt Nam tập trung chuẩn bị cho vòng loại. " * 2_700  # ~140,000 characters

CASES = {
    # records that abort the whole build on main
    "lone surrogate": Case(jsonl(b'{"id":"x","title":"\\ud800"}'), ("c.jsonl", 2, "lone surrogate")),
    "date past the calendar": Case(
        jsonl(line({"id": "d", "title": "Tin ngày tận thế", "date": "9999-12-31T23:59:59Z"})),
        ("c.jsonl", 2, "unparsable date"),
        0,
        {"d": "tận thế"},
    ),
    "date before the calendar": Case(
        jsonl(line({"id": "d", "title": "Tin đầu công nguyên", "date": "0001-01-01T00:00+08:00"})),
        ("c.jsonl", 2, "unparsable date"),
        0,
        {"d": "công nguyên"},
    ),
    "truncated gzip": Case(truncated_gzip, ("c.jsonl.gz", 3, "compressed data ends early")),
    "jsonl.gz that is not gzip": Case(beside("bad.jsonl.gz", line(GOOD[0])), ("bad.jsonl.gz", 0, "not a gzip file")),
    "self symlink": Case(beside("self.jsonl", symlink("self.jsonl")), ("self.jsonl", 0, "symlink loop")),
    "dangling symlink": Case(beside("gone.jsonl", symlink("nowhere.jsonl")), ("gone.jsonl", 0, "dangling")),
    "symlink loop in a folder": Case(loop_in_folder, ("back", 0, "already read"), 0),
    "CSV field over 128 KiB": Case(csv_file(f"long,Bài rất dài,{LONG_WORDS}"), None, 0, {"long": "vòng loại"}),
    "JSON nested 100,000 deep": Case(
        jsonl(b'{"id":"n","title":"x","tags":' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        ("c.jsonl", 2, "nested too deeply"),
    ),
    "5,000-digit number": Case(jsonl(b'{"id":"n","title":"x","views":' + b"7" * 5000 + b"}"), ("c.jsonl", 2, "digits")),
    "record over the size limit": Case(
        jsonl(line({"id": "big", "title": "Quá dài", "body": "chữ " * 1_000})),
        ("c.jsonl", 2, "longer than 2,000 characters"),
        args=("--max-record-chars", "2000"),
    ),
    "JSON array: nested 100,000 deep": Case(
        json_array(b'{"id":"n","title":"x","tags":' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        ("c.json", 2, "nested too deeply"),
    ),
    "JSON array: 5,000-digit number": Case(
        json_array(b'{"id":"n","views":' + b"7" * 5000 + b"}"), ("c.json", 2, "digits")
    ),
    "JSON array: object over the size limit": Case(
        json_array(line({"id": "big", "title": "Quá dài", "body": 'chữ [{"' * 2_000})),
        ("c.json", 2, "longer than 2,000 characters"),
        args=("--max-record-chars", "2000"),
    ),
    "title as a number": Case(jsonl(b'{"id":"b","title":12}'), ("c.jsonl", 2, "title must be text, not a number")),
    "title as a list": Case(
        jsonl(line({"id": "b", "title": ["Tin", "nóng"]})), ("c.jsonl", 2, "field title must be text, not a list")
    ),
    "body as an object": Case(
        jsonl(line({"id": "b", "title": "Tin", "body": {"p": "x"}})), ("c.jsonl", 2, "body must be text, not an object")
    ),
    "id as an object": Case(
        jsonl(line({"id": {"n": 1}, "title": "Tin"})), ("c.jsonl", 2, "field id must be text, not an object")
    ),
    "body as true": Case(jsonl(b'{"id":"b","title":"Tin","body":true}'), ("c.jsonl", 2, "not true or false")),
    "id as a number": Case(jsonl(line({"id": 42, "title": "Tin bốn mươi hai"})), None, 0, {"42": "bốn mươi hai"}),
    "valid U+FFFD in crawled text": Case(
        jsonl(line({"id": "fffd", "title": "Tin có ký tự \ufffd lạ từ trang cào"})), None, 0, {"fffd": "trang cào"}
    ),
    "bytes that are not UTF-8": Case(jsonl(b'{"id":"u","title":"Tin \xff\xfe"}'), ("c.jsonl", 2, "not valid UTF-8")),
    "CSV with an unterminated quote": Case(
        csv_file('bad,"Tiêu đề mở ngoặc không đóng,thân bài', "junk,Không phải rác,thân"),
        ("c.csv", 3, "unterminated quote"),
        3,
        {"junk": "rác"},
    ),
    # the audit's others
    "NUL byte": Case(jsonl(b'{"id":"z","title":"T\x00in"}'), ("c.jsonl", 2, "NUL")),
    "escaped NUL": Case(jsonl(b'{"id":"z","title":"T\\u0000in"}'), ("c.jsonl", 2, "NUL character")),
    "UTF-16 without BOM": Case(
        text_file("bad.txt", "Tin UTF-16\nKhông có BOM.\n".encode("utf-16-le")), ("bad.txt", 0, "UTF-16")
    ),
    "BOM mid-file": Case(
        jsonl(codecs.BOM_UTF8 + line({"id": "bom", "title": "Tin sau dấu BOM"}).strip()), None, 0, {"bom": "dấu"}
    ),
    "empty .jsonl": Case(beside("e.jsonl", b""), ("e.jsonl", 0, "empty file")),
    "empty .jsonl.gz": Case(beside("e.jsonl.gz", gzip.compress(b"")), ("e.jsonl.gz", 0, "empty file")),
    "empty .json": Case(beside("e.json", b""), ("e.json", 0, "empty file")),
    "empty .csv": Case(beside("e.csv", b""), ("e.csv", 0, "empty file")),
    "empty .txt": Case(text_file("e.txt", b""), ("e.txt", 0, "empty file")),
    "id with ../": Case(
        jsonl(line({"id": "../../etc/passwd", "title": "Tin đường dẫn"})), None, 0, {"../../etc/passwd": "đường dẫn"}
    ),
    "emoji": Case(jsonl(line({"id": "🔥", "title": "Tin nóng 🔥 hôm nay"})), None, 0, {"🔥": "hôm nay"}),
    "100,000-character field": Case(
        jsonl(line({"id": "long", "title": "Bài dài", "body": LONG_WORDS[:100_000]})), None, 0, {"long": "vòng loại"}
    ),
}


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def assert_problem_reported(output: str, path: Path, problem: tuple[str, int, str]) -> None:
    name, number, reason = problem
    pattern = rf"^{re.escape(str(path))}[^\n]*/{re.escape(name)}:{number}: .*{re.escape(reason)}"
    assert re.search(pattern, output, re.MULTILINE), f"no {name}:{number}: …{reason} in:\n{output}"


def assert_searchable(index: Index, found: dict[str, str]) -> None:
    for doc_id, words in found.items():
        assert index.show(doc_id).id == doc_id
        assert doc_id in [hit.id for hit in index.search(words).hits], f"{words!r} does not find {doc_id}"


@pytest.mark.parametrize("kind", CASES)
def test_bad_input_is_reported_and_loses_no_good_record(kind, tmp_path):
    case = CASES[kind]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    target = case.write(corpus)
    index_dir = tmp_path / "index"
    result = run("index", str(target), "--index", str(index_dir), "--workers", "1", *case.args)
    assert "Traceback" not in result.output
    assert result.exit_code == case.exit_code, result.output
    if case.problem:
        assert_problem_reported(result.output, corpus, case.problem)
    good = {**FIND, **case.extra}
    with Index.open(index_dir) as index:
        assert_searchable(index, good)
        assert index.stats().documents == len(good)  # and nothing else: no junk records


def test_an_unreadable_file_is_rejected_when_permissions_apply(tmp_path):
    """chmod 000 stops no process with root's override (CAP_DAC_OVERRIDE): as root,
    the CLI runs without it."""
    drop_override: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root and setpriv (util-linux) is not here to drop the override")
        drop_override = [setpriv, "--bounding-set=-dac_override,-dac_read_search"]
    (tmp_path / "corpus").mkdir()
    corpus = beside("secret.jsonl", line({"id": "s", "title": "Bí mật"}))(tmp_path / "corpus")
    (corpus / "secret.jsonl").chmod(0)
    result = subprocess.run(
        [*drop_override, sys.executable, "-m", "searchidx", "index", str(corpus), "--index", str(tmp_path / "ix")],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
    )  # fmt: skip
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
    assert_problem_reported(result.stderr, corpus, ("secret.jsonl", 0, "ermission denied"))
    with Index.open(tmp_path / "ix") as index:
        assert_searchable(index, FIND)
        with pytest.raises(UnknownArticle):
            index.show("s")


def test_the_default_limit_rejects_a_50_mb_record_in_bounded_memory(tmp_path):
    path = tmp_path / "c.jsonl"
    with open(path, "wb") as out:
        out.write(line(GOOD[0]) + b'{"id":"huge","title":"x","body":"')
        out.write(b"ch\xe1\xbb\xaf " * ((50 << 20) // 6))  # 50 MB of "chữ "
        out.write(b'"}\n' + line(GOOD[1]))
    tracemalloc.start()
    try:
        records = list(read_path(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [r.id for r in records if isinstance(r, Article)] == ["good-1", "good-2"]
    (reject,) = [r for r in records if isinstance(r, Reject)]
    assert reject.line == 2 and "longer than 1,000,000 characters" in reject.reason
    assert peak < 40 << 20  # the line is never held whole (it is 50 MB)


def test_rejects_file_that_is_an_input_is_refused_before_anything_is_written(tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_bytes(line(GOOD[0]))
    for rejects in (corpus, tmp_path / "rejects.jsonl"):  # the input itself, a file in an input folder
        target = corpus if rejects == corpus else tmp_path
        result = run("index", str(target), "--index", str(tmp_path / "ix"), "--rejects", str(rejects))
        assert result.exit_code == 2 and "part of the corpus" in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
    assert corpus.read_bytes() == line(GOOD[0]) and not (tmp_path / "ix").exists()


def test_rejects_file_in_a_missing_folder_is_one_line(tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_bytes(line(GOOD[0]))
    result = run("index", str(corpus), "--index", str(tmp_path / "ix"), "--rejects", str(tmp_path / "no" / "r.jsonl"))
    assert result.exit_code == 2 and result.output.startswith("searchidx: error: cannot write")
    assert len(result.output.strip().splitlines()) == 1


def vntc_tree(root: Path) -> Path:
    """Train_Full/<topic>/<file>.txt, as VNTC ships (UTF-16 with BOM, CRLF)."""
    topic = root / "Train_Full" / "Vi tinh"
    topic.mkdir(parents=True)
    text = "Máy tính bảng giá rẻ\r\nThị trường máy tính bảng sôi động.\r\n"
    (topic / "VT_TT_ (2446).txt").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    return root / "Train_Full"


def test_a_text_file_has_one_id_and_category_whichever_folder_is_named(tmp_path):
    tree = vntc_tree(tmp_path)
    named = [tree, tree / "Vi tinh", tree / "Vi tinh" / "VT_TT_ (2446).txt"]
    found = {(a.id, a.category) for path in named for a in read_path(path) if isinstance(a, Article)}
    assert found == {("Vi tinh/VT_TT_ (2446)", "Vi tính")}
    index_dir = tmp_path / "ix"
    for path in named:
        assert run("index", str(path), "--index", str(index_dir), "--workers", "1").exit_code == 0
    with Index.open(index_dir) as index:
        assert index.stats().documents == 1 and index.show("Vi tinh/VT_TT_ (2446)").category == "Vi tính"


def test_a_folder_of_symlinks_to_topic_folders_is_indexed(tmp_path):
    tree = vntc_tree(tmp_path / "data")
    links = tmp_path / "links"
    links.mkdir()
    (links / "Vi tinh").symlink_to(tree / "Vi tinh")
    (links / "again").symlink_to(tree / "Vi tinh")  # the same folder twice: read once
    (links / "one.jsonl").symlink_to(tmp_path / "data" / "one.jsonl")
    (tmp_path / "data" / "one.jsonl").write_bytes(line(GOOD[0]))
    result = run("index", str(links), "--index", str(tmp_path / "ix"), "--workers", "1")
    assert result.exit_code == 0, result.output
    with Index.open(tmp_path / "ix") as index:
        assert index.stats().documents == 2 and index.show("Vi tinh/VT_TT_ (2446)").category == "Vi tính"
        assert_searchable(index, {"good-1": FIND["good-1"]})


def test_a_json_array_read_in_small_chunks_skips_an_oversized_object(tmp_path):
    path = json_array(line({"id": "big", "title": "Quá dài", "body": 'chữ [{\\"' * 2_000}))(tmp_path)
    records = list(read_json_array(path, ReadOptions(max_record_chars=2000), chunk_size=500))
    assert [r.id for r in records if isinstance(r, Article)] == ["good-1", "good-2"]
    assert [(r.line, "longer than 2,000" in r.reason) for r in records if isinstance(r, Reject)] == [(2, True)]


def test_similar_to_a_text_with_undecodable_bytes_is_one_line(sample_index):
    """Bytes that are not UTF-8 in argv arrive as lone surrogates, which are refused."""
    result = run("similar", "--text", "Gia Lai \udcff", "--index", str(sample_index.path))
    assert (
        result.exit_code == 2
        and result.output == "searchidx: error: the text is not valid UTF-8 text (bad byte at character 9)\n"
    )
