"""Importing MovieLens folders in the GroupLens and the RecBole layouts."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalog.importers import ImportDataError
from catalog.importers.grouplens import GENRES
from catalog.models import Item, Member, Rating
from catalog.services.imports import movielens_import

USERS = [("1", "24", "M", "technician", "85711"), ("2", "53", "F", "other", "94043")]
RATINGS = [("1", "1", "5", "874965758"), ("1", "2", "3", "876893171"), ("2", "3", "4", "888550871")]
# (id, GroupLens title, release date, RecBole title, RecBole year, GroupLens genre flags set)
ITEMS = [
    ("1", "Toy Story (1995)", "01-Jan-1995", "Toy Story", "1995", ["Animation", "Children's"]),
    ("2", "Café au Lait (1993)", "01-Jan-1993", "Café au Lait", "1993", ["unknown", "Comedy"]),
    ("3", "unknown", "", "unknown", "unknown", ["unknown"]),
]
# RecBole's file lists 'unknown' only for films with no other genre.
RECBOLE_GENRES = {"2": ["Comedy"]}


def grouplens_write(folder: Path, users=USERS, items=ITEMS, ratings=RATINGS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "u.user").write_text("".join("|".join(u) + "\n" for u in users), "latin-1")
    lines = []
    for item_id, title, date, _, _, genres in items:
        flags = ["1" if genre in genres else "0" for genre in GENRES]
        lines.append("|".join([item_id, title, date, "", "http://imdb/x", *flags]) + "\n")
    (folder / "u.item").write_text("".join(lines), "latin-1")
    (folder / "u.data").write_text("".join("\t".join(r) + "\n" for r in ratings), "latin-1")
    return folder


def recbole_write(folder: Path, users=USERS, items=ITEMS, ratings=RATINGS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    header = "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
    (folder / "ml.user").write_text(header + "".join("\t".join(u) + "\n" for u in users))
    header = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
    rows = [f"{i[0]}\t{i[3]}\t{i[4]}\t{' '.join(RECBOLE_GENRES.get(i[0], i[5]))}\n" for i in items]
    (folder / "ml.item").write_text(header + "".join(rows))
    header = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    (folder / "ml.inter").write_text(header + "".join("\t".join(r) + "\n" for r in ratings))
    return folder


@pytest.mark.django_db
def test_grouplens_layout_reads_latin1_titles_years_and_genres(tmp_path: Path) -> None:
    report = movielens_import(directory=grouplens_write(tmp_path))

    assert (report.members.created, report.items.created, report.ratings.created) == (2, 3, 3)
    assert report.sources == ("u.user", "u.item", "u.data")
    cafe = Item.objects.get(external_id="2")
    assert (cafe.title, cafe.year, cafe.genres) == ("Café au Lait", 1993, ["Comedy"])
    assert Item.objects.get(external_id="1").genres == ["Animation", "Children's"]
    assert Item.objects.get(external_id="3").to_dict() == {
        "item_id": "3", "title": "unknown", "year": None, "genres": ["unknown"], "description": ""
    }  # fmt: skip
    member = Member.objects.get(external_id="2")
    assert (member.age, member.gender, member.occupation, member.location) == (
        53,
        "F",
        "other",
        "94043",
    )
    rating = Rating.objects.get(member__external_id="1", item__external_id="2")
    assert rating.value == 3.0
    assert rating.rated_at == datetime.fromtimestamp(876893171, tz=UTC)


@pytest.mark.django_db
def test_recbole_layout_gives_the_same_rows_as_grouplens(tmp_path: Path, db_snapshot) -> None:
    movielens_import(directory=grouplens_write(tmp_path / "grouplens"))
    before = db_snapshot()

    report = movielens_import(directory=recbole_write(tmp_path / "recbole"))

    assert report.sources == ("ml.user", "ml.item", "ml.inter")
    assert report.to_dict()["members"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert report.to_dict()["items"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert report.to_dict()["ratings"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert db_snapshot() == before


@pytest.mark.django_db
def test_recbole_year_quirks_of_ml_100k_are_read(tmp_path: Path) -> None:
    items = [
        ("1", "", "", "unkonwn", "unkonwn", ["unknown"]),
        ("2", "", "", "Land Before Time III: The Time of the Great Giving (1995)", "V", []),
    ]
    movielens_import(directory=recbole_write(tmp_path, items=items, ratings=RATINGS[:1]))

    assert Item.objects.get(external_id="1").year is None
    land = Item.objects.get(external_id="2")
    assert (land.title, land.year) == ("Land Before Time III: The Time of the Great Giving", 1995)


@pytest.mark.django_db
def test_recbole_year_that_is_no_year_names_line_and_field(tmp_path: Path) -> None:
    items = [("1", "", "", "Toy Story", "1995", []), ("7", "", "", "Heat", "199x", [])]
    with pytest.raises(ImportDataError) as error:
        movielens_import(directory=recbole_write(tmp_path, items=items, ratings=[]))
    assert str(error.value) == "ml.item line 3, field release_year: '199x' is not an integer"


@pytest.mark.django_db
def test_real_ml_100k_imports_every_row(ml100k_dir: Path) -> None:
    report = movielens_import(directory=ml100k_dir)

    assert (report.members.created, report.items.created, report.ratings.created) == (
        943, 1682, 100_000
    )  # fmt: skip
    assert (Member.objects.count(), Item.objects.count(), Rating.objects.count()) == (
        943, 1682, 100_000
    )  # fmt: skip
    assert Item.objects.get(external_id="1").to_dict() == {
        "item_id": "1",
        "title": "Toy Story",
        "year": 1995,
        "genres": ["Animation", "Children's", "Comedy"],
        "description": "",
    }


def test_folder_without_movielens_files_says_which_files_it_expected(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text("member_id,item_id,rating\n")
    with pytest.raises(ImportDataError) as error:
        movielens_import(directory=tmp_path)
    message = str(error.value)
    assert str(tmp_path) in message
    assert (
        "u.data, u.item and u.user" in message and "NAME.inter, NAME.item and NAME.user" in message
    )


def test_incomplete_layout_names_the_missing_file(tmp_path: Path) -> None:
    grouplens_write(tmp_path)
    (tmp_path / "u.user").unlink()
    with pytest.raises(ImportDataError, match="GroupLens layout is missing u.user"):
        movielens_import(directory=tmp_path)


@pytest.mark.django_db(transaction=True)
def test_utf8_u_item_is_refused_and_nothing_is_written(tmp_path: Path, db_snapshot) -> None:
    movielens_import(directory=grouplens_write(tmp_path))
    before = db_snapshot()
    grouplens_write(tmp_path, users=[("1", "99", "F", "doctor", "00000"), *USERS[1:]])
    u_item = (tmp_path / "u.item").read_bytes().decode("latin-1").encode("utf-8")
    (tmp_path / "u.item").write_bytes(u_item)

    with pytest.raises(ImportDataError) as error:
        movielens_import(directory=tmp_path)

    assert str(error.value).startswith("u.item line 2: not valid Latin-1")
    assert db_snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_rating_out_of_range_is_refused_and_nothing_is_written(tmp_path: Path, db_snapshot) -> None:
    movielens_import(directory=recbole_write(tmp_path))
    before = db_snapshot()
    ratings = [("1", "1", "1", "874965758"), ("2", "3", "7", "888550871")]
    recbole_write(tmp_path, users=[("1", "99", "F", "doctor", "00000")], ratings=ratings)

    with pytest.raises(ImportDataError) as error:
        movielens_import(directory=tmp_path)

    assert str(error.value) == "ml.inter line 3, field rating: '7' is out of range 0-5"
    assert (error.value.source, error.value.line, error.value.field) == ("ml.inter", 3, "rating")
    assert db_snapshot() == before
    report = movielens_import(directory=tmp_path, rating_scale=(1, 10))
    assert (report.members.updated, report.ratings.updated) == (1, 2)


@pytest.mark.django_db
def test_command_prints_counts_and_turns_bad_data_into_a_command_error(tmp_path: Path) -> None:
    out = StringIO()
    call_command("import_movielens", str(grouplens_write(tmp_path / "ok")), stdout=out)
    assert "members: 2 created, 0 updated, 0 unchanged" in out.getvalue()
    assert "ratings: 3 created, 0 updated, 0 unchanged" in out.getvalue()

    bad = grouplens_write(tmp_path / "bad", ratings=[("1", "1", "5", "yesterday")])
    with pytest.raises(CommandError, match=r"u.data line 1, field timestamp: 'yesterday' is"):
        call_command("import_movielens", str(bad), stdout=StringIO())
