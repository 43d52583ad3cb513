"""Property: every generated import is refused at the right place or imported exactly.

Each case is a generated data set written as import files (generic CSV, GroupLens or
RecBole), either as drawn or with one file spoiled (a NUL, a stray quote, a duplicate
column, a non-ASCII digit, a time past 2099, a missing field, an empty file, a line
longer than the limit, bytes of another encoding ...). A spoiled case must raise
``ImportDataError`` naming the spoiled file, line and field, and leave every stored row
as it was; a good case must store exactly the drawn values next to the rows already there.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from catalog.importers import ImportDataError
from catalog.importers.grouplens import GENRES
from catalog.services.imports import csv_import
from tests.catalog import import_fuzz_data as d
from tests.catalog.import_fuzz_files import (
    FLAG,
    ID,
    IGNORED,
    INTEGER,
    MULTILINE,
    NUMBER,
    SPOILINGS,
    TEXT,
    TIMESTAMP,
    Column,
    Spoiled,
    Table,
    spoilings,
)

FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
ENTITIES = ("members", "items", "ratings")
CSV_COLUMNS = {
    "members": [("member_id", ID), ("age", INTEGER), ("gender", TEXT), ("occupation", TEXT),
                ("location", TEXT), ("profile", MULTILINE)],
    "items": [("item_id", ID), ("title", TEXT), ("year", INTEGER), ("genres", TEXT),
              ("description", MULTILINE)],
    "ratings": [("member_id", ID), ("item_id", ID), ("rating", NUMBER), ("timestamp", TIMESTAMP)],
}  # fmt: skip
CSV_REQUIRED = {"member_id", "item_id", "title", "rating"}
RECBOLE_COLUMNS = {
    "members": [("user_id:token", ID), ("age:token", INTEGER), ("gender:token", TEXT),
                ("occupation:token", TEXT), ("zip_code:token", TEXT)],
    "items": [("item_id:token", ID), ("movie_title:token_seq", TEXT),
              ("release_year:token", INTEGER), ("class:token_seq", TEXT)],
    "ratings": [("user_id:token", ID), ("item_id:token", ID), ("rating:float", NUMBER),
                ("timestamp:float", TIMESTAMP)],
}  # fmt: skip
RECBOLE_REQUIRED = {"user_id", "item_id", "movie_title", "rating"}
# The model field each column fills, where it is not the column's own name.
FIELD_OF = {"zip_code": "location", "release_year": "year", "class": "genres"}
CSV_ONLY = ("unclosed_quote", "text_after_quote")
_folders = itertools.count()


def _member_cells(m: d.Member) -> dict[str, str]:
    age = "" if m.age is None else str(m.age)
    return {"member_id": m.external_id, "user_id": m.external_id, "age": age,
            "gender": m.gender, "occupation": m.occupation, "location": m.location,
            "zip_code": m.location, "profile": m.profile}  # fmt: skip


def _item_cells(i: d.Item, genre_sep: str) -> dict[str, str]:
    year = "" if i.year is None else str(i.year)
    return {"item_id": i.external_id, "title": i.title, "movie_title": i.title,
            "year": year, "release_year": year, "genres": genre_sep.join(i.genres),
            "class": genre_sep.join(i.genres), "description": i.description}  # fmt: skip


def _rating_cells(r: d.Rating) -> dict[str, str]:
    return {"member_id": r.member_id, "user_id": r.member_id, "item_id": r.item_id,
            "rating": r.value_text, "timestamp": r.rated_text}  # fmt: skip


def _cells(data: d.DataSet, entity: str, genre_sep: str) -> list[dict[str, str]]:
    if entity == "members":
        return [_member_cells(m) for m in data.members]
    if entity == "items":
        return [_item_cells(i, genre_sep) for i in data.items]
    return [_rating_cells(r) for r in data.ratings]


@st.composite
def headed_table(
    draw: Any, entity: str, data: d.DataSet, *, recbole: bool
) -> tuple[Table, set[str]]:
    """A headed file of ``entity`` with a drawn choice and order of columns; the fields it fills."""
    spec, required = (RECBOLE_COLUMNS, RECBOLE_REQUIRED) if recbole else (CSV_COLUMNS, CSV_REQUIRED)
    name_of = {header: header.split(":")[0] for header, _ in spec[entity]}
    kept = [(h, k) for h, k in spec[entity] if name_of[h] in required or draw(st.booleans())]
    columns = [Column(h if recbole else draw(_spelled(h)), name_of[h], k) for h, k in kept]
    if draw(st.booleans()):
        columns.append(Column("note", "note", IGNORED))
    columns = draw(st.permutations(columns))
    rows = tuple(
        tuple(cells.get(c.name, "n") for c in columns)
        for cells in _cells(data, entity, " " if recbole else "|")
    )
    table = Table(
        filename=f"ml.{_RECBOLE_EXT[entity]}" if recbole else f"{entity}.csv",
        columns=tuple(columns),
        rows=rows,
        sep="\t" if recbole else ",",
        newline=draw(st.sampled_from(["\n", "\r\n"])),
        quote_all=not recbole and draw(st.booleans()),
        bom=draw(st.booleans()),
    )
    return table, {FIELD_OF.get(c.name, c.name) for c in columns}


_RECBOLE_EXT = {"members": "user", "items": "item", "ratings": "inter"}


def _spelled(header: str) -> st.SearchStrategy[str]:
    return st.sampled_from([header, header.upper(), f" {header}", header.title()])


def grouplens_tables(data: d.DataSet, newline: str, in_titles: list[bool]) -> dict[str, Table]:
    def table(filename: str, sep: str, columns: list[Column], rows: list[tuple[str, ...]]) -> Table:
        return Table(filename, tuple(columns), tuple(rows), False, sep, newline, encoding="latin-1")

    members = [(m.external_id, _member_cells(m)["age"], m.gender, m.occupation, m.location)
               for m in data.members]  # fmt: skip
    items = []
    for i, in_title in zip(data.items, in_titles, strict=True):
        # The year goes in the title or, as GroupLens does for some films, in the date only.
        in_title = in_title and i.year is not None
        title = f"{i.title} ({i.year:04d})" if in_title else i.title
        date = "" if i.year is None or in_title else f"01-Jan-{i.year:04d}"
        flags = ["1" if genre in i.genres else "0" for genre in GENRES]
        items.append((i.external_id, title, date, "", "http://x", *flags))
    ratings = [(r.member_id, r.item_id, r.value_text, r.rated_text) for r in data.ratings]
    text = [Column(n, n, TEXT) for n in ("gender", "occupation", "zip_code")]
    ignored = [Column(n, n, IGNORED) for n in ("release_date", "video_release_date", "imdb_url")]
    return {
        "members": table("u.user", "|", [Column("user_id", "user_id", ID),
                                         Column("age", "age", INTEGER), *text], members),
        "items": table("u.item", "|", [Column("item_id", "item_id", ID),
                                       Column("title", "title", TEXT), *ignored,
                                       *(Column(g, g, FLAG) for g in GENRES)], items),
        "ratings": table("u.data", "\t", [Column("user_id", "user_id", ID),
                                          Column("item_id", "item_id", ID),
                                          Column("rating", "rating", NUMBER),
                                          Column("timestamp", "timestamp", TIMESTAMP)], ratings),
    }  # fmt: skip


def expected_rows(data: d.DataSet, fields: dict[str, set[str]], grouplens: bool = False) -> Any:
    members = {m.external_id: d.expected_member(m, fields["members"]) for m in data.members}
    items = {i.external_id: d.expected_item(i, fields["items"]) for i in data.items}
    if grouplens:
        for i in data.items:
            items[i.external_id]["genres"] = d.grouplens_genres(i.genres)
    keep_time = "timestamp" in fields["ratings"]
    ratings = {
        (r.member_id, r.item_id, r.value, r.rated_at if keep_time else None) for r in data.ratings
    }
    return {"members": members, "items": items, "ratings": ratings}


@st.composite
def spoiled(draw: Any, tables: dict[str, Table], spoiling: str) -> Spoiled | None:
    """``tables``' file spoiled by ``spoiling`` (a name from SPOILINGS), or none for "good"."""
    if spoiling == "good":
        return None
    fits = {e: {s.__name__: s for s in spoilings(t, entity=e)} for e, t in tables.items()}
    entities = sorted(e for e in tables if spoiling in fits[e])
    assume(entities)
    entity = draw(st.sampled_from(entities))
    return replace(fits[entity][spoiling](draw, tables[entity]), kind=spoiling)


