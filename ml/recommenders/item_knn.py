"""Item-based nearest neighbours with a sparse, top-n similarity matrix."""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp

from ml.recommenders._sparse import (
    binarize,
    check_interactions,
    check_recency,
    history_matrix,
    row_of,
    strongest_seen,
)
from ml.recommenders.base import Recommender

_SIMILARITIES = ("cosine", "jaccard")
_BLOCK_CELLS = 2**22  # dense cells per block of columns: ~32 MB of float64


class ItemKNN(Recommender):
    """Score = history @ S, S the item-item similarity cut to each item's nearest neighbours.

    S is computed in blocks of target columns and never held dense: memory is
    n_items x n_neighbors for S plus one n_items x block dense block while fitting.

    Parameters
    ----------
    n_neighbors : int, default=100
        Similar items kept per target item (per column of S).
    shrink : float, default=10.0
        Added to the similarity's denominator, damping pairs seen together only a few times.
    similarity : {"cosine", "jaccard"}, default="cosine"
        On binarised ratings: co-counts over sqrt(n_i n_j) or over n_i + n_j - co-count.
    history_half_life : float or None, default=None
        Recency weighting of the member's history, in ratings, as in ``EASE``.
    history_floor : float, default=0.0
        The weight old ratings decay towards.
    block_size : int or None, default=None
        Target items per block while fitting; None sizes blocks to about 32 MB.

    Attributes
    ----------
    similarity_ : csr_matrix of shape (n_items, n_items)
        S[i, j]: how much having rated i speaks for j; zero diagonal.
    history_ : csr_matrix
        The (recency-weighted) binarised history scores are computed from.
    X_ : csr_matrix
        The training matrix, for excluding seen items.
    """

    def __init__(
        self,
        n_neighbors: int = 100,
        shrink: float = 10.0,
        similarity: str = "cosine",
        history_half_life: float | None = None,
        history_floor: float = 0.0,
        block_size: int | None = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.shrink = shrink
        self.similarity = similarity
        self.history_half_life = history_half_life
        self.history_floor = history_floor
        self.block_size = block_size

    def fit(
        self,
        X: sp.spmatrix,
        *,
        timestamps: sp.spmatrix | None = None,
        segments: np.ndarray | None = None,
        features: np.ndarray | None = None,
    ) -> Self:
        """Compute the neighbour similarities from ``X`` (members x items, binarised)."""
        self._check_params()
        self.X_ = check_interactions(X)
        self.history_ = history_matrix(
            self.X_, timestamps, self.history_half_life, self.history_floor, owner="ItemKNN"
        )
        n_items = self.X_.shape[1]
        block = self.block_size or max(1, _BLOCK_CELLS // max(n_items, 1))
        self.similarity_ = _top_similarity(
            binarize(self.X_).tocsc(), self.n_neighbors, self.shrink, self.similarity, block
        )
        return self

    def _check_params(self) -> None:
        if self.similarity not in _SIMILARITIES:
            raise ValueError(f"similarity must be one of {_SIMILARITIES}, got {self.similarity!r}")
        if not (isinstance(self.n_neighbors, int | np.integer) and self.n_neighbors >= 1):
            raise ValueError(f"n_neighbors must be a positive integer, got {self.n_neighbors!r}")
        if not self.shrink >= 0:
            raise ValueError(f"shrink must be >= 0, got {self.shrink!r}")
        check_recency(self.history_half_life, self.history_floor)
        if self.block_size is not None and not self.block_size >= 1:
            raise ValueError(f"block_size must be a positive integer, got {self.block_size!r}")

    def _score_batch(self, users: np.ndarray) -> np.ndarray:
        return (self.history_[users] @ self.similarity_).toarray()

    def explain(self, user: int, item: int, only: np.ndarray | None = None) -> int:
        """The seen item (of ``only``) most similar to ``item`` after history weighting (-1
        if none)."""
        column = self.similarity_[:, item].toarray().ravel()
        return strongest_seen(row_of(self.history_, user), column, only)


def _top_similarity(
    X: sp.csc_matrix, n_neighbors: int, shrink: float, kind: str, block: int
) -> sp.csr_matrix:
    n_items = X.shape[1]
    counts = np.asarray(X.sum(axis=0)).ravel()
    XT = X.T.tocsr()
    parts = []
    for start in range(0, n_items, block):
        cols = np.arange(start, min(start + block, n_items))
        co = (XT @ X[:, cols]).toarray()  # (n_items, len(cols)) co-rating counts
        sim = _normalise(co, counts, counts[cols], shrink, kind)
        sim[cols, np.arange(len(cols))] = 0.0  # an item is not its own neighbour
        parts.append(_keep_top(sim, n_neighbors))
    return sp.hstack(parts, format="csc").tocsr().astype(np.float32)


def _normalise(
    co: np.ndarray, counts: np.ndarray, col_counts: np.ndarray, shrink: float, kind: str
) -> np.ndarray:
    if kind == "cosine":
        denom = np.sqrt(np.outer(counts, col_counts))
    else:
        denom = counts[:, None] + col_counts[None, :] - co
    return co / (denom + shrink + 1e-12)


def _keep_top(sim: np.ndarray, n_neighbors: int) -> sp.csc_matrix:
    """Per column, the n_neighbors largest positive values, as a sparse block."""
    n_rows, n_cols = sim.shape
    k = min(n_neighbors, n_rows)
    top = np.argpartition(-sim, k - 1, axis=0)[:k] if k < n_rows else np.arange(n_rows)[:, None]
    top = np.broadcast_to(top, (k, n_cols))
    values = np.take_along_axis(sim, top, axis=0)
    keep = values > 0
    cols = np.broadcast_to(np.arange(n_cols), (k, n_cols))
    return sp.csc_matrix((values[keep], (top[keep], cols[keep])), shape=(n_rows, n_cols))
