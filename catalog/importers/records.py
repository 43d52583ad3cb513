"""One record's fields by column name, with parsers that raise located errors.

What a value may look like is ``catalog.importers.values``; reading the lines is
``catalog.importers.lines`` and ``catalog.importers.csv_lines``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from catalog.importers import values as v
from catalog.importers.errors import ImportDataError
from catalog.importers.rows import ID_MAX

T = TypeVar("T")
_TITLE_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>[0-9]{4})\)\s*$")


class Record:
    """One record's raw text values by column name, with parsers that raise located errors."""

    __slots__ = ("source", "line", "values", "columns")

    def __init__(
        self, source: str, line: int, values: dict[str, str], columns: frozenset[str]
    ) -> None:
        self.source = source
        self.line = line
        self.values = values
        self.columns = columns  # shared by all records of a file

    def provided(self, field_columns: tuple[tuple[str, str], ...]) -> frozenset[str]:
        """The model fields whose source column this file has."""
        return _provided(self.columns, field_columns)

    def has(self, name: str) -> bool:
        return name in self.values

    def error(self, name: str, message: str) -> ImportDataError:
        return ImportDataError(message, source=self.source, line=self.line, field=name)

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        max_length: int | None = None,
        multiline: bool = False,
    ) -> str:
        raw = self.values.get(name, "")
        try:
            v.text_check(raw, multiline=multiline)  # before strip(), which eats some controls
        except v.BadValue as bad:
            raise self.error(name, str(bad)) from None
        value = raw.strip()
        if required and not value:
            raise self.error(name, "a value is required")
        if max_length is not None and len(value) > max_length:
            raise self.error(name, f"{value[:20]!r}... is longer than {max_length} characters")
        return value

    def identifier(self, name: str) -> str:
        value = self.text(name, required=True, max_length=ID_MAX)
        self._parsed(name, v.identifier_check, value)
        return value

    def integer(
        self, name: str, *, low: int, high: int, blank: frozenset[str] = frozenset()
    ) -> int | None:
        raw = self.text(name)
        if not raw or raw.lower() in blank:
            return None
        return self._parsed(name, lambda text: v.integer_parse(text, low=low, high=high), raw)

    def number(self, name: str) -> float:
        return self._parsed(name, v.number_parse, self.text(name, required=True))

    def timestamp(self, name: str) -> datetime | None:
        raw = self.text(name)
        return self._parsed(name, v.timestamp_parse, raw) if raw else None

    def _parsed(self, name: str, parse: Callable[[str], T], raw: str) -> T:
        try:
            return parse(raw)
        except v.BadValue as bad:
            raise self.error(name, str(bad)) from None


def headed_records(
    path: Path,
    lines: Iterator[tuple[int, list[str]]],
    *,
    required: Sequence[str],
    column_name: Callable[[str], str],
) -> Iterator[Record]:
    """Records of a file whose first line names the columns."""
    first = next(lines, None)
    if first is None:
        expected = ", ".join(repr(name) for name in required)
        raise ImportDataError(f"empty file, expected a header with {expected}", source=path.name)
    number, header = first
    columns = [column_name(value) for value in header]
    twice = [name for name, count in Counter(columns).items() if name and count > 1]
    if twice:
        message = f"column {twice[0]!r} appears twice in the header"
        raise ImportDataError(message, source=path.name, line=number, field=twice[0])
    missing = [name for name in required if name not in columns]
    if missing:
        label = "column" if len(missing) == 1 else "columns"
        names = ", ".join(repr(name) for name in missing)
        raise ImportDataError(f"missing {label} {names}", source=path.name, line=number)
    yield from fixed_records(path, lines, columns=columns, header_line=number)


def fixed_records(
    path: Path,
    lines: Iterator[tuple[int, list[str]]],
    *,
    columns: Sequence[str],
    header_line: int | None = None,
) -> Iterator[Record]:
    """Records of a file whose columns are known by position; a file without any is refused."""
    names, source, width = frozenset(columns), path.name, len(columns)
    number = None
    for number, values in lines:
        if len(values) != width:
            raise ImportDataError(
                f"expected {width} fields, found {len(values)}", source=source, line=number
            )
        yield Record(source, number, dict(zip(columns, values, strict=True)), names)
    if number is None:
        where = "below the header" if header_line else "in the file"
        raise ImportDataError(f"no data rows {where}", source=source, line=header_line)


@lru_cache(maxsize=64)
def _provided(
    columns: frozenset[str], field_columns: tuple[tuple[str, str], ...]
) -> frozenset[str]:
    return frozenset(field for field, column in field_columns if column in columns)


def title_year_split(text: str) -> tuple[str, int | None]:
    """'Toy Story (1995)' -> ('Toy Story', 1995); a title without a year comes back whole."""
    match = _TITLE_YEAR.match(text)
    if match is None or not match["title"]:
        return text, None
    return match["title"], int(match["year"])
