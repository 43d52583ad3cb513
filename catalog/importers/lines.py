"""Line-by-line reading of text files, with the length of a line bounded.

Files are read as bytes one line at a time, never more than ``LINE_MAX_BYTES`` at once,
so memory stays flat however large the file or however long its lines; every line is
decoded on its own so an encoding error names its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from catalog.importers.errors import ImportDataError

LINE_MAX_BYTES = 1_048_576  # 1 MiB, line ending included
ENCODING_NAMES = {"utf-8": "UTF-8", "latin-1": "Latin-1"}
_C1_CONTROLS = re.compile(rb"[\x80-\x9f]")


def lines_decode(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    """Yield (line number, text with its line ending) for each line of ``path``."""
    try:
        handle = path.open("rb")
    except OSError as error:
        raise ImportDataError(
            f"cannot read the file ({error.strerror})", source=path.name
        ) from None
    with handle:
        number = 0
        while raw := handle.readline(LINE_MAX_BYTES + 1):
            number += 1
            if len(raw) > LINE_MAX_BYTES:
                message = f"line longer than {LINE_MAX_BYTES:,} bytes"
                raise ImportDataError(message, source=path.name, line=number)
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
