"""Recommenders by name, fitted with the context each needs: what a run's parameter picks.

``blend`` is the segment-aware default: recency-weighted EASE, the next-item model, what the
member's segment likes and what is close in embedding space, with EASE's penalty, its
recency half-life and the blend weights all chosen on a validation part carved out of the
ratings it is given (never on anything held out beyond them).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from .base import Recommender
from .blend import Blend, tune_weights
from .content import ContentRecommender
from .ease import EASE
from .item_knn import ItemKNN
from .metrics import ndcg_at_k
from .popularity import Popularity
from .segment_popularity import SegmentPopularity
from .splits import validation_split
from .transitions import TransitionEASE

# EASE and the next-item model hold n_items² floats; past this catalogue item-kNN stands in.
EASE_MAX_ITEMS = 20_000
HISTORY_FLOOR = 0.1
EASE_GRID = tuple(itertools.product((100.0, 200.0, 500.0, 1000.0, 2000.0), (None, 5.0, 20.0)))
BLEND_GRID = {
    "ease": (1.0,),
    "next": (0.0, 0.3, 0.6, 1.0),
    "segment_popularity": (0.0, 0.1, 0.3),
    "content": (0.0, 0.1, 0.3),
}
RECOMMENDERS = (
    "blend",
    "ease",
    "next_item",
    "item_knn",
    "segment_popularity",
    "popularity",
    "trending",
    "content",
)


@dataclass
class FitContext:
    """What recommenders may need beside the ratings matrix, all aligned with its rows."""

    timestamps: sp.csr_matrix
    segments: np.ndarray
    item_embeddings: np.ndarray
    seed: int = 0
    validation: str = "temporal"
    k: int = 10
    ease_l2: float = 500.0
    ease_half_life: float | None = None
    tuning: dict[str, Any] = field(default_factory=dict)


def fit_recommender(name: str, X: sp.csr_matrix, context: FitContext) -> Recommender:
    """Fit the recommender called ``name`` on ``X`` (members x items ratings).

    For ``blend`` the choices made on validation are recorded in ``context.tuning``.
    """
    if name == "blend":
        return _fit_tuned_blend(X, context)
    if name == "ease_tuned":
        return _fit_tuned_ease(X, context)
    if name == "popularity":
        return Popularity().fit(X)
    if name == "trending":
        return Popularity(half_life_days=30.0).fit(X, timestamps=context.timestamps)
    if name == "segment_popularity":
        return SegmentPopularity().fit(X, segments=context.segments)
    if name == "item_knn":
        return ItemKNN().fit(X)
    if name == "content":
        return ContentRecommender(item_embeddings=context.item_embeddings).fit(X)
    if X.shape[1] > EASE_MAX_ITEMS and name in {"ease", "next_item"}:
        return ItemKNN(history_half_life=context.ease_half_life, history_floor=HISTORY_FLOOR).fit(
            X, timestamps=context.timestamps
        )
    if name == "ease":
        return EASE(
            l2=context.ease_l2,
            history_half_life=context.ease_half_life,
            history_floor=HISTORY_FLOOR,
            max_items=EASE_MAX_ITEMS,
        ).fit(X, timestamps=context.timestamps)
    if name == "next_item":
        return TransitionEASE(
            l2=context.ease_l2,
            history_half_life=context.ease_half_life or 5.0,
            history_floor=HISTORY_FLOOR,
            max_items=EASE_MAX_ITEMS,
        ).fit(X, timestamps=context.timestamps)
    raise ValueError(f"recommender: unknown name {name!r}; expected one of {RECOMMENDERS}")


def _fit_tuned_ease(X: sp.csr_matrix, context: FitContext) -> Recommender:
    """Plain EASE (no recency), its penalty chosen on validation: the published baseline."""
    valid = validation_split(
        X, context.timestamps, method=context.validation, random_state=context.seed
    )
    inner = _with_timestamps(context, valid.train_timestamps)
    l2, _, _ = _tune_ease(valid.train, valid.test, inner, half_lives=(None,))
    inner.ease_l2, inner.ease_half_life = l2, None
    return fit_recommender("ease", X, _with_timestamps(inner, context.timestamps))


def _fit_tuned_blend(X: sp.csr_matrix, context: FitContext) -> Blend:
    valid = validation_split(
        X, context.timestamps, method=context.validation, random_state=context.seed
    )
    inner = _with_timestamps(context, valid.train_timestamps)
    # Recency helps only where the held-out ratings are the latest ones.
    half_lives = (None,) if context.validation == "random" else (None, 5.0, 20.0)
    l2, half_life, ease_ndcg = _tune_ease(valid.train, valid.test, inner, half_lives=half_lives)
    context.ease_l2, context.ease_half_life = l2, half_life
    inner.ease_l2, inner.ease_half_life = l2, half_life
    parts = {name: fit_recommender(_part(name), valid.train, inner) for name in BLEND_GRID}
    weights, table = tune_weights(parts, valid.train, valid.test, context.k, BLEND_GRID)
    chosen = {name: w for name, w in weights.items() if w > 0}
    context.tuning = {
        "validation": context.validation,
        "ease_l2": l2,
        "ease_half_life": half_life,
        "ease_validation_ndcg": round(ease_ndcg, 4),
        "weights": chosen,
        "blend_validation_ndcg": round(table[0]["ndcg"], 4),
    }
    components = {name: fit_recommender(_part(name), X, context) for name in chosen}
    return Blend(components, chosen).fit(X)


def _part(name: str) -> str:
    return "next_item" if name == "next" else name


def _with_timestamps(context: FitContext, timestamps: sp.csr_matrix) -> FitContext:
    return FitContext(
        timestamps=timestamps,
        segments=context.segments,
        item_embeddings=context.item_embeddings,
        seed=context.seed,
        validation=context.validation,
        k=context.k,
    )


def _tune_ease(
    train: sp.csr_matrix,
    held_out: sp.csr_matrix,
    context: FitContext,
    half_lives: tuple[float | None, ...],
) -> tuple[float, float | None, float]:
    users = np.flatnonzero(np.diff(held_out.indptr) > 0)
    best: tuple[float, float | None, float] = (500.0, None, -1.0)
    for l2, half_life in EASE_GRID:
        if half_life not in half_lives:
            continue
        context.ease_l2, context.ease_half_life = l2, half_life
        model = fit_recommender("ease", train, context)
        items, _ = model.recommend(users, context.k)
        score = float(ndcg_at_k(items, held_out[users]).mean())
        if score > best[2]:
            best = (l2, half_life, score)
    return best
