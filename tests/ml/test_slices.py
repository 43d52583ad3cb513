"""One split for every slice: cold members and new items held out whole, the rest by time."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ml.evaluation.slices import SliceSplit, slice_metrics, slice_split
from ml.evaluation.splits import Split


def ratings(n_users: int = 40, n_items: int = 30, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    pairs = {(u, i) for u in range(n_users) for i in rng.choice(n_items, 8, replace=False)}
    u, i = map(np.array, zip(*sorted(pairs), strict=True))
    return u, i, rng.integers(1, 6, len(u)).astype(float), rng.random(len(u)) * 1e6


def test_cold_members_and_new_items_keep_no_training_rating() -> None:
    u, i, v, t = ratings()
    sliced = slice_split(u, i, v, t, 40, 30, member_fraction=0.2, item_fraction=0.1)
    train, test = sliced.split.train, sliced.split.test

    assert sliced.cold_members.sum() == 8 and sliced.new_items.sum() >= 3
    assert np.diff(train.indptr)[sliced.cold_members].sum() == 0
    assert np.bincount(train.indices, minlength=30)[sliced.new_items].sum() == 0
    # Every rating is on exactly one side.
    assert train.nnz + test.nnz == len(u)
    assert train.multiply(test).nnz == 0
    # The other members keep their earliest ratings for training, their latest for test.
    ts_train, ts_test = sliced.split.train_timestamps, sliced.split.test_timestamps
    for m in np.flatnonzero(~sliced.cold_members):
        kept = ts_train[m].data
        later = ts_test[m].data[~sliced.new_items[ts_test[m].indices]]
        if len(kept) and len(later):
            assert kept.max() <= later.min()


def test_slice_metrics_score_each_slice_against_its_own_ratings() -> None:
    # Member 0 has 3 training ratings (bucket 1-5), member 1 none (cold); item 3 is new.
    train = sp.csr_matrix(([5.0, 5.0, 5.0], ([0, 0, 0], [0, 1, 2])), shape=(2, 6))
    test = sp.csr_matrix(([5.0, 5.0, 5.0, 5.0], ([0, 0, 1, 1], [3, 4, 3, 5])), shape=(2, 6))
    split = Split(train, test, train, test, np.array([True, True]))
    new = np.array([False, False, False, True, False, False])
    sliced = SliceSplit(split, np.array([False, True]), new)
    recs = np.array([[4, 3], [5, 0]])

    out = slice_metrics(recs, np.array([0, 1]), sliced, k=2)

    assert out["warm"] == {"members": 1, "ndcg@2": 1.0}  # item 4 first: its only old item
    assert out["bucket 1-5"]["members"] == 1 and out["bucket 21+"]["members"] == 0
    assert out["cold members"]["members"] == 1
    # Member 0 found new item 3, member 1 did not: recall 0.5 over both.
    assert out["new items"] == {"members": 2, "recall@2": 0.5}
