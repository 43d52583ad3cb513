"""Choosing k finds the planted number of segments."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from ml.segmentation.model_selection import choose_k, stability, sweep_k


@pytest.mark.parametrize(("planted", "seed"), [(3, 3), (5, 5)])
def test_choose_k_finds_the_planted_k(planted: int, seed: int) -> None:
    X, _ = make_blobs(n_samples=200, centers=planted, n_features=5, random_state=seed)
    sweep = sweep_k(X, [2, 3, 4, 5, 6], random_state=0, stability_repeats=2)
    assert [row["k"] for row in sweep] == [2, 3, 4, 5, 6]
    assert set(sweep[0]) == {"k", "silhouette", "davies_bouldin", "calinski_harabasz", "stability"}
    assert choose_k(sweep) == planted


def test_stability_is_high_for_real_structure_and_lower_for_noise() -> None:
    X, _ = make_blobs(n_samples=200, centers=3, n_features=5, random_state=3)
    planted = stability(X, algorithm="kmeans", n_clusters=3, n_repeats=3)
    assert planted["mean"] > 0.95 and len(planted["scores"]) == 3
    uniform = np.random.default_rng(0).uniform(size=(200, 5))
    assert (
        stability(uniform, algorithm="kmeans", n_clusters=6, n_repeats=3)["mean"] < planted["mean"]
    )


def test_choose_k_prefers_stable_ks_then_falls_back_to_the_most_stable() -> None:
    rows = [
        {"k": 2, "silhouette": 0.5, "stability": 0.95},
        {"k": 3, "silhouette": 0.7, "stability": 0.60},
        {"k": 4, "silhouette": 0.5, "stability": 0.90},
    ]
    assert choose_k(rows) == 2  # k=3 is unstable; 2 and 4 tie on silhouette -> smaller
    unstable = [{**row, "stability": 0.5 + row["k"] / 100} for row in rows]
    assert choose_k(unstable) == 4


def test_sweep_k_rejects_impossible_ks() -> None:
    with pytest.raises(ValueError, match="k_values"):
        sweep_k(np.zeros((5, 2)), [1, 2])
