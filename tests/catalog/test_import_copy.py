"""The set-based import: the plain ratings path, its fall-back, and refusals while writing.

On PostgreSQL a plain ratings file goes through ``COPY`` as raw bytes and everything the
pattern cannot check is left to the database; these tests prove such files still get the
careful path's located errors and leave the database as it was. Refusals by the database
itself (a constraint) are checked on SQLite and PostgreSQL alike (`make test` runs the
import tests on both).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from catalog.importers import ImportDataError, fast_csv
from catalog.importers.fast_csv import NotPlain, ratings_plain
from catalog.models import Rating
from catalog.services.imports import csv_import

MEMBERS = "member_id,age\n" + "".join(f"m{n},{20 + n % 50}\n" for n in range(40))
ITEMS = "item_id,title\n" + "".join(f"i{n},Film {n}\n" for n in range(30))
# 1,200 plain lines: every member rates 30 items.
GOOD = "".join(f"m{n // 30},i{n % 30},{(n % 10) / 2},{900_000_000 + n}\n" for n in range(1_200))
HEADER = "member_id,item_id,rating,timestamp\n"


def write(folder: Path, **files: str) -> dict[str, Path]:
    paths = {}
    for name, text in files.items():
        paths[name] = folder / f"{name}.csv"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def catalogue(folder: Path) -> None:
    csv_import(**write(folder, members=MEMBERS, items=ITEMS))


# Plain lines all (so the COPY path takes them) with one wrong value past a thousand rows.
PLAIN_BAD = {
    "rating out of range": ("m0,i0,9,1\n", "field rating: '9' is out of range 0-5"),
    "unknown member": ("zz,i0,1,1\n", "field member_id: unknown member 'zz'"),
    "unknown item": ("m0,zz,1,1\n", "field item_id: unknown item 'zz'"),
    "year 2100": (
        "m0,i0,1,4102444800\n",
        "field timestamp: '4102444800' as Unix seconds is before 1970 or after 2099; "
        "Unix milliseconds? give seconds",
    ),
    "yyyymmdd": (
        "m0,i0,1,20010909\n",
        "field timestamp: '20010909' looks like a YYYYMMDD date, not Unix seconds; "
        "write '2001-09-09'",
    ),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", list(PLAIN_BAD))
def test_a_plain_file_with_a_bad_value_names_the_line_and_writes_nothing(
    case: str, tmp_path: Path, db_snapshot
) -> None:
    catalogue(tmp_path)
    csv_import(**write(tmp_path, ratings=HEADER + "".join(GOOD.splitlines(keepends=True)[:300])))
    before = db_snapshot()
    bad, message = PLAIN_BAD[case]
    paths = write(tmp_path, members="member_id,age\nm0,99\n", ratings=HEADER + GOOD + bad)

    with pytest.raises(ImportDataError) as error:
        csv_import(**paths)

    assert str(error.value) == f"ratings.csv line 1202, {message}"
    assert db_snapshot() == before


def test_plain_files_are_recognised_and_others_are_not(tmp_path: Path) -> None:
    plain = write(tmp_path, a=HEADER + GOOD)["a"]
    assert ratings_plain(plain) is not None
    assert b"".join(ratings_plain(plain).chunks()) == GOOD.encode()  # type: ignore[union-attr]

    for header in ("member_id,item_id,rating,comment\n", "\ufeffmember_id,item_id,rating\n"):
        assert ratings_plain(write(tmp_path, b=header + "m0,i0,1,x\n")["b"]) is None
    for line in ('"m0",i0,1,2\n', "m0,i0,1,2\r\n", "\n", "m0,i0,1e0,2\n", "m 0,i0,1,2\n"):
        lines = ratings_plain(write(tmp_path, c=HEADER + GOOD + line)["c"])
        assert lines is not None
        with pytest.raises(NotPlain):
            list(lines.chunks())


@pytest.mark.django_db
def test_plain_and_careful_reading_store_the_same_rows(
    tmp_path: Path, db_snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue(tmp_path)
    base = db_snapshot()
    # Tiny chunks: lines split across reads, and a last line without its line break.
    monkeypatch.setattr(fast_csv, "CHUNK_BYTES", 50)
    plain = csv_import(**write(tmp_path, ratings=HEADER + GOOD.rstrip("\n")))
    stored = db_snapshot()
    Rating.objects.all().delete()
    assert db_snapshot() == base

    quoted = HEADER + GOOD.replace("m0,i0,", '"m0",i0,', 1)  # not plain: read carefully
    careful = csv_import(**write(tmp_path, ratings=quoted))

    assert db_snapshot() == stored
    assert plain.to_dict()["ratings"] == careful.to_dict()["ratings"]
    assert plain.ratings.created == 1_200


@pytest.mark.django_db
def test_a_pair_rated_twice_in_a_plain_file_keeps_the_later_line(tmp_path: Path) -> None:
    catalogue(tmp_path)
    report = csv_import(**write(tmp_path, ratings=HEADER + GOOD + "m0,i0,4.5,7\nm0,i0,1,8\n"))

    assert report.ratings.created == 1_200
    assert Rating.objects.get(member__external_id="m0", item__external_id="i0").value == 1.0


def _refuse_ratings_of_three() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE segments_rating ADD CONSTRAINT no_threes CHECK (value <> 3)"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER no_threes BEFORE INSERT ON segments_rating "
                "WHEN NEW.value = 3 BEGIN SELECT RAISE(ABORT, 'no_threes'); END"
            )


@pytest.mark.django_db  # the test's transaction takes the constraint away again
def test_a_constraint_refusing_rows_is_reported_and_writes_nothing(
    tmp_path: Path, db_snapshot
) -> None:
    catalogue(tmp_path)
    before = db_snapshot()
    _refuse_ratings_of_three()
    paths = write(tmp_path, members="member_id,age\nm0,99\nnew,1\n", ratings=HEADER + GOOD)

    with pytest.raises(ImportDataError) as error:
        csv_import(**paths)

    message = str(error.value)
    assert message.startswith("the database refused the ratings, nothing was imported: ")
    assert "no_threes" in message
    assert db_snapshot() == before


def _rating_schema() -> tuple[list, list]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'segments_rating'::regclass ORDER BY conname"
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = 'segments_rating' ORDER BY indexname"
        )
        return constraints, [*cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_loading_an_empty_ratings_table_rebuilds_its_keys_as_they_were(tmp_path: Path) -> None:
    """Into an empty table ratings go in with the indexes and keys dropped and rebuilt after;
    the rebuilt ones are the same and still refuse what they refused before."""
    if connection.vendor != "postgresql":
        pytest.skip("the bulk load is PostgreSQL's")
    from django.db import IntegrityError, transaction

    from catalog.models import Item, Member

    catalogue(tmp_path)
    schema = _rating_schema()
    assert any("FOREIGN KEY" in definition for _, definition in schema[0])

    first = csv_import(**write(tmp_path, ratings=HEADER + GOOD))
    assert first.ratings.created == 1_200 and Rating.objects.count() == 1_200
    assert _rating_schema() == schema
    again = csv_import(**write(tmp_path, ratings=HEADER + GOOD.replace("m0,i0,0.0", "m0,i0,5.0")))
    assert (again.ratings.created, again.ratings.updated, again.ratings.unchanged) == (0, 1, 1_199)

    member, item = Member.objects.get(external_id="m0"), Item.objects.get(external_id="i0")
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(member=member, item=item, value=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(member_id=member.pk, item_id=10**9, value=1)
