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
import csv
import gzip
import hashlib
import io
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO

from searchidx.analysis import key, normalize


@dataclass(frozen=True)
class Article:
    """One news article, text in NFC as it should be shown to people."""

    id: str
    title: str = ""
    sapo: str = ""
    body: str = ""
    url: str = ""
    date: datetime | None = None
    category: str = ""
    source: str = ""
    tags: tuple[str, ...] = ()
    author: str = ""

    @property
    def text(self) -> str:
        """Title, lead and body as one text."""
        return f"{self.title}\n{self.sapo}\n{self.body}"

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "url": self.url,
            "title": self.title,
            "sapo": self.sapo,
            "body": self.body,
            "date": self.date.isoformat() if self.date else None,
            "category": self.category,
            "source": self.source,
            "tags": list(self.tags),
            "author": self.author,
        }


@dataclass(frozen=True)
class Problem:
    """Something wrong with one record: where (file and line; line 0 for a whole
    file) and why."""

    path: str
    line: int
    reason: str
    label = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.label}{self.reason}"


class Reject(Problem):
    """A record that was not indexed."""


class Warn(Problem):
    """A record that was indexed without something (an unparsable date, say)."""

    label = "warning: "


Record = Article | Reject | Warn


@dataclass(frozen=True)
class ReadOptions:
    """How to read folder-based corpora.

    ``category_names`` maps folder names to display names; folders without an entry
    are looked up in ``KNOWN_CATEGORIES`` by their diacritic-free key."""

    category_names: Mapping[str, str] = field(default_factory=dict)


# --- dates ---------------------------------------------------------------------------

VIETNAM = timezone(timedelta(hours=7))
_VN_DATE = re.compile(
    r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})"
    r"(?:[ ,T-]+(?P<H>\d{1,2})[:hg](?P<M>\d{2})?(?::(?P<S>\d{2}))?)?"
    r"\s*(?:\(?(?:GMT|UTC)\s*(?P<tz>[+-]\d{1,2})(?::?00)?\)?)?"
)
_TIME_FIRST = re.compile(r"(?P<H>\d{1,2})[:hg](?P<M>\d{2})\s*(?:,\s*)?(?P<rest>.+)")


def parse_date(text: str) -> datetime:
    """Parse ISO 8601 and the usual Vietnamese forms into a naive datetime.

    Times with a zone are converted to Vietnam time (UTC+7) and the zone dropped, so
    that every stored date is the wall-clock time a Vietnamese reader saw.
    Raises ``ValueError`` when nothing sensible can be made of the text."""
    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = _parse_vietnamese_date(text)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(VIETNAM).replace(tzinfo=None)
    return parsed


def _parse_vietnamese_date(text: str) -> datetime:
    time_first = _TIME_FIRST.fullmatch(text)
    if time_first and _VN_DATE.search(time_first["rest"]):  # "14:30 31/07/2024"
        day = _parse_vietnamese_date(time_first["rest"])
        return day.replace(hour=int(time_first["H"]), minute=int(time_first["M"]))
    m = _VN_DATE.search(text)  # also inside "Thứ tư, 31/7/2024, 14:30 (GMT+7)"
    if not m:
        raise ValueError(f"unrecognised date {text!r}")
    tz = timezone(timedelta(hours=int(m["tz"]))) if m["tz"] else None
    return datetime(
        int(m["y"]), int(m["m"]), int(m["d"]),
        int(m["H"] or 0), int(m["M"] or 0), int(m["S"] or 0), tzinfo=tz,
    )  # fmt: skip


# --- records -------------------------------------------------------------------------

_ALIASES = {
    "body": ("body", "content", "text"),
    "sapo": ("sapo", "summary", "description", "lead"),
    "date": ("date", "published", "publish_date"),
}


def _first(record: Mapping[str, object], names: Iterable[str]) -> object:
    for name in names:
        value = record.get(name)
        if value not in (None, ""):
            return value
    return None


def _text(value: object) -> str:
    if value is None:
        return ""
    return normalize(str(value)).text.strip()


