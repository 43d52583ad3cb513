"""A ratings CSV whose every line has the plain shape, handed on as raw bytes for ``COPY``.

Most ratings files are lines like ``m17,i42,4.5,978300760``. A chunk of such lines is
checked with one regular expression (a few hundred nanoseconds a line instead of the
microseconds of building a ``Record``) and goes to the database untouched. Only what
every such line is sure to pass is accepted here: the shapes are narrower than the ones
``catalog.importers.values`` accepts, and the range checks the pattern cannot make
(rating scale, the year 2100) are left to the database. Anything else raises
``NotPlain`` and the caller reads the file again the careful way, which names the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from catalog.importers.rows import ID_MAX
from catalog.importers.values import TIME_RANGE

CHUNK_BYTES = 4 << 20
UNIX_MAX = int(TIME_RANGE[1].timestamp())
# Staging column of each known header name; the value of a rating and of a time.
COLUMNS = {"member_id": "member", "item_id": "item", "rating": "value", "timestamp": "ts"}
_REQUIRED = ("member_id", "item_id", "rating")
_ID = rb"[A-Za-z0-9_.:@/+-]{1,%d}" % ID_MAX
_NUMBER = rb"[0-9]{1,16}(?:\.[0-9]{1,16})?"
# Unix seconds only, and never eight digits that read as YYYYMMDD (refused with a hint).
_SECONDS = rb"(?:(?!(?:19|20)[0-9]{6}(?:,|\n))[0-9]{1,10})?"
_SHAPES = {"member_id": _ID, "item_id": _ID, "rating": _NUMBER, "timestamp": _SECONDS}


class NotPlain(Exception):
    """The file is not all plain lines; read it the careful way."""


@dataclass(frozen=True)
class PlainRatings:
    """A ratings CSV file with a plain header: its columns in file order."""

    path: Path
    columns: tuple[str, ...]  # header names, lower case, in file order

    @property
    def staging_columns(self) -> tuple[str, ...]:
        return tuple(COLUMNS[name] for name in self.columns)

    def chunks(self) -> Iterator[bytes]:
        """The data lines in pieces of about CHUNK_BYTES; raises NotPlain on any other line."""
        line = re.compile(
            rb"^" + rb",".join(_SHAPES[name] for name in self.columns) + rb"\n", re.MULTILINE
        )
        with self.path.open("rb") as handle:
            handle.readline()  # the header, read by ratings_plain
            rest = b""
            while block := handle.read(CHUNK_BYTES):
                block, rest = _split(rest + block)
                yield _checked(line, block)
            if rest:
                yield _checked(line, rest + b"\n")


def ratings_plain(path: Path) -> PlainRatings | None:
    """The file's plain header, or None where it has others (the careful reader decides)."""
    try:
        with path.open("rb") as handle:
            header = handle.readline(1024)
    except OSError:
        return None
    if not header.endswith(b"\n") or not header.isascii():
        return None
    names = tuple(name.strip().lower() for name in header.decode().rstrip("\r\n").split(","))
    known = set(names) <= COLUMNS.keys() and len(set(names)) == len(names)
    if not known or not set(_REQUIRED) <= set(names):
        return None
    return PlainRatings(path, names)


def _split(data: bytes) -> tuple[bytes, bytes]:
    """(whole lines, the unfinished last one)."""
    end = data.rfind(b"\n") + 1
    return data[:end], data[end:]


def _checked(line: re.Pattern[bytes], block: bytes) -> bytes:
    matches = sum(1 for _ in line.finditer(block))
    if matches != block.count(b"\n"):  # anchored at line starts, so every line matched
        raise NotPlain
    return block
