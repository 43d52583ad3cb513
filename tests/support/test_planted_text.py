"""Text-rich planted data: tastes live only in the texts' meaning, never in shared words."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

from tests.support.planted import GENRES, OCCUPATIONS
from tests.support.planted_text import (
    ITEM_FRAMES,
    PROFILE_FRAMES,
    STOPWORDS,
    TOPICS,
    TextRichData,
    make_text_rich,
    write_csv,
)


@pytest.fixture(scope="module")
def data() -> TextRichData:
    return make_text_rich(n_members=2000, n_items=800, random_state=3)


def _words(text: str) -> set[str]:
    # Written out here rather than imported, so the test pins what "content word" means.
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) >= 4 and w not in STOPWORDS}


def _chi2(labels: list, groups: np.ndarray) -> tuple[float, int]:
    """Pearson's chi-squared of the label x group contingency table and its degrees of freedom."""
    values = sorted(set(labels))
    index = {v: i for i, v in enumerate(values)}
    table = np.zeros((len(values), int(groups.max()) + 1))
    np.add.at(table, ([index[v] for v in labels], groups), 1)
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
    dof = (table.shape[0] - 1) * (table.shape[1] - 1)
    return float(((table - expected) ** 2 / expected).sum()), dof


def _assert_independent(labels: list, groups: np.ndarray) -> None:
    # Under independence chi2 has mean dof and sd sqrt(2 dof): 5 sd is far beyond chance.
    stat, dof = _chi2(labels, groups)
    assert stat < dof + 5 * np.sqrt(2 * dof), (stat, dof)


def _fields(d: TextRichData) -> list:
    return [
        d.member_ids, d.item_ids, d.member_group.tolist(), d.item_group.tolist(), d.titles,
        d.years, d.genres, d.descriptions, d.ages, d.genders, d.occupations, d.locations,
        d.profiles, d.users.tolist(), d.items.tolist(), d.values.tolist(), d.timestamps.tolist(),
    ]  # fmt: skip


def test_same_seed_same_data_and_other_seed_differs() -> None:
    first = make_text_rich(n_members=300, n_items=120, random_state=7)
    again = make_text_rich(n_members=300, n_items=120, random_state=7)
    other = make_text_rich(n_members=300, n_items=120, random_state=8)
    assert _fields(first) == _fields(again)
    assert _fields(first) != _fields(other)


def test_shapes_ranges_and_balanced_groups(data) -> None:
    assert len(TOPICS) == 8
    assert len(data.member_ids) == len(set(data.member_ids)) == 2000
    assert len(data.item_ids) == len(set(data.item_ids)) == 800
    for column in (data.ages, data.genders, data.occupations, data.locations, data.profiles):
        assert len(column) == 2000
    for column in (data.titles, data.years, data.genres, data.descriptions):
        assert len(column) == 800
    assert np.bincount(data.member_group).tolist() == [250] * 8
    assert np.bincount(data.item_group).tolist() == [100] * 8
    n = len(data.users)
    assert data.items.shape == data.values.shape == data.timestamps.shape == (n,)
    assert data.users.min() == 0 and data.users.max() == 1999
    assert 0 <= data.items.min() and data.items.max() < 800
    assert set(np.unique(data.values).tolist()) <= {1, 2, 3, 4, 5}
    assert min(data.ages) >= 15 and max(data.ages) <= 70
    assert set(data.genders) == {"M", "F"} and set(data.occupations) <= set(OCCUPATIONS)
    assert all(re.fullmatch(r"\d{5}", zip_code) for zip_code in data.locations)
    assert min(data.years) >= 1970 and max(data.years) <= 2020
    assert all(1 <= len(g) <= 2 and set(g) <= set(GENRES) - {"unknown"} for g in data.genres)
    assert len(data.item_texts()) == 800 and data.item_texts()[0].endswith(data.descriptions[0])
    assert len(data.profile_texts()) == 2000 and data.profile_texts()[0].endswith(data.profiles[0])


def test_small_catalogue_gives_every_group_items_and_members() -> None:
    small = make_text_rich(n_members=160, n_items=96, n_groups=8, random_state=1)
    assert np.bincount(small.member_group, minlength=8).min() == 20
    assert np.bincount(small.item_group, minlength=8).min() == 12
    assert np.bincount(small.users, minlength=160).min() >= 2
    pairs = set(zip(small.users.tolist(), small.items.tolist(), strict=True))
    assert len(pairs) == len(small.users)


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="n_groups"):
        make_text_rich(n_groups=9)
    with pytest.raises(ValueError, match="n_items"):
        make_text_rich(n_members=50, n_items=4, n_groups=8)


def _of_group(texts: list[str], labels: np.ndarray, group: int) -> list[str]:
    return [text for text, label in zip(texts, labels, strict=True) if label == group]


def test_item_and_profile_words_are_disjoint_within_each_topic(data) -> None:
    assert len(STOPWORDS) < 80  # function words only
    for group, topic in enumerate(TOPICS):
        item_words = set().union(*map(_words, _of_group(data.descriptions, data.item_group, group)))
        profile_words = set().union(
            *map(_words, _of_group(data.profiles, data.member_group, group))
        )
        assert len(item_words) > 40 and len(profile_words) > 40, topic
        assert not item_words & profile_words, (topic, sorted(item_words & profile_words))


