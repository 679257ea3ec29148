"""Reading corpora: files in, ``Article`` records out, one at a time.

Readers never raise on a bad record: they yield a ``Reject`` (the record is not
indexed) or a ``Warn`` (the record is indexed without the part that was bad) with the
file, line and reason, and carry on with the next record. Everything is streamed, so
memory stays flat however large the corpus.

Accepted inputs: JSON Lines (``.jsonl``, ``.ndjson``, optionally ``.gz``), a JSON array
(``.json``), CSV with a header row (``.csv``), plain or page-text ``.txt`` files
(UTF-8 or UTF-16, detected from the BOM), and directories of any of these, where a
``.txt`` file takes its category from the folder it sits in.
"""

from __future__ import annotations

import codecs
import collections
import csv
import errno
import gzip
import hashlib
import io
import json
import os
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TextIO

from searchidx.analysis import key, normalize
from searchidx.article import Article, Record, Reject, Warn, lone_surrogate
from searchidx.dates import parse_date
from searchidx.errors import OutputPathError
from searchidx.limits import MAX_RECORD_CHARS


@dataclass(frozen=True)
class ReadOptions:
    """How to read corpora.

    ``category_names`` maps folder names to display names; folders without an entry
    are looked up in ``KNOWN_CATEGORIES`` by their diacritic-free key.
    ``max_record_chars`` bounds one record (a JSON Lines line, a CSV row, a JSON
    object, a .txt file); longer ones are rejected without being read into memory."""

    category_names: Mapping[str, str] = field(default_factory=dict)
    max_record_chars: int = MAX_RECORD_CHARS


# --- records -------------------------------------------------------------------------

#: The names a field goes by in other tools' output; dotted names are crawlers'
#: flattened objects (24h-2026-01.csv: ``content.text``, ``source.name``).
_ALIASES = {
    "body": ("body", "content", "text", "content.text"),
    "sapo": ("sapo", "summary", "description", "lead"),
    "date": ("date", "published", "publish_date", "published_at"),
    "category": ("category", "category.primary"),
    "source": ("source", "source.name"),
    "tags": ("tags", "keywords"),
}


def _first(record: Mapping[str, object], names: Iterable[str]) -> object:
    for name in names:
        value = record.get(name)
        if value not in (None, ""):
            return value
    return None


_JSON_TYPES = {dict: "an object", list: "a list", bool: "true or false", int: "a number", float: "a number"}


def _text(value: object, name: str) -> str:
    """A text field: a string, or for ``id`` also an integer (its digits); any other
    type is refused rather than stored as its Python repr."""
    if value is None:
        return ""
    if name == "id" and type(value) is int:
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"field {name} must be text, not {_JSON_TYPES.get(type(value), type(value).__name__)}")
    return normalize(value).text.strip()


def _tags(value: object) -> tuple[str, ...]:
    """Tags: a list of strings, or one string of tags separated by commas or by
    "|" (as crawlers save keywords)."""
    items = value if isinstance(value, list) else re.split(r"[,|]", _text(value, "tags"))
    return tuple(t for t in (_text(item, "tags") for item in items) if t)


def derive_id(url: str, title: str, body: str) -> str:
    """A stable id for records that have none: from the URL, else from the text."""
    basis = url or f"{title}\n{body}"
    return hashlib.sha1(basis.encode("utf-8", "surrogatepass")).hexdigest()[:16]  # Article refuses surrogates


def article_from_record(record: object, path: str, line: int) -> Iterator[Record]:
    """Turn one decoded record into an Article (plus warnings), or a Reject."""
    if not isinstance(record, dict):
        yield Reject(path, line, f"expected a JSON object, got {_JSON_TYPES.get(type(record), 'a value')}")
        return
    try:
        article, warnings = _article(record, path, line)
    except ValueError as error:
        yield Reject(path, line, str(error))
        return
    yield from warnings
    yield article


