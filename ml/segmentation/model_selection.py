"""Choosing the number of segments: internal indices plus stability under resampling."""

from __future__ import annotations

# scikit-learn is imported inside the functions that use it: the admin, pages and API import
# this module for its names, and starting Django must stay fast.
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np

from ml.segmentation.clustering import Segmenter
from ml.segmentation.indices import cluster_indices

STABLE_ARI = 0.8
# Stability and the k sweep refit k-means many times; on a sample this size they answer the
# same question (are the segments reproducible?) at a cost that stops growing with members.
MAX_ROWS = 20_000


def _sample(X: np.ndarray, max_rows: int | None, random_state: int | None) -> np.ndarray:
    """At most ``max_rows`` rows of ``X`` drawn without replacement (all of them if fewer),
    as float64."""
    if max_rows is not None and len(X) > max_rows:
        rows = np.random.default_rng(random_state).choice(len(X), max_rows, replace=False)
        X = X[np.sort(rows)]
    return np.asarray(X, dtype=np.float64)


def stability(
    X: np.ndarray,
    *,
    algorithm: str,
    n_clusters: int,
    n_repeats: int = 5,
    sample_fraction: float = 0.8,
    random_state: int | None = 0,
    device: str = "cpu",
    max_rows: int | None = MAX_ROWS,
) -> dict[str, Any]:
    """How reproducible a segmentation is: ``{"mean", "std", "scores"}`` of adjusted Rand indices.

    Each repeat fits on a random ``sample_fraction`` of the rows (without replacement) with its
    own seed and labels all of them by nearest centre; every pair of repeats is compared on
    all those rows. 1.0 means every resample found the same segments. Past ``max_rows`` rows
    the whole measure runs on a random sample of that many (None: on all of ``X``).
    """
    from sklearn.metrics import adjusted_rand_score

    if not isinstance(n_repeats, int) or n_repeats < 2:
        raise ValueError(f"n_repeats: expected an integer >= 2, got {n_repeats!r}")
    if not 0 < sample_fraction <= 1:
        raise ValueError(f"sample_fraction: expected a number in (0, 1], got {sample_fraction!r}")
    X = _sample(X, max_rows, random_state)
    rng = np.random.default_rng(random_state)
    size = max(int(round(sample_fraction * len(X))), n_clusters)
    labelings = []
    for _ in range(n_repeats):
        rows = rng.choice(len(X), size=min(size, len(X)), replace=False)
        seed = int(rng.integers(2**31 - 1))
        segmenter = Segmenter(
            algorithm=algorithm, n_clusters=n_clusters, random_state=seed, device=device
        )
        labelings.append(segmenter.fit(X[rows]).predict(X))
    scores = [float(adjusted_rand_score(a, b)) for a, b in combinations(labelings, 2)]
    return {"mean": float(np.mean(scores)), "std": float(np.std(scores)), "scores": scores}


def sweep_k(
    X: np.ndarray,
    k_values: Sequence[int],
    *,
    algorithm: str = "kmeans",
    random_state: int | None = 0,
    silhouette_sample: int = 5000,
    stability_repeats: int = 3,
    device: str = "cpu",
    max_rows: int | None = MAX_ROWS,
) -> list[dict[str, Any]]:
    """Fit each k and score it: one ``{"k", "silhouette", "davies_bouldin",
    "calinski_harabasz", "stability"}`` per k (stability is the mean ARI; indices are NaN
    when the fit found a single segment). Past ``max_rows`` rows the sweep runs on a random
    sample of that many: it chooses k, and the final fit uses every member."""
    X = _sample(X, max_rows, random_state)
    if not k_values:
        raise ValueError("k_values: expected at least one k")
    bad = [k for k in k_values if not isinstance(k, int | np.integer) or not 2 <= k < len(X)]
    if bad:
        raise ValueError(f"k_values: each k must be an integer from 2 to {len(X) - 1}, got {bad}")
    rows = []
    for k in k_values:
        labels = (
            Segmenter(
                algorithm=algorithm, n_clusters=int(k), random_state=random_state, device=device
            )
            .fit(X)
            .labels_
        )
        row = {"k": int(k), **_indices(X, labels, silhouette_sample, random_state)}
        row["stability"] = stability(
            X,
            algorithm=algorithm,
            n_clusters=int(k),
            n_repeats=stability_repeats,
            random_state=random_state,
            device=device,
        )["mean"]
        rows.append(row)
    return rows


def choose_k(sweep: Sequence[dict[str, Any]]) -> int:
    """Pick k: the highest silhouette among ks whose stability is at least 0.8 (ties to the
    smaller k); if no k is that stable, the most stable k (again ties to the smaller k)."""
    if not sweep:
        raise ValueError("sweep: expected at least one row")
    scored = [row for row in sweep if np.isfinite(row["silhouette"])]
    stable = [row for row in scored if row["stability"] >= STABLE_ARI]
    if stable:
        return int(max(stable, key=lambda row: (round(row["silhouette"], 4), -row["k"]))["k"])
    return int(max(sweep, key=lambda row: (round(row["stability"], 4), -row["k"]))["k"])


def _indices(
    X: np.ndarray, labels: np.ndarray, sample: int, random_state: int | None
) -> dict[str, float]:
    from sklearn.metrics import silhouette_score

    if len(np.unique(labels)) < 2:
        return {
            "silhouette": float("nan"),
            "davies_bouldin": float("nan"),
            "calinski_harabasz": float("nan"),
        }
    size = min(sample, len(X))
    return {
        "silhouette": float(
            silhouette_score(X, labels, sample_size=size, random_state=random_state)
        ),
        **cluster_indices(X, labels),
    }
