"""Train / test splits: sizes, what is held out, and that test data never reaches training."""

from __future__ import annotations

import numpy as np
import pytest

from ml.evaluation.splits import (
    cold_member_split,
    random_split,
    temporal_split,
    validation_split,
)
from ml.recommenders.ease import EASE
from ml.recommenders.popularity import Popularity

N_USERS, N_ITEMS = 30, 40
N_RATED = 35  # items 35-39 are never rated: room to plant a distinctive one


def ratings(seed: int = 0) -> tuple[np.ndarray, ...]:
    """Member m rated m + 1 distinct items (member 0 just one), at integer times with ties."""
    rng = np.random.default_rng(seed)
    users, items = [], []
    for m in range(N_USERS):
        users += [m] * (m + 1)
        items += list(rng.choice(N_RATED, size=m + 1, replace=False))
    users, items = np.array(users), np.array(items)
    values = rng.integers(1, 6, size=len(users)).astype(float)
    timestamps = rng.integers(0, 10, size=len(users)).astype(float)  # many ties
    return users, items, values, timestamps


def per_member(matrix) -> np.ndarray:
    return np.diff(matrix.indptr)


def test_temporal_split_holds_out_a_fifth_of_each_member_at_least_one() -> None:
    split = temporal_split(*ratings(), N_USERS, N_ITEMS)
    n = per_member(split.train) + per_member(split.test)
    expected = np.where(n >= 2, np.clip(np.floor(0.2 * n + 1e-9), 1, n - 1), 0)
    np.testing.assert_array_equal(per_member(split.test), expected)
    assert per_member(split.test)[0] == 0  # one rating: stays in train
    assert per_member(split.test)[4] == 1 and per_member(split.test)[9] == 2  # 5 -> 1, 10 -> 2
    assert split.train.shape == split.test.shape == (N_USERS, N_ITEMS)
    np.testing.assert_array_equal(split.evaluated, per_member(split.test) > 0)


def test_temporal_split_holds_out_exactly_the_latest_ratings_deterministically() -> None:
    data = ratings()
    split = temporal_split(*data, N_USERS, N_ITEMS)
    for m in range(1, N_USERS):
        test_times = split.test_timestamps[m].data
        train_times = split.train_timestamps[m].data
        assert test_times.min() >= train_times.max()
    again = temporal_split(*data, N_USERS, N_ITEMS)
    assert (split.test != again.test).nnz == 0
    # Shuffling the input rows changes nothing: ties are broken by (member, item), not order.
    perm = np.random.default_rng(1).permutation(len(data[0]))
    shuffled = temporal_split(*(a[perm] for a in data), N_USERS, N_ITEMS)
    assert (split.test != shuffled.test).nnz == 0


def test_random_split_has_the_same_sizes_and_depends_on_the_seed_only() -> None:
    data = ratings()
    temporal = temporal_split(*data, N_USERS, N_ITEMS)
    a = random_split(*data, N_USERS, N_ITEMS, random_state=3)
    b = random_split(*data, N_USERS, N_ITEMS, random_state=3)
    c = random_split(*data, N_USERS, N_ITEMS, random_state=4)
    np.testing.assert_array_equal(per_member(a.test), per_member(temporal.test))
    assert (a.test != b.test).nnz == 0
    assert (a.test != c.test).nnz > 0
    assert (a.train.multiply(a.test)).nnz == 0  # no pair on both sides
    assert a.train.nnz + a.test.nnz == len(data[0])


def test_cold_member_split_empties_the_train_rows_of_held_out_members() -> None:
    split = cold_member_split(*ratings(), N_USERS, N_ITEMS, member_fraction=0.2, random_state=0)
    cold = split.evaluated
    assert cold.sum() == 6  # 20% of 30 active members
    assert np.all(per_member(split.train)[cold] == 0)
    np.testing.assert_array_equal(per_member(split.test)[cold], np.arange(1, 31)[cold])
    assert np.all(per_member(split.test)[~cold] == 0)


def test_validation_split_comes_from_train_only() -> None:
    split = temporal_split(*ratings(), N_USERS, N_ITEMS)
    valid = validation_split(split.train, split.train_timestamps, method="temporal")
    assert valid.train.nnz + valid.test.nnz == split.train.nnz
    assert valid.test.multiply(split.test).nnz == 0
    assert (abs(valid.train + valid.test - split.train) > 0).nnz == 0
    with pytest.raises(ValueError, match="timestamps"):
        validation_split(split.train, method="temporal")


def test_duplicate_ratings_are_refused() -> None:
    users, items, values, ts = ratings()
    with pytest.raises(ValueError, match="twice"):
        temporal_split(
            np.r_[users, users[:1]],
            np.r_[items, items[:1]],
            np.r_[values, 1.0],
            np.r_[ts, 0.0],
            N_USERS,
            N_ITEMS,
        )


def test_a_planted_held_out_rating_changes_nothing_fitted_on_train() -> None:
    users, items, values, ts = ratings()
    # Member 8 has 9 ratings (1 held out). A 10th, latest, on an item nobody else rated,
    # makes it hold out 2: the planted one and the same latest one as before.
    spare = N_RATED
    planted = (np.r_[users, 8], np.r_[items, spare], np.r_[values, 5.0], np.r_[ts, 100.0])
    base = temporal_split(users, items, values, ts, N_USERS, N_ITEMS)
    leak = temporal_split(*planted, N_USERS, N_ITEMS)
    assert leak.test[8, spare] == 5.0
    assert (base.train != leak.train).nnz == 0
    np.testing.assert_array_equal(
        Popularity().fit(base.train).item_scores_, Popularity().fit(leak.train).item_scores_
    )
    np.testing.assert_array_equal(EASE(l2=2.0).fit(base.train).B_, EASE(l2=2.0).fit(leak.train).B_)
