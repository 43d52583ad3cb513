"""The recommenders on tiny synthetic data whose right answer is known."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ml.recommenders.base import Recommender
from ml.recommenders.blend import Blend
from ml.recommenders.content import ContentRecommender
from ml.recommenders.ease import EASE
from ml.recommenders.item_knn import ItemKNN
from ml.recommenders.popularity import Popularity
from ml.recommenders.segment_popularity import SegmentPopularity
from ml.recommenders.transitions import TransitionEASE

DAY = 86_400.0
N_HALF = 10  # items per half of the checkerboard


def checkerboard(n_members: int = 40) -> tuple[sp.csr_matrix, list[set[int]]]:
    """Even members like items 0-9, odd ones items 10-19; each hides 3 of their half.

    Returns the training matrix and each member's hidden items.
    """
    rows, cols, hidden = [], [], []
    for m in range(n_members):
        half = N_HALF * (m % 2)
        held = {half + (m + j * 3) % N_HALF for j in range(3)}
        liked = [half + j for j in range(N_HALF) if half + j not in held]
        rows += [m] * len(liked)
        cols += liked
        hidden.append(held)
    X = sp.csr_matrix((np.full(len(rows), 5.0), (rows, cols)), shape=(n_members, 2 * N_HALF))
    return X, hidden


def random_ratings(seed: int = 0) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """A small ratings matrix and timestamps with the same pattern; member 0 rated 10 of 12."""
    rng = np.random.default_rng(seed)
    dense = (rng.random((15, 12)) < 0.4) * rng.integers(1, 6, size=(15, 12))
    dense[0] = [5, 4, 3, 2, 1, 5, 4, 3, 2, 1, 0, 0]
    X = sp.csr_matrix(dense.astype(float))
    T = X.copy()
    T.data = 1e9 + rng.integers(0, 30, size=X.nnz) * DAY
    return X, T


def fitted_models(X: sp.csr_matrix, T: sp.csr_matrix) -> dict[str, Recommender]:
    segments = np.arange(X.shape[0]) % 3
    ease = EASE(l2=1.0).fit(X)
    pop = Popularity().fit(X)
    return {
        "popularity": pop,
        "popularity_decayed": Popularity(half_life_days=7.0).fit(X, timestamps=T),
        "segment_popularity": SegmentPopularity(shrinkage=2.0).fit(X, segments=segments),
        "item_knn": ItemKNN(n_neighbors=3).fit(X),
        "item_knn_recent": ItemKNN(history_half_life=2.0).fit(X, timestamps=T),
        "ease": ease,
        "ease_recent": EASE(l2=1.0, history_half_life=2.0).fit(X, timestamps=T),
        "content": ContentRecommender(np.eye(12) + 0.1).fit(X),
        "transitions": TransitionEASE(l2=1.0, window=3).fit(X, timestamps=T),
        "blend": Blend({"ease": ease, "pop": pop}, {"ease": 1.0, "pop": 0.5}).fit(X),
    }


@pytest.mark.parametrize("name", list(fitted_models(*random_ratings())))
def test_recommend_never_returns_seen_items_and_pads_when_too_few(name: str) -> None:
    X, T = random_ratings()
    model = fitted_models(X, T)[name]
    items, scores = model.recommend(np.arange(X.shape[0]), k=4)
    for m in range(X.shape[0]):
        seen = set(X[m].indices)
        shown = [i for i in items[m] if i >= 0]
        assert not seen & set(shown), f"{name} recommended a seen item to member {m}"
        assert len(shown) == min(4, 12 - len(seen)), f"{name} returned too few for member {m}"
    # Member 0 has exactly 2 unseen items: both, then two empty slots.
    assert set(items[0, :2]) == {10, 11}
    assert list(items[0, 2:]) == [-1, -1] and np.all(np.isneginf(scores[0, 2:]))


@pytest.mark.parametrize("model", [EASE(l2=5.0), ItemKNN(n_neighbors=20)])
def test_checkerboard_hidden_likes_rank_first(model: Recommender) -> None:
    X, hidden = checkerboard()
    items, _ = model.fit(X).recommend(np.arange(X.shape[0]), k=3)
    for m, held in enumerate(hidden):
        assert set(items[m]) == held, f"member {m}: got {items[m]}, hid {sorted(held)}"


@pytest.mark.parametrize("model", [EASE(l2=5.0), ItemKNN(n_neighbors=20)])
def test_explain_names_a_seen_item_of_the_same_half(model: Recommender) -> None:
    X, hidden = checkerboard()
    model.fit(X)
    for m in (0, 1, 7):
        reason = model.explain(m, min(hidden[m]))
        assert reason in set(X[m].indices)
        assert reason // N_HALF == m % 2


def test_ease_refuses_a_catalogue_above_max_items_naming_the_memory() -> None:
    X = sp.csr_matrix(np.ones((3, 6)))
    with pytest.raises(ValueError, match=r"max_items=5.*GB"):
        EASE(max_items=5).fit(X)


def test_ease_weights_solve_the_ridge_problem() -> None:
    # B = I - P / diag(P) with P = (G + l2 I)^-1 means (G + l2 I) B = G + l2 I - diag(1/diag P):
    # off the diagonal, (G + l2 I) B equals the Gram matrix G.
    X, _ = random_ratings()
    l2 = 3.0
    B = EASE(l2=l2).fit(X).B_.astype(np.float64)
    Xb = (X > 0).astype(np.float64).toarray()
    G = Xb.T @ Xb
    lhs = (G + l2 * np.eye(12)) @ B
    off = ~np.eye(12, dtype=bool)
    np.testing.assert_allclose(lhs[off], G[off], atol=1e-4)
    assert np.all(np.diag(B) == 0)


def test_item_knn_keeps_the_cosine_of_the_nearest_neighbours_only() -> None:
    X, _ = random_ratings()
    S = ItemKNN(n_neighbors=2, shrink=0.0).fit(X).similarity_
    assert np.all(np.diff(S.tocsc().indptr) <= 2)
    Xb = (X > 0).astype(np.float64).toarray()
    counts = Xb.sum(axis=0)
    cosine = (Xb.T @ Xb) / np.sqrt(np.outer(counts, counts))
    np.fill_diagonal(cosine, 0.0)
    rows, cols = S.nonzero()
    np.testing.assert_allclose(S[rows, cols].A1, cosine[rows, cols], rtol=1e-5)
    for j in range(12):  # what is kept in column j is its two largest similarities
        kept = np.sort(S[:, j].toarray().ravel())[-2:]
        np.testing.assert_allclose(kept, np.sort(cosine[:, j])[-2:], rtol=1e-5)


def test_item_knn_gives_the_same_similarity_whatever_the_block_size() -> None:
    X, _ = random_ratings()
    whole = ItemKNN(n_neighbors=4).fit(X).similarity_
    blocked = ItemKNN(n_neighbors=4, block_size=5).fit(X).similarity_  # blocks of 5, 5, 2
    assert abs(whole - blocked).max() == 0


def test_popularity_decay_lets_recent_items_overtake_old_favourites() -> None:
    # Item 0: two ratings 20 days before the latest -> 2 x 0.5^(20/10) = 0.5.
    # Item 1: one rating at the latest time -> 1.0. Plain counts: 2 vs 1.
    X = sp.csr_matrix(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    # Built from X's pattern so the zero timestamps stay stored.
    T = sp.csr_matrix((np.array([0.0, 0.0, 20 * DAY]), X.indices, X.indptr), shape=X.shape)
    np.testing.assert_allclose(Popularity().fit(X).item_scores_, [2.0, 1.0])
    decayed = Popularity(half_life_days=10.0).fit(X, timestamps=T).item_scores_
    np.testing.assert_allclose(decayed, [0.5, 1.0])


def test_segment_popularity_shrinks_rates_and_scores_cold_members_by_segment() -> None:
    # 4 members, segments [0, 0, 1, 1]; item 0 liked (>= 4) by members 0 and 1, item 1 by 2.
    X = sp.csr_matrix(np.array([[5.0, 0.0], [4.0, 2.0], [0.0, 5.0], [3.0, 0.0]]))
    model = SegmentPopularity(shrinkage=2.0).fit(X, segments=np.array([0, 0, 1, 1]))
    # Global like-rates: item 0 2/4 = 0.5, item 1 1/4 = 0.25.
    # Segment 0, item 0: (2 + 2 x 0.5) / (2 + 2) = 0.75; item 1: (0 + 0.5) / 4 = 0.125.
    # Segment 1, item 0: (0 + 1) / 4 = 0.25; item 1: (1 + 0.5) / 4 = 0.375.
    np.testing.assert_allclose(model.rates_, [[0.75, 0.125], [0.25, 0.375]])
    np.testing.assert_allclose(model.lift_, [[1.5, 0.5], [0.5, 1.5]])
    np.testing.assert_allclose(model.score_segments(np.array([1, 0])), model.rates_[[1, 0]])
    items, _ = model.recommend_segments(np.array([0, 1]), k=1)
    assert items[:, 0].tolist() == [0, 1]


def test_content_taste_leans_to_liked_items_and_explains_with_the_closest_liked() -> None:
    # Items 0 and 2 point one way, items 1 and 3 the other; the member loves 0, hates 1.
    emb = np.array([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1], [0.1, 0.9]])
    X = sp.csr_matrix(np.array([[5.0, 1.0, 0.0, 0.0]]))
    model = ContentRecommender(emb).fit(X)
    items, _ = model.recommend(np.array([0]), k=2)
    assert items[0].tolist() == [2, 3]
    assert model.explain(0, 2) == 0
    assert model.explain(0, 3) == 0  # the disliked item is never given as a reason


def test_recent_history_weights_the_latest_ratings_fully_and_ties_alike() -> None:
    # One member: items 0 and 1 rated at t=3 (latest, tied), item 2 at t=2, item 3 at t=1.
    X = sp.csr_matrix(np.ones((1, 4)))
    T = sp.csr_matrix(np.array([[3.0, 3.0, 2.0, 1.0]]))
    H = EASE(l2=1.0, history_half_life=1.0, history_floor=0.2).fit(X, timestamps=T).history_
    # Ages in later ratings: 0, 0, 2, 3 -> 0.2 + 0.8 x 0.5^age.
    np.testing.assert_allclose(H.toarray()[0], [1.0, 1.0, 0.4, 0.3])


def test_transitions_learn_what_comes_next() -> None:
    # Every member rates items 0, 1, ..., 7 in that order, starting at a different item.
    rows, cols, times = [], [], []
    for m in range(8):
        for step, item in enumerate(range(m % 4, 8)):
            rows.append(m)
            cols.append(item)
            times.append(step)
    X = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(12, 8))
    T = sp.csr_matrix((np.array(times, float), (rows, cols)), shape=(12, 8))
    # A new member who rated 0, 1, 2 (in order) should get 3 next.
    X = X.tolil()
    T = T.tolil()
    for step, item in enumerate([0, 1, 2]):
        X[10, item], T[10, item] = 1.0, float(step + 1)
    X, T = X.tocsr(), T.tocsr()
    model = TransitionEASE(l2=1.0, window=2, history_half_life=1.0).fit(X, timestamps=T)
    items, _ = model.recommend(np.array([10]), k=1)
    assert items[0, 0] == 3
    assert model.explain(10, 3) == 2  # the latest item leads to it


def test_fit_validates_parameters_clearly() -> None:
    X, T = random_ratings()
    with pytest.raises(ValueError, match="half_life_days"):
        Popularity(half_life_days=-1).fit(X, timestamps=T)
    with pytest.raises(ValueError, match="needs timestamps"):
        EASE(history_half_life=3.0).fit(X)
    with pytest.raises(ValueError, match="similarity"):
        ItemKNN(similarity="pearson").fit(X)
    with pytest.raises(ValueError, match="segments"):
        SegmentPopularity().fit(X, segments=np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="exactly the"):
        Popularity(half_life_days=1.0).fit(X, timestamps=sp.csr_matrix(np.roll(T.toarray(), 1)))
