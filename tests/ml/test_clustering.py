"""Each algorithm recovers planted segments where its assumptions hold."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from ml.segmentation.clustering import ALGORITHMS, Segmenter


@pytest.fixture(scope="module")
def round_blobs() -> tuple[np.ndarray, np.ndarray]:
    return make_blobs(n_samples=[60, 150, 90], n_features=6, cluster_std=1.0, random_state=0)


@pytest.fixture(scope="module")
def blobs_and_noise() -> tuple[np.ndarray, np.ndarray]:
    """Four tight 2-D blobs plus 40 points scattered uniformly (label -1)."""
    X, y = make_blobs(
        n_samples=400, centers=4, cluster_std=0.5, center_box=(-10, 10), random_state=1
    )
    noise = np.random.default_rng(0).uniform(-14, 14, size=(40, 2))
    return np.vstack([X, noise]), np.concatenate([y, np.full(40, -1)])


@pytest.mark.parametrize("algorithm", ["kmeans", "minibatch_kmeans", "gmm", "agglomerative"])
def test_centroid_algorithms_recover_round_blobs(algorithm: str, round_blobs) -> None:
    X, y = round_blobs
    segmenter = Segmenter(algorithm, n_clusters=3).fit(X)
    assert adjusted_rand_score(y, segmenter.labels_) >= 0.9
    assert segmenter.n_clusters_ == 3 and not segmenter.noise_.any()
    assert np.bincount(segmenter.labels_).tolist() == [150, 90, 60]  # numbered by size
    assert segmenter.centers_.shape == (3, 6)
    assert 0 <= segmenter.confidence_.min() and segmenter.confidence_.max() <= 1
    assert segmenter.confidence_.mean() > 0.5


def test_kmeans_predict_agrees_with_its_labels(round_blobs) -> None:
    X, _ = round_blobs
    segmenter = Segmenter("kmeans", n_clusters=3).fit(X)
    np.testing.assert_array_equal(segmenter.predict(X), segmenter.labels_)


def test_agglomerative_on_a_sample_assigns_the_rest_to_the_nearest_centre(round_blobs) -> None:
    X, y = round_blobs
    segmenter = Segmenter("agglomerative", n_clusters=3, max_fit_samples=100).fit(X)
    assert adjusted_rand_score(y, segmenter.labels_) >= 0.9
    assert not segmenter.noise_.any()


@pytest.mark.parametrize("algorithm", ["hdbscan", "dbscan"])
def test_density_algorithms_find_blobs_and_attach_flagged_noise(
    algorithm: str, blobs_and_noise
) -> None:
    X, y = blobs_and_noise
    segmenter = Segmenter(algorithm, n_clusters=4).fit(X)
    in_blob = y >= 0
    assert segmenter.n_clusters_ == 4
    assert adjusted_rand_score(y[in_blob], segmenter.labels_[in_blob]) >= 0.9
    assert segmenter.noise_[~in_blob].mean() >= 0.8
    assert segmenter.noise_[in_blob].mean() <= 0.05
    noise = segmenter.noise_
    np.testing.assert_array_equal(segmenter.labels_[noise], segmenter.predict(X[noise]))
    assert np.all(segmenter.confidence_[noise] == 0)


def test_everyone_noise_becomes_one_segment() -> None:
    # 6 points cannot hold two clusters of at least 5, so hdbscan calls all of them noise
    X = np.random.default_rng(0).uniform(size=(6, 3))
    segmenter = Segmenter("hdbscan", n_clusters=1).fit(X)
    assert segmenter.noise_.all() and segmenter.n_clusters_ == 1
    assert segmenter.labels_.tolist() == [0] * 6
    np.testing.assert_allclose(segmenter.centers_[0], X.mean(axis=0))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"algorithm": "spectral"}, "algorithm"),
        ({"n_clusters": 0}, "n_clusters"),
        ({"n_clusters": 50}, "n_clusters"),
        ({"max_fit_samples": 1}, "max_fit_samples"),
    ],
)
def test_invalid_parameters_are_named(params: dict, message: str) -> None:
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match=message):
        Segmenter(**params).fit(X)


def test_algorithm_list_matches_the_run_parameters() -> None:
    from segments.params import ALGORITHMS as RUN_ALGORITHMS

    assert ALGORITHMS == RUN_ALGORITHMS


def test_kmeans_leaves_float32_features_as_they_were_and_labels_in_chunks() -> None:
    """k-means centres X in place (no copy) and puts it back; labels and confidence come
    from distances measured a chunk of rows at a time, the same as all at once."""
    from sklearn.metrics import pairwise_distances

    from ml.segmentation.clustering import DISTANCE_CHUNK

    X, _ = make_blobs(n_samples=DISTANCE_CHUNK + 500, centers=4, n_features=5, random_state=3)
    X = X.astype(np.float32)
    before = X.copy()
    segmenter = Segmenter("kmeans", n_clusters=4).fit(X)
    assert X.dtype == np.float32
    np.testing.assert_allclose(X, before, rtol=0, atol=1e-5)
    squared = pairwise_distances(X.astype(np.float64), segmenter.centers_, metric="sqeuclidean")
    np.testing.assert_array_equal(segmenter.predict(X), squared.argmin(axis=1))
    two = np.sqrt(np.sort(squared, axis=1)[:, :2])
    np.testing.assert_allclose(segmenter.confidence_, 1 - two[:, 0] / two[:, 1], atol=1e-9)