def _article(record: dict[str, object], path: str, line: int) -> tuple[Article, list[Warn]]:
    title = _text(record.get("title"), "title")
    body = "\n".join(without_page_chrome(_text(_first(record, _ALIASES["body"]), "body").split("\n")))
    if not title and not body:
        raise ValueError("record has neither title nor body")
    url = _text(record.get("url"), "url")
    date, warnings = None, []
    raw_date = _first(record, _ALIASES["date"])
    if raw_date is not None:
        try:
            date = parse_date(str(raw_date))
        except ValueError:
            warnings.append(Warn(path, line, f"unparsable date {_shorten(repr(raw_date))} dropped"))
    article = Article(
        id=_text(record.get("id"), "id") or derive_id(url, title, body),
        title=title,
        sapo=_text(_first(record, _ALIASES["sapo"]), "sapo"),
        body=body,
        url=url,
        date=date,
        category=_text(_first(record, _ALIASES["category"]), "category"),
        source=_text(_first(record, _ALIASES["source"]), "source"),
        tags=_tags(_first(record, _ALIASES["tags"])),
        author=_text(record.get("author"), "author"),
    )
    return article, warnings


def _shorten(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# --- file formats --------------------------------------------------------------------


class _Unreadable(Exception):
    """The rest of a file cannot be read (truncated, not gzip, no permission):
    reported as one reject at the line reached, after the records read before it."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


class _TooLong(Exception):
    """A CSV record ran past the size limit."""


_READ_ERRORS = (OSError, EOFError, zlib.error)


def _why_unreadable(error: BaseException) -> str:
    if isinstance(error, gzip.BadGzipFile):
        return "not a gzip file"
    if isinstance(error, EOFError):
        return "compressed data ends early (a truncated file)"
    if isinstance(error, zlib.error):
        return f"corrupt compressed data ({error})"
    if isinstance(error, OSError) and error.errno == errno.ELOOP:
        return "cannot read: a symlink loop"
    if isinstance(error, FileNotFoundError):
        return "cannot read: no such file (a dangling symlink?)"
    if isinstance(error, OSError) and error.strerror:
        return f"cannot read: {error.strerror}"
    return f"cannot read: {error}"


def _too_long(limit: int) -> str:
    return f"record longer than {limit:,} characters (the limit; see --max-record-chars)"


def _open_text(path: Path) -> IO[str]:
    """Open a UTF-8 file, transparently gunzipped. Undecodable bytes become lone
    surrogates (surrogateescape), which valid text can never contain: the record
    holding them is rejected, while U+FFFD written in the text itself is kept."""
    raw: IO[bytes] = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # type: ignore[assignment]
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline=None)


def _lines(path: Path, limit: int) -> Iterator[tuple[int, str | None]]:
    """The numbered lines of a file; None for a line longer than ``limit``, which
    is skipped without ever being held in memory whole."""
    number = 0
    try:
        with _open_text(path) as stream:
            while line := stream.readline(limit + 1):
                number += 1
                if len(line) > limit and not line.endswith("\n"):
                    while (rest := stream.readline(1 << 16)) and not rest.endswith("\n"):
                        pass
                    yield number, None
                else:
                    yield number, line
    except _READ_ERRORS as error:
        raise _Unreadable(number + 1 if number else 0, _why_unreadable(error)) from None


def _chunks(path: Path, size: int) -> Iterator[str]:
    try:
        with _open_text(path) as stream:
            while chunk := stream.read(size):
                yield chunk
    except _READ_ERRORS as error:
        raise _Unreadable(0, _why_unreadable(error)) from None


_NUL_BYTES = "NUL bytes: binary data, or UTF-16 without a byte-order mark"


def _raw_problem(text: str) -> str | None:
    """Why a record's raw text cannot be read, if it cannot. Lone surrogates in raw
    text can only be undecodable bytes (see ``_open_text``)."""
    if "\x00" in text:
        return _NUL_BYTES
    at = lone_surrogate(text)
    if at is None:
        return None
    return f"bytes that are not valid UTF-8 (0x{ord(text[at]) - 0xDC00:02x} at column {at + 1})"


def _json_error(error: ValueError | RecursionError) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"malformed JSON: {error.msg} at column {error.colno}"
    if isinstance(error, RecursionError):
        return "malformed JSON: nested too deeply"
    return f"malformed JSON: {str(error).split(';')[0]}"  # e.g. a number of 5,000 digits


def read_jsonl(path: Path, options: ReadOptions = ReadOptions()) -> Iterator[Record]:
    for number, line in _lines(path, options.max_record_chars):
        if line is None:
            yield Reject(str(path), number, _too_long(options.max_record_chars))
            continue
        line = line.lstrip("\ufeff")  # a byte-order mark where files were concatenated
        if not line.strip():
            continue
        problem = _raw_problem(line)
        if problem:
            yield Reject(str(path), number, problem)
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as error:
            yield Reject(str(path), number, _json_error(error))
            continue
        yield from article_from_record(record, str(path), number)


def read_json_array(path: Path, options: ReadOptions = ReadOptions(), chunk_size: int = 1 << 20) -> Iterator[Record]:
    """Stream the elements of a top-level JSON array without loading the whole file.
    An element too long or too deep to decode is skipped; malformed JSON ends the
    file (where the next element starts cannot be known)."""
    decoder, limit = json.JSONDecoder(), options.max_record_chars
    chunks = _chunks(path, chunk_size)
    buffer, line = next(chunks, "").lstrip(), 1
    if not buffer:
        return
    if not buffer.startswith("["):
        yield Reject(str(path), 1, "a .json corpus must be an array of objects")
        return
    buffer = buffer[1:]
    while True:
        stripped = buffer.lstrip(" \t\r\n,")
        line += buffer.count("\n", 0, len(buffer) - len(stripped))
        buffer = stripped
        if buffer.startswith("]"):
            return
        try:
            record, end = decoder.raw_decode(buffer)
        except json.JSONDecodeError as error:
            more = next(chunks, "") if len(buffer) <= limit else ""
            if more:
                buffer += more
                continue
            if len(buffer) <= limit:
                yield Reject(str(path), line, f"{_json_error(error)}; the rest of the file is not read")
                return
            yield Reject(str(path), line, _too_long(limit))
        except (ValueError, RecursionError) as error:
            yield Reject(str(path), line, _json_error(error))
        else:
            problem = _raw_problem(buffer[:end]) or (_too_long(limit) if end > limit else None)
            if problem:
                yield Reject(str(path), line, problem)
            else:
                yield from article_from_record(record, str(path), line)
            line += buffer.count("\n", 0, end)
            buffer = buffer[end:]
            continue
        buffer, skipped = _skip_element(buffer, chunks)
        line += skipped


_JSON_STRUCTURE = re.compile(r'["\[\]{},]')
_JSON_STRING_END = re.compile(r'["\\]')


def _skip_element(buffer: str, chunks: Iterator[str]) -> tuple[str, int]:
    """Skip the array element that ``buffer`` starts with, reading on from
    ``chunks`` and keeping nothing (it may be huge or nested past any recursion
    limit); returns what follows it and the number of lines skipped."""
    depth, in_string, skip_next, pos, lines = 0, False, False, 0, 0
    while True:
        if skip_next and pos < len(buffer):  # the character after a backslash
            pos, skip_next = pos + 1, False
        pattern = _JSON_STRING_END if in_string else _JSON_STRUCTURE
        match = pattern.search(buffer, pos) if pos < len(buffer) else None
        if match is None:
            lines += buffer.count("\n", pos)
            buffer, pos = next(chunks, ""), 0
            if not buffer:
                return "", lines
            continue
        lines += buffer.count("\n", pos, match.end())
        char, pos = match[0], match.end()
        if in_string:
            skip_next, in_string = char == "\\", char == "\\"
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif depth and char in "]}":
            depth -= 1
        elif not depth:  # the comma after the element, or the array's "]"
            return buffer[pos - 1 :], lines


def read_csv(path: Path, options: ReadOptions = ReadOptions()) -> Iterator[Record]:
    """Rows of a CSV file with a header row. A row that cannot be parsed (an
    unterminated quote swallows the rest of the file) is rejected at the line where
    it starts, and reading resumes on the next line, so later rows are not lost."""
    limit = options.max_record_chars
    csv.field_size_limit(max(csv.field_size_limit(), limit))  # a process-wide setting
    lines, pending = _lines(path, limit), collections.deque[tuple[int, str | None]]()
    header: list[str] | None = None
    while True:
        taken: list[tuple[int, str | None]] = []
        try:
            row = next(csv.reader(_taking(pending, lines, taken, limit), strict=True), None)
        except (csv.Error, _TooLong) as error:
            yield Reject(str(path), taken[0][0], _csv_error(error, len(taken), limit))
            pending.extendleft(reversed(taken[1:]))
            continue
        if row is None:
            return
        problem = next(filter(None, (_raw_problem(text or "") for _, text in taken)), None)
        if header is None and not problem:
            header = row
        elif problem or len(row) > len(header or ()):
            yield Reject(str(path), taken[0][0], problem or "more fields than the header names")
        elif row:
            yield from article_from_record(dict(zip(header or (), row, strict=False)), str(path), taken[0][0])


def _taking(
    pending: collections.deque[tuple[int, str | None]],
    lines: Iterator[tuple[int, str | None]],
    taken: list[tuple[int, str | None]],
    limit: int,
) -> Iterator[str]:
    """Lines for one CSV row, put back ones first, noting each in ``taken``."""
    size = 0
    while item := (pending.popleft() if pending else next(lines, None)):
        taken.append(item)
        text = item[1]
        size += len(text) if text is not None else limit + 1
        if size > limit:
            raise _TooLong
        yield text or ""


def _csv_error(error: Exception, lines: int, limit: int) -> str:
    if isinstance(error, _TooLong):
        return _too_long(limit) + (": an unterminated quote?" if lines > 1 else "")
    if str(error) == "unexpected end of data":
        return "unterminated quote: the field runs to the end of the file"
    return f"malformed CSV: {error}"


# --- page-text files -----------------------------------------------------------------

#: Folder names as distributed in Vietnamese corpora, by their diacritic-free key.
KNOWN_CATEGORIES = {
    key(name): name
    for name in (
        "Chính trị - Xã hội", "Đời sống", "Khoa học", "Kinh doanh", "Pháp luật",
        "Sức khỏe", "Thế giới", "Thể thao", "Văn hóa", "Vi tính", "Giáo dục",
        "Kinh tế", "Xã hội", "Thời sự", "Du lịch", "Giải trí", "Công nghệ",
    )
}  # fmt: skip

#: Source codes in file names and datelines, e.g. "TT_ VNE_ (12).txt", "(NLĐ)-".
SOURCE_CODES = {
    "VNE": "vnexpress.net", "NLD": "nld.com.vn", "NLĐ": "nld.com.vn", "TT": "tuoitre.vn",
    "TTO": "tuoitre.vn", "TN": "thanhnien.vn", "TNO": "thanhnien.vn", "GLO": "baogialai.com.vn",
}  # fmt: skip
_FILE_SOURCE = re.compile(r"_\s*([A-Z]{2,3})_")
_DATELINE = re.compile(r"^\((?P<code>[A-ZĐ]{2,6})\)\s*[-–—]\s*")
_FILE_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_PAGE_CHROME = re.compile(r"^Theo dõi .{1,80} trên Google News$")
_RELATED_BLOCK = re.compile(r"^(Có thể bạn quan tâm|Tin liên quan|Bài liên quan|Xem thêm|Đọc thêm)\s*:?$")
_TEAM = r"[A-ZÀ-Ỹ][^\s.]*(?: [A-ZÀ-Ỹ][^\s.]*){0,2}"
#: Site furniture that crawlers save inside the text, where paragraphs were run
#: together (24h.com.vn): the "article saved" notice, a betting teaser, results
#: widgets still loading, and the "[Link nguồn]" placeholders.
_INLINE_CHROME = re.compile(
    r"Lưu bài viết thành công Bạn có thể xem lại bài viết đã lưu ở trang\s*Tin bài đã lưu"
    rf"|(?:{_TEAM} - {_TEAM} \d{{1,2}}\.\d{{1,2}} )?Dự đoán tỷ số trận đấu\.\s*Cơ hội trúng ngay [\d.]+ đồng!*"
    r"|(?:(?:Đang cập nhật|Xem Thêm)\s*){2,}"
    r"|(?:\s*Nguồn: \[Link nguồn\])+\s*$"
)
_PHOTO_CREDIT = re.compile(r"(^|[.\s])(Ảnh|Ảnh minh họa|Nguồn ảnh)\s*:\s*[^.]{1,60}\.?$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ỹ\"“])")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text_file(data: bytes) -> str:
    """Decode by BOM (UTF-8, UTF-16 LE/BE), else as UTF-8; ValueError if not text."""
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), "utf-8")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 or UTF-16 text ({error.reason} at byte {error.start})") from None
    if "\x00" in text:
        raise ValueError(_NUL_BYTES)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def article_from_page_text(text: str, path: Path, category: str = "", doc_id: str = "") -> Article:
    """Clean raw page text into one article.

    The first non-empty line is the headline. Site chrome ("Theo dõi … trên Google
    News"), photo captions (a paragraph repeated at once, or ending in a photo credit)
    and everything from a related-articles block ("Có thể bạn quan tâm") on are left
    out. A dateline "(GLO)-" is removed and names the source; a date in the file name
    (2024-07-31) dates the article. The id is the file's name without ".txt" (in a
    folder, its path below the folder), so two files are two articles even when a
    corpus files the same text under two topics. When a file runs title, lead and body together on
    one line, the title is the text before the dateline, else the first sentence."""
    paragraphs = [p for p in (normalize(line).text.strip() for line in text.split("\n")) if p]
    if len(paragraphs) == 1:
        paragraphs = _split_run_together(paragraphs[0])
    title, rest = (paragraphs[0], paragraphs[1:]) if paragraphs else ("", [])
    body: list[str] = []
    source = ""
    for paragraph in without_page_chrome(rest):
        dateline = _DATELINE.match(paragraph)
        if dateline:
            source = source or SOURCE_CODES.get(dateline["code"], "")
            paragraph = paragraph[dateline.end() :]
        body.append(paragraph)
    body = [p for p in body if not _PHOTO_CREDIT.search(p) or len(p) > 300]
    sapo, body = (body[0], body[1:]) if len(body) > 1 else ("", body)
    file_source = _FILE_SOURCE.findall(path.name)
    if file_source:
        source = SOURCE_CODES.get(file_source[-1], source)
    day = _FILE_DATE.search(path.name)
    return Article(
        id=doc_id or path.stem,
        title=title,
        sapo=sapo,
        body="\n".join(body),
        date=datetime(int(day[1]), int(day[2]), int(day[3])) if day else None,
        category=category,
        source=source,
    )


def without_page_chrome(paragraphs: Iterable[str]) -> list[str]:
    """Paragraphs of saved page text without the site's chrome, whatever the
    format it came in: a related-articles block ("Có thể bạn quan tâm") ends the
    article; "Theo dõi … trên Google News" lines, chrome run into the text
    (``_INLINE_CHROME``) and a paragraph repeated at once (a photo caption) go."""
    kept: list[str] = []
    for paragraph in paragraphs:
        if _RELATED_BLOCK.match(paragraph):
            break
        cleaned = _INLINE_CHROME.sub(" ", paragraph)
        paragraph = " ".join(cleaned.split()) if cleaned != paragraph else paragraph
        if paragraph and not _PAGE_CHROME.match(paragraph) and not (kept and paragraph == kept[-1]):
            kept.append(paragraph)
    return kept


_LONGEST_TITLE = 150


def _split_run_together(text: str) -> list[str]:
    """Title, then the rest, for a file whose lines were run together."""
    dateline = re.search(r"\s\((?:[A-ZĐ]{2,6})\)\s*[-–—]", text)
    if dateline and dateline.start() < 300:
        return [text[: dateline.start()].strip(), text[dateline.start() :].strip()]
    first = _SENTENCE_END.split(text, maxsplit=1)
    if len(first) == 2 and len(first[0]) <= _LONGEST_TITLE:
        return [first[0].rstrip("."), first[1]]
    words = text[:_LONGEST_TITLE].rsplit(" ", 1)[0]
    return [words + "…", text]  # no telling where the headline ends: keep all as body


def read_text_file(path: Path, options: ReadOptions = ReadOptions()) -> Iterator[Record]:
    """One article from a .txt file, filed under the folder that holds it.

    Its category is that folder's name and its id ``FOLDER/NAME`` (without ".txt"),
    whichever ancestor folder was named for indexing, so that a file indexed twice
    is one article."""
    limit = options.max_record_chars
    try:
        with open(path, "rb") as file:
            data = file.read(4 * limit + 4)  # a character takes at most 4 bytes
        text = decode_text_file(data)
    except _READ_ERRORS as error:
        yield Reject(str(path), 0, _why_unreadable(error))
        return
    except ValueError as error:
        yield Reject(str(path), 0, str(error))
        return
    if len(text) > limit:
        yield Reject(str(path), 0, _too_long(limit))
        return
    folder = path.absolute().parent.name
    doc_id = f"{folder}/{path.stem}" if folder else path.stem
    try:
        article = article_from_page_text(text, path, category_for_folder(folder, options), doc_id)
    except ValueError as error:
        yield Reject(str(path), 0, str(error))
        return
    if not article.title and not article.body:
        yield Reject(str(path), 0, "empty file")
        return
    yield article


# --- dispatch ------------------------------------------------------------------------

_READERS = {
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".json": read_json_array,
    ".csv": read_csv,
    ".txt": read_text_file,
}


def _is_documentation(path: Path) -> bool:
    return path.suffix.lower() in (".md", ".rst") or path.stem.upper() in ("README", "LICENSE", "LICENCE")


def _kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    return suffixes[-1] if suffixes else ""


def category_for_folder(folder: str, options: ReadOptions) -> str:
    if folder in options.category_names:
        return options.category_names[folder]
    return KNOWN_CATEGORIES.get(key(folder), folder)


def _files(root: Path) -> Iterator[Path | Reject | Warn]:
    """The files under a folder in sorted order, following symlinks (a folder of
    links to topic folders is common) but entering no folder twice (links in loops)."""
    seen: set[tuple[int, int]] = set()
    errors: list[OSError] = []
    for folder, dirs, files in os.walk(root, followlinks=True, onerror=errors.append):
        yield from (Reject(str(e.filename), 0, _why_unreadable(e)) for e in errors)
        errors.clear()
        here = os.stat(folder)
        if (here.st_dev, here.st_ino) in seen:
            dirs.clear()
            yield Warn(folder, 0, "a symlink back to a folder already read: not read again")
            continue
        seen.add((here.st_dev, here.st_ino))
        dirs.sort()
        yield from (Path(folder) / name for name in sorted(files))
    yield from (Reject(str(e.filename), 0, _why_unreadable(e)) for e in errors)


def read_path(path: Path, options: ReadOptions = ReadOptions()) -> Iterator[Record]:
    """Every record under a file or directory, directories walked in sorted order."""
    if path.is_dir():
        for file in _files(path):
            yield from _read_file(file, options) if isinstance(file, Path) else (file,)
    elif path.exists() or path.is_symlink():
        yield from _read_file(path, options)
    else:
        yield Reject(str(path), 0, "no such file or directory")


def _read_file(path: Path, options: ReadOptions) -> Iterator[Record]:
    """A file's records; a file that cannot be read on, or holds none, is rejected."""
    reader = _READERS.get(_kind(path))
    if reader is None:
        if not (path.name.startswith(".") or _is_documentation(path)):  # a corpus folder's README
            yield Reject(str(path), 0, f"unsupported file type {path.suffix or '(none)'}")
        return
    empty = True
    try:
        for record in reader(path, options):
            empty = False
            yield record
    except _Unreadable as error:
        yield Reject(str(path), error.line, error.reason)
        return
    if empty:
        yield Reject(str(path), 0, "empty file: no records")


def read_corpus(paths: Iterable[Path], options: ReadOptions = ReadOptions()) -> Iterator[Record]:
    for path in paths:
        yield from read_path(Path(path), options)


def count_records(paths: Iterable[Path]) -> int | None:
    """A cheap total for progress bars: lines of JSON Lines, files of folders;
    None when counting would mean reading everything (a JSON array, CSV)."""
    total = 0
    for path in map(Path, paths):
        for file in _files(path) if path.is_dir() else (path,):
            kind = _kind(file) if isinstance(file, Path) else ""
            if kind == ".txt":
                total += 1
            elif kind in (".jsonl", ".ndjson"):
                total += _count_lines(file)  # type: ignore[arg-type]
            elif kind in _READERS:
                return None
    return total


def _count_lines(path: Path) -> int:
    """Newlines, read in chunks: a huge line is never held whole."""
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except _READ_ERRORS:
        return 0  # the reader reports it


def open_problem_log(path: Path, inputs: Iterable[Path]) -> TextIO:
    """Open the file that lists rejected records, refusing one that is part of the
    corpus: it would be emptied before being read, or read as corpus."""
    target = path.resolve()
    for source in map(Path, inputs):
        same = path.exists() and source.exists() and path.samefile(source)
        if same or source.resolve() in (target, *target.parents):
            raise OutputPathError(f"{path} is part of the corpus being indexed; write the rejects elsewhere")
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as error:
        raise OutputPathError(f"cannot write {path}: {error.strerror or error}") from None
