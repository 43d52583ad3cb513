"""Line-by-line reading of text files and parsing of one record's fields.

Files are read as bytes one line at a time so memory stays flat however large the file,
and every line is decoded on its own so an encoding error names its line.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from catalog.importers.errors import ImportDataError

ENCODING_NAMES = {"utf-8": "UTF-8", "latin-1": "Latin-1"}
_C1_CONTROLS = re.compile(rb"[\x80-\x9f]")
_TITLE_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})\)\s*$")


def lines_decode(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    """Yield (line number, text with its line ending) for each line of ``path``."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            text = _line_decode(raw, encoding, path.name, number)
            yield number, text.removeprefix("\ufeff") if number == 1 else text


def _line_decode(raw: bytes, encoding: str, source: str, number: int) -> str:
    name = ENCODING_NAMES.get(encoding, encoding)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise ImportDataError(f"not valid {name}", source=source, line=number) from None
    doubt = _latin1_doubt(raw) if encoding == "latin-1" and not raw.isascii() else None
    if doubt:
        raise ImportDataError(f"not valid Latin-1 ({doubt})", source=source, line=number)
    return text


def _latin1_doubt(raw: bytes) -> str | None:
    """Why bytes that decode as Latin-1 are probably in another encoding, if they are."""
    # Every byte decodes as Latin-1, so a UTF-8 file would import as mojibake ("CafÃ©")
    # without this: accented Latin-1 letters almost never form valid UTF-8 sequences,
    # and the C1 control bytes never occur in Latin-1 text.
    try:
        raw.decode("utf-8")
        return "the bytes look like UTF-8"
    except UnicodeDecodeError:
        pass
    if _C1_CONTROLS.search(raw):
        return "control bytes 0x80-0x9f, as Windows-1252 uses for quotes and dashes"
    return None


def delimited_lines(path: Path, *, sep: str, encoding: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, fields) of a file with one record per line; blank lines skipped."""
    for number, text in lines_decode(path, encoding):
        text = text.rstrip("\r\n")
        if text.strip():
            yield number, text.split(sep)


def csv_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, fields) of each record of a UTF-8 CSV file."""
    reader = csv.reader(text for _, text in lines_decode(path, "utf-8"))
    end = 0
    while True:
        start = end + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportDataError(f"bad CSV: {error}", source=path.name, line=start) from None
        end = reader.line_num
        if any(value.strip() for value in fields):
            yield start, fields


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

    def text(self, name: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = self.values.get(name, "").strip()
        if required and not value:
            raise self.error(name, "a value is required")
        if max_length is not None and len(value) > max_length:
            raise self.error(name, f"{value[:20]!r}... is longer than {max_length} characters")
        return value

    def integer(
        self, name: str, *, low: int, high: int, blank: frozenset[str] = frozenset()
    ) -> int | None:
        raw = self.text(name)
        if not raw or raw.lower() in blank:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise self.error(name, f"{raw!r} is not an integer") from None
        if not low <= value <= high:
            raise self.error(name, f"{raw!r} is out of range {low}-{high}")
        return value

    def number(self, name: str) -> float:
        raw = self.text(name, required=True)
        try:
            return float(raw)
        except ValueError:
            raise self.error(name, f"{raw!r} is not a number") from None

    def timestamp(self, name: str) -> datetime | None:
        raw = self.text(name)
        if not raw:
            return None
        parsed = timestamp_parse(raw)
        if parsed is None:
            raise self.error(name, f"{raw!r} is neither Unix seconds nor an ISO 8601 date")
        return parsed


def timestamp_parse(raw: str) -> datetime | None:
    """Unix seconds or ISO 8601 as an aware UTC datetime (naive ISO counts as UTC)."""
    try:
        return datetime.fromtimestamp(float(raw), tz=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


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
    missing = [name for name in required if name not in columns]
    if missing:
        label = "column" if len(missing) == 1 else "columns"
        names = ", ".join(repr(name) for name in missing)
        raise ImportDataError(f"missing {label} {names}", source=path.name, line=number)
    yield from fixed_records(path, lines, columns=columns)


def fixed_records(
    path: Path, lines: Iterator[tuple[int, list[str]]], *, columns: Sequence[str]
) -> Iterator[Record]:
    """Records of a file whose columns are known by position."""
    names, source, width = frozenset(columns), path.name, len(columns)
    for number, values in lines:
        if len(values) != width:
            raise ImportDataError(
                f"expected {width} fields, found {len(values)}", source=source, line=number
            )
        yield Record(source, number, dict(zip(columns, values, strict=True)), names)


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
