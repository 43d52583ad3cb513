"""The bounded-memory cluster indices equal scikit-learn's on the same labels."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

from ml.segmentation.indices import CHUNK_ROWS, cluster_indices


@pytest.mark.parametrize("n_samples", [300, CHUNK_ROWS * 2 + 17])  # one chunk, and several
def test_indices_equal_scikit_learns(n_samples: int) -> None:
    X, y = make_blobs(n_samples=n_samples, centers=5, n_features=4, random_state=2)
    labels = np.array(["north", "south", "east", "west", "up"])[y]  # any label values
    ours = cluster_indices(X, labels)
    assert ours["davies_bouldin"] == pytest.approx(davies_bouldin_score(X, labels), rel=1e-9)
    assert ours["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(X, labels), rel=1e-9)


def test_float32_features_give_the_float64_answer() -> None:
    X, y = make_blobs(n_samples=2000, centers=3, n_features=8, random_state=4)
    wide, narrow = cluster_indices(X, y), cluster_indices(X.astype(np.float32), y)
    for name in ("davies_bouldin", "calinski_harabasz"):
        assert narrow[name] == pytest.approx(wide[name], rel=1e-5)


def test_better_separated_segments_score_better() -> None:
    tight, y = make_blobs(n_samples=500, centers=4, cluster_std=0.3, random_state=0)
    loose = tight + np.random.default_rng(0).normal(0, 3.0, tight.shape)
    a, b = cluster_indices(tight, y), cluster_indices(loose, y)
    assert a["davies_bouldin"] < b["davies_bouldin"]
    assert a["calinski_harabasz"] > b["calinski_harabasz"]


def test_bad_labels_are_named() -> None:
    X = np.zeros((10, 2))
    with pytest.raises(ValueError, match="labels: expected 10 entries"):
        cluster_indices(X, np.zeros(9))
    with pytest.raises(ValueError, match="2 to 9 distinct segments, got 1"):
        cluster_indices(X, np.zeros(10))
