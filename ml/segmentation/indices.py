"""Davies-Bouldin and Calinski-Harabasz indices of a segmentation, in bounded memory.

scikit-learn's ``davies_bouldin_score`` and ``calinski_harabasz_score`` copy each cluster's
rows and square them: for a million members' float32 features several GB beside the matrix.
These give the same values (float64 throughout) from two passes over row chunks.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

CHUNK_ROWS = 16_384


def cluster_indices(X: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """``{"davies_bouldin", "calinski_harabasz"}`` of ``labels`` (one per row of ``X``, any
    values; at least two distinct, fewer distinct than rows), exactly as scikit-learn
    defines them: lower Davies-Bouldin and higher Calinski-Harabasz mean tighter, better
    separated segments."""
    X, labels = np.asarray(X), np.asarray(labels)
    if X.ndim != 2 or len(X) != len(labels):
        raise ValueError(f"labels: expected {len(X)} entries, one per row of X, got {len(labels)}")
    _, codes = np.unique(labels, return_inverse=True)
    k = int(codes.max()) + 1 if len(codes) else 0
    if not 2 <= k < len(X):
        raise ValueError(f"labels: expected 2 to {len(X) - 1} distinct segments, got {k}")
    counts = np.bincount(codes, minlength=k).astype(np.float64)
    sums = np.zeros((k, X.shape[1]))
    for start, rows in _chunks(X):
        part = codes[start : start + len(rows)]
        member_of = sp.csr_matrix(
            (np.ones(len(rows)), (part, np.arange(len(rows)))), shape=(k, len(rows))
        )
        sums += member_of @ rows
    centroids = sums / counts[:, None]
    within = np.zeros(k)  # sum of distances to the own centroid, per segment
    squared_within = 0.0
    for start, rows in _chunks(X):
        part = codes[start : start + len(rows)]
        squared = ((rows - centroids[part]) ** 2).sum(axis=1)
        squared_within += float(squared.sum())
        within += np.bincount(part, weights=np.sqrt(squared), minlength=k)
    mean = sums.sum(axis=0) / len(X)
    between = float((counts * ((centroids - mean) ** 2).sum(axis=1)).sum())
    return {
        "davies_bouldin": _davies_bouldin(within / counts, centroids),
        "calinski_harabasz": (
            1.0 if squared_within == 0.0 else between * (len(X) - k) / (squared_within * (k - 1.0))
        ),
    }


def _davies_bouldin(spread: np.ndarray, centroids: np.ndarray) -> float:
    gaps = np.sqrt(((centroids[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2))
    if np.allclose(spread, 0) or np.allclose(gaps, 0):
        return 0.0
    gaps[gaps == 0] = np.inf
    return float(np.mean(np.max((spread[:, None] + spread[None, :]) / gaps, axis=1)))


def _chunks(X: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    for start in range(0, len(X), CHUNK_ROWS):
        yield start, np.asarray(X[start : start + CHUNK_ROWS], dtype=np.float64)
