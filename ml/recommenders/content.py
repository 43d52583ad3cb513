"""Content-based recommendations from item embeddings (e.g. sentence embeddings of titles)."""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp

from ml.recommenders._sparse import check_interactions, member_of, row_ids, row_of
from ml.recommenders.base import Recommender


class ContentRecommender(Recommender):
    """Score items by cosine similarity to a member's taste vector in embedding space.

    The taste vector is the weighted mean of the unit embeddings of what the member rated,
    each weighted by the rating minus the member's mean rating, so liked items pull and
    disliked ones push. A member whose ratings are all equal (or implicit) gets a plain mean.

    Parameters
    ----------
    item_embeddings : array-like of shape (n_items, dim)
        One vector per item, in the column order of ``X``.

    Attributes
    ----------
    item_vectors_ : ndarray of shape (n_items, dim)
        Unit-normalised embeddings.
    weights_ : csr_matrix
        The centred rating weights the taste vectors were built from.
    X_ : csr_matrix
        The training matrix, for excluding seen items.
    """

    def __init__(self, item_embeddings: np.ndarray) -> None:
        self.item_embeddings = item_embeddings

    def fit(
        self,
        X: sp.spmatrix,
        *,
        timestamps: sp.spmatrix | None = None,
        segments: np.ndarray | None = None,
        features: np.ndarray | None = None,
    ) -> Self:
        """Build each member's taste vector from their ratings in ``X`` (members x items)."""
        self.X_ = check_interactions(X)
        emb = np.asarray(self.item_embeddings, dtype=np.float32)
        if emb.ndim != 2 or emb.shape[0] != self.X_.shape[1]:
            raise ValueError(f"item_embeddings must have shape ({self.X_.shape[1]}, dim)")
        self.item_vectors_ = _unit_rows(emb)
        self.weights_ = _centred_weights(self.X_)
        return self

    def member_vectors(self, users: np.ndarray) -> np.ndarray:
        """Unit-normalised taste vectors of ``users`` (zero for members without ratings),
        built per batch: kept for every member they were 1.5 GB at a million members."""
        return _unit_rows(np.asarray(self.weights_[users] @ self.item_vectors_))

    def _score_batch(self, users: np.ndarray) -> np.ndarray:
        return self.member_vectors(users) @ self.item_vectors_.T

    def explain(self, user: int, item: int, only: np.ndarray | None = None) -> int:
        """The item the member rated above their mean (and in ``only``) most similar to
        ``item``; -1 when there is none."""
        row = row_of(self.weights_, user)
        allowed = row.data > 0
        if only is not None:
            allowed &= member_of(row.indices, only)
        if not allowed.any():
            return -1
        sims = self.item_vectors_[row.indices] @ self.item_vectors_[item]
        return int(row.indices[int(np.argmax(np.where(allowed, sims, -np.inf)))])


def _unit_rows(M: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(M, axis=1, keepdims=True)
    return (M / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def _centred_weights(X: sp.csr_matrix) -> sp.csr_matrix:
    rows = row_ids(X)
    counts = np.maximum(np.diff(X.indptr), 1)
    centred = X.data - (np.bincount(rows, weights=X.data, minlength=X.shape[0]) / counts)[rows]
    flat = np.bincount(rows, weights=np.abs(centred), minlength=X.shape[0]) == 0
    # A member with one rating or all-equal ratings has no contrast: weigh their items equally.
    centred = np.where(flat[rows], 1.0, centred)
    scale = np.bincount(rows, weights=np.abs(centred), minlength=X.shape[0])
    W = X.copy()
    W.data = (centred / np.where(scale > 0, scale, 1.0)[rows]).astype(np.float32)
    return W
