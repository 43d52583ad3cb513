"""Import files written from a generated data set, and the ways the fuzzer spoils one of them.

A ``Table`` is one file: its header, its rows of cell values and how it is spelled (quoting,
line endings, BOM, encoding). A spoiling returns the file's new bytes together with the
place the importer must name: file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from catalog.importers.lines import LINE_MAX_BYTES

# What each column holds, by the field name the importer reports.
ID, TEXT, MULTILINE, INTEGER, NUMBER, TIMESTAMP, FLAG, IGNORED = (
    "id", "text", "multiline", "integer", "number", "timestamp", "flag", "ignored"
)  # fmt: skip
NUMERIC = (INTEGER, NUMBER, TIMESTAMP)
READ = (ID, TEXT, MULTILINE, INTEGER, NUMBER, TIMESTAMP, FLAG)
WEIRD_NUMBERS = ["٣", "3_0", "nan", "inf", "-Infinity", "１", "0x1f", "1,5", "--1", "1e", "½"]
LATIN1_WEIRD_NUMBERS = ["3_0", "nan", "inf", "0x1f", "1,5", "--1", "1e", "½", "³"]
OUT_OF_RANGE = {
    INTEGER: ["-1", "99999", "9" * 30],
    NUMBER: ["5.5", "-0.5", "1e400", "9" * 400],
    TIMESTAMP: [
        "99999-01-01", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00+05:00", "1e400",
        "9" * 30, "20200101", "1577836800000", "-5", "2100-01-01", "1969-12-31T23:59:59Z",
        "2020-01-01x10:00", "2020-02-30",
    ],
}  # fmt: skip
# Stand in for bytes that are no text in the file's encoding; never drawn otherwise.
_PLACEHOLDERS = {"utf-8": "\ue000", "latin-1": "\x00"}


@dataclass(frozen=True)
class Column:
    header: str  # as written in the file
    name: str  # as the importer reports it
    kind: str


@dataclass(frozen=True)
class Table:
    filename: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    headed: bool = True
    sep: str = ","
    newline: str = "\n"
    quote_all: bool = False
    bom: bool = False
    encoding: str = "utf-8"

    def cell(self, value: str) -> str:
        if self.sep != ",":
            return value
        if self.quote_all or any(char in value for char in ',"\r\n'):
            return '"' + value.replace('"', '""') + '"'
        return value

    def line_text(self, cells: list[str]) -> str:
        return self.sep.join(cells) + self.newline

    def raw_rows(self) -> list[str]:
        return [self.line_text([self.cell(value) for value in row]) for row in self.rows]

    def header_text(self) -> str:
        return self.line_text([self.cell(c.header) for c in self.columns]) if self.headed else ""

    def content(self, raw_rows: list[str] | None = None) -> bytes:
        rows = self.raw_rows() if raw_rows is None else raw_rows
        text = ("\ufeff" if self.bom else "") + self.header_text() + "".join(rows)
        return text.encode(self.encoding)

    def row_line(self, index: int, raw_rows: list[str]) -> int:
        before = self.header_text() + "".join(raw_rows[:index])
        return before.count("\n") + 1

    def cell_line(self, index: int, column: int, raw_rows: list[str]) -> int:
        cells = [self.cell(value) for value in self.rows[index][:column]]
        return self.row_line(index, raw_rows) + self.sep.join(cells).count("\n")

    def columns_of(self, *kinds: str) -> list[int]:
        return [k for k, column in enumerate(self.columns) if column.kind in kinds]


@dataclass(frozen=True)
class Spoiled:
    """A spoiled file and where the importer must say it is wrong."""

    content: bytes
    source: str
    line: int | None
    field: str | None = None
    reason: str = ""
    kind: str = ""  # the spoiling's name, for the statistics

    def __repr__(self) -> str:  # the content may be a megabyte long
        return f"Spoiled({self.kind}, {self.source} line {self.line}, field {self.field}: {self.reason!r})"


def _with_cell(table: Table, index: int, column: int, value: str) -> list[str]:
    raw = table.raw_rows()
    cells = [table.cell(v) for v in table.rows[index]]
    cells[column] = value
    raw[index] = table.line_text(cells)
    return raw


def _value_replaced(draw: Any, table: Table, kinds: tuple[str, ...], values: list[str]) -> Spoiled:
    index = draw(st.integers(0, len(table.rows) - 1))
    column = draw(st.sampled_from(table.columns_of(*kinds)))
    raw = _with_cell(table, index, column, table.cell(draw(st.sampled_from(values))))
    return Spoiled(
        table.content(raw), table.filename, table.row_line(index, raw), table.columns[column].name
    )


def _character_inserted(draw: Any, table: Table, char: str, kinds: tuple[str, ...]) -> Spoiled:
    index = draw(st.integers(0, len(table.rows) - 1))
    column = draw(st.sampled_from(table.columns_of(*kinds)))
    value = table.rows[index][column]
    # Inside the value: at an edge strip() would remove a no-break space, as any space.
    value = value if len(value) > 1 else f"x{value}x"
    at = draw(st.integers(1, len(value) - 1))
    spoiled = value[:at] + char + value[at:]
    raw = _with_cell(table, index, column, table.cell(spoiled))
    return Spoiled(
        table.content(raw), table.filename, table.row_line(index, raw), table.columns[column].name
    )


def nul(draw: Any, table: Table) -> Spoiled:
    return _character_inserted(draw, table, "\x00", READ)


def control(draw: Any, table: Table) -> Spoiled:
    chars = "\x01\x1b\x7f" if table.encoding == "latin-1" else "\x01\x1b\x7f\x85\x9f"
    return _character_inserted(draw, table, draw(st.sampled_from(chars)), READ)


def invisible_in_id(draw: Any, table: Table) -> Spoiled:
    chars = "\ufeff\u200b\xa0\u2028"
    return _character_inserted(draw, table, draw(st.sampled_from(chars)), (ID,))


def weird_number(draw: Any, table: Table) -> Spoiled:
    weird = LATIN1_WEIRD_NUMBERS if table.encoding == "latin-1" else WEIRD_NUMBERS
    return _value_replaced(draw, table, NUMERIC, weird)


def out_of_range(draw: Any, table: Table) -> Spoiled:
    kind = draw(st.sampled_from([k for k in OUT_OF_RANGE if table.columns_of(k)]))
    return _value_replaced(draw, table, (kind,), OUT_OF_RANGE[kind])


def id_too_long(draw: Any, table: Table) -> Spoiled:
    return _value_replaced(draw, table, (ID,), ["a" * 65, "é" * 65])


def id_blank(draw: Any, table: Table) -> Spoiled:
    return _value_replaced(draw, table, (ID,), [""])


def field_missing(draw: Any, table: Table) -> Spoiled:
    index = draw(st.integers(0, len(table.rows) - 1))
    drop = draw(st.sampled_from([k for k, c in enumerate(table.columns) if c.kind != ID]))
    raw = table.raw_rows()
    cells = [table.cell(v) for k, v in enumerate(table.rows[index]) if k != drop]
    raw[index] = table.line_text(cells)
    width = len(table.columns)
    reason = f"expected {width} fields, found {width - 1}"
    return Spoiled(table.content(raw), table.filename, table.row_line(index, raw), reason=reason)


def field_extra(draw: Any, table: Table) -> Spoiled:
    index = draw(st.integers(0, len(table.rows) - 1))
    raw = table.raw_rows()
    raw[index] = table.line_text([table.cell(v) for v in (*table.rows[index], "x")])
    width = len(table.columns)
    reason = f"expected {width} fields, found {width + 1}"
    return Spoiled(table.content(raw), table.filename, table.row_line(index, raw), reason=reason)


def emptied(draw: Any, table: Table) -> Spoiled:
    choices = ["nothing", "blank lines"] + (["header only"] if table.headed else [])
    choice = draw(st.sampled_from(choices))
    if choice == "header only":
        return Spoiled(table.content([]), table.filename, 1, reason="no data rows below")
    content = b"" if choice == "nothing" else table.newline.encode() * 3
    reason = "empty file, expected a header" if table.headed else "no data rows in the file"
    return Spoiled(content, table.filename, None, reason=reason)


def long_line(draw: Any, table: Table) -> Spoiled:
    index = draw(st.integers(0, len(table.rows) - 1))
    column = draw(st.sampled_from(table.columns_of(TEXT, MULTILINE, IGNORED)))
    raw = _with_cell(table, index, column, "x" * (LINE_MAX_BYTES + 1))
    line = table.cell_line(index, column, raw)
    return Spoiled(table.content(raw), table.filename, line, reason="line longer than")


def bad_bytes(draw: Any, table: Table) -> Spoiled:
    index = draw(st.integers(0, len(table.rows) - 1))
    column = draw(st.sampled_from(range(len(table.columns))))
    placeholder = _PLACEHOLDERS[table.encoding]
    raw = _with_cell(table, index, column, table.cell(table.rows[index][column] + placeholder))
    if table.encoding == "latin-1":
        # C1 bytes are Windows-1252 punctuation, never Latin-1 text; refused either way.
        bad, reason = draw(st.sampled_from([b"\x93", b"\x85", b"\x80"])), "not valid Latin-1"
    else:
        bad = draw(st.sampled_from([b"\xff", b"\xe9t", b"\xed\xa0\x80", b"\xc0\xaf"]))
        reason = "not valid UTF-8"
    content = table.content(raw).replace(placeholder.encode(table.encoding), bad)
    return Spoiled(content, table.filename, table.cell_line(index, column, raw), reason=reason)


def unclosed_quote(draw: Any, table: Table) -> Spoiled:
    """A quote that never closes, in a row followed only by rows without quotes."""
    raw = table.raw_rows()
    quiet = [i for i in range(len(raw)) if not any('"' in text for text in raw[i + 1 :])]
    index = draw(st.sampled_from(quiet))
    column = draw(st.integers(0, len(table.columns) - 1))
    cells = [table.cell(v) for v in table.rows[index][:column]]
    raw[index] = table.sep.join([*cells, '"open']) + table.newline
    line = table.cell_line(index, column, raw)
    reason = f"the quote opening field {column + 1} is never closed"
    return Spoiled(table.content(raw), table.filename, line, reason=reason)


def text_after_quote(draw: Any, table: Table) -> Spoiled:
    index = draw(st.integers(0, len(table.rows) - 1))
    column = draw(st.integers(0, len(table.columns) - 1))
    raw = _with_cell(table, index, column, '"ab"c')
    line = table.cell_line(index, column, raw)
    return Spoiled(table.content(raw), table.filename, line, reason="text after a closing quote")


def header_duplicated(draw: Any, table: Table) -> Spoiled:
    column = draw(st.sampled_from(table.columns_of(*READ)))
    original = table.columns[column]
    if table.sep == ",":
        twin = draw(st.sampled_from([original.header.upper(), f" {original.header} "]))
    else:
        twin = draw(st.sampled_from([f"{original.name}:float", f" {original.header}"]))
    columns = (*table.columns, Column(twin, original.name, IGNORED))
    spoiled = replace(table, columns=columns, rows=tuple((*row, "1") for row in table.rows))
    reason = f"column {original.name!r} appears twice in the header"
    return Spoiled(spoiled.content(), table.filename, 1, original.name, reason)


def id_repeated(draw: Any, table: Table) -> Spoiled:
    rows = st.integers(0, len(table.rows) - 1)
    first, second = sorted(draw(st.lists(rows, min_size=2, max_size=2, unique=True)))
    column = table.columns_of(ID)[0]
    raw = _with_cell(table, second, column, table.cell(table.rows[first][column]))
    name = table.columns[column].name
    return Spoiled(table.content(raw), table.filename, table.row_line(second, raw), name, "twice")


def reference_unknown(draw: Any, table: Table) -> Spoiled:
    return _value_replaced(draw, table, (ID,), ["~nobody"])


SPOILINGS = (
    "nul", "control", "invisible_in_id", "weird_number", "out_of_range", "id_too_long",
    "id_blank", "field_missing", "field_extra", "emptied", "long_line", "bad_bytes",
    "unclosed_quote", "text_after_quote", "header_duplicated", "id_repeated",
    "reference_unknown",
)  # fmt: skip


def spoilings(table: Table, *, entity: str) -> list[Any]:
    """The spoilings that apply to ``table``; ``entity`` is members, items or ratings."""
    found: list[Any] = [nul, control, field_extra, emptied, bad_bytes, id_too_long]
    # In Latin-1 a no-break space after 'É' or 'ß' spells valid UTF-8: refused for the line.
    found += [invisible_in_id] if table.encoding != "latin-1" else []
    found += [weird_number] if table.columns_of(*NUMERIC) else []
    found += [out_of_range] if any(table.columns_of(k) for k in OUT_OF_RANGE) else []
    found += [field_missing] if len(table.columns) > 1 else []
    found += [long_line] if table.columns_of(TEXT, MULTILINE, IGNORED) else []
    found += [header_duplicated] if table.headed else []
    found += [unclosed_quote, text_after_quote] if table.sep == "," else []
    found += [id_repeated] if entity != "ratings" and len(table.rows) > 1 else []
    found += [reference_unknown, id_blank] if entity == "ratings" else []
    return found
