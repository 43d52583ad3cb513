"""Readers for generic CSV files (UTF-8, header row); only the id columns are required.

members: member_id, age, gender, occupation, location, profile
items:   item_id, title, year, genres ('|'-separated), description
ratings: member_id, item_id, rating, timestamp (Unix seconds or ISO 8601)
A column that is missing leaves that field of existing rows untouched; an empty cell
clears it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from catalog.importers import rows as r
from catalog.importers.csv_lines import csv_lines
from catalog.importers.records import Record, headed_records

MEMBER_COLUMNS = tuple((name, name) for name in sorted(r.MEMBER_FIELDS))
ITEM_COLUMNS = tuple((name, name) for name in sorted(r.ITEM_FIELDS))
RATING_COLUMNS = (("value", "rating"), ("rated_at", "timestamp"))


def _column_name(header: str) -> str:
    return header.strip().lower()


def _records(path: Path, required: tuple[str, ...]) -> Iterator[Record]:
    return headed_records(path, csv_lines(path), required=required, column_name=_column_name)


def members_csv_read(path: Path) -> Iterator[r.MemberRow]:
    for rec in _records(path, ("member_id",)):
        yield r.MemberRow(
            external_id=rec.identifier("member_id"),
            source=rec.source,
            line=rec.line,
            age=rec.integer("age", low=r.AGE_RANGE[0], high=r.AGE_RANGE[1]),
            gender=rec.text("gender", max_length=r.GENDER_MAX),
            occupation=rec.text("occupation", max_length=r.OCCUPATION_MAX),
            location=rec.text("location", max_length=r.LOCATION_MAX),
            profile=rec.text("profile", multiline=True),
            provided=rec.provided(MEMBER_COLUMNS),
        )


def items_csv_read(path: Path) -> Iterator[r.ItemRow]:
    for rec in _records(path, ("item_id", "title")):
        yield r.ItemRow(
            external_id=rec.identifier("item_id"),
            source=rec.source,
            line=rec.line,
            title=rec.text("title", required=True, max_length=r.TITLE_MAX),
            year=rec.integer("year", low=r.YEAR_RANGE[0], high=r.YEAR_RANGE[1]),
            genres=[genre.strip() for genre in rec.text("genres").split("|") if genre.strip()],
            description=rec.text("description", multiline=True),
            provided=rec.provided(ITEM_COLUMNS),
        )


def ratings_csv_read(path: Path) -> Iterator[r.RatingRow]:
    for rec in _records(path, ("member_id", "item_id", "rating")):
        yield r.RatingRow(
            member_id=rec.identifier("member_id"),
            item_id=rec.identifier("item_id"),
            value=rec.number("rating"),
            source=rec.source,
            line=rec.line,
            rated_at=rec.timestamp("timestamp"),
            provided=rec.provided(RATING_COLUMNS),
        )
