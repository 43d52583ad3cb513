"""Recommenders by name, fitted with the context each needs: what a run's parameter picks.

``blend`` is the segment-aware default: recency-weighted EASE, the next-item model, what the
member's segment likes and what is close in embedding space, with EASE's penalty, its
recency half-life and the blend weights all chosen on a validation part carved out of the
ratings it is given (never on anything held out beyond them).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from ml.evaluation.metrics import ndcg_at_k
from ml.evaluation.splits import Split, validation_split
from ml.recommenders.base import Recommender
from ml.recommenders.blend import Blend, combinations, member_ndcg
from ml.recommenders.buckets import NAMES as BUCKETS
from ml.recommenders.buckets import history_buckets, rating_counts
from ml.recommenders.cold_start import SegmentColdStart
from ml.recommenders.content import ContentRecommender
from ml.recommenders.demographic import DemographicPopularity, tune_l2
from ml.recommenders.ease import EASE
from ml.recommenders.item_knn import ItemKNN
from ml.recommenders.new_items import (
    MIN_VALIDATION_NEW,
    NewItems,
    best_share,
    exploration_share,
    hide_items,
    n_to_hide,
    share_scores,
)
from ml.recommenders.popularity import Popularity
from ml.recommenders.segment_popularity import SegmentPopularity
from ml.recommenders.transitions import TransitionEASE

# EASE and the next-item model hold n_items² floats; past this catalogue item-kNN stands in.
EASE_MAX_ITEMS = 20_000
HISTORY_FLOOR = 0.1
EASE_GRID = tuple(itertools.product((100.0, 200.0, 500.0, 1000.0, 2000.0), (None, 5.0, 20.0)))
BLEND_GRID = {
    "ease": (1.0,),
    "next": (0.0, 0.3, 0.6, 1.0),
    "segment_distinctive": (0.0, 0.05, 0.1, 0.2),
    "segment": (0.0, 0.2, 1.0),
    "content": (0.0, 0.05, 0.1, 0.3),
    "popularity": (0.0, 0.1, 0.3),
}
# What a segment contributes; per bucket, tuning reports the best blend without them too.
SEGMENT_PARTS = ("segment_distinctive", "segment")
# A history bucket gets weights of its own only with this many validation members.
MIN_BUCKET_MEMBERS = 50
RANDOM_FOLDS = 2
# Tuning scores every weight combination for each validation member; a sample of them ranks
# combinations as well and keeps tuning time flat as membership grows.
TUNING_MAX_MEMBERS = 3_000
# Validation fits (the blend's parts, the cold-start penalty, the new-item share) train on at
# most this many members' rows: their cost and memory stop growing with membership, while
# the final fits use every member. Penalties are not rescaled: a ridge prior's strength does
# not depend on how many members there are.
TUNING_MAX_ROWS = 200_000
# A smaller validation part leaves the inner fit closer in size to the final one.
RANDOM_VALIDATION_HOLDOUT = 0.1
SIMPLER_WITHIN = 0.01


@dataclass
class FitContext:
    """What recommenders may need beside the ratings matrix, all aligned with its rows."""

    timestamps: sp.csr_matrix
    segments: np.ndarray
    item_embeddings: np.ndarray
    profile_embeddings: np.ndarray | None = None
    seed: int = 0
    validation: str = "temporal"
    k: int = 10
    ease_l2: float = 500.0
    ease_half_life: float | None = None
    tuning: dict[str, Any] = field(default_factory=dict)
    # Segments from a validation fold's training ratings alone; without it the fold reuses
    # ``segments``, which saw the fold's held-out ratings and flatter the segment component.
    # Called as relabel(X, timestamps, members=rows) for a sample of members' rows.
    relabel: Callable[..., np.ndarray] | None = None


def fit_recommender(name: str, X: sp.csr_matrix, context: FitContext) -> Recommender:
    """Fit the recommender called ``name`` on ``X`` (members x items ratings).

    For ``blend`` the choices made on validation are recorded in ``context.tuning``.
    """
    builder = _BUILDERS.get(name)
    if builder is None:
        raise ValueError(
            f"recommender: unknown name {name!r}; expected one of {', '.join(RECOMMENDERS)}"
        )
    return builder(X, context)


def _fit_ease(X: sp.csr_matrix, context: FitContext) -> Recommender:
    if X.shape[1] > EASE_MAX_ITEMS:
        return _fit_sparse_knn(X, context)
    return EASE(
        l2=context.ease_l2,
        history_half_life=context.ease_half_life,
        history_floor=HISTORY_FLOOR,
        max_items=EASE_MAX_ITEMS,
    ).fit(X, timestamps=context.timestamps)


def _fit_next_item(X: sp.csr_matrix, context: FitContext) -> Recommender:
    if X.shape[1] > EASE_MAX_ITEMS:
        return _fit_sparse_knn(X, context)
    return TransitionEASE(
        l2=context.ease_l2,
        history_half_life=context.ease_half_life or 5.0,
        history_floor=HISTORY_FLOOR,
        max_items=EASE_MAX_ITEMS,
    ).fit(X, timestamps=context.timestamps)


def _fit_sparse_knn(X: sp.csr_matrix, context: FitContext) -> Recommender:
    # EASE and the next-item model hold n_items² floats; past EASE_MAX_ITEMS item-kNN stands in.
    return ItemKNN(history_half_life=context.ease_half_life, history_floor=HISTORY_FLOOR).fit(
        X, timestamps=context.timestamps
    )


def _fit_sequential(X: sp.csr_matrix, context: FitContext) -> Recommender:
    # The causal transformer: measured below recency-weighted EASE on ML-100K (see
    # bench/RESULTS.md), and ~30 min on 2 CPU cores, so it is an option, not the default.
    from ml.recommenders.sequential import SequentialRecommender

    return SequentialRecommender(random_state=context.seed).fit(X, timestamps=context.timestamps)


def _fit_tuned_ease(X: sp.csr_matrix, context: FitContext) -> Recommender:
    """Plain EASE (no recency), its penalty chosen on validation: the published baseline."""
    sample, sampled = for_tuning(X, context)
    l2, _, _ = _tune_ease(_validation_folds(sample, sampled), sampled, half_lives=(None,))
    return fit_recommender("ease", X, replace(context, ease_l2=l2, ease_half_life=None))


def _fit_tuned_blend(X: sp.csr_matrix, context: FitContext) -> Blend:
    sample, sampled = for_tuning(X, context)
    folds = _validation_folds(sample, sampled)
    # Recency helps only where the held-out ratings are the latest ones.
    half_lives = (None,) if context.validation == "random" else (None, 5.0, 20.0)
    l2, half_life, ease_ndcg = _tune_ease(folds, sampled, half_lives=half_lives)
    context.ease_l2, context.ease_half_life = l2, half_life
    combos = combinations(BLEND_GRID)
    keys = [tuple(c[name] for name in BLEND_GRID) for c in combos]
    # Per bucket, every combination's NDCG for every validation member of every fold.
    scores: dict[str, list[np.ndarray]] = {bucket: [] for bucket in ("all", *BUCKETS)}
    for fold in folds:
        segments = (
            sampled.relabel(fold.train, fold.train_timestamps)
            if sampled.relabel
            else sampled.segments
        )
        inner = replace(sampled, timestamps=fold.train_timestamps, segments=segments)
        parts = {name: fit_recommender(_part(name), fold.train, inner) for name in BLEND_GRID}
        users, ndcg = member_ndcg(parts, fold.train, fold.test, context.k, combos)
        buckets = history_buckets(rating_counts(fold.train))[users]
        for bucket in scores:
            rows = np.ones(len(users), bool) if bucket == "all" else buckets == bucket
            scores[bucket].append(ndcg[:, rows])
    matrices = {b: np.hstack(parts) for b, parts in scores.items()}
    overall = dict(zip(keys, matrices["all"].mean(axis=1), strict=True))
    best = _simplest_near_best(overall)
    chosen = _named(best)
    per_bucket = {
        bucket: _bucket_report(matrix, keys, best, len(folds))
        for bucket, matrix in matrices.items()
        if bucket != "all" and matrix.shape[1]
    }
    bucket_weights = {
        bucket: report["weights"]
        for bucket, report in per_bucket.items()
        if report["own_weights"] and report["weights"] != chosen
    }
    context.tuning = {
        "validation": f"{context.validation} x{len(folds)}",
        "tuning_members": sample.shape[0],
        "ease_l2": l2,
        "ease_half_life": half_life,
        "ease_validation_ndcg": round(ease_ndcg, 4),
        "weights": chosen,
        "blend_validation_ndcg": round(float(overall[best]), 4),
        "buckets": per_bucket,
    }
    used = set(chosen).union(*bucket_weights.values())
    components = {
        name: fit_recommender(_part(name), X, context) for name in BLEND_GRID if name in used
    }
    return Blend(components, chosen, bucket_weights=bucket_weights or None).fit(X)


def _named(key: tuple[float, ...]) -> dict[str, float]:
    return {name: w for name, w in zip(BLEND_GRID, key, strict=True) if w > 0}


def _bucket_report(
    matrix: np.ndarray, keys: list[tuple[float, ...]], overall: tuple[float, ...], n_folds: int
) -> dict[str, Any]:
    """A history bucket's own choice beside what segments add there.

    ``matrix`` holds each combination's NDCG (rows, in ``keys`` order) for each validation
    member of the bucket (columns). The bucket keeps weights of its own only with at least
    MIN_BUCKET_MEMBERS members and a gain over the overall choice of more than two standard
    errors of the paired per-member differences: on ML-100K's random split a bucket of 172
    members picked a blend 1% ahead on validation that then lost on the test part.
    """
    means = dict(zip(keys, matrix.mean(axis=1), strict=True))
    candidate = _simplest_near_best(means)
    diff = matrix[keys.index(candidate)] - matrix[keys.index(overall)]
    gain = float(diff.mean())
    noise = 2 * float(diff.std(ddof=1)) / float(np.sqrt(len(diff))) if len(diff) > 1 else 1.0
    members = matrix.shape[1] // n_folds
    own = bool(members >= MIN_BUCKET_MEMBERS and gain > noise)
    key = candidate if own else overall
    segment_cols = [list(BLEND_GRID).index(name) for name in SEGMENT_PARTS]
    without = [v for k, v in means.items() if all(k[c] == 0 for c in segment_cols)]
    ease_only = tuple(1.0 if name == "ease" else 0.0 for name in BLEND_GRID)
    return {
        "members": members,
        "own_weights": own,
        "weights": _named(key),
        "validation_ndcg": round(float(means[key]), 4),
        "own_gain": round(gain, 4),
        "two_standard_errors": round(noise, 4),
        "best_without_segments_ndcg": round(float(max(without)), 4),
        "ease_only_ndcg": round(float(means[ease_only]), 4),
    }


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
    return {"next": "next_item", "segment": "segment_popularity"}.get(name, name)


def for_tuning(X: sp.csr_matrix, context: FitContext) -> tuple[sp.csr_matrix, FitContext]:
    """``X`` and ``context`` restricted to at most TUNING_MAX_ROWS members, drawn at random
    with the context's seed (all of them when there are fewer)."""
    rows = tuning_rows(X.shape[0], context.seed)
    if rows is None:
        return X, context
    relabel = context.relabel
    profiles = context.profile_embeddings
    return X[rows], replace(
        context,
        timestamps=context.timestamps[rows],
        segments=context.segments[rows],
        profile_embeddings=None if profiles is None else profiles[rows],
        relabel=None if relabel is None else functools.partial(relabel, members=rows),
    )


