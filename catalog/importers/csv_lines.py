"""Strict reading of a UTF-8 CSV file's records, each bounded in size.

``csv.reader`` without ``strict`` lets an unclosed quote swallow every following line and
reads on; here it is an error located at the line where that quote opens.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path

from catalog.importers.errors import ImportDataError
from catalog.importers.lines import lines_decode

RECORD_MAX_CHARS = 1_048_576  # one record, quoted line breaks included
_MESSAGES = {
    "unexpected end of data": "a quoted field is never closed",
    "',' expected after '\"'": 'text after a closing quote (write a quote in a field as "")',
    "new-line character seen in unquoted field": "a carriage return outside quotes",
    "field larger than field limit": "a field is longer than {limit:,} characters",
}


class _Feed:
    """The decoded lines of a file for ``csv.reader``, counting the size of one record."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = lines_decode(path, "utf-8")
        self.record_line = 1
        self.record_chars = 0

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        _, text = next(self.lines)
        self.record_chars += len(text)
        if self.record_chars > RECORD_MAX_CHARS:
            message = f"record longer than {RECORD_MAX_CHARS:,} characters"
            raise ImportDataError(message, source=self.path.name, line=self.record_line)
        return text

    def record_begin(self, line: int) -> None:
        self.record_line, self.record_chars = line, 0


def csv_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, fields) of each record of a UTF-8 CSV file."""
    feed = _Feed(path)
    reader = csv.reader(feed, strict=True)
    while True:
        feed.record_begin(reader.line_num + 1)
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _csv_error(path, str(error), feed.record_line, reader.line_num) from None
        if any(value.strip() for value in fields):
            yield feed.record_line, fields


def _csv_error(path: Path, error: str, record_line: int, line: int) -> ImportDataError:
    key = next((key for key in _MESSAGES if error.startswith(key)), None)
    if key is None:
        return ImportDataError(f"bad CSV: {error}", source=path.name, line=line)
    message = _MESSAGES[key].format(limit=csv.field_size_limit())
    if key == "unexpected end of data":
        rest = (text for number, text in lines_decode(path, "utf-8") if number >= record_line)
        line, column = _open_quote(rest, record_line)
        message = f"the quote opening field {column} is never closed"
    return ImportDataError(message, source=path.name, line=line)


def _open_quote(lines: Iterable[str], first: int) -> tuple[int, int]:
    """(line, field number) of the quote left open at the end of ``lines`` of CSV text."""
    opened, inside, at_start, column = (first, 1), False, True, 1
    for number, text in enumerate(lines, start=first):
        pos = 0
        while True:
            if inside:
                end = text.find('"', pos)
                if end < 0:
                    break
                if text.startswith('"', end + 1):  # a doubled quote stands for one
                    pos = end + 2
                else:
                    inside, pos = False, end + 1
            elif at_start and text.startswith('"', pos):
                inside, at_start, opened, pos = True, False, (number, column), pos + 1
            else:
                comma = text.find(",", pos)
                if comma < 0:
                    break
                column, at_start, pos = column + 1, True, comma + 1
        if not inside:  # the line ended a record
            at_start, column = True, 1
    return opened
