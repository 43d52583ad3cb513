"""A linear next-item model: which items members go on to rate after the ones they just rated.

In the spirit of SLIT (Choi et al., "Session-aware Linear Item-Item Models", SIGIR 2021),
simplified: the targets are the items rated within a window after each item, and the
decorrelating inverse is EASE's.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp

from ml.recommenders._sparse import (
    binarize,
    check_aligned,
    check_interactions,
    check_positive,
    check_recency,
    recency_weights,
    row_ids,
    tie_breaker,
)
from ml.recommenders.ease import LinkReasons, check_catalogue_size, inverse_gram

_PAIRS_PER_FLUSH = 4_000_000
_BLOCK_CELLS = 2**24  # dense cells per block of C's columns: 128 MB of float64


class TransitionEASE(LinkReasons):
    """Item-to-next-items weights W = (XᵀX + l2·I)⁻¹ C, scored from the latest ratings.

    C[i, j] counts how often j was rated within ``window`` ratings after i by the same
    member, each pair weighted 0.5 ** ((gap - 1) / gap_half_life). Scores are the
    recency-weighted history @ W. It captures the order members rate in (on MovieLens,
    popular titles first, then the long tail), which plain EASE ignores; it is meant to be
    blended with EASE (see ``Blend``). Memory as EASE: about n_items² x 20 bytes at the peak.

    Parameters
    ----------
    l2 : float, default=500.0
        Ridge penalty of the inverse.
    window : int, default=100
        How many later ratings of a member count as following an item.
    gap_half_life : float, default=30.0
        Gap (in ratings) at which a following pair counts half.
    history_half_life : float, default=5.0
        Recency half-life of the member's history, in ratings (as in ``EASE``).
    history_floor : float, default=0.1
        The weight old ratings decay towards.
    max_items : int, default=20000
        Largest catalogue ``fit`` accepts.

    Attributes
    ----------
    W_ : ndarray of shape (n_items, n_items), float32
        Item-to-next-item weights.
    history_ : csr_matrix
        The recency-weighted binarised history scores are computed from.
    X_ : csr_matrix
        The training matrix, for excluding seen items.
    """

    cites = "next"

    def __init__(
        self,
        l2: float = 500.0,
        window: int = 100,
        gap_half_life: float = 30.0,
        history_half_life: float = 5.0,
        history_floor: float = 0.1,
        max_items: int = 20000,
    ) -> None:
        self.l2 = l2
        self.window = window
        self.gap_half_life = gap_half_life
        self.history_half_life = history_half_life
        self.history_floor = history_floor
        self.max_items = max_items

    def fit(
        self,
        X: sp.spmatrix,
        *,
        timestamps: sp.spmatrix | None = None,
        segments: np.ndarray | None = None,
        features: np.ndarray | None = None,
    ) -> Self:
        """Learn W from ``X`` (members x items) ordered by ``timestamps`` (same pattern)."""
        if timestamps is None:
            raise ValueError("TransitionEASE.fit needs timestamps")
        check_positive(self.l2, "l2")
        check_positive(self.gap_half_life, "gap_half_life")
        check_recency(self.history_half_life, self.history_floor)
        if not (isinstance(self.window, int | np.integer) and self.window >= 1):
            raise ValueError(f"window must be a positive integer, got {self.window!r}")
        self.X_ = check_interactions(X)
        check_catalogue_size(self.X_.shape[1], self.max_items, "TransitionEASE")
        ts = check_aligned(self.X_, timestamps)
        binary = binarize(self.X_)
        follows = _follow_counts(binary, ts, self.window, self.gap_half_life)
        P = inverse_gram(binary, self.l2)
        self.W_ = _times_sparse(P, follows)
        self.history_ = recency_weights(binary, ts, self.history_half_life, self.history_floor)
        return self

    def _score_batch(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.history_[users] @ self.W_)

    def _links(self) -> np.ndarray:
        return self.W_


def _follow_counts(
    binary: sp.csr_matrix, timestamps: sp.csr_matrix, window: int, gap_half_life: float
) -> sp.csr_matrix:
    """C[i, j]: decayed count of j rated 1..window ratings after i by the same member."""
    rows = row_ids(binary)
    order = np.lexsort((tie_breaker(rows, binary.indices), timestamps.data, rows))
    members, items = rows[order], binary.indices[order]
    n = binary.shape[1]
    C = sp.csr_matrix((n, n), dtype=np.float64)
    heads, tails, weights = [], [], []
    for gap in range(1, min(window, len(items) - 1) + 1):
        same = members[:-gap] == members[gap:]
        if not same.any():
            break
        heads.append(items[:-gap][same])
        tails.append(items[gap:][same])
        weights.append(np.full(len(heads[-1]), 0.5 ** ((gap - 1) / gap_half_life)))
        # Flushing every few million pairs bounds memory at O(ratings), not ratings x window.
        if sum(len(h) for h in heads) > _PAIRS_PER_FLUSH:
            C = C + _pairs_matrix(heads, tails, weights, n)
            heads, tails, weights = [], [], []
    return C + _pairs_matrix(heads, tails, weights, n) if heads else C


def _pairs_matrix(heads: list, tails: list, weights: list, n: int) -> sp.csr_matrix:
    pairs = (np.concatenate(heads), np.concatenate(tails))
    return sp.csr_matrix((np.concatenate(weights), pairs), shape=(n, n))


def _times_sparse(P: np.ndarray, C: sp.csr_matrix) -> np.ndarray:
    """P @ C in float32, by dense column blocks of C: BLAS is ~5x faster than sparse here."""
    n = C.shape[1]
    out = np.empty((P.shape[0], n), dtype=np.float32)
    block = max(1, _BLOCK_CELLS // max(P.shape[0], 1))
    C = C.tocsc()
    for start in range(0, n, block):
        stop = min(start + block, n)
        out[:, start:stop] = P @ C[:, start:stop].toarray()
    return out