def test_texts_vary_within_each_topic(data) -> None:
    assert len(ITEM_FRAMES) >= 4 and len(PROFILE_FRAMES) >= 4
    for group in range(8):
        assert len(set(_of_group(data.descriptions, data.item_group, group))) >= 40
        assert len(set(_of_group(data.profiles, data.member_group, group))) >= 40


def test_titles_genres_and_demographics_carry_no_group_signal(data) -> None:
    groups = data.item_group
    _assert_independent(data.titles, groups)
    _assert_independent([t.split()[-2] for t in data.titles], groups)
    genre_labels = [g for genres in data.genres for g in genres]
    genre_groups = np.repeat(groups, [len(g) for g in data.genres])
    _assert_independent(genre_labels, genre_groups)
    _assert_independent([y // 10 for y in data.years], groups)
    counts: dict[str, set[int]] = {}
    for title, group in zip(data.titles, groups, strict=True):
        counts.setdefault(title, set()).add(int(group))
    uses = {title: (data.titles.count(title), len(g)) for title, g in counts.items()}
    assert all(n_groups > 1 for n_uses, n_groups in uses.values() if n_uses >= 6)
    members = data.member_group
    _assert_independent([a // 10 for a in data.ages], members)
    _assert_independent(data.genders, members)
    _assert_independent(data.occupations, members)
    _assert_independent([z[0] for z in data.locations], members)


def test_history_lengths_mix_short_medium_and_long(data) -> None:
    lengths = np.bincount(data.users, minlength=2000)
    assert lengths.min() >= 2 and lengths.max() <= 60
    short, medium = np.mean(lengths <= 5), np.mean((lengths > 5) & (lengths <= 20))
    long = np.mean(lengths > 20)
    assert 0.2 < short < 0.3 and 0.2 < medium < 0.3 and 0.45 < long < 0.55


def test_ratings_favour_own_group_items(data) -> None:
    own = data.item_group[data.items] == data.member_group[data.users]
    assert 0.78 < own.mean() < 0.86  # 0.8 planted plus random picks that land in the group
    assert data.values[own].mean() > 4.0 and data.values[~own].mean() < 2.5
    pairs = set(zip(data.users.tolist(), data.items.tolist(), strict=True))
    assert len(pairs) == len(data.users)
    # Popularity within a group is skewed: its top item draws far more than the median one.
    group_items = np.flatnonzero(data.item_group == 0)
    counts = np.bincount(data.items[own], minlength=800)[group_items]
    assert counts.max() > 3 * np.median(counts)


def test_timestamps_increase_per_member_from_2020(data) -> None:
    assert data.timestamps.min() >= 1_577_836_800
    assert np.all(np.diff(data.users) >= 0)
    same = np.diff(data.users) == 0
    assert np.all(np.diff(data.timestamps)[same] > 0)
    long_member = int(np.argmax(np.bincount(data.users)))
    times = data.timestamps[data.users == long_member]
    assert times.max() - times.min() > 60 * 86_400  # a long history spans months


def test_write_csv_round_trip_respects_keep_ratings(tmp_path) -> None:
    small = make_text_rich(n_members=160, n_items=96, random_state=2)
    keep = ~np.isin(small.users, [0, 1, 2]) & ~np.isin(small.items, [5])
    paths = write_csv(small, tmp_path / "out", keep_ratings=keep)
    assert set(paths) == {"members", "items", "ratings"}

    def read(name: str) -> list[dict[str, str]]:
        with open(paths[name], encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    members, items, ratings = read("members"), read("items"), read("ratings")
    assert list(members[0]) == ["member_id", "age", "gender", "occupation", "location", "profile"]
    assert list(items[0]) == ["item_id", "title", "year", "genres", "description"]
    assert list(ratings[0]) == ["member_id", "item_id", "rating", "timestamp"]
    assert [m["member_id"] for m in members] == small.member_ids
    assert [m["profile"] for m in members] == small.profiles
    assert [int(m["age"]) for m in members] == small.ages
    assert [i["description"] for i in items] == small.descriptions
    assert [tuple(i["genres"].split("|")) for i in items] == small.genres
    assert len(ratings) == int(keep.sum()) < len(small.users)
    written = {(r["member_id"], r["item_id"]) for r in ratings}
    assert not {m for m, _ in written} & set(small.member_ids[:3])
    assert small.item_ids[5] not in {i for _, i in written}
    first = int(np.flatnonzero(keep)[0])
    assert ratings[0] == {
        "member_id": small.member_ids[small.users[first]],
        "item_id": small.item_ids[small.items[first]],
        "rating": str(small.values[first]),
        "timestamp": str(small.timestamps[first]),
    }
    everything = write_csv(small, tmp_path / "all")
    with open(everything["ratings"], encoding="utf-8") as handle:
        assert sum(1 for _ in handle) == len(small.users) + 1
    with pytest.raises(ValueError, match="keep_ratings"):
        write_csv(small, tmp_path / "bad", keep_ratings=np.ones(3, dtype=bool))
