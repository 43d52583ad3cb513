"""EASE: a closed-form item-item linear model (Steck, "Embarrassingly Shallow Autoencoders
for Sparse Data", WWW 2019)."""

from __future__ import annotations

import copy
from typing import Self

import numpy as np
import scipy.sparse as sp

from ml.recommenders._sparse import (
    binarize,
    check_interactions,
    check_positive,
    check_recency,
    history_matrix,
    row_of,
    strongest_link,
    strongest_links,
)
from ml.recommenders.base import Recommender

_BYTES_PER_CELL = 8 + 8 + 4  # float64 Gram matrix, float64 inverse, float32 B


class LinkReasons(Recommender):
    """Reasons of a model that scores a member's history through an items x items weight
    matrix (``_links()``): a pick's reason is the seen item whose weighted link to it is
    largest (-1 if none is positive)."""

    history_: sp.csr_matrix

    def _links(self) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def explain(self, user: int, item: int, only: np.ndarray | None = None) -> int:
        row = row_of(self.history_, user)
        return strongest_link(row, self._links()[row.indices, item], only)

    def explain_many(
        self, users: np.ndarray, items: np.ndarray, only: sp.csr_matrix | None = None
    ) -> np.ndarray:
        links = self._links()

        def link(seen: np.ndarray, targets: np.ndarray) -> np.ndarray:
            return links[seen, targets]

        return strongest_links(self.history_, link, users, items, only)


class EASE(LinkReasons):
    """Item-item weights B = I - P / diag(P) with P = (XᵀX + l2·I)⁻¹ on binarised X.

    Scores are history @ B. Memory grows with the square of the catalogue: fitting holds
    n_items² float64 cells twice (the Gram matrix and its inverse) and keeps B as n_items²
    float32, about n_items² x 20 bytes at the peak (1.7 K items: 57 MB; 20 K items: 8 GB).
    Fitting refuses catalogues above ``max_items``.

    Parameters
    ----------
    l2 : float, default=500.0
        Ridge penalty; larger means smoother, more popularity-like weights.
    max_items : int, default=20000
        Largest catalogue ``fit`` accepts.
    history_half_life : float or None, default=None
        If set, a seen item counts floor + (1 - floor) * 0.5 ** (age / history_half_life)
        when scoring, its age being how many of the member's ratings came after it, so recent
        tastes lead (what helps when the next ratings are to be guessed). Needs
        ``timestamps`` in ``fit``; B itself is unchanged.
    history_floor : float, default=0.0
        The weight old ratings decay towards, in [0, 1].

    Attributes
    ----------
    B_ : ndarray of shape (n_items, n_items), float32
        Item-item weights with a zero diagonal.
    history_ : csr_matrix
        The (recency-weighted) binarised history that scores are computed from.
    X_ : csr_matrix
        The training matrix, for excluding seen items.
    """

    def __init__(
        self,
        l2: float = 500.0,
        max_items: int = 20000,
        history_half_life: float | None = None,
        history_floor: float = 0.0,
    ) -> None:
        self.l2 = l2
        self.max_items = max_items
        self.history_half_life = history_half_life
        self.history_floor = history_floor

    def fit(
        self,
        X: sp.spmatrix,
        *,
        timestamps: sp.spmatrix | None = None,
        segments: np.ndarray | None = None,
        features: np.ndarray | None = None,
    ) -> Self:
        """Solve for B on ``X`` (members x items; any stored rating counts as an interaction)."""
        check_positive(self.l2, "l2")
        check_recency(self.history_half_life, self.history_floor)
        self.X_ = check_interactions(X)
        check_catalogue_size(self.X_.shape[1], self.max_items)
        self.history_ = history_matrix(
            self.X_, timestamps, self.history_half_life, self.history_floor, owner="EASE"
        )
        self.B_ = _solve(binarize(self.X_), self.l2)
        return self

    def with_history(self, timestamps: sp.spmatrix | None, half_life: float | None) -> EASE:
        """This fitted model with another recency half-life: B does not depend on it, so
        tuning the half-life costs no new solve (the solve is most of a fit)."""
        other = copy.copy(self)
        other.history_half_life = half_life
        other.history_ = history_matrix(
            self.X_, timestamps, half_life, self.history_floor, owner="EASE"
        )
        return other

    def _score_batch(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.history_[users] @ self.B_)

    def _links(self) -> np.ndarray:
        return self.B_


def check_catalogue_size(n_items: int, max_items: int, owner: str = "EASE") -> None:
    """Refuse a catalogue whose items x items matrices would not fit, saying how much they need."""
    if n_items > max_items:
        need_gb = n_items**2 * _BYTES_PER_CELL / 1e9
        raise ValueError(
            f"{owner} refuses {n_items} items: above max_items={max_items}. The items x items "
            f"matrices would need about {need_gb:.1f} GB; use ItemKNN (sparse) for a catalogue "
            "this large, or raise max_items if the memory is there."
        )


def inverse_gram(binary: sp.csr_matrix, l2: float) -> np.ndarray:
    """P = (XᵀX + l2·I)⁻¹ in float64, for binarised X."""
    gram = (binary.T @ binary).toarray().astype(np.float64)
    gram[np.diag_indices_from(gram)] += l2
    return np.linalg.inv(gram)


def _solve(binary: sp.csr_matrix, l2: float) -> np.ndarray:
    P = inverse_gram(binary, l2)
    P /= -np.diag(P)  # B_ij = -P_ij / P_jj: each column over its diagonal, in place
    np.fill_diagonal(P, 0.0)
    return P.astype(np.float32)
