"""Readers for the original GroupLens MovieLens-100K files (``u.data``, ``u.item``, ``u.user``).

No header; columns by position; Latin-1. Titles carry the year ("Toy Story (1995)") and
genres are 19 flag columns, named here exactly as RecBole's ml-100k.item spells them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from catalog.importers import rows as r
from catalog.importers.lines import delimited_lines
from catalog.importers.records import Record, fixed_records, title_year_split

ENCODING = "latin-1"
GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
ITEM_COLUMNS = ("item_id", "title", "release_date", "video_release_date", "imdb_url", *GENRES)
MEMBER_COLUMNS = ("user_id", "age", "gender", "occupation", "zip_code")
RATING_COLUMNS = ("user_id", "item_id", "rating", "timestamp")
RATING_NAMES = ("user_id", "item_id", "rating")
_DATE_YEAR = re.compile(r"([0-9]{4})\s*$")


def _records(path: Path, sep: str, columns: tuple[str, ...]) -> Iterator[Record]:
    return fixed_records(path, delimited_lines(path, sep=sep, encoding=ENCODING), columns=columns)


def grouplens_members_read(path: Path) -> Iterator[r.MemberRow]:
    for rec in _records(path, "|", MEMBER_COLUMNS):
        yield r.MemberRow(
            external_id=rec.identifier("user_id"),
            source=rec.source,
            line=rec.line,
            age=rec.integer("age", low=r.AGE_RANGE[0], high=r.AGE_RANGE[1]),
            gender=rec.text("gender", max_length=r.GENDER_MAX),
            occupation=rec.text("occupation", max_length=r.OCCUPATION_MAX),
            location=rec.text("zip_code", max_length=r.LOCATION_MAX),
            provided=r.MEMBER_FIELDS - {"profile"},
            id_column="user_id",
        )


def grouplens_items_read(path: Path) -> Iterator[r.ItemRow]:
    for rec in _records(path, "|", ITEM_COLUMNS):
        title, year = _title_split(rec)
        yield r.ItemRow(
            external_id=rec.identifier("item_id"),
            source=rec.source,
            line=rec.line,
            title=title,
            year=year,
            genres=_genres(rec),
            provided=r.ITEM_FIELDS - {"description"},
        )


def grouplens_ratings_read(path: Path) -> Iterator[r.RatingRow]:
    for rec in _records(path, "\t", RATING_COLUMNS):
        yield r.RatingRow(
            member_id=rec.identifier("user_id"),
            item_id=rec.identifier("item_id"),
            value=rec.number("rating"),
            source=rec.source,
            line=rec.line,
            rated_at=rec.timestamp("timestamp"),
            columns=RATING_NAMES,
        )


def _title_split(rec: Record) -> tuple[str, int | None]:
    """The year comes from the title, or from the release date when the title has none."""
    title, year = title_year_split(rec.text("title", required=True))
    if year is None:
        date = _DATE_YEAR.search(rec.text("release_date"))
        year = int(date[1]) if date else None
    if len(title) > r.TITLE_MAX:
        raise rec.error("title", f"{title[:20]!r}... is longer than {r.TITLE_MAX} characters")
    if year is not None and not r.YEAR_RANGE[0] <= year <= r.YEAR_RANGE[1]:
        raise rec.error("title", f"year {year} is out of range {r.YEAR_RANGE[0]}-{r.YEAR_RANGE[1]}")
    return title, year


def _genres(rec: Record) -> list[str]:
    flags = [rec.text(genre) for genre in GENRES]
    for genre, flag in zip(GENRES, flags, strict=True):
        if flag not in ("0", "1"):
            raise rec.error(genre, f"{flag!r} is not a genre flag (0 or 1)")
    genres = [genre for genre, flag in zip(GENRES, flags, strict=True) if flag == "1"]
    # 'unknown' only says nothing else is known; it is noise next to a real genre.
    return [genre for genre in genres if genre != "unknown"] or genres
