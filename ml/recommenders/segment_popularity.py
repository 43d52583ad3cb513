"""What each segment likes: per-segment like-rates shrunk toward the whole membership's."""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp

from ml.recommenders._sparse import check_interactions, row_ids
from ml.recommenders.base import Recommender, top_k


class SegmentPopularity(Recommender):
    """Score items by the share of a member's segment who liked them.

    The like-rate of item i in segment s is (likes_si + shrinkage * g_i) / (n_s + shrinkage),
    with likes_si the members of s who rated i at least ``like_threshold``, n_s the size of
    s and g_i the like-rate over all members: small segments lean on the global rate.
    Members outside the fit (cold start) are scored through their segment alone, with
    ``score_segments``.

    Parameters
    ----------
    shrinkage : float, default=20.0
        Pseudo-members pulling a segment's rate toward the global one.
    like_threshold : float, default=4.0
        Lowest rating that counts as a like.
    distinctive : bool, default=False
        Score by like-rate x lift instead of like-rate: what the segment likes more than
        everyone does, not only what everyone likes. In a blend with EASE this kept NDCG and
        raised catalogue coverage on ML-100K.

    Attributes
    ----------
    rates_ : ndarray of shape (n_segments, n_items)
        Shrunk like-rates.
    global_rates_ : ndarray of shape (n_items,)
        Like-rates over all members.
    lift_ : ndarray of shape (n_segments, n_items)
        rates_ / global_rates_ (1 where nobody liked the item): "liked by segment x3.2".
    segments_ : ndarray of shape (n_members,)
        The segment of every member of the fit.
    X_ : csr_matrix
        The training matrix, for excluding seen items.
    """

    cites = "segment"

    def __init__(
        self, shrinkage: float = 20.0, like_threshold: float = 4.0, distinctive: bool = False
    ) -> None:
        self.shrinkage = shrinkage
        self.like_threshold = like_threshold
        self.distinctive = distinctive

    def fit(
        self,
        X: sp.spmatrix,
        *,
        timestamps: sp.spmatrix | None = None,
        segments: np.ndarray | None = None,
        features: np.ndarray | None = None,
    ) -> Self:
        """Count likes in ``X`` (members x items ratings) per segment (one label per member)."""
        if segments is None:
            raise ValueError("SegmentPopularity.fit needs segments")
        if not self.shrinkage >= 0:
            raise ValueError(f"shrinkage must be >= 0, got {self.shrinkage!r}")
        self.X_ = check_interactions(X)
        self.segments_ = _check_segments(segments, self.X_.shape[0])
        n_segments = int(self.segments_.max(initial=-1)) + 1
        liked = self.X_.data >= self.like_threshold
        seg_of_like = self.segments_[row_ids(self.X_)[liked]]
        likes = np.zeros((n_segments, self.X_.shape[1]))
        np.add.at(likes, (seg_of_like, self.X_.indices[liked]), 1.0)
        sizes = np.bincount(self.segments_, minlength=n_segments).astype(np.float64)
        self.global_rates_ = likes.sum(axis=0) / max(self.X_.shape[0], 1)
        self.rates_ = _shrunk_rates(likes, sizes, self.global_rates_, self.shrinkage)
        with np.errstate(divide="ignore", invalid="ignore"):
            lift = self.rates_ / self.global_rates_
        self.lift_ = np.where(self.global_rates_ > 0, lift, 1.0)
        return self

    def _score_batch(self, users: np.ndarray) -> np.ndarray:
        segments = self.segments_[users]
        if self.distinctive:
            return self.rates_[segments] * self.lift_[segments]
        return self.rates_[segments]

    def score_segments(self, segment_ids: np.ndarray) -> np.ndarray:
        """Scores for members known only by their segment: shape (len(segment_ids), n_items)."""
        ids = np.asarray(segment_ids, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.rates_)):
            raise ValueError(f"segment ids must lie in [0, {len(self.rates_)})")
        return self.rates_[ids].astype(np.float32)

    def recommend_segments(self, segment_ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k items for members with no history, from their segment: (items, scores)."""
        return top_k(self.score_segments(segment_ids), k)


def _check_segments(segments: np.ndarray, n_members: int) -> np.ndarray:
    seg = np.asarray(segments)
    if seg.shape != (n_members,):
        raise ValueError(f"segments must have shape ({n_members},), got {seg.shape}")
    if seg.size and (not np.issubdtype(seg.dtype, np.integer) or seg.min() < 0):
        raise ValueError("segments must be non-negative integer labels")
    return seg.astype(np.int64)


def _shrunk_rates(
    likes: np.ndarray, sizes: np.ndarray, global_rates: np.ndarray, shrinkage: float
) -> np.ndarray:
    numer = likes + shrinkage * global_rates[None, :]
    denom = (sizes + shrinkage)[:, None]
    # An empty segment with no shrinkage has no evidence of its own: it gets the global rate.
    safe = np.where(denom > 0, denom, 1.0)
    return np.where(denom > 0, numer / safe, global_rates[None, :])