@st.composite
def csv_cases(draw: Any, spoiling: str) -> tuple[dict[str, Table], Spoiled | None, Any]:
    data = draw(d.data_sets())
    chosen = draw(st.sampled_from([("members",), ("items",), ("members", "items"), ENTITIES]))
    drawn = {entity: draw(headed_table(entity, data, recbole=False)) for entity in chosen}
    tables = {entity: table for entity, (table, _) in drawn.items()}
    fields = {entity: drawn[entity][1] if entity in drawn else set() for entity in ENTITIES}
    empty = d.DataSet(
        data.members if "members" in chosen else (),
        data.items if "items" in chosen else (),
        data.ratings if "ratings" in chosen else (),
    )
    return tables, draw(spoiled(tables, spoiling)), expected_rows(empty, fields)


@st.composite
def movielens_cases(draw: Any, spoiling: str) -> tuple[dict[str, Table], Spoiled | None, Any]:
    if draw(st.booleans()):
        data = draw(d.data_sets(latin1=True, tsv=True, genre=st.sampled_from(GENRES)))
        in_titles = [draw(st.booleans()) for _ in data.items]
        tables = grouplens_tables(data, draw(st.sampled_from(["\n", "\r\n"])), in_titles)
        fields = {
            "members": {"age", "gender", "occupation", "location"},
            "items": {"year", "genres"},
            "ratings": {"timestamp"},
        }
        return tables, draw(spoiled(tables, spoiling)), expected_rows(data, fields, grouplens=True)
    data = draw(d.data_sets(tsv=True))
    drawn = {entity: draw(headed_table(entity, data, recbole=True)) for entity in ENTITIES}
    tables = {entity: table for entity, (table, _) in drawn.items()}
    fields = {entity: found for entity, (_, found) in drawn.items()}
    return tables, draw(spoiled(tables, spoiling)), expected_rows(data, fields)


