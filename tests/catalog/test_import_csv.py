"""Importing generic CSV files: optional columns, re-imports, and bad input rolled back."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalog.importers import ImportDataError
from catalog.models import Item, Member, Rating
from catalog.services.imports import csv_import

MEMBERS = """member_id,age,gender,occupation,location,profile
m1,24,M,technician,85711,"Likes space operas,
and long ones"
m2,53,F,other,94043,
"""
ITEMS = """item_id,title,year,genres,description
i1,Alien,1979,Horror|Sci-Fi,A crew meets a creature
i2,Café Society,2016,Comedy|Romance,
"""
RATINGS = """member_id,item_id,rating,timestamp
m1,i1,5,874965758
m1,i2,3.5,2001-09-09T01:46:40Z
m2,i1,4,
"""


def write(folder: Path, **files: str) -> dict[str, Path]:
    paths = {}
    for name, text in files.items():
        paths[name] = folder / f"{name}.csv"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def import_all(folder: Path, **texts: str):
    return csv_import(**write(folder, **texts))


@pytest.mark.django_db
def test_csv_files_import_with_quoted_newlines_iso_and_unix_times(tmp_path: Path) -> None:
    seen: list[tuple[str, int]] = []
    report = csv_import(
        **write(tmp_path, members=MEMBERS, items=ITEMS, ratings=RATINGS),
        progress=lambda entity, rows: seen.append((entity, rows)),
    )

    assert (report.members.created, report.items.created, report.ratings.created) == (2, 2, 3)
    assert seen == [("members", 2), ("items", 2), ("ratings", 3)]
    assert Member.objects.get(external_id="m1").profile == "Likes space operas,\nand long ones"
    cafe = Item.objects.get(external_id="i2")
    assert (cafe.title, cafe.year, cafe.genres) == ("Café Society", 2016, ["Comedy", "Romance"])
    times = dict(
        Rating.objects.values_list("item__external_id", "rated_at").filter(member__external_id="m1")
    )
    assert times == {
        "i1": datetime.fromtimestamp(874965758, tz=UTC),
        "i2": datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC),
    }
    assert Rating.objects.get(member__external_id="m2").rated_at is None


@pytest.mark.django_db
def test_optional_columns_may_be_missing_or_empty(tmp_path: Path) -> None:
    report = import_all(
        tmp_path,
        members="member_id\nm1\n",
        items="title,item_id\nHeat,i1\n",
        ratings="rating,member_id,item_id\n4,m1,i1\n",
    )

    assert (report.members.created, report.items.created, report.ratings.created) == (1, 1, 1)
    assert Member.objects.get().to_dict() == {
        "member_id": "m1", "age": None, "gender": "", "occupation": "", "location": "", "profile": ""
    }  # fmt: skip
    assert Item.objects.get().to_dict() == {
        "item_id": "i1", "title": "Heat", "year": None, "genres": [], "description": ""
    }  # fmt: skip
    assert Rating.objects.get().rated_at is None


@pytest.mark.django_db
def test_a_missing_column_leaves_that_field_alone(tmp_path: Path) -> None:
    import_all(tmp_path, members=MEMBERS)

    report = import_all(tmp_path, members="member_id,age\nm1,25\nm2,53\n")

    assert (report.members.updated, report.members.unchanged) == (1, 1)
    m1 = Member.objects.get(external_id="m1")
    assert (m1.age, m1.occupation, m1.profile) == (
        25,
        "technician",
        "Likes space operas,\nand long ones",
    )


@pytest.mark.django_db
def test_reimport_changes_nothing_and_a_changed_rating_counts_as_updated(
    tmp_path: Path, db_snapshot
) -> None:
    import_all(tmp_path, members=MEMBERS, items=ITEMS, ratings=RATINGS)
    before = db_snapshot()

    again = import_all(tmp_path, members=MEMBERS, items=ITEMS, ratings=RATINGS)

    assert again.to_dict()["members"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert again.to_dict()["items"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert again.to_dict()["ratings"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert db_snapshot() == before

    changed = RATINGS.replace("m1,i1,5,", "m1,i1,2,").replace("m2,i1,4,", "m2,i1,4,1000000000")
    report = import_all(tmp_path, ratings=changed + "m2,i2,1,\n")

    assert report.to_dict()["ratings"] == {"created": 1, "updated": 2, "unchanged": 1}
    assert Rating.objects.get(member__external_id="m1", item__external_id="i1").value == 2.0
    m2_i1 = Rating.objects.get(member__external_id="m2", item__external_id="i1")
    assert m2_i1.rated_at == datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC)


@pytest.mark.django_db
def test_a_pair_rated_twice_keeps_the_later_line(tmp_path: Path) -> None:
    import_all(tmp_path, members=MEMBERS, items=ITEMS)
    import_all(tmp_path, ratings="member_id,item_id,rating\nm1,i1,2\nm1,i1,4\n")
    assert Rating.objects.get().value == 4.0


# Each case: files of a second import that updates m1 first, then hits the bad line. The
# 5,000 new members fill the first write batch, so the member-file errors come after a write.
UPDATE_M1 = "member_id,age\nm1,30\n"
FILLER = "".join(f"new{n},40\n" for n in range(5_000))
BAD_CASES = {
    "missing column": (
        {"members": "age,gender\n30,F\n"},
        "members.csv line 1: missing column 'member_id'",
    ),
    "age not a number": (
        {"members": UPDATE_M1 + FILLER + "m2,abc\n"},
        "members.csv line 5003, field age: 'abc' is not an integer",
    ),
    "duplicate member": (
        {"members": UPDATE_M1 + FILLER + "m1,31\n"},
        "members.csv line 5003, field member_id: member 'm1' appears twice (first on line 2)",
    ),
    "timestamp not a time": (
        {
            "members": UPDATE_M1,
            "ratings": "member_id,item_id,rating,timestamp\nm1,i1,3,yesterday\n",
        },
        "ratings.csv line 2, field timestamp: 'yesterday' is neither Unix seconds nor an ISO 8601 date",
    ),
    "rating out of range": (
        {"members": UPDATE_M1, "ratings": "member_id,item_id,rating\nm1,i1,3\nm2,i2,7\n"},
        "ratings.csv line 3, field rating: '7' is out of range 0-5",
    ),
    "rating not a number": (
        {"members": UPDATE_M1, "ratings": "member_id,item_id,rating\nm1,i1,good\n"},
        "ratings.csv line 2, field rating: 'good' is not a number",
    ),
    "unknown item": (
        {"members": UPDATE_M1, "ratings": "member_id,item_id,rating\nm1,i1,3\nm1,X9,4\n"},
        "ratings.csv line 3, field item_id: unknown item 'X9'",
    ),
    "unknown member": (
        {"members": UPDATE_M1, "ratings": "member_id,item_id,rating\nm1,i1,3\nm9,i1,4\n"},
        "ratings.csv line 3, field member_id: unknown member 'm9'",
    ),
    "title missing": (
        {"members": UPDATE_M1, "items": "item_id,title\ni1,Alien 2\ni3,\n"},
        "items.csv line 3, field title: a value is required",
    ),
    "wrong field count": (
        {"members": UPDATE_M1, "items": "item_id,title\ni1,Alien 2\ni3,Heat,1995\n"},
        "items.csv line 3: expected 2 fields, found 3",
    ),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_names_file_line_and_field_and_writes_nothing(
    case: str, tmp_path: Path, db_snapshot
) -> None:
    import_all(tmp_path, members=MEMBERS, items=ITEMS, ratings=RATINGS)
    before = db_snapshot()
    files, message = BAD_CASES[case]

    with pytest.raises(ImportDataError) as error:
        import_all(tmp_path, **files)

    assert str(error.value) == message
    assert db_snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_a_latin1_csv_is_refused_as_not_utf8_and_writes_nothing(
    tmp_path: Path, db_snapshot
) -> None:
    import_all(tmp_path, members=MEMBERS, items=ITEMS)
    before = db_snapshot()
    paths = write(tmp_path, members=UPDATE_M1)
    paths["items"] = tmp_path / "items.csv"
    paths["items"].write_bytes("item_id,title\ni1,Alien 2\ni2,Café Society\n".encode("latin-1"))

    with pytest.raises(ImportDataError) as error:
        csv_import(**paths)

    assert str(error.value) == "items.csv line 3: not valid UTF-8"
    assert db_snapshot() == before


@pytest.mark.django_db
def test_command_imports_prints_counts_and_reports_errors(tmp_path: Path) -> None:
    paths = write(tmp_path, members=MEMBERS, items=ITEMS, ratings=RATINGS)
    out = StringIO()
    args = [f"--{name}={path}" for name, path in paths.items()]

    call_command("import_csv", *args, stdout=out)

    assert "items: 2 created, 0 updated, 0 unchanged" in out.getvalue()
    with pytest.raises(CommandError, match="nothing to import"):
        call_command("import_csv", stdout=StringIO())
    bad = tmp_path / "bad" / "ratings.csv"
    bad.parent.mkdir()
    bad.write_text("member_id,item_id,rating\nm1,i1,9\n")
    with pytest.raises(
        CommandError, match=r"ratings.csv line 2, field rating: '9' is out of range"
    ):
        call_command("import_csv", f"--ratings={bad}", stdout=StringIO())
    call_command(
        "import_csv", f"--ratings={paths['ratings']}", "--rating-scale", "1", "10", stdout=out
    )
    assert "ratings: 0 created, 0 updated, 3 unchanged" in out.getvalue()