def _tags(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else str(value or "").split(",")
    return tuple(t for t in (_text(item) for item in items) if t)


def derive_id(url: str, title: str, body: str) -> str:
    """A stable id for records that have none: from the URL, else from the text."""
    basis = url or f"{title}\n{body}"
    return hashlib.sha1(basis.encode("utf-8")).hexdigest()[:16]


def article_from_record(record: object, path: str, line: int) -> Iterator[Record]:
    """Turn one decoded record into an Article (plus warnings), or a Reject."""
    if not isinstance(record, dict):
        yield Reject(path, line, f"expected a JSON object, got {type(record).__name__}")
        return
    title = _text(record.get("title"))
    body = _text(_first(record, _ALIASES["body"]))
    if not title and not body:
        yield Reject(path, line, "record has neither title nor body")
        return
    url = _text(record.get("url"))
    date = None
    raw_date = _first(record, _ALIASES["date"])
    if raw_date is not None:
        try:
            date = parse_date(str(raw_date))
        except ValueError:
            yield Warn(path, line, f"unparsable date {raw_date!r} dropped")
    yield Article(
        id=_text(record.get("id")) or derive_id(url, title, body),
        title=title,
        sapo=_text(_first(record, _ALIASES["sapo"])),
        body=body,
        url=url,
        date=date,
        category=_text(record.get("category")),
        source=_text(record.get("source")),
        tags=_tags(record.get("tags")),
        author=_text(record.get("author")),
    )


# --- file formats --------------------------------------------------------------------


def _open_text(path: Path) -> IO[str]:
    """Open a UTF-8 file, transparently gunzipped; bad bytes become U+FFFD so that
    one bad record cannot stop the file (the record is then rejected by line)."""
    raw: IO[bytes] = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # type: ignore[assignment]
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline=None)


def read_jsonl(path: Path) -> Iterator[Record]:
    with _open_text(path) as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            if "\ufffd" in line:
                yield Reject(str(path), number, "bytes that are not valid UTF-8")
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                yield Reject(str(path), number, f"malformed JSON: {error.msg} at column {error.colno}")
                continue
            yield from article_from_record(record, str(path), number)


def read_json_array(path: Path, chunk_size: int = 1 << 20) -> Iterator[Record]:
    """Stream the objects of a top-level JSON array without loading the whole file."""
    decoder = json.JSONDecoder()
    with _open_text(path) as stream:
        buffer, line, eof = stream.read(chunk_size).lstrip(), 1, False
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
                if not eof:
                    more = stream.read(chunk_size)
                    eof = not more
                    buffer += more
                    continue
                yield Reject(str(path), line + error.lineno - 1, f"malformed JSON: {error.msg}")
                return
            yield from article_from_record(record, str(path), line)
            line += buffer.count("\n", 0, end)
            buffer = buffer[end:]


def read_csv(path: Path) -> Iterator[Record]:
    with _open_text(path) as stream:
        reader = csv.DictReader(stream)
        start = 2
        for row in reader:
            if None in row:
                yield Reject(str(path), start, "more fields than the header names")
            else:
                yield from article_from_record(row, str(path), start)
            start = reader.line_num + 1


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
        raise ValueError("binary data, not text")
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
    for paragraph in rest:
        if _RELATED_BLOCK.match(paragraph):
            break
        if _PAGE_CHROME.match(paragraph) or (body and paragraph == body[-1]):
            continue
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


def read_text_file(path: Path, category: str = "", doc_id: str = "") -> Iterator[Record]:
    try:
        text = decode_text_file(path.read_bytes())
    except ValueError as error:
        yield Reject(str(path), 0, str(error))
        return
    article = article_from_page_text(text, path, category, doc_id)
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


def read_path(path: Path, options: ReadOptions = ReadOptions()) -> Iterator[Record]:
    """Every record under a file or directory, directories walked in sorted order."""
    if path.is_dir():
        for root, dirs, files in os.walk(path):
            dirs.sort()
            folder = Path(root)
            category = category_for_folder(folder.name, options) if folder != path else ""
            for name in sorted(files):
                yield from _read_file(folder / name, options, category, root=path)
    elif path.exists():
        yield from _read_file(path, options, "", root=None)
    else:
        yield Reject(str(path), 0, "no such file or directory")


def _read_file(path: Path, options: ReadOptions, category: str, root: Path | None) -> Iterator[Record]:
    kind = _kind(path)
    if kind == ".txt":
        doc_id = str(path.relative_to(root).with_suffix("")) if root else path.stem
        yield from read_text_file(path, category, doc_id)
    elif kind in _READERS:
        yield from _READERS[kind](path)
    elif path.name.startswith(".") or _is_documentation(path):
        return  # hidden files and a corpus folder's README or LICENSE are not articles
    else:
        yield Reject(str(path), 0, f"unsupported file type {path.suffix or '(none)'}")


def read_corpus(paths: Iterable[Path], options: ReadOptions = ReadOptions()) -> Iterator[Record]:
    for path in paths:
        yield from read_path(Path(path), options)


def count_records(paths: Iterable[Path]) -> int | None:
    """A cheap total for progress bars: lines of JSON Lines, files of folders;
    None when counting would mean reading everything (a JSON array, CSV)."""
    total = 0
    for path in map(Path, paths):
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        files = [f for f in files if f.exists() and not _is_documentation(f)]
        for file in files:
            kind = _kind(file)
            if kind == ".txt":
                total += 1
            elif kind in (".jsonl", ".ndjson"):
                with gzip.open(file, "rb") if file.suffix == ".gz" else open(file, "rb") as f:
                    total += sum(1 for line in f if line.strip())
            elif kind in _READERS:
                return None
    return total