def _files_write(
    folder: Path, tables: dict[str, Table], spoiled: Spoiled | None
) -> dict[str, Path]:
    paths = {}
    for entity, table in tables.items():
        paths[entity] = folder / table.filename
        spoilt = spoiled is not None and spoiled.source == table.filename
        paths[entity].write_bytes(spoiled.content if spoilt else table.content())  # type: ignore[union-attr]
    return paths


def _import(how: str, paths: dict[str, Path], folder: Path) -> None:
    """Run the import; a refusal comes out as the ImportDataError, whichever way it ran."""
    try:
        if how == "service":
            csv_import(**paths)
        elif how == "import_csv":
            options = [f"--{entity}={path}" for entity, path in paths.items()]
            call_command("import_csv", *options, stdout=StringIO())
        else:
            call_command("import_movielens", str(folder), stdout=StringIO())
    except CommandError as error:
        assert isinstance(error.__cause__, ImportDataError), error
        assert str(error) == str(error.__cause__)
        raise error.__cause__ from None


def _refusal_check(error: ImportDataError, spoiled: Spoiled) -> None:
    where = (error.source, error.line, error.field)
    assert where == (spoiled.source, spoiled.line, spoiled.field), (str(error), spoiled)
    assert spoiled.reason in error.reason, (str(error), spoiled)


def _stored_rows(snapshot: dict[str, list[Any]], *, base: bool) -> Any:
    def ours(external_id: str) -> bool:
        return ("~" in external_id) == base

    return {
        "members": {m["member_id"]: m for m in snapshot["members"] if ours(m["member_id"])},
        "items": {i["item_id"]: i for i in snapshot["items"] if ours(i["item_id"])},
        "ratings": {tuple(r) for r in snapshot["ratings"] if ours(r[0])},
    }