def tuning_rows(n_members: int, seed: int) -> np.ndarray | None:
    """Sorted rows of the members validation trains on, or None for all of them."""
    if n_members <= TUNING_MAX_ROWS:
        return None
    rows = np.random.default_rng(seed).choice(n_members, TUNING_MAX_ROWS, replace=False)
    return np.sort(rows)


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
    scores: dict[tuple[float, float | None], float] = {}
    for fold in folds:
        users = np.flatnonzero(np.diff(fold.test.indptr) > 0)
        for l2 in dict.fromkeys(l2 for l2, _ in EASE_GRID):
            # One solve per penalty; each half-life only reweights the history it scores.
            inner = replace(context, timestamps=fold.train_timestamps, ease_l2=l2)
            fitted = fit_recommender("ease", fold.train, replace(inner, ease_half_life=None))
            for grid_l2, half_life in EASE_GRID:
                if grid_l2 != l2 or half_life not in half_lives:
                    continue
                model = fitted
                if half_life is not None and isinstance(fitted, EASE):
                    model = fitted.with_history(fold.train_timestamps, half_life)
                elif half_life is not None:  # item-kNN standing in for a large catalogue
                    model = fit_recommender(
                        "ease", fold.train, replace(inner, ease_half_life=half_life)
                    )
                items, _ = model.recommend(users, context.k)
                score = float(ndcg_at_k(items, fold.test[users]).mean()) / len(folds)
                scores[(l2, half_life)] = scores.get((l2, half_life), 0.0) + score
    for (l2, half_life), score in scores.items():  # in EASE_GRID's order: ties to the first
        if score > best[2]:
            best = (l2, half_life, score)
    return best


