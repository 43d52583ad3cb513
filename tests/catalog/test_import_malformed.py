"""Malformed files the importers once crashed on or took wrongly: each refused, located."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalog.importers import ImportDataError
from catalog.models import Member, Rating
from catalog.services.imports import csv_import, movielens_import

MEMBERS = "member_id,age,profile\nm1,30,\nm2,40,\n"
ITEMS = "item_id,title\ni1,Alien\n"
RATINGS = "member_id,item_id,rating,timestamp\n"
FIELDS_OF_120K = ",".join(f'"{"x" * 120_000}\n"' for _ in range(9))

BAD_FILES: dict[str, tuple[dict[str, str | bytes], str]] = {
    "NUL in an id": (
        {"ratings": RATINGS + "m1,i1,4,\nm\x002,i1,3,\n"},
        r"ratings.csv line 3, field member_id: control character '\x00' at position 2",
    ),
    "NUL in a profile": (
        {"members": 'member_id,profile\nm1,ok\nm2,"likes\x00"\n'},
        r"members.csv line 3, field profile: control character '\x00' at position 6",
    ),
    "control character in an id": (
        {"members": "member_id\nm1\x1f\n"},
        r"members.csv line 2, field member_id: control character '\x1f' at position 3",
    ),
    "BOM inside an id": (
        {"members": "member_id\nm1\n\ufeffm2\n"},
        r"members.csv line 3, field member_id: invisible or control character '\ufeff' at "
        "position 1",
    ),
    "id too long for its column": (
        {"members": "member_id\n" + "m" * 65 + "\n"},
        "members.csv line 2, field member_id: 'mmmmmmmmmmmmmmmmmmmm'... is longer than 64 "
        "characters",
    ),
    "ISO year 99999": (
        {"ratings": RATINGS + "m1,i1,4,99999-01-01T00:00:00\n"},
        "ratings.csv line 2, field timestamp: '99999-01-01T00:00:00' is neither Unix seconds "
        "nor an ISO 8601 date",
    ),
    "ISO time pushed past year 9999 by its zone": (
        {"ratings": RATINGS + "m1,i1,4,9999-12-31T23:59:59-05:00\n"},
        "ratings.csv line 2, field timestamp: '9999-12-31T23:59:59-05:00' is before 1970 or "
        "after 2099",
    ),
    "huge Unix time": (
        {"ratings": RATINGS + "m1,i1,4,1e400\n"},
        "ratings.csv line 2, field timestamp: '1e400' as Unix seconds is before 1970 or after 2099",
    ),
    "YYYYMMDD time": (
        {"ratings": RATINGS + "m1,i1,4,20200101\n"},
        "ratings.csv line 2, field timestamp: '20200101' looks like a YYYYMMDD date, not Unix "
        "seconds; write '2020-01-01'",
    ),
    "unclosed quote swallowing the rows below": (
        {"ratings": RATINGS + 'm1,i1,"4,\nm2,i1,3,\nm2,i2,1,\n'},
        "ratings.csv line 2: the quote opening field 3 is never closed",
    ),
    "unclosed quote after a quoted line break": (
        {"members": 'member_id,age,profile\nm1,30,"two\nlines"\nm2,40,"never closed\nm3,1,\n'},
        "members.csv line 4: the quote opening field 3 is never closed",
    ),
    "text after a closing quote": (
        {"members": 'member_id,age\n"m1"x,30\n'},
        'members.csv line 2: text after a closing quote (write a quote in a field as "")',
    ),
    "duplicate column": (
        {"members": "member_id,age,Age\nm1,30,31\n"},
        "members.csv line 1, field age: column 'age' appears twice in the header",
    ),
    "Arabic-Indic digit as a rating": (
        {"ratings": RATINGS + "m1,i1,٣,\n"},
        "ratings.csv line 2, field rating: '٣' is not a number",
    ),
    "nan as a rating": (
        {"ratings": RATINGS + "m1,i1,nan,\n"},
        "ratings.csv line 2, field rating: 'nan' is not a number",
    ),
    "underscore digits as an age": (
        {"members": "member_id,age\nm1,3_0\n"},
        "members.csv line 2, field age: '3_0' is not an integer",
    ),
    "header without rows": (
        {"ratings": RATINGS},
        "ratings.csv line 1: no data rows below the header",
    ),
    "line longer than 1 MiB": (
        {"members": "member_id,profile\nm1," + "x" * 1_100_000 + "\n"},
        "members.csv line 2: line longer than 1,048,576 bytes",
    ),
    "field longer than csv's limit": (
        {"members": 'member_id,profile\nm1,"' + "x" * 140_000 + '"\n'},
        "members.csv line 2: a field is longer than 131,072 characters",
    ),
    "record longer than 1 MiB over many lines": (
        {"members": "member_id," + ",".join(f"c{n}" for n in range(9)) + "\nm1," + FIELDS_OF_120K},
        "members.csv line 2: record longer than 1,048,576 characters",
    ),
    "Latin-1 in a UTF-8 file": (
        {"items": "item_id,title\ni1,Alien\ni2,Caf\xe9\n".encode("latin-1")},
        "items.csv line 3: not valid UTF-8",
    ),
}


def files_write(folder: Path, files: dict[str, str | bytes]) -> dict[str, Path]:
    paths = {}
    for name, content in files.items():
        paths[name] = folder / f"{name}.csv"
        data = content.encode("utf-8") if isinstance(content, str) else content
        paths[name].write_bytes(data)
    return paths


@pytest.fixture
def stored(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    ratings = RATINGS + "m1,i1,4,874965758\n"
    csv_import(**files_write(base, {"members": MEMBERS, "items": ITEMS, "ratings": ratings}))


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_malformed_file_is_refused_with_its_place_and_changes_nothing(
    case: str, tmp_path: Path, stored: None, db_snapshot
) -> None:
    files, message = BAD_FILES[case]
    before = db_snapshot()

    with pytest.raises(ImportDataError) as error:
        csv_import(**files_write(tmp_path, files))

    assert str(error.value) == message
    assert db_snapshot() == before


@pytest.mark.django_db
def test_a_bom_at_the_start_of_the_file_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    csv_import(**files_write(tmp_path, {"members": "\ufeffmember_id,age\nm1,30\n"}))
    assert list(Member.objects.values_list("external_id", "age")) == [("m1", 30)]


@pytest.mark.django_db
def test_an_empty_grouplens_folder_is_refused(tmp_path: Path) -> None:
    for name in ("u.data", "u.item", "u.user"):
        (tmp_path / name).write_bytes(b"")

    with pytest.raises(ImportDataError) as error:
        movielens_import(directory=tmp_path)

    assert str(error.value) == "u.user: no data rows in the file"
    assert not Member.objects.exists()


@pytest.mark.django_db
def test_grouplens_ratings_with_a_nul_name_line_and_field(tmp_path: Path, db_snapshot) -> None:
    (tmp_path / "u.user").write_text("1|24|M|technician|85711\n", "latin-1")
    (tmp_path / "u.item").write_text("1|Heat (1995)|||x" + "|0" * 18 + "|1\n", "latin-1")
    (tmp_path / "u.data").write_bytes(b"1\t1\t5\t874965758\n1\t1\t4\x00\t874965759\n")

    with pytest.raises(ImportDataError) as error:
        movielens_import(directory=tmp_path)

    assert (
        str(error.value) == r"u.data line 2, field rating: control character '\x00' at position 2"
    )
    assert not Rating.objects.exists()


@pytest.mark.django_db
def test_the_command_turns_a_nul_byte_into_a_located_command_error(tmp_path: Path) -> None:
    path = files_write(tmp_path, {"members": "member_id\nm\x001\n"})["members"]
    with pytest.raises(CommandError, match=r"members.csv line 2, field member_id: control"):
        call_command("import_csv", f"--members={path}", stdout=StringIO())
