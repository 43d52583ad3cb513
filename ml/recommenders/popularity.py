"""Most-rated items, optionally time-decayed so recent ratings count more ("new and rising")."""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp

from ml.recommenders._sparse import (
    SECONDS_PER_DAY,
    check_aligned,
    check_interactions,
    check_positive,
)
from ml.recommenders.base import Recommender


class Popularity(Recommender):
    """Score every item by how many ratings it has; the same scores for every member.

    Parameters
    ----------
    half_life_days : float or None, default=None
        If set, a rating counts 0.5 ** (age / half_life_days), its age measured back from the
        latest timestamp in the data, so items rated a lot lately rise. Needs ``timestamps``.

    Attributes
    ----------
    item_scores_ : ndarray of shape (n_items,)
        The (decayed) rating counts.
    X_ : csr_matrix
        The training matrix, for excluding seen items.
    """

    @property
    def cites(self) -> str:  # type: ignore[override]  # a class attribute on the base
        return "trending" if self.half_life_days else "popular"

    def __init__(self, half_life_days: float | None = None) -> None:
        self.half_life_days = half_life_days

    def fit(
        self,
        X: sp.spmatrix,
        *,
        timestamps: sp.spmatrix | None = None,
        segments: np.ndarray | None = None,
        features: np.ndarray | None = None,
    ) -> Self:
        """Count ratings per item in ``X`` (members x items), decayed by ``timestamps`` if set."""
        check_positive(self.half_life_days, "half_life_days", allow_none=True)
        self.X_ = check_interactions(X)
        weights = np.ones(self.X_.nnz)
        if self.half_life_days is not None:
            if timestamps is None:
                raise ValueError("Popularity(half_life_days=...) needs timestamps in fit")
            ts = check_aligned(self.X_, timestamps).data
            age_days = (ts.max(initial=0.0) - ts) / SECONDS_PER_DAY
            weights = 0.5 ** (age_days / self.half_life_days)
        counts = np.bincount(self.X_.indices, weights=weights, minlength=self.X_.shape[1])
        self.item_scores_ = counts.astype(np.float32)
        return self

    def _score_batch(self, users: np.ndarray) -> np.ndarray:
        return np.tile(self.item_scores_, (len(users), 1))
