"""Feature blocks: rating weights, history embeddings, factors, demographics, fusion."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

from ml.segmentation.features import (
    FLAT_MEMBER_WEIGHT,
    BlockFuser,
    DemographicEncoder,
    behaviour_factors,
    first_item_embeddings,
    history_embeddings,
    rating_weights,
)

DAY = 86_400.0


def test_rating_weights_centre_on_the_member_mean_and_decay_with_age() -> None:
    t = 1_000 * DAY
    users = np.array([0, 0, 0, 1, 1])
    items = np.array([0, 1, 2, 0, 2])
    values = np.array([5.0, 3.0, 1.0, 4.0, 4.0])
    times = np.array([t - 365 * DAY, t - 365 * DAY, t, t, t - 730 * DAY])
    weights = rating_weights(users, items, values, times, 2, 3, half_life_days=365.0).toarray()
    # member 0: mean 3 -> +2, 0, -2; the first two are a half-life old, so halved
    np.testing.assert_allclose(weights[0], [1.0, 0.0, -2.0])
    # member 1 rated everything 4: a small positive weight, still decayed by age
    np.testing.assert_allclose(weights[1], [FLAT_MEMBER_WEIGHT, 0.0, FLAT_MEMBER_WEIGHT / 4])


def test_rating_weights_without_centring_or_decay_are_the_ratings() -> None:
    users, items, values = np.array([0, 1]), np.array([1, 0]), np.array([2.0, 5.0])
    weights = rating_weights(users, items, values, None, 2, 2, centred=False, half_life_days=None)
    np.testing.assert_array_equal(weights.toarray(), [[0, 2], [5, 0]])


def test_rating_weights_reject_out_of_range_indices() -> None:
    with pytest.raises(ValueError, match="items"):
        rating_weights([0], [3], [4.0], [0.0], 1, 3)


def test_history_embeddings_are_unit_rows_and_empty_members_stay_zero() -> None:
    weights = sp.csr_matrix(np.array([[1.0, -1.0], [0.0, 0.0], [0.0, 3.0]]))
    items = np.array([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(
        history_embeddings(weights, items), [[2**-0.5, -(2**-0.5)], [0.0, 0.0], [0.0, 1.0]]
    )


def test_behaviour_factors_clip_components_and_normalise_rows() -> None:
    ratings = sp.random(3, 5, density=0.8, random_state=0, format="csr")
    factors = behaviour_factors(ratings, n_components=32)
    assert factors.shape == (3, 2)
    np.testing.assert_allclose(np.linalg.norm(factors, axis=1), 1.0, rtol=1e-5)
    assert behaviour_factors(ratings, n_components=1).shape == (3, 1)
    heavy = sp.csr_matrix(np.diag([1.0, 10.0, 1.0]))
    raw = behaviour_factors(heavy, n_components=2, normalise=False)
    assert np.linalg.norm(raw[1]) == pytest.approx(10.0, rel=1e-5)


def test_first_item_embeddings_average_the_earliest_ratings() -> None:
    embeddings = np.eye(4)
    users, items = np.array([0, 0, 0, 2]), np.array([0, 1, 2, 3])
    times = np.array([30.0, 10.0, 20.0, 5.0])
    first = first_item_embeddings(users, items, times, 3, embeddings, n_first=2)
    np.testing.assert_allclose(first, [[0, 0.5, 0.5, 0], [0, 0, 0, 0], [0, 0, 0, 1]])


RECORDS = {
    "age": [17, 24, 60, None],
    "gender": ["M", "F", "F", ""],
    "occupation": ["student", "writer", "retired", "student"],
}


def test_demographic_encoder_one_hots_and_scales() -> None:
    encoder = DemographicEncoder().fit(RECORDS)
    X = encoder.transform(RECORDS)
    assert X.shape == (4, len(encoder.feature_names_))
    names = encoder.feature_names_
    row = dict(zip(names, X[1], strict=True))
    assert row["age=18-24"] == 1 and row["gender=F"] == 1 and row["occupation=writer"] == 1
    assert X[0, names.index("age=under 18")] == 1 and X[2, names.index("age=56+")] == 1
    assert X[3, : names.index("age_scaled") + 1].sum() == 0  # missing age: no bucket, mean age
    assert X[3, names.index("gender=F")] == X[3, names.index("gender=M")] == 0


def test_demographic_encoder_encodes_unseen_categories_as_zeros() -> None:
    encoder = DemographicEncoder().fit(RECORDS)
    X = encoder.transform({"age": [30], "gender": ["X"], "occupation": ["astronaut"]})
    gender_and_jobs = [
        i for i, n in enumerate(encoder.feature_names_) if "=" in n and "age" not in n
    ]
    assert X[0, gender_and_jobs].sum() == 0


def test_age_bucket_labels() -> None:
    encoder = DemographicEncoder()
    labels = [encoder.age_bucket_label(a) for a in (7, 18, 24, 25, 55, 56, 80, None)]
    assert labels == ["under 18", "18-24", "18-24", "25-34", "45-55", "56+", "56+", "unknown"]


def _variance_shares(X: np.ndarray, widths: list[int]) -> list[float]:
    bounds = np.cumsum([0, *widths])
    totals = [X[:, a:b].var(axis=0).sum() for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return [t / sum(totals) for t in totals]


def test_block_fuser_shares_variance_by_weight_squared_not_width() -> None:
    rng = np.random.default_rng(0)
    blocks = {"narrow": rng.normal(size=(200, 2)) * 10, "wide": rng.normal(size=(200, 50))}
    equal = BlockFuser().fit_transform(blocks)
    np.testing.assert_allclose(_variance_shares(equal, [2, 50]), [0.5, 0.5])
    tilted = BlockFuser({"narrow": 2.0, "wide": 1.0}).fit_transform(blocks)
    np.testing.assert_allclose(_variance_shares(tilted, [2, 50]), [0.8, 0.2])


def test_block_fuser_drops_zero_weight_blocks_and_records_its_recipe() -> None:
    rng = np.random.default_rng(1)
    blocks = {"a": rng.normal(size=(20, 3)), "b": rng.normal(size=(20, 4)), "c": np.ones((20, 2))}
    fuser = BlockFuser({"a": 0.0, "b": 1.5}).fit(blocks)
    X = fuser.transform(blocks)
    assert X.shape == (20, 6) and np.all(np.isfinite(X))
    assert np.all(X[:, 4:] == 0)  # constant block: safe, contributes nothing
    assert json.loads(json.dumps(fuser.recipe_)) == {
        "a": {"columns": 3, "weight": 0.0},
        "b": {"columns": 4, "weight": 1.5},
        "c": {"columns": 2, "weight": 1.0},
    }
    with pytest.raises(ValueError, match="columns"):
        fuser.transform({"b": np.zeros((1, 3)), "c": np.zeros((1, 2))})
