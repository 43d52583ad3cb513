"""Planted data: the segments show in the ratings, and the writers match both layouts."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.planted import GENRES, make_planted, write_grouplens, write_recbole

ML100K_GENRES = set(GENRES)


@pytest.fixture(scope="module")
def data():
    return make_planted(n_members=80, n_items=60, n_segments=4, ratings_per_member=(10, 20))


def test_planted_segments_are_balanced_and_rate_their_genres_higher(data) -> None:
    assert np.bincount(data.segments).tolist() == [20, 20, 20, 20]
    users, items, values, _ = data.arrays()
    fits = np.array(
        [
            bool(set(data.favourite_genres[data.segments[u]]) & set(data.items[i]["genres"]))
            for u, i in zip(users, items, strict=True)
        ]
    )
    assert values[fits].mean() > values[~fits].mean() + 1.5
    assert all(set(item["genres"]) <= ML100K_GENRES for item in data.items)
    assert len({item["title"] for item in data.items}) == len(data.items)


def test_planted_timestamps_increase_per_member(data) -> None:
    users, _, _, times = data.arrays()
    for member in (0, 1, 79):
        assert np.all(np.diff(times[users == member]) > 0)


def test_planted_demographics_lean_by_segment(data) -> None:
    ages = np.array([m["age"] for m in data.members])
    assert ages[data.segments == 3].min() > ages[data.segments == 0].max()  # noir fans are older


def test_recbole_writer_uses_the_ml100k_headers(data, tmp_path) -> None:
    paths = write_recbole(data, tmp_path, name="ml-planted")
    inter = paths["inter"].read_text().splitlines()
    assert inter[0] == "user_id:token\titem_id:token\trating:float\ttimestamp:float"
    assert len(inter) == len(data.ratings) + 1 and len(inter[1].split("\t")) == 4
    item = paths["item"].read_text().splitlines()
    assert item[0] == "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"
    first = item[1].split("\t")
    assert first[1] == data.items[0]["title"] and first[3].split(" ") == data.items[0]["genres"]
    user = paths["user"].read_text().splitlines()
    assert user[0] == "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token"
    assert len(user) == 81 and paths["user"].name == "ml-planted.user"


def test_grouplens_writer_uses_the_original_layout(data, tmp_path) -> None:
    paths = write_grouplens(data, tmp_path)
    rows = paths["data"].read_text(encoding="latin-1").splitlines()
    assert len(rows) == len(data.ratings) and len(rows[0].split("\t")) == 4
    fields = paths["item"].read_text(encoding="latin-1").splitlines()[0].split("|")
    assert len(fields) == 5 + 19
    item = data.items[0]
    assert fields[1] == f"{item['title']} ({item['year']})"
    flagged = [genre for genre, flag in zip(GENRES, fields[5:], strict=True) if flag == "1"]
    assert sorted(flagged) == sorted(item["genres"])
    member = data.members[0]
    assert paths["user"].read_text(encoding="latin-1").splitlines()[0] == (
        f"1|{member['age']}|{member['gender']}|{member['occupation']}|{member['zip']}"
    )
