"""Checks that look across rows or at the import's options: duplicate ids, the rating scale."""

from __future__ import annotations

from collections.abc import Sequence

from catalog.importers.errors import ImportDataError
from catalog.importers.rows import ItemRow, MemberRow, RatingRow


def duplicates_reject(
    batch: Sequence[MemberRow | ItemRow], first_lines: dict[str, int], entity: str
) -> None:
    for row in batch:
        first = first_lines.setdefault(row.external_id, row.line)
        if first != row.line:
            raise ImportDataError(
                f"{entity[:-1]} {row.external_id!r} appears twice (first on line {first})",
                source=row.source,
                line=row.line,
                field=row.id_column,
            )


def rating_error(row: RatingRow, scale: tuple[float, float]) -> ImportDataError | None:
    low, high = scale
    if low <= row.value <= high:  # also rejects NaN
        return None
    message = f"'{row.value:g}' is out of range {low:g}-{high:g}"
    return ImportDataError(message, source=row.source, line=row.line, field=row.columns[2])
