"""Audiences: the members most likely to like an item, or any set of items (a genre, a
year, a text match), ranked, as for a marketer's "whom do we target with this title?".

A member's score for a target set T is how strongly their history points at T:
``sum over rated items j of sim(j, T)`` over ``sqrt(history length)``, where ``sim`` is the
cosine of co-rating counts with shrinkage (item-kNN's similarity, one column per target
folded into one), or, for targets nobody has rated yet, the cosine of their text embeddings
(clipped at 0). Members who rated a target already are left out: they need no targeting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class Audience:
    """Members ranked best first (row indices), their scores, and what the ranking used."""

    members: np.ndarray
    scores: np.ndarray
    already_rated: int
    basis: str  # "co-ratings", "text", or "co-ratings and text"


def rank_audience(
    X: sp.csr_matrix,
    targets: np.ndarray,
    *,
    item_embeddings: np.ndarray | None = None,
    shrink: float = 10.0,
    size: int | None = None,
) -> Audience:
    """Rank the members of ``X`` (members x items, any positive value an interaction) for the
    item indices ``targets``; ``size`` keeps the best ones only."""
    targets = np.unique(np.asarray(targets, dtype=np.int64))
    if targets.size == 0:
        raise ValueError("targets: expected at least one item")
    if targets.min() < 0 or targets.max() >= X.shape[1]:
        raise ValueError(f"targets: item indices must lie in 0..{X.shape[1] - 1}")
    B = sp.csr_matrix((X > 0).astype(np.float64))
    counts = np.asarray(B.sum(axis=0)).ravel()
    rated, unrated = targets[counts[targets] > 0], targets[counts[targets] == 0]
    pull = np.zeros(X.shape[1])
    basis = []
    if rated.size:
        co = np.asarray((B.T @ B[:, rated]).todense())  # items x rated targets
        pull += (co / (np.sqrt(np.outer(counts, counts[rated])) + shrink)).sum(axis=1)
        basis.append("co-ratings")
    if unrated.size and item_embeddings is not None and len(item_embeddings):
        E = np.asarray(item_embeddings, dtype=np.float64)
        norms = np.linalg.norm(E, axis=1)
        E = E / np.where(norms > 0, norms, 1)[:, None]
        pull += np.clip(E @ E[unrated].T, 0, None).sum(axis=1)
        basis.append("text")
    pull[targets] = 0.0
    history = np.asarray(B.sum(axis=1)).ravel()
    scores = (B @ pull) / np.sqrt(np.maximum(history, 1))
    seen = np.asarray(B[:, targets].sum(axis=1)).ravel() > 0
    candidates = np.flatnonzero(~seen)
    order = candidates[np.argsort(-scores[candidates], kind="stable")]
    if size is not None:
        order = order[:size]
    return Audience(
        members=order,
        scores=scores[order],
        already_rated=int(seen.sum()),
        basis=" and ".join(basis) or "nothing: no target has ratings or text",
    )
