"""Blends: per-member normalisation, which component speaks for an item, weight tuning."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ml.evaluation.splits import random_split
from ml.recommenders.blend import Blend, normalise_scores, tune_weights
from ml.recommenders.ease import EASE
from ml.recommenders.popularity import Popularity


def checkerboard_ratings(n_members: int = 40, n_items: int = 20) -> tuple[np.ndarray, ...]:
    """Even members rate items 0-9, odd ones 10-19 (all of their half), as rating arrays.

    Items 0 and 10 are rated by everyone of the other half too, so popularity alone favours
    them for everybody while only half of their raters share a taste.
    """
    users, items = [], []
    for m in range(n_members):
        half = (n_items // 2) * (m % 2)
        own = list(range(half, half + n_items // 2))
        other = [n_items // 2 - half]  # 10 for even members, 0 for odd
        users += [m] * (len(own) + 1)
        items += own + other
    users, items = np.array(users), np.array(items)
    return users, items, np.full(len(users), 5.0), np.zeros(len(users)), n_members, n_items


def test_minmax_and_rank_normalise_over_unseen_items_only() -> None:
    scores = np.array([[1.0, 3.0, 5.0, 2.0]])
    seen = sp.csr_matrix(np.array([[0, 1, 0, 0]]))
    # Unseen scores 1, 5, 2: min 1, max 5 -> 0, 1, 0.25; the seen item gets 0.
    np.testing.assert_allclose(normalise_scores(scores, seen, "minmax"), [[0, 0, 1, 0.25]])
    # Ranks among the 3 unseen: 1 -> 0, 2 -> 0.5, 5 -> 1.
    np.testing.assert_allclose(normalise_scores(scores, seen, "rank"), [[0, 0, 1, 0.5]])


def test_blend_with_one_weighted_component_recommends_as_that_component() -> None:
    split = random_split(*checkerboard_ratings(), random_state=0)
    ease = EASE(l2=2.0).fit(split.train)
    pop = Popularity().fit(split.train)
    users = np.arange(40)
    only_ease = Blend({"ease": ease, "pop": pop}, {"ease": 1.0, "pop": 0.0}).fit(split.train)
    np.testing.assert_array_equal(only_ease.recommend(users, 3)[0], ease.recommend(users, 3)[0])


def test_contributions_name_the_component_that_added_most() -> None:
    split = random_split(*checkerboard_ratings(), random_state=0)
    ease = EASE(l2=2.0).fit(split.train)
    pop = Popularity().fit(split.train)
    blend = Blend({"ease": ease, "pop": pop}, {"ease": 1.0, "pop": 0.3}).fit(split.train)
    users = np.arange(40)
    items, _ = blend.recommend(users, 3)
    named = blend.contributions(users, items)
    assert named.shape == items.shape
    assert set(np.unique(named)) <= {"ease", "pop"}
    # With popularity weighted 0 every reason is EASE's; padding slots name nobody.
    quiet = Blend({"ease": ease, "pop": pop}, {"ease": 1.0, "pop": 0.0}).fit(split.train)
    padded = np.c_[items[:, :1], np.full((40, 1), -1)]
    reasons = quiet.contributions(users, padded)
    assert np.all(reasons[:, 0] == "ease") and np.all(reasons[:, 1] == "")
    assert quiet.explain(0, int(items[0, 0])) in set(split.train[0].indices)


def test_tune_weights_prefers_the_taste_model_on_a_checkerboard() -> None:
    split = random_split(*checkerboard_ratings(), random_state=0)
    components = {"ease": EASE(l2=2.0).fit(split.train), "pop": Popularity().fit(split.train)}
    grid = {"ease": [0.0, 1.0], "pop": [0.0, 1.0]}
    best, table = tune_weights(components, split.train, split.test, 3, grid)
    assert best == {"ease": 1.0, "pop": 0.0}
    assert len(table) == 3  # the all-zero combination is skipped
    ndcgs = [row["ndcg"] for row in table]
    assert ndcgs == sorted(ndcgs, reverse=True) and ndcgs[0] > ndcgs[-1]


def test_blend_refuses_unfitted_components_and_unknown_weights() -> None:
    split = random_split(*checkerboard_ratings(), random_state=0)
    with pytest.raises(ValueError, match="fitted"):
        Blend({"ease": EASE()}, {"ease": 1.0}).fit(split.train)
    pop = Popularity().fit(split.train)
    with pytest.raises(ValueError, match="typo"):
        Blend({"pop": pop}, {"typo": 1.0}).fit(split.train)


def test_bucket_weights_apply_to_members_of_that_history_length() -> None:
    # Member 0 has 2 ratings (bucket 1-5), member 1 has 8 (bucket 6-20).
    X = sp.csr_matrix((np.full(10, 5.0), ([0, 0] + [1] * 8, [0, 1, *range(2, 10)])), shape=(2, 12))
    parts = {"ease": EASE(l2=1.0).fit(X), "pop": Popularity().fit(X)}
    blend = Blend(parts, {"ease": 1.0}, bucket_weights={"1-5": {"pop": 1.0}}).fit(X)
    np.testing.assert_array_equal(blend.member_weights(np.array([0, 1])), [[0.0, 1.0], [1.0, 0.0]])
    assert set(blend.contributions(np.array([0]), blend.recommend(np.array([0]), 3)[0])[0]) == {
        "pop"
    }