def fit_for_serving(
    name: str, X: sp.csr_matrix, context: FitContext, *, demographics: np.ndarray
) -> NewItems:
    """What a run serves: ``name`` for members with ratings, cold start for members
    without, and new items mixed in from their text (choices recorded in ``context.tuning``)."""
    model = fit_with_cold_start(name, X, context, demographics=demographics)
    return fit_with_new_items(model, X, context)


def fit_with_cold_start(
    name: str, X: sp.csr_matrix, context: FitContext, *, demographics: np.ndarray
) -> SegmentColdStart:
    """The recommender ``name`` for members with ratings; for members without, what members
    like them rate: like them by demographics, or by demographics and profile text, whichever
    scores better on members held out whole (with the penalty chosen there too)."""
    warm = fit_recommender(name, X, context)
    segment_model = SegmentPopularity().fit(X, segments=context.segments)
    options = {"demographics": demographics}
    if context.profile_embeddings is not None:
        options["demographics+profile"] = with_profiles(demographics, context.profile_embeddings)
    tuned = {}
    rows = tuning_rows(X.shape[0], context.seed)
    for label, features in options.items():
        sample, sampled = (X, features) if rows is None else (X[rows], features[rows])
        l2, table = tune_l2(sample, sampled, k=context.k, random_state=context.seed)
        tuned[label] = (l2, table[l2])
    label = max(tuned, key=lambda option: tuned[option][1])
    l2 = tuned[label][0]
    context.tuning = {
        **context.tuning,
        "cold_features": label,
        "cold_l2": l2,
        "cold_validation_ndcg": {option: round(v[1], 4) for option, v in tuned.items()},
    }
    cold = DemographicPopularity(l2=l2).fit(X, features=options[label])
    return SegmentColdStart(warm, segment_model, cold).fit(X)


