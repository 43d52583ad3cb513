"""Placing members by what is known early: demographics and first rated items."""

from __future__ import annotations

import numpy as np
import pytest

from ml.segmentation.classifier import SegmentClassifier, cheap_features
from ml.segmentation.features import DemographicEncoder, first_item_embeddings
from tests.support.planted import GENRES, make_planted


@pytest.fixture(scope="module")
def planted_features() -> tuple[np.ndarray, np.ndarray]:
    data = make_planted(n_members=400, n_items=200, random_state=1)
    users, items, _, times = data.arrays()
    # Item vectors that carry the genre, as a text encoder's do, without loading a model.
    rng = np.random.default_rng(0)
    genre_vectors = rng.normal(size=(len(GENRES), 16))
    item_vectors = np.array(
        [genre_vectors[[GENRES.index(g) for g in it["genres"]]].sum(axis=0) for it in data.items]
    )
    item_vectors += rng.normal(scale=0.5, size=item_vectors.shape)
    first = first_item_embeddings(users, items, times, len(data.members), item_vectors, n_first=3)
    records = {key: [m[key] for m in data.members] for key in ("age", "gender", "occupation")}
    demographics = DemographicEncoder().fit_transform(records)
    return cheap_features(demographics, first), data.segments


def test_logistic_places_held_out_members_in_their_planted_segment(planted_features) -> None:
    X, y = planted_features
    train = np.arange(len(y)) < 300
    classifier = SegmentClassifier("logistic").fit(X[train], y[train])
    assert (classifier.predict(X[~train]) == y[~train]).mean() >= 0.8
    assert classifier.cv_accuracy_ >= 0.8 and classifier.cv_folds_ == 5
    proba = classifier.predict_proba(X[~train])
    assert proba.shape == (100, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(classifier.classes_, [0, 1, 2, 3])


@pytest.mark.parametrize("model", ["random_forest", "gradient_boosting"])
def test_tree_models_beat_chance_by_far(model: str, planted_features) -> None:
    X, y = planted_features
    classifier = SegmentClassifier(model, cv=2).fit(X[:200], y[:200])
    assert (classifier.predict(X[200:]) == y[200:]).mean() >= 0.6


def test_folds_are_clipped_for_tiny_segments() -> None:
    X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [9.0]])
    classifier = SegmentClassifier(cv=5).fit(X, np.array([0, 0, 0, 1, 1, 2]))
    assert classifier.cv_folds_ == 2
    assert classifier.predict(np.array([[0.05], [5.05]])).tolist() == [0, 1]


def test_cheap_features_append_the_first_item_embedding() -> None:
    demographics = np.ones((2, 3))
    first = np.array([[0.5, 0.5], [0.0, 0.0]])
    np.testing.assert_array_equal(
        cheap_features(demographics, first), [[1, 1, 1, 0.5, 0.5], [1, 1, 1, 0, 0]]
    )
    assert cheap_features(demographics, None).shape == (2, 3)
    with pytest.raises(ValueError, match="first_item_embeddings"):
        cheap_features(demographics, np.zeros((3, 2)))


def test_invalid_model_is_named() -> None:
    with pytest.raises(ValueError, match="model"):
        SegmentClassifier("svm").fit(np.zeros((4, 1)), np.array([0, 0, 1, 1]))
