"""The article record every reader yields and the index stores, and the problems a
reader reports instead of raising."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime


def lone_surrogate(text: str) -> int | None:
    """Where a lone surrogate is (UTF-8 cannot encode one), if anywhere; encoding
    finds it several times faster than a regular expression."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return error.start
    return None


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

    def __post_init__(self) -> None:
        """Refuse text that no later stage can store (UTF-8 cannot encode a lone
        surrogate, other tools end strings at a NUL), so that no build fails on it."""
        texts = [(f.name, getattr(self, f.name)) for f in fields(self) if f.type == "str"]
        for name, value in [*texts, *(("tags", tag) for tag in self.tags)]:
            if "\x00" in value:
                raise ValueError(f"field {name} has a NUL character")
            at = lone_surrogate(value)
            if at is not None:
                raise ValueError(f"field {name} has a lone surrogate (\\u{ord(value[at]):04x})")

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
