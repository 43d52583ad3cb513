"""Fetching MovieLens-100K: GroupLens zip first, recbole wheel second, cached after that.

No network here: the "downloads" are zips built in tmp_path and reached through file://
URLs or a local wheel path; the PyPI download itself is exercised by hand.
"""

from __future__ import annotations

import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from catalog.services.fetch import DemoDataError, movielens_100k_fetch
from catalog.services.imports import movielens_import

RECBOLE_FILES = {
    "ml-100k.user": "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
    "1\t24\tM\ttechnician\t85711\n",
    "ml-100k.item": "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
    "1\tToy Story\t1995\tAnimation Children's Comedy\n",
    "ml-100k.inter": "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    "1\t1\t5\t874965758\n",
}


def wheel_build(path: Path, files: dict[str, str] = RECBOLE_FILES) -> Path:
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("recbole/__init__.py", "")
        for name, text in files.items():
            wheel.writestr(f"recbole/dataset_example/ml-100k/{name}", text)
    return path


def unreachable(tmp_path: Path) -> str:
    return (tmp_path / "no-such-download.zip").as_uri()


def test_wheel_is_used_when_grouplens_is_unreachable_and_then_cached(tmp_path: Path) -> None:
    wheel = wheel_build(tmp_path / "recbole-1.2.1-py3-none-any.whl")
    said: list[str] = []

    folder = movielens_100k_fetch(
        dest=tmp_path / "data", url=unreachable(tmp_path), wheel=wheel, echo=said.append
    )

    assert folder == tmp_path / "data" / "ml-100k"
    assert sorted(p.name for p in folder.iterdir()) == sorted(RECBOLE_FILES)
    assert (folder / "ml-100k.item").read_text() == RECBOLE_FILES["ml-100k.item"]
    assert "recbole-1.2.1-py3-none-any.whl" in said[-1] and "no-such-download.zip" in said[-1]

    wheel.unlink()  # a second fetch that tried any source would now fail
    again = movielens_100k_fetch(
        dest=tmp_path / "data", url=unreachable(tmp_path), wheel=wheel, echo=said.append
    )
    assert again == folder
    assert said[-1] == f"MovieLens-100K already in {folder}"


def test_grouplens_zip_is_used_when_reachable(tmp_path: Path) -> None:
    archive = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in ("u.data", "u.item", "u.user", "README"):
            zipped.writestr(f"ml-100k/{name}", f"{name} content\n")

    folder = movielens_100k_fetch(dest=tmp_path / "data", url=archive.as_uri(), echo=print)

    assert sorted(p.name for p in folder.iterdir()) == ["u.data", "u.item", "u.user"]
    assert (folder / "u.item").read_text() == "u.item content\n"


def test_an_incomplete_folder_is_fetched_again(tmp_path: Path) -> None:
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    (folder / "ml-100k.inter").write_text("")  # an interrupted earlier attempt
    wheel = wheel_build(tmp_path / "recbole.whl")

    movielens_100k_fetch(dest=tmp_path, url=unreachable(tmp_path), wheel=wheel, echo=print)

    assert (folder / "ml-100k.inter").read_text() == RECBOLE_FILES["ml-100k.inter"]


def test_failure_names_every_source_tried(tmp_path: Path) -> None:
    wheel = wheel_build(tmp_path / "recbole.whl", files={"ml-100k.user": "x\n"})

    with pytest.raises(DemoDataError) as error:
        movielens_100k_fetch(dest=tmp_path, url=unreachable(tmp_path), wheel=wheel, echo=print)

    message = str(error.value)
    assert "no-such-download.zip" in message
    assert "recbole.whl has no recbole/dataset_example/ml-100k/ml-100k.inter" in message
    assert not (tmp_path / "ml-100k" / "ml-100k.inter").exists()


@pytest.mark.django_db
def test_fetched_files_import_and_the_command_prints_the_folder(tmp_path: Path) -> None:
    wheel = wheel_build(tmp_path / "recbole.whl")
    movielens_100k_fetch(dest=tmp_path, url=unreachable(tmp_path), wheel=wheel, echo=print)
    out = StringIO()

    call_command(
        "fetch_movielens", f"--dest={tmp_path}", "--print-dir", stdout=out, stderr=StringIO()
    )

    folder = Path(out.getvalue().strip())
    assert folder == tmp_path / "ml-100k"
    report = movielens_import(directory=folder)
    assert (report.members.created, report.items.created, report.ratings.created) == (1, 1, 1)
