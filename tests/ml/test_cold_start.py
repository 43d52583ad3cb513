"""Members without ratings: scored from their demographics, routed by SegmentColdStart."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ml.evaluation.metrics import ndcg_at_k
from ml.evaluation.splits import Split, cold_member_split
from ml.recommenders._sparse import row_ids
from ml.recommenders.cold_start import SegmentColdStart
from ml.recommenders.demographic import DemographicPopularity, tune_l2
from ml.recommenders.popularity import Popularity
from ml.recommenders.segment_popularity import SegmentPopularity
from ml.segmentation.features import DemographicEncoder

# Items 0-9 are women's, 10-19 men's, 20-29 the young's, 30-39 the old's, 40-49 everyone's.
WOMEN, MEN, YOUNG, OLD, EVERYONE = (np.arange(10) + 10 * g for g in range(5))


def taste_by_demographics(n_members: int = 300, seed: int = 0) -> tuple[sp.csr_matrix, dict]:
    """Members rate their gender's and age group's items with p=0.85, others' with 0.05 and
    everyone's with 0.5: each of the first four is rated by ~45% of members, so popularity
    puts everyone's items first although a member's own are likelier by far."""
    rng = np.random.default_rng(seed)
    women = rng.random(n_members) < 0.5
    young = rng.random(n_members) < 0.5
    p = np.full((n_members, 50), 0.05)
    p[:, EVERYONE] = 0.5
    for mask, items in ((women, WOMEN), (~women, MEN), (young, YOUNG), (~young, OLD)):
        p[np.ix_(mask, items)] = 0.85
    rated = rng.random(p.shape) < p
    X = sp.csr_matrix(rated * rng.integers(1, 6, size=p.shape).astype(np.float32))
    records = {
        "age": np.where(young, 22, 50).tolist(),
        "gender": np.where(women, "F", "M").tolist(),
        "occupation": ["writer"] * n_members,
    }
    return X, records


def hold_out(X: sp.csr_matrix, seed: int = 0) -> Split:
    args = (row_ids(X), X.indices, X.data, None, X.shape[0], X.shape[1])
    return cold_member_split(*args, member_fraction=0.2, random_state=seed)


def cold_ndcg(model: SegmentColdStart | DemographicPopularity | Popularity, split: Split) -> float:
    users = np.flatnonzero(split.evaluated)
    items, _ = model.recommend(users, 10)
    return float(ndcg_at_k(items, split.test[users]).mean())


@pytest.fixture(scope="module")
def world() -> tuple[Split, np.ndarray, DemographicEncoder]:
    X, records = taste_by_demographics()
    encoder = DemographicEncoder().fit(records)
    return hold_out(X), encoder.transform(records), encoder


def test_demographic_model_beats_popularity_for_members_held_out_whole(world) -> None:
    split, features, _ = world
    popularity = cold_ndcg(Popularity().fit(split.train), split)
    demographic = cold_ndcg(DemographicPopularity().fit(split.train, features=features), split)
    assert popularity < 0.6
    assert demographic > 0.75
    assert demographic > 1.3 * popularity


def test_cold_start_serves_members_without_ratings_from_the_cold_model(world) -> None:
    split, features, _ = world
    X = split.train
    segments = np.zeros(X.shape[0], dtype=np.int64)
    segment_model = SegmentPopularity().fit(X, segments=segments)
    cold_model = DemographicPopularity().fit(X, features=features)
    warm = Popularity().fit(X)
    model = SegmentColdStart(warm, segment_model, cold_model).fit(X)
    cold, warm_users = np.flatnonzero(split.evaluated), np.flatnonzero(~split.evaluated)
    np.testing.assert_allclose(model.score(cold), cold_model.score(cold), rtol=1e-6)
    np.testing.assert_allclose(model.score(warm_users), warm.score(warm_users))
    assert model.model_for(int(cold[0])) is cold_model
    assert cold_ndcg(model, split) == pytest.approx(cold_ndcg(cold_model, split))


def test_cold_start_without_cold_model_keeps_the_segment_route(world) -> None:
    split, _, _ = world
    segments = np.arange(split.train.shape[0]) % 2
    segment_model = SegmentPopularity().fit(split.train, segments=segments)
    model = SegmentColdStart(Popularity().fit(split.train), segment_model).fit(split.train)
    cold = np.flatnonzero(split.evaluated)
    np.testing.assert_allclose(model.score(cold), segment_model.score(cold), rtol=1e-6)
    assert model.model_for(int(cold[0])) is segment_model


def test_cold_start_rejects_models_fitted_on_another_matrix(world) -> None:
    split, features, _ = world
    X = split.train
    other = X[:, :40]
    segment_model = SegmentPopularity().fit(X, segments=np.zeros(X.shape[0], dtype=np.int64))
    cold_model = DemographicPopularity().fit(other, features=features)
    with pytest.raises(ValueError, match="cold_model"):
        SegmentColdStart(Popularity().fit(X), segment_model, cold_model).fit(X)


def test_uninformative_features_rank_like_popularity(world) -> None:
    split, features, _ = world
    flat = np.ones((split.train.shape[0], 3))
    model = DemographicPopularity().fit(split.train, features=flat)
    users = np.flatnonzero(split.evaluated)[:5]
    counts = np.bincount(split.train.indices, minlength=split.train.shape[1])
    rated = np.diff(split.train.indptr) > 0
    np.testing.assert_allclose(model.score(users)[0], counts / rated.sum(), rtol=1e-5)


def test_score_features_scores_a_member_as_score_does(world) -> None:
    split, features, _ = world
    model = DemographicPopularity().fit(split.train, features=features)
    np.testing.assert_allclose(model.score_features(features[:4]), model.score(np.arange(4)))
    with pytest.raises(ValueError, match="columns"):
        model.score_features(features[:4, :-1])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"l2": 0.0}, "l2"),
        ({"shrinkage": -1.0}, "shrinkage"),
    ],
)
def test_fit_rejects_bad_parameters(world, kwargs: dict, message: str) -> None:
    split, features, _ = world
    with pytest.raises(ValueError, match=message):
        DemographicPopularity(**kwargs).fit(split.train, features=features)


def test_fit_rejects_bad_features_and_empty_ratings(world) -> None:
    split, features, _ = world
    with pytest.raises(ValueError, match="shape"):
        DemographicPopularity().fit(split.train, features=features[:-1])
    broken = features.copy()
    broken[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        DemographicPopularity().fit(split.train, features=broken)
    empty = sp.csr_matrix(split.train.shape, dtype=np.float32)
    with pytest.raises(ValueError, match="no ratings"):
        DemographicPopularity().fit(empty, features=features)


def test_reasons_name_the_feature_that_lifts_the_item(world) -> None:
    split, features, encoder = world
    X = split.train
    segment_model = SegmentPopularity().fit(X, segments=np.zeros(X.shape[0], dtype=np.int64))
    cold_model = DemographicPopularity().fit(X, features=features)
    model = SegmentColdStart(Popularity().fit(X), segment_model, cold_model).fit(X)
    woman = int(
        np.flatnonzero(
            split.evaluated & (features[:, encoder.feature_names_.index("gender=F")] == 1)
        )[0]
    )
    reason = model.cold_reason(woman, int(WOMEN[0]))
    assert reason.kind == "feature"
    assert encoder.feature_names_[reason.index] == "gender=F"
    assert reason.share > 0.7 and reason.lift > 1.5
    assert model.cold_reason(woman, int(MEN[0])).kind == "popular"


def test_reasons_name_the_segment_when_it_lifts_the_item_most(world) -> None:
    split, features, encoder = world
    X = split.train
    women = features[:, encoder.feature_names_.index("gender=F")].astype(np.int64)
    segment_model = SegmentPopularity().fit(X, segments=women)
    # Features that say nothing leave the segment as the only reason above the average.
    cold_model = DemographicPopularity().fit(X, features=np.ones((X.shape[0], 2)))
    model = SegmentColdStart(Popularity().fit(X), segment_model, cold_model).fit(X)
    woman = int(np.flatnonzero(split.evaluated & (women == 1))[0])
    reason = model.cold_reason(woman, int(WOMEN[0]))
    assert (reason.kind, reason.index) == ("segment", 1)
    assert reason.lift > 1.5


def test_tune_l2_picks_a_grid_value_on_members_of_the_training_part(world) -> None:
    split, features, _ = world
    best, table = tune_l2(split.train, features, grid=(1.0, 1e6), random_state=0)
    assert set(table) == {1.0, 1e6}
    # A huge penalty is popularity, which this world is built to defeat.
    assert best == 1.0 and table[1.0] > table[1e6]