def _case_check(case: Any, how: str, folder: Path, db_snapshot: Any) -> None:
    tables, spoiled, expected = case
    paths = _files_write(folder, tables, spoiled)
    with transaction.atomic():  # rolled back below, so each case starts from the stored rows
        before = db_snapshot()
        try:
            _import(how, paths, folder)
        except ImportDataError as error:
            assert spoiled is not None, f"a good import was refused: {error}"
            _refusal_check(error, spoiled)
            assert db_snapshot() == before, "a refused import changed the database"
        else:
            assert spoiled is None, f"a spoiled import was accepted: {spoiled}"
            after = db_snapshot()
            assert _stored_rows(after, base=True) == _stored_rows(before, base=True)
            assert _stored_rows(after, base=False) == expected
        transaction.set_rollback(True)


@pytest.fixture
def stored_rows(tmp_path: Path, db: None) -> None:
    """Rows already in the database, their ids marked with '~', which no case draws."""
    files = {
        "members": "member_id,age,profile\n~m1,30,likes films\n~m2,40,\n",
        "items": "item_id,title,genres\n~i1,Base,Drama\n",
        "ratings": "member_id,item_id,rating,timestamp\n~m1,~i1,4,874965758\n",
    }
    paths = {name: tmp_path / f"base_{name}.csv" for name in files}
    for name, text in files.items():
        paths[name].write_text(text, encoding="utf-8")
    csv_import(**paths)


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / f"case{next(_folders)}"
    folder.mkdir()
    return folder


def _examples(spoiling: str, good: int, spoiled: int) -> settings:
    return settings(FUZZ, max_examples=good if spoiling == "good" else spoiled)


# 60 good cases and 15 of each of the 17 spoilings: 315 cases.
@pytest.mark.parametrize("spoiling", ["good", *SPOILINGS])
def test_csv_import_refuses_at_the_place_or_imports_exactly(
    spoiling: str, tmp_path: Path, stored_rows: None, db_snapshot: Any
) -> None:
    @_examples(spoiling, good=60, spoiled=15)
    @given(case=csv_cases(spoiling), through_command=st.booleans())
    def check(case: Any, through_command: bool) -> None:
        how = "import_csv" if through_command else "service"
        _case_check(case, how, _folder(tmp_path), db_snapshot)

    check()


# GroupLens and RecBole: 40 good cases and 8 of each of the 15 spoilings that fit
# tab-separated files: 160 cases.
@pytest.mark.parametrize("spoiling", ["good", *(s for s in SPOILINGS if s not in CSV_ONLY)])
def test_movielens_import_refuses_at_the_place_or_imports_exactly(
    spoiling: str, tmp_path: Path, stored_rows: None, db_snapshot: Any
) -> None:
    @_examples(spoiling, good=40, spoiled=8)
    @given(case=movielens_cases(spoiling))
    def check(case: Any) -> None:
        _case_check(case, "import_movielens", _folder(tmp_path), db_snapshot)

    check()


_NASTY = st.sampled_from(['"', ",", "\n", "\r", "\x00", "\t", "٣", "e", "1", "9", "-", ":", "T"])


@settings(FUZZ, max_examples=50)
@given(body=st.one_of(st.binary(max_size=300), st.text(_NASTY, max_size=300).map(str.encode)))
def test_arbitrary_bytes_are_refused_cleanly_or_stored_without_harm(
    body: bytes, tmp_path: Path, stored_rows: None, db_snapshot: Any
) -> None:
    folder = _folder(tmp_path)
    path = folder / "ratings.csv"
    path.write_bytes(b"member_id,item_id,rating,timestamp\n" + body)
    with transaction.atomic():
        before = db_snapshot()
        try:
            csv_import(ratings=path)
        except ImportDataError as error:
            assert error.source == "ratings.csv"
            assert error.line is not None, str(error)
            assert db_snapshot() == before
        else:  # only the stored ids exist, so only a rating of ~m1 or ~m2 can be taken
            assert len(db_snapshot()["ratings"]) <= 2
        transaction.set_rollback(True)
