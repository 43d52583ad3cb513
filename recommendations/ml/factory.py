"""Recommenders by name, fitted with the context each needs: what a run's parameter picks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .base import Recommender
from .blend import Blend
from .content import ContentRecommender
from .ease import EASE
from .item_knn import ItemKNN
from .popularity import Popularity
from .segment_popularity import SegmentPopularity

# EASE holds n_items² floats; past this catalogue size item-kNN stands in for it.
EASE_MAX_ITEMS = 20_000
DEFAULT_BLEND_WEIGHTS = {"ease": 1.0, "segment_popularity": 0.3, "content": 0.2, "trending": 0.1}
TRENDING_HALF_LIFE_DAYS = 30.0


@dataclass
class FitContext:
    """What recommenders may need beside the ratings matrix, all aligned with its rows."""

    timestamps: sp.csr_matrix
    segments: np.ndarray
    item_embeddings: np.ndarray
    seed: int = 0


def fit_recommender(
    name: str,
    X: sp.csr_matrix,
    context: FitContext,
    blend_weights: dict[str, float] | None = None,
) -> Recommender:
    """Fit the recommender called ``name`` on ``X`` (members x items ratings)."""
    if name == "blend":
        weights = blend_weights or DEFAULT_BLEND_WEIGHTS
        components = {
            part: fit_recommender(part, X, context) for part, w in weights.items() if w > 0
        }
        return Blend(components, {part: weights[part] for part in components}).fit(X)
    if name == "popularity":
        return Popularity().fit(X)
    if name == "trending":
        return Popularity(half_life_days=TRENDING_HALF_LIFE_DAYS).fit(
            X, timestamps=context.timestamps
        )
    if name == "segment_popularity":
        return SegmentPopularity().fit(X, segments=context.segments)
    if name == "item_knn":
        return ItemKNN().fit(X)
    if name == "ease":
        if X.shape[1] > EASE_MAX_ITEMS:
            return ItemKNN().fit(X)
        return EASE(max_items=EASE_MAX_ITEMS).fit(X, timestamps=context.timestamps)
    if name == "content":
        return ContentRecommender(item_embeddings=context.item_embeddings).fit(X)
    raise ValueError(f"recommender: unknown name {name!r}")
