"""Parsing one field's text, strictly: what a value may look like is decided here only.

Numbers are ASCII digits (``int()`` and ``float()`` also take '٣', '3_0' and 'nan');
times are Unix seconds or ISO 8601 between 1970 and 2099; text carries no control
characters. Each parser raises ``BadValue`` with the reason; the caller adds the place.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime

TIME_RANGE = (datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
_UNIX_MAX = TIME_RANGE[1].timestamp()
_INTEGER = re.compile(r"[+-]?[0-9]+")
_INTEGER_DIGITS_MAX = 18  # beyond any range checked here, and far below int()'s own limit
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_YYYYMMDD = re.compile(r"(?:19|20)[0-9]{6}(?:\.0*)?")
# The shapes of ISO 8601 that fromisoformat reads, with its any-character date-time
# separator narrowed to 'T' or a space; fromisoformat checks the details.
_ISO = re.compile(
    r"[0-9]{4}-?(?:[0-9]{2}-?[0-9]{2}|W[0-9]{2}-?[0-9])"
    r"(?:[Tt ][0-9]{2}(?:[0-9:.,]*)(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)
# C0 controls but tab, DEL and C1; multi-line text also keeps line feeds and returns.
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_CONTROLS_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class BadValue(Exception):
    """A field's text is not a value of its type; the message says why."""


def integer_parse(raw: str, *, low: int, high: int) -> int:
    if not _INTEGER.fullmatch(raw):
        raise BadValue(f"{_short(raw)!r} is not an integer")
    if len(raw.lstrip("+-").lstrip("0")) > _INTEGER_DIGITS_MAX or not low <= int(raw) <= high:
        raise BadValue(f"{_short(raw)!r} is out of range {low}-{high}")
    return int(raw)


def number_parse(raw: str) -> float:
    if not _DECIMAL.fullmatch(raw):
        raise BadValue(f"{_short(raw)!r} is not a number")
    value = float(raw)
    if not math.isfinite(value):
        raise BadValue(f"{_short(raw)!r} is too large")
    return value


def timestamp_parse(raw: str) -> datetime:
    """Unix seconds or ISO 8601 as an aware UTC datetime (naive ISO counts as UTC)."""
    parsed = _unix_parse(raw) if _DECIMAL.fullmatch(raw) else _iso_parse(raw)
    if not TIME_RANGE[0] <= parsed < TIME_RANGE[1]:
        raise BadValue(f"{raw!r} is before 1970 or after 2099")
    return parsed


def _unix_parse(raw: str) -> datetime:
    if _YYYYMMDD.fullmatch(raw) and _is_date(raw):
        iso = f"{raw[:4]}-{raw[4:6]}-{raw[6:8]}"
        raise BadValue(f"{raw!r} looks like a YYYYMMDD date, not Unix seconds; write {iso!r}")
    seconds = float(raw)
    if not 0 <= seconds < _UNIX_MAX:
        hint = "; Unix milliseconds? give seconds" if 0 <= seconds / 1000 < _UNIX_MAX else ""
        raise BadValue(f"{_short(raw)!r} as Unix seconds is before 1970 or after 2099{hint}")
    return datetime.fromtimestamp(seconds, tz=UTC)


def _is_date(digits: str) -> bool:
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return True


def _iso_parse(raw: str) -> datetime:
    reason = f"{_short(raw)!r} is neither Unix seconds nor an ISO 8601 date"
    if not _ISO.fullmatch(raw):
        raise BadValue(reason)
    try:
        parsed = datetime.fromisoformat(raw)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except ValueError:
        raise BadValue(reason) from None
    except OverflowError:  # a time zone moves 9999-12-31 or 0001-01-01 out of datetime
        raise BadValue(f"{raw!r} is before 1970 or after 2099") from None


def text_check(value: str, *, multiline: bool = False) -> None:
    if value.isprintable():
        return
    found = (_CONTROLS_MULTILINE if multiline else _CONTROLS).search(value)
    if found:
        raise BadValue(f"control character {found[0]!r} at position {found.start() + 1}")


def identifier_check(value: str) -> None:
    """Ids may not hold controls or invisible characters (a BOM, zero-width space) but tab."""
    if value.isprintable():
        return
    for position, char in enumerate(value, start=1):
        if not char.isprintable() and char != "\t":
            raise BadValue(f"invisible or control character {char!r} at position {position}")


def _short(raw: str) -> str:
    return raw if len(raw) <= 40 else f"{raw[:40]}..."
