"""SequentialRecommender on tiny time-ordered histories whose next item is known.

Every member walks the catalogue in a cycle (item i is always followed by item i + 1), from a
random start, so the right next item for each member is the one after their latest.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from ml.recommenders.sequential import SequentialRecommender, sequences_from_csr

N_ITEMS, N_MEMBERS, LENGTH = 20, 40, 8
# small and fast: the pattern is first-order, so one block and next-item loss suffice
FAST = {
    "hidden": 32,
    "n_layers": 1,
    "max_len": 10,
    "batch_size": 8,
    "dropout": 0.0,
    "lr": 1e-2,
    "horizon": 1,
    "ema_decay": 0.0,
    "n_epochs": 40,
    "device": "cpu",
}


def _matrices(
    rows: np.ndarray, cols: np.ndarray, times: np.ndarray, shape: tuple[int, int]
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    X = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
    T = sp.csr_matrix((times.astype(float), (rows, cols)), shape=shape)
    return X, T


@pytest.fixture(scope="module")
def cycles() -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    """Members' histories as (X, timestamps) and each member's true next item."""
    starts = np.random.default_rng(0).integers(N_ITEMS, size=N_MEMBERS)
    rows = np.repeat(np.arange(N_MEMBERS), LENGTH)
    cols = ((starts[:, None] + np.arange(LENGTH)) % N_ITEMS).ravel()
    # later ratings get earlier item ids at wrap-around, so only timestamps give the order
    times = 1_000 + np.tile(np.arange(LENGTH), N_MEMBERS) * 60
    X, T = _matrices(rows, cols, times, (N_MEMBERS, N_ITEMS))
    return X, T, (starts + LENGTH) % N_ITEMS


@pytest.fixture(scope="module")
def fitted(cycles) -> SequentialRecommender:
    X, T, _ = cycles
    return SequentialRecommender(**FAST, random_state=0).fit(X, timestamps=T)


def test_ranks_the_true_next_item_first(fitted, cycles):
    _, _, next_item = cycles
    items, _ = fitted.recommend(np.arange(N_MEMBERS), 1)
    assert np.mean(items[:, 0] == next_item) >= 0.9


def test_recommend_never_returns_seen_items(fitted, cycles):
    X, _, _ = cycles
    items, _ = fitted.recommend(np.arange(N_MEMBERS), 10)
    for member, row in enumerate(items):
        assert not set(row) & set(X[member].indices)


def test_recommend_returns_k_distinct_items_when_k_unseen_exist(fitted):
    items, scores = fitted.recommend(np.arange(N_MEMBERS), 5)
    assert items.shape == (N_MEMBERS, 5)
    assert (items >= 0).all() and np.isfinite(scores).all()
    assert all(len(set(row)) == 5 for row in items)


def test_recommend_pads_when_fewer_than_k_items_are_unseen():
    rows = np.zeros(4, dtype=int)
    X, T = _matrices(rows, np.arange(4), np.arange(4), (1, 6))
    model = SequentialRecommender(**{**FAST, "n_epochs": 1}).fit(X, timestamps=T)
    items, scores = model.recommend(np.array([0]), 4)
    assert sorted(items[0, :2]) == [4, 5]
    assert (items[0, 2:] == -1).all() and np.isneginf(scores[0, 2:]).all()


def test_scores_are_float32_for_every_item(fitted):
    scores = fitted.score(np.array([0, 3]))
    assert scores.dtype == np.float32 and scores.shape == (2, N_ITEMS)


def test_same_random_state_gives_same_scores_on_cpu(cycles):
    X, T, _ = cycles
    params = {**FAST, "n_epochs": 3}

    def scores(seed: int) -> np.ndarray:
        model = SequentialRecommender(**params, random_state=seed).fit(X, timestamps=T)
        return model.score(np.arange(N_MEMBERS))

    first = scores(7)
    np.testing.assert_array_equal(first, scores(7))
    assert not np.array_equal(first, scores(8))


def test_early_stopping_keeps_the_best_validation_epoch(cycles):
    X, T, next_item = cycles
    validation = sp.csr_matrix(
        (np.ones(N_MEMBERS), (np.arange(N_MEMBERS), next_item)), shape=X.shape
    )
    params = {**FAST, "n_epochs": 30, "patience": 3, "lr": 3e-3}
    model = SequentialRecommender(**params).fit(X, timestamps=T, validation=validation)
    assert 1 <= len(model.history_) < 30  # stopped early
    assert model.best_epoch_ == int(np.argmax(model.history_)) + 1
    assert model._validation_ndcg(validation) == pytest.approx(max(model.history_))


def test_multi_item_horizon_with_weight_averaging_learns_the_pattern(cycles):
    X, T, next_item = cycles
    params = {**FAST, "horizon": 3, "ema_decay": 0.9, "n_epochs": 50}
    model = SequentialRecommender(**params).fit(X, timestamps=T)
    items, _ = model.recommend(np.arange(N_MEMBERS), 1)
    assert np.mean(items[:, 0] == next_item) >= 0.8


def test_fitted_model_survives_pickling(fitted):
    restored = pickle.loads(pickle.dumps(fitted))
    users = np.arange(5)
    np.testing.assert_array_equal(restored.score(users), fitted.score(users))


def test_member_without_history_gets_finite_scores():
    X, T = _matrices(np.array([0, 0, 0]), np.array([1, 2, 3]), np.arange(3), (2, 5))
    model = SequentialRecommender(**{**FAST, "n_epochs": 1}).fit(X, timestamps=T)
    assert np.isfinite(model.score(np.array([1]))).all()


def test_sequences_follow_time_then_item_index():
    rows = np.array([0, 0, 0, 0, 1])
    X, T = _matrices(rows, np.array([4, 1, 3, 0, 2]), np.array([5, 9, 5, 1, 3]), (3, 5))
    sequences = sequences_from_csr(X, T)
    assert [s.tolist() for s in sequences] == [[0, 3, 4, 1], [2], []]


def test_timestamps_must_cover_exactly_the_ratings():
    X, T = _matrices(np.array([0, 0]), np.array([0, 1]), np.array([1, 2]), (1, 3))
    T_other = sp.csr_matrix((np.array([1.0, 2.0]), (np.array([0, 0]), np.array([0, 2]))), (1, 3))
    with pytest.raises(ValueError):
        SequentialRecommender(**FAST).fit(X, timestamps=T_other)


@pytest.mark.parametrize("bad", [{"hidden": 30, "n_heads": 4}, {"dropout": 1.0}, {"horizon": 0}])
def test_invalid_parameters_are_rejected_in_fit(cycles, bad):
    X, T, _ = cycles
    model = SequentialRecommender(**{**FAST, **bad})
    with pytest.raises(ValueError):
        model.fit(X, timestamps=T)
