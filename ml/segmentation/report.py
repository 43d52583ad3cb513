"""What a run's report pictures: a 2-D map of members and a light k sweep, both sampled.

Both are cheap by construction (at most a few thousand rows) so every run can carry them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ml.segmentation.model_selection import sweep_k

MAP_POINTS = 2000
# Cheap next to the auto sweep (every k on all members, three stability refits each).
LIGHT_SWEEP_SAMPLE = 500
LIGHT_SWEEP_SPREAD = 2
# Density algorithms take k only as a size hint: a sweep over k would not mean much.
NO_K_SWEEP = ("hdbscan", "dbscan")


def project_members(
    X: np.ndarray, labels: np.ndarray, *, max_points: int = MAP_POINTS, random_state: int = 0
) -> dict[str, Any]:
    """A PCA of a random sample of ``max_points`` rows of ``X`` onto its first two axes.

    Returns ``{"x", "y", "segment", "explained_variance_ratio", "n_points", "n_members"}``;
    coordinates are rounded to 4 digits (the map is a picture, not data to reuse).
    """
    # scikit-learn is imported here: the pages import the recipe for its names.
    from sklearn.decomposition import PCA

    X, labels = np.asarray(X), np.asarray(labels)
    if len(X) != len(labels):
        raise ValueError(f"labels: expected {len(X)} entries, got {len(labels)}")
    rng = np.random.default_rng(random_state)
    rows = np.sort(rng.choice(len(X), size=min(max_points, len(X)), replace=False))
    n_axes = min(2, X.shape[1], len(rows))
    pca = PCA(n_components=n_axes, svd_solver="randomized", random_state=random_state)
    coords = np.zeros((len(rows), 2))
    coords[:, :n_axes] = pca.fit_transform(X[rows].astype(np.float64))
    ratio = np.zeros(2)
    ratio[:n_axes] = np.nan_to_num(pca.explained_variance_ratio_)
    return {
        "x": np.round(coords[:, 0], 4).tolist(),
        "y": np.round(coords[:, 1], 4).tolist(),
        "segment": [int(s) for s in labels[rows]],
        "explained_variance_ratio": [float(r) for r in ratio],
        "n_points": len(rows),
        "n_members": len(X),
    }


def light_sweep(
    X: np.ndarray,
    k: int,
    *,
    algorithm: str,
    random_state: int = 0,
    device: str = "cpu",
    sample: int = LIGHT_SWEEP_SAMPLE,
    spread: int = LIGHT_SWEEP_SPREAD,
) -> list[dict[str, Any]] | None:
    """``sweep_k`` on a sample of ``sample`` rows for k - spread .. k + spread (those
    possible), two stability refits each: a cheap check of a fixed k. None when no k fits
    or the algorithm takes no k."""
    X = np.asarray(X)
    rows = np.random.default_rng(random_state).choice(
        len(X), size=min(sample, len(X)), replace=False
    )
    ks = [j for j in range(k - spread, k + spread + 1) if 2 <= j < len(rows)]
    if algorithm in NO_K_SWEEP or not ks:
        return None
    return sweep_k(
        X[rows].astype(np.float64),  # the sample only: all of X in float64 was 6 GB at 1M
        ks,
        algorithm=algorithm,
        random_state=random_state,
        stability_repeats=2,
        device=device,
    )
