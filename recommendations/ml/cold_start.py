"""Serving members who have no ratings from their segment, everyone else from a history model."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .base import Recommender
from .segment_popularity import SegmentPopularity


class SegmentColdStart(Recommender):
    """Route members with ratings to ``warm`` and members without to their segment's likes.

    History models score a member with no ratings as all zeros, which ranks items
    arbitrarily; a new member's segment (from a classifier on demographics) knows better.

    Parameters
    ----------
    warm : Recommender
        Fitted on the same matrix; serves members with at least one rating.
    segment_model : SegmentPopularity
        Fitted on the same matrix with every member's segment.
    """

    def __init__(self, warm: Recommender, segment_model: SegmentPopularity) -> None:
        self.warm = warm
        self.segment_model = segment_model

    def fit(self, X: sp.csr_matrix, **context: object) -> SegmentColdStart:
        self.X_ = sp.csr_matrix(X)
        self.cold_ = np.diff(self.X_.indptr) == 0
        return self

    def _score_batch(self, users: np.ndarray) -> np.ndarray:
        scores = np.empty((len(users), self.X_.shape[1]), dtype=np.float32)
        cold = self.cold_[users]
        if (~cold).any():
            scores[~cold] = self.warm.score(users[~cold])
        if cold.any():
            scores[cold] = self.segment_model.score(users[cold])
        return scores

    def model_for(self, user: int) -> Recommender:
        return self.segment_model if self.cold_[user] else self.warm
