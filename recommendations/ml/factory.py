"""Recommenders by name, fitted with the context each needs: what a run's parameter picks.

``blend`` is the segment-aware default: recency-weighted EASE, the next-item model, what the
member's segment likes and what is close in embedding space, with EASE's penalty, its
recency half-life and the blend weights all chosen on a validation part carved out of the
ratings it is given (never on anything held out beyond them).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from segments.params import RECOMMENDERS

from .base import Recommender
from .blend import Blend, tune_weights
from .cold_start import SegmentColdStart
from .content import ContentRecommender
from .demographic import DemographicPopularity, tune_l2
from .ease import EASE
from .item_knn import ItemKNN
from .metrics import ndcg_at_k
from .popularity import Popularity
from .segment_popularity import SegmentPopularity
from .splits import Split, validation_split
from .transitions import TransitionEASE

# EASE and the next-item model hold n_items² floats; past this catalogue item-kNN stands in.
EASE_MAX_ITEMS = 20_000
HISTORY_FLOOR = 0.1
EASE_GRID = tuple(itertools.product((100.0, 200.0, 500.0, 1000.0, 2000.0), (None, 5.0, 20.0)))
BLEND_GRID = {
    "ease": (1.0,),
    "next": (0.0, 0.3, 0.6, 1.0),
    "segment_distinctive": (0.0, 0.05, 0.1, 0.2, 0.3),
    "content": (0.0, 0.05, 0.1, 0.3),
    "item_knn": (0.0, 0.1, 0.3),
}
RANDOM_FOLDS = 2
# Tuning scores every weight combination for each validation member; a sample of them ranks
# combinations as well and keeps tuning time flat as membership grows.
TUNING_MAX_MEMBERS = 3_000
# A smaller validation part leaves the inner fit closer in size to the final one.
RANDOM_VALIDATION_HOLDOUT = 0.1
SIMPLER_WITHIN = 0.01


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
    # Segments from a validation fold's training ratings alone; without it the fold reuses
    # ``segments``, which saw the fold's held-out ratings and flatter the segment component.
    relabel: Callable[[sp.csr_matrix, sp.csr_matrix], np.ndarray] | None = None


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
    if name == "segment_distinctive":
        return SegmentPopularity(distinctive=True).fit(X, segments=context.segments)
    if name == "item_knn":
        return ItemKNN().fit(X)
    if name == "content":
        return ContentRecommender(item_embeddings=context.item_embeddings).fit(X)
    if name == "sequential":
        # The causal transformer: measured below recency-weighted EASE on ML-100K (see
        # bench/RESULTS.md), and ~30 min on 2 CPU cores, so it is an option, not the default.
        from .sequential import SequentialRecommender

        return SequentialRecommender(random_state=context.seed).fit(
            X, timestamps=context.timestamps
        )
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
    l2, _, _ = _tune_ease(_validation_folds(X, context), context, half_lives=(None,))
    return fit_recommender("ease", X, replace(context, ease_l2=l2, ease_half_life=None))


def _fit_tuned_blend(X: sp.csr_matrix, context: FitContext) -> Blend:
    folds = _validation_folds(X, context)
    # Recency helps only where the held-out ratings are the latest ones.
    half_lives = (None,) if context.validation == "random" else (None, 5.0, 20.0)
    l2, half_life, ease_ndcg = _tune_ease(folds, context, half_lives=half_lives)
    context.ease_l2, context.ease_half_life = l2, half_life
    totals: dict[tuple[float, ...], float] = defaultdict(float)
    for fold in folds:
        segments = (
            context.relabel(fold.train, fold.train_timestamps)
            if context.relabel
            else context.segments
        )
        inner = replace(context, timestamps=fold.train_timestamps, segments=segments)
        parts = {name: fit_recommender(_part(name), fold.train, inner) for name in BLEND_GRID}
        _, table = tune_weights(parts, fold.train, fold.test, context.k, BLEND_GRID)
        for row in table:
            totals[tuple(row[name] for name in BLEND_GRID)] += row["ndcg"] / len(folds)
    best = _simplest_near_best(totals)
    chosen = {name: w for name, w in zip(BLEND_GRID, best, strict=True) if w > 0}
    context.tuning = {
        "validation": f"{context.validation} x{len(folds)}",
        "ease_l2": l2,
        "ease_half_life": half_life,
        "ease_validation_ndcg": round(ease_ndcg, 4),
        "weights": chosen,
        "blend_validation_ndcg": round(totals[best], 4),
    }
    components = {name: fit_recommender(_part(name), X, context) for name in chosen}
    return Blend(components, chosen).fit(X)


def _simplest_near_best(totals: dict[tuple[float, ...], float]) -> tuple[float, ...]:
    """The blend with the least weight off EASE among those within SIMPLER_WITHIN of the best.

    Validation parts train on less data than the final fit, which flatters popularity-like
    priors; on ML-100K's random split the top validation blend lost to EASE on the test part
    while a lighter one gained, so near-ties go to the lighter blend (a one-standard-error
    style rule).
    """
    top = max(totals.values())
    near = [key for key, value in totals.items() if value >= top * (1 - SIMPLER_WITHIN)]
    return min(near, key=lambda key: (sum(key), -totals[key]))


def _part(name: str) -> str:
    return "next_item" if name == "next" else name


def _validation_folds(X: sp.csr_matrix, context: FitContext) -> list[Split]:
    """Validation parts carved from ``X`` like the held-out part; a random one is drawn twice
    because a single random draw let weights that did not generalise win by chance."""
    if context.validation == "temporal":
        folds = [validation_split(X, context.timestamps, method="temporal")]
    else:
        folds = [
            validation_split(
                X,
                context.timestamps,
                method="random",
                holdout=RANDOM_VALIDATION_HOLDOUT,
                random_state=context.seed + i,
            )
            for i in range(RANDOM_FOLDS)
        ]
    return [_sampled(fold, context.seed) for fold in folds]


def _sampled(fold: Split, seed: int) -> Split:
    """The fold with held-out ratings kept for at most TUNING_MAX_MEMBERS members."""
    scored = np.flatnonzero(np.diff(fold.test.indptr) > 0)
    if len(scored) <= TUNING_MAX_MEMBERS:
        return fold
    keep = np.zeros(fold.test.shape[0], dtype=bool)
    keep[np.random.default_rng(seed).choice(scored, TUNING_MAX_MEMBERS, replace=False)] = True
    return replace(
        fold,
        test=_rows_kept(fold.test, keep),
        test_timestamps=_rows_kept(fold.test_timestamps, keep),
    )


def _rows_kept(M: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    coo = M.tocoo()
    mask = keep[coo.row]
    return sp.csr_matrix((coo.data[mask], (coo.row[mask], coo.col[mask])), shape=M.shape)


def _tune_ease(
    folds: list[Split], context: FitContext, half_lives: tuple[float | None, ...]
) -> tuple[float, float | None, float]:
    """The (penalty, recency half-life) with the best mean validation NDCG, and that NDCG."""
    best: tuple[float, float | None, float] = (500.0, None, -1.0)
    for l2, half_life in EASE_GRID:
        if half_life not in half_lives:
            continue
        score = 0.0
        for fold in folds:
            inner = replace(
                context, timestamps=fold.train_timestamps, ease_l2=l2, ease_half_life=half_life
            )
            users = np.flatnonzero(np.diff(fold.test.indptr) > 0)
            items, _ = fit_recommender("ease", fold.train, inner).recommend(users, context.k)
            score += float(ndcg_at_k(items, fold.test[users]).mean()) / len(folds)
        if score > best[2]:
            best = (l2, half_life, score)
    return best


def fit_with_cold_start(
    name: str, X: sp.csr_matrix, context: FitContext, *, demographics: np.ndarray
) -> SegmentColdStart:
    """The recommender ``name`` for members with ratings; for members without, what members
    like them (by demographics) rate, with the penalty chosen on members held out whole."""
    warm = fit_recommender(name, X, context)
    segment_model = SegmentPopularity().fit(X, segments=context.segments)
    l2, _ = tune_l2(X, demographics, k=context.k, random_state=context.seed)
    context.tuning = {**context.tuning, "cold_l2": l2}
    cold = DemographicPopularity(l2=l2).fit(X, features=demographics)
    return SegmentColdStart(warm, segment_model, cold).fit(X)
