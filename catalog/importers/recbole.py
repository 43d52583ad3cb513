"""Readers for RecBole atomic files (``*.inter``, ``*.item``, ``*.user``).

Tab-separated UTF-8 with a typed header such as ``user_id:token``; columns are found by
name, unknown columns are ignored.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from catalog.importers import rows as r
from catalog.importers.errors import ImportDataError
from catalog.importers.lines import delimited_lines
from catalog.importers.records import Record, headed_records, title_year_split

# ml-100k.item spells the year of item 267 (title unknown) 'unkonwn'.
UNKNOWN_YEARS = frozenset({"unknown", "unkonwn"})
_YEAR_RANGE = {"low": r.YEAR_RANGE[0], "high": r.YEAR_RANGE[1]}
MEMBER_COLUMNS = (
    ("age", "age"),
    ("gender", "gender"),
    ("occupation", "occupation"),
    ("location", "zip_code"),
)
ITEM_COLUMNS = (("title", "movie_title"), ("year", "release_year"))
RATING_COLUMNS = (("value", "rating"), ("rated_at", "timestamp"))
RATING_NAMES = ("user_id", "item_id", "rating")


def _column_name(header: str) -> str:
    return header.split(":", 1)[0].strip()


def _records(path: Path, required: tuple[str, ...]) -> Iterator[Record]:
    lines = delimited_lines(path, sep="\t", encoding="utf-8")
    return headed_records(path, lines, required=required, column_name=_column_name)


def recbole_members_read(path: Path) -> Iterator[r.MemberRow]:
    for rec in _records(path, ("user_id",)):
        yield r.MemberRow(
            external_id=rec.identifier("user_id"),
            source=rec.source,
            line=rec.line,
            age=rec.integer("age", low=r.AGE_RANGE[0], high=r.AGE_RANGE[1]),
            gender=rec.text("gender", max_length=r.GENDER_MAX),
            occupation=rec.text("occupation", max_length=r.OCCUPATION_MAX),
            location=rec.text("zip_code", max_length=r.LOCATION_MAX),
            provided=rec.provided(MEMBER_COLUMNS),
            id_column="user_id",
        )


def recbole_items_read(path: Path) -> Iterator[r.ItemRow]:
    for rec in _records(path, ("item_id", "movie_title")):
        # Other RecBole data sets (ml-1m) call the genre column 'genre' instead of 'class'.
        genre_column = "class" if rec.has("class") else "genre"
        provided = rec.provided((*ITEM_COLUMNS, ("genres", genre_column)))
        title, year = _title_year(rec)
        yield r.ItemRow(
            external_id=rec.identifier("item_id"),
            source=rec.source,
            line=rec.line,
            title=title,
            year=year,
            genres=rec.text(genre_column).split(),
            provided=provided,
        )


def _title_year(rec: Record) -> tuple[str, int | None]:
    title = rec.text("movie_title", required=True, max_length=r.TITLE_MAX)
    try:
        return title, rec.integer("release_year", **_YEAR_RANGE, blank=UNKNOWN_YEARS)
    except ImportDataError:
        # ml-100k.item line 1413 has year 'V' and the title "Land Before Time III: ...
        # (1995)": RecBole split GroupLens' "Title (1995) (V)" at the wrong bracket.
        split_title, year = title_year_split(title)
        if year is None:
            raise
        return split_title, year


def recbole_ratings_read(path: Path) -> Iterator[r.RatingRow]:
    for rec in _records(path, ("user_id", "item_id", "rating")):
        yield r.RatingRow(
            member_id=rec.identifier("user_id"),
            item_id=rec.identifier("item_id"),
            value=rec.number("rating"),
            source=rec.source,
            line=rec.line,
            rated_at=rec.timestamp("timestamp"),
            provided=rec.provided(RATING_COLUMNS),
            columns=RATING_NAMES,
        )
