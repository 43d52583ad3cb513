"""New items: unrated items scored through the rated items their text is closest to."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ml.evaluation.splits import validation_split
from ml.recommenders._sparse import liked_matrix
from ml.recommenders.ease import EASE
from ml.recommenders.new_items import NewItems, best_share, hide_items, share_scores

N_GROUPS, PER_GROUP, MEMBERS_PER_GROUP, DIM = 2, 12, 20, 16


def planted(seed: int = 0, text_noise: float = 0.3) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Two groups: members rate most of their group's items 5 and a couple of the other's 1;
    item texts lie near their group's direction. The last item of each group is unrated.

    Returns ratings, item embeddings and each member's group.
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(N_GROUPS, DIM))
    item_group = np.repeat(np.arange(N_GROUPS), PER_GROUP)
    emb = centres[item_group] + text_noise * rng.normal(size=(len(item_group), DIM))
    new = np.array([g * PER_GROUP + PER_GROUP - 1 for g in range(N_GROUPS)])
    member_group = np.repeat(np.arange(N_GROUPS), MEMBERS_PER_GROUP)
    rows, cols, vals = [], [], []
    for m, g in enumerate(member_group):
        own = [i for i in np.flatnonzero(item_group == g) if i not in new]
        other = [i for i in np.flatnonzero(item_group != g) if i not in new]
        picked = rng.choice(own, size=8, replace=False)
        disliked = rng.choice(other, size=2, replace=False)
        rows += [m] * 10
        cols += [*picked, *disliked]
        vals += [5.0] * 8 + [1.0] * 2
    X = sp.csr_matrix((vals, (rows, cols)), shape=(len(member_group), len(item_group)))
    return X, emb.astype(np.float32), member_group


def test_an_unrated_item_is_ranked_for_the_members_its_text_is_about() -> None:
    X, emb, member_group = planted()
    model = NewItems(EASE(l2=10.0).fit(X), emb, share=0.1).fit(X)
    items, _ = model.recommend(np.arange(X.shape[0]), 10)

    assert model.new_.tolist() == [i % PER_GROUP == PER_GROUP - 1 for i in range(X.shape[1])]
    new_of_group = np.flatnonzero(model.new_)
    # One slot in ten, the last one, holds the new item of the member's own group.
    np.testing.assert_array_equal(items[:, -1], new_of_group[member_group])
    assert not model.new_[items[:, :-1]].any()
    seen = X.toarray() > 0
    assert not seen[np.arange(len(items))[:, None], items].any()
    assert all(len(set(row)) == len(row) for row in items.tolist())


def test_without_a_share_lists_are_the_base_models() -> None:
    X, emb, _ = planted()
    base = EASE(l2=10.0).fit(X)
    model = NewItems(base, emb, share=0.0).fit(X)
    users = np.arange(X.shape[0])
    np.testing.assert_array_equal(model.recommend(users, 5)[0], base.recommend(users, 5)[0])


def test_the_neighbour_behind_a_new_item_is_never_a_disliked_one() -> None:
    X, emb, member_group = planted()
    model = NewItems(EASE(l2=10.0).fit(X), emb, share=0.1).fit(X)
    liked = liked_matrix(X)
    for member in range(X.shape[0]):
        disliked = np.setdiff1d(X[member].indices, liked[member].indices)
        for item in np.flatnonzero(model.new_):
            assert model.neighbour(member, item, exclude=disliked) not in disliked


def test_batch_neighbours_match_the_per_pick_answer() -> None:
    X, emb, _ = planted()
    model = NewItems(EASE(l2=10.0).fit(X), emb, share=0.1).fit(X)
    liked = liked_matrix(X)
    users = np.repeat(np.arange(X.shape[0]), model.new_.sum())
    items = np.tile(np.flatnonzero(model.new_), X.shape[0])
    affinity = model.text_affinities(np.arange(X.shape[0]))[users]
    expected = [
        model.neighbour(u, i, exclude=np.setdiff1d(X[u].indices, liked[u].indices))
        for u, i in zip(users.tolist(), items.tolist(), strict=True)
    ]
    assert model.neighbours(users, items, affinity).tolist() == expected
    assert np.allclose(affinity[0], model.text_affinity(0))


def test_validation_gives_new_items_a_share_only_when_their_text_tells() -> None:
    def chosen(emb: np.ndarray, X: sp.csr_matrix) -> tuple[float, float]:
        ts = X.copy()
        ts.data = np.arange(ts.nnz, dtype=np.float64)
        fold = validation_split(X, ts, method="random", random_state=0)
        train, train_ts, test, hidden = hide_items(fold.train, fold.train_timestamps, fold.test, 4)
        scores = share_scores(EASE(l2=10.0).fit(train), train, test, hidden, emb, None, k=10)
        return best_share(scores), scores[0.1]["new_item_recall"]

    X, emb, _ = planted()
    share, recall = chosen(emb, X)
    noise = np.random.default_rng(1).normal(size=emb.shape).astype(np.float32)
    noise_share, noise_recall = chosen(noise, X)
    assert share > 0 and recall > noise_recall
    assert noise_share <= share


def test_liked_means_above_the_members_mean_or_the_scales_top_half() -> None:
    X = sp.csr_matrix(np.array([[1.0, 2.0, 3.0, 0.0], [4.0, 5.0, 5.0, 0.0], [1.0, 1.0, 1.0, 5.0]]))
    before = X.copy()
    liked = liked_matrix(X).toarray() > 0
    assert (X != before).nnz == 0 and np.array_equal(X.indices, before.indices)
    # Scale 1..5, middle 3: member 0 (mean 2) likes 3; member 1 (mean 4.67) likes 4 and 5 as
    # the top half; member 2 (mean 2) likes only the 5.
    assert liked.tolist() == [
        [False, False, True, False],
        [True, True, True, False],
        [False, False, False, True],
    ]
    implicit = sp.csr_matrix(np.array([[1.0, 0.0, 1.0]]))
    assert (liked_matrix(implicit).toarray() > 0).tolist() == [[True, False, True]]
