"""What keeps a run's cost linear in members: capped samples, the candidate pool, one solve
per EASE penalty, one scoring per batch."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import make_blobs

from ml.data import MemberData
from ml.recommenders import demographic, tuning
from ml.recommenders._sparse import liked_matrix, row_of, strongest_link, values_at
from ml.recommenders.blend import Blend
from ml.recommenders.candidates import candidate_pool, pool_share
from ml.recommenders.demographic import DemographicPopularity
from ml.recommenders.ease import EASE
from ml.recommenders.popularity import Popularity
from ml.segmentation.classifier import SegmentClassifier, stratified_rows
from ml.segmentation.model_selection import stability, sweep_k
from tests.ml.test_recommenders import random_ratings


def test_classifier_learns_from_a_stratified_sample_past_max_rows() -> None:
    X, labels = make_blobs(n_samples=3000, centers=4, n_features=6, random_state=0)
    labels[:30] = 4  # a small segment must survive the sampling
    model = SegmentClassifier(max_rows=500).fit(X, labels)
    assert model.n_fit_rows_ == 500
    assert set(model.classes_) == {0, 1, 2, 3, 4}
    assert (model.predict(X[30:]) == labels[30:]).mean() > 0.95
    rows = stratified_rows(labels, 500, 0)
    assert len(np.unique(rows)) == 500
    # Each segment keeps its share, give or take one row.
    for label in range(5):
        share = (labels == label).mean() * 500
        assert abs((labels[rows] == label).sum() - share) <= 1
    assert SegmentClassifier(max_rows=None).fit(X, labels).n_fit_rows_ == 3000


def test_stratified_rows_falls_back_to_a_plain_sample_for_singleton_labels() -> None:
    labels = np.r_[np.zeros(99, int), 1]
    rows = stratified_rows(labels, 10, 0)
    assert len(rows) == 10 and len(np.unique(rows)) == 10


def test_stability_and_the_sweep_on_a_sample_still_see_the_structure() -> None:
    X, _ = make_blobs(n_samples=4000, centers=3, n_features=5, random_state=3)
    sampled = stability(X, algorithm="kmeans", n_clusters=3, n_repeats=2, max_rows=300)
    assert sampled["mean"] > 0.95
    sweep = sweep_k(X, [2, 3, 4], stability_repeats=2, max_rows=300)
    best = max(sweep, key=lambda row: row["silhouette"])
    assert best["k"] == 3


def test_candidate_pool_keeps_the_most_rated_and_some_unrated_items() -> None:
    counts = np.array([5, 0, 3, 9, 0, 1, 0, 7])
    rows = np.concatenate([np.arange(c) for c in counts])
    cols = np.repeat(np.arange(len(counts)), counts)
    X = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(10, len(counts)))
    assert candidate_pool(X, max_items=6, max_new=2) is None  # 8 items fit in 6 + 2
    pool = candidate_pool(X, max_items=3, max_new=2)
    assert pool.tolist() == [0, 1, 3, 4, 7]  # items 3, 7, 0 by count; unrated 1 and 4
    assert pool_share(X, pool) == (5 + 9 + 7) / counts.sum()
    assert pool_share(X, None) == 1.0


def test_with_items_renumbers_the_kept_items_and_drops_the_other_ratings() -> None:
    data = MemberData(
        users=np.array([0, 0, 1, 1]),
        items=np.array([0, 2, 1, 3]),
        values=np.array([5, 4, 3, 2], dtype=np.float32),
        timestamps=np.array([1.0, 2.0, 3.0, 4.0]),
        n_members=2,
        n_items=4,
        ages=[20, 30],
        genders=["F", "M"],
        occupations=["a", "b"],
        item_genres=[["w"], ["x"], ["y"], ["z"]],
        item_embeddings=np.eye(4, dtype=np.float32),
    )
    kept = data.with_items(np.array([1, 2]))
    assert kept.n_items == 2 and kept.item_genres == [["x"], ["y"]]
    assert kept.ratings().toarray().tolist() == [[0, 4], [3, 0]]
    assert kept.timestamps.tolist() == [2.0, 3.0]
    assert np.array_equal(kept.item_embeddings, np.eye(4)[[1, 2]])


def test_with_members_keeps_the_chosen_members_and_their_ratings_renumbered() -> None:
    data = MemberData(
        users=np.array([0, 1, 1, 2]),
        items=np.array([0, 2, 1, 3]),
        values=np.array([5, 4, 3, 2], dtype=np.float32),
        timestamps=np.array([1.0, 2.0, 3.0, 4.0]),
        n_members=3,
        n_items=4,
        ages=[20, 30, 40],
        genders=["F", "M", "F"],
        occupations=["a", "b", "c"],
        item_genres=[["w"], ["x"], ["y"], ["z"]],
        profile_embeddings=np.arange(6, dtype=np.float32).reshape(3, 2),
    )
    kept = data.with_members(np.array([1, 2]))
    assert kept.n_members == 2 and kept.ages == [30, 40] and kept.occupations == ["b", "c"]
    assert kept.ratings().toarray().tolist() == [[0, 3, 4, 0], [0, 0, 0, 2]]
    assert kept.timestamps.tolist() == [2.0, 3.0, 4.0]
    assert kept.profile_embeddings.tolist() == [[2, 3], [4, 5]]


def test_tuning_trains_on_a_sample_of_members_past_the_cap(monkeypatch) -> None:
    X, T = random_ratings()
    monkeypatch.setattr(tuning, "TUNING_MAX_ROWS", 10)
    asked = []

    def relabel(X, timestamps, members=None):
        asked.append(members)
        return np.zeros(X.shape[0], dtype=int)

    context = tuning.FitContext(
        timestamps=T,
        segments=np.arange(X.shape[0]) % 3,
        item_embeddings=np.eye(X.shape[1], dtype=np.float32),
        profile_embeddings=np.arange(X.shape[0] * 2, dtype=np.float32).reshape(-1, 2),
        seed=4,
        relabel=relabel,
    )
    sample, sampled = tuning.for_tuning(X, context)
    rows = tuning.tuning_rows(X.shape[0], 4)
    assert len(rows) == 10 and np.all(np.diff(rows) > 0)
    assert (sample != X[rows]).nnz == 0 and (sampled.timestamps != T[rows]).nnz == 0
    assert np.array_equal(sampled.segments, context.segments[rows])
    assert np.array_equal(sampled.profile_embeddings, context.profile_embeddings[rows])
    sampled.relabel(sample, sampled.timestamps)
    assert np.array_equal(asked[0], rows)
    monkeypatch.setattr(tuning, "TUNING_MAX_ROWS", X.shape[0])
    assert tuning.for_tuning(X, context)[0] is X


def test_demographic_fit_in_chunks_equals_the_direct_ridge(monkeypatch) -> None:
    X, _ = random_ratings()
    rng = np.random.default_rng(0)
    features = np.hstack(
        [rng.integers(0, 2, size=(X.shape[0], 3)), rng.normal(size=(X.shape[0], 2))]
    ).astype(np.float32)
    monkeypatch.setattr(demographic, "FIT_CHUNK", 7)
    model = DemographicPopularity(l2=3.0, shrinkage=2.0).fit(X, features=features)
    assert model.features_ is features  # float32 is kept, not copied to float64
    rated = np.diff(X.indptr) > 0
    F = features[rated].astype(np.float64)
    seen = (X[rated].toarray() > 0).astype(np.float64)
    centred = F - F.mean(axis=0)
    coef = np.linalg.solve(centred.T @ centred + 3.0 * np.eye(5), centred.T @ seen)
    assert np.allclose(model.coef_, coef)
    assert np.allclose(model.intercept_, seen.mean(axis=0))
    rates = (F[:, 0] @ seen + 2.0 * seen.mean(axis=0)) / (F[:, 0].sum() + 2.0)
    assert np.allclose(model.feature_rates_[0], rates)
    assert np.all(np.isnan(model.feature_rates_[3:]))  # non-binary columns have no rate


def test_ease_with_another_half_life_equals_a_fit_with_it() -> None:
    X, T = random_ratings()
    base = EASE(l2=2.0, history_floor=0.1).fit(X, timestamps=T)
    reused = base.with_history(T, 3.0)
    refit = EASE(l2=2.0, history_half_life=3.0, history_floor=0.1).fit(X, timestamps=T)
    users = np.arange(X.shape[0])
    assert np.allclose(reused.score(users), refit.score(users))
    assert base.history_half_life is None  # the original is left as it was
    assert not np.allclose(base.score(users), refit.score(users))


def test_blend_scores_a_batch_once_for_picks_and_their_reasons() -> None:
    X, T = random_ratings()
    components = {"ease": EASE(l2=1.0).fit(X), "popularity": Popularity().fit(X)}
    blend = Blend(components, {"ease": 1.0, "popularity": 0.5}).fit(X)
    users = np.arange(6)
    items, _ = blend.recommend(users, 3)
    scored = blend._parts(users.copy())
    assert blend._parts(users) is scored  # the same batch again is not scored again
    fresh = Blend(components, {"ease": 1.0, "popularity": 0.5}).fit(X)
    assert np.array_equal(fresh.contributions(users, items), blend.contributions(users, items))
    assert blend._parts(np.arange(3)) is not scored  # another batch is scored afresh
    blend.fit(X)  # a refit forgets the batch
    assert blend._parts(users) is not scored


def test_batch_reasons_cite_what_one_pick_at_a_time_cites() -> None:
    X, T = random_ratings()
    model = EASE(l2=1.0, history_half_life=3.0, history_floor=0.1).fit(X, timestamps=T)
    liked = liked_matrix(X)
    rng = np.random.default_rng(0)
    users = rng.integers(X.shape[0], size=300)
    items = rng.integers(X.shape[1], size=300)
    batch = model.explain_many(users, items, liked)
    one_by_one = [
        model.explain(int(u), int(i), row_of(liked, u).indices)
        for u, i in zip(users, items, strict=True)
    ]
    assert batch.tolist() == one_by_one
    assert (batch >= 0).any() and (batch < 0).any()  # both outcomes are exercised
    unrestricted = model.explain_many(users, items)  # no restriction to likes
    expected = [
        strongest_link(row_of(model.history_, u), model.B_[row_of(model.history_, u).indices, i])
        for u, i in zip(users, items, strict=True)
    ]
    assert unrestricted.tolist() == expected


def test_values_at_reads_stored_values_and_a_default_elsewhere() -> None:
    X, _ = random_ratings()
    rng = np.random.default_rng(1)
    rows = rng.integers(X.shape[0], size=500)
    cols = rng.integers(X.shape[1], size=500)
    dense = X.toarray()
    assert np.array_equal(values_at(X, rows, cols), dense[rows, cols])
    assert values_at(X, rows[:3], np.array([-1, -1, -1]), default=7.0).tolist() == [7.0] * 3
    assert len(values_at(X, rows[:0], cols[:0])) == 0