def with_profiles(demographics: np.ndarray, profiles: np.ndarray) -> np.ndarray:
    """Demographics beside profile embeddings scaled so each dimension varies about as much
    as a one-hot column (unit vectors of d dimensions have entries of about 1/sqrt(d))."""
    # float32: at a million members and 384 dimensions this matrix is 1.6 GB as it is.
    profiles = np.asarray(profiles, dtype=np.float32)
    scaled = profiles * np.float32(np.sqrt(profiles.shape[1]))
    return np.hstack([demographics.astype(np.float32), scaled])


def fit_with_new_items(model: Recommender, X: sp.csr_matrix, context: FitContext) -> NewItems:
    """``model`` with a share of each list for items nobody has rated, matched by text.

    Without new items the share is 0. Otherwise, where the validation part has new items
    of its own (items rated only in its held-out part: what new items have been worth here
    so far), the share is the one that scores best there without giving up more than
    MAX_WARM_LOSS of the NDCG on rated items. Where it has none, lists explore: the largest
    share up to MAX_EXPLORATION whose cost on rated items stays within MAX_WARM_LOSS when
    rated items are hidden as if new. Choices are recorded in ``context.tuning``.
    """
    n_new = int((np.bincount(X.indices, minlength=X.shape[1]) == 0).sum())
    report: dict[str, Any] = {"new_items": n_new}
    share = 0.0
    if n_new:
        sample, sampled = for_tuning(X, context)
        fold = _validation_folds(sample, sampled)[0]
        natural = (np.bincount(fold.train.indices, minlength=X.shape[1]) == 0) & (
            np.bincount(fold.test.indices, minlength=X.shape[1]) > 0
        )
        if natural.sum() >= MIN_VALIDATION_NEW:
            train, train_ts, test, candidates = (
                fold.train,
                fold.train_timestamps,
                fold.test,
                natural,
            )
            report["validation_new_items"] = f"{int(natural.sum())} rated only in validation"
        else:
            train, train_ts, test, candidates = hide_items(
                fold.train, fold.train_timestamps, fold.test, n_to_hide(X), context.seed
            )
            report["validation_new_items"] = f"{int(candidates.sum())} rated items hidden"
        base = fit_recommender("ease", train, replace(sampled, timestamps=train_ts))
        scores = share_scores(
            base,
            train,
            test,
            candidates,
            sampled.item_embeddings,
            sampled.profile_embeddings,
            k=context.k,
        )
        share = (
            best_share(scores) if natural.sum() >= MIN_VALIDATION_NEW else exploration_share(scores)
        )
        report["validation"] = {
            s: {m: round(v, 4) for m, v in r.items()} for s, r in scores.items()
        }
    report["share"] = share
    context.tuning = {**context.tuning, "new_items": report}
    return NewItems(model, context.item_embeddings, context.profile_embeddings, share).fit(X)


