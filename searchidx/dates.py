"""Publication dates as Vietnamese news sites write them, to naive Vietnam time."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

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
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            parsed = _parse_vietnamese_date(text)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(VIETNAM).replace(tzinfo=None)
    except OverflowError:  # 9999-12-31T23:59Z is past the last representable day in Vietnam
        raise ValueError(f"date {text!r} is outside the calendar") from None
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