Builder = Callable[[sp.csr_matrix, FitContext], Recommender]
# The only list of recommender names: run parameters, forms and the API read RECOMMENDERS.
_BUILDERS: dict[str, Builder] = {
    "blend": lambda X, c: _fit_tuned_blend(X, c),
    "ease": _fit_ease,
    "next_item": _fit_next_item,
    "item_knn": lambda X, c: ItemKNN().fit(X),
    "segment_popularity": lambda X, c: SegmentPopularity().fit(X, segments=c.segments),
    "popularity": lambda X, c: Popularity().fit(X),
    "trending": lambda X, c: Popularity(half_life_days=30.0).fit(X, timestamps=c.timestamps),
    "content": lambda X, c: ContentRecommender(item_embeddings=c.item_embeddings).fit(X),
    "sequential": _fit_sequential,
    # Parts of the blend and baselines, not offered as a run's recommender.
    "ease_tuned": lambda X, c: _fit_tuned_ease(X, c),
    "segment_distinctive": lambda X, c: SegmentPopularity(distinctive=True).fit(
        X, segments=c.segments
    ),
}
_PARTS_ONLY = ("ease_tuned", "segment_distinctive")
RECOMMENDERS = tuple(name for name in _BUILDERS if name not in _PARTS_ONLY)
