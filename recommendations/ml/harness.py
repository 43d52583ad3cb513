"""Side-by-side evaluation of the baselines and our pipeline on one split, fitted on train only.

Everything learned (segments, scalers, classifier, recommenders, tuned weights) sees only the
training part of the split; what is known of members and items regardless of ratings
(demographics, item texts and their embeddings) is used as the product would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from segments.ml.features import DemographicEncoder
from segments.ml.segmentation import MemberData, segment_labels, segment_members
from segments.params import DEFAULT_FEATURE_WEIGHTS

from .base import Recommender
from .evaluation import evaluate
from .factory import FitContext, fit_recommender, fit_with_cold_start
from .splits import Split, cold_member_split, random_split, temporal_split

SPLITS = ("temporal", "random", "cold-members")
BASELINES = ("popularity", "item_knn", "ease")
# The EASE baseline is plain EASE with its penalty tuned on validation, as published.
FIT_NAMES = {"ease": "ease_tuned"}
FEW_RATINGS = 20


def make_split(data: MemberData, kind: str, *, holdout: float, seed: int) -> Split:
    args = (data.users, data.items, data.values, data.timestamps, data.n_members, data.n_items)
    if kind == "temporal":
        return temporal_split(*args, holdout=holdout)
    if kind == "random":
        return random_split(*args, holdout=holdout, random_state=seed)
    if kind == "cold-members":
        return cold_member_split(*args, member_fraction=0.15, random_state=seed)
    raise ValueError(f"split: expected one of {', '.join(SPLITS)}, got {kind!r}")


def train_part(data: MemberData, split: Split) -> MemberData:
    """The same members and items with only the training ratings."""
    return with_ratings(data, split.train, split.train_timestamps)


def with_ratings(data: MemberData, X: sp.csr_matrix, timestamps: sp.csr_matrix) -> MemberData:
    """The same members and items with the ratings of ``X`` (and their ``timestamps``)."""
    coo = X.tocoo()
    ts = timestamps.tocoo()
    return replace(
        data,
        users=coo.row.astype(np.int64),
        items=coo.col.astype(np.int64),
        values=coo.data.astype(np.float32),
        timestamps=ts.data.astype(np.float64),
    )


def evaluate_split(
    data: MemberData,
    *,
    kind: str,
    holdout: float = 0.2,
    k: int = 10,
    seed: int = 0,
    segmentation: dict[str, Any] | None = None,
    recommenders: tuple[str, ...] = BASELINES,
) -> dict[str, Any]:
    """Fit baselines and ``ours`` on the split's training part; metrics on its test part."""
    split = make_split(data, kind, holdout=holdout, seed=seed)
    train = train_part(data, split)
    started = time.perf_counter()
    seg = segment_members(train, seed=seed, **_segmentation(segmentation))
    seg_seconds = time.perf_counter() - started
    context = FitContext(
        relabel=relabeller(data, seg.metrics["n_segments"], seed, segmentation),
        timestamps=split.train_timestamps,
        segments=seg.labels,
        item_embeddings=data.item_embeddings,
        seed=seed,
        k=k,
        validation="random" if kind == "random" else "temporal",
    )
    users = np.flatnonzero(split.evaluated)
    # Demographics are known of every member whatever their ratings: no leakage.
    demographics = DemographicEncoder().fit_transform(data.demographics())
    popularity = np.bincount(train.items, minlength=data.n_items)
    groups = _groups(seg.labels, seg.explanations, split.train)
    results: dict[str, Any] = {}
    for name in (*recommenders, "ours"):
        fit_started = time.perf_counter()
        model = _fit(name, split.train, context, demographics)
        fit_seconds = time.perf_counter() - fit_started
        metrics = evaluate(
            model,
            split.test,
            k=k,
            users=users,
            item_embeddings=data.item_embeddings,
            item_popularity=popularity,
            groups=groups,
        )
        metrics["fit_seconds"] = round(fit_seconds + (seg_seconds if name == "ours" else 0), 2)
        results[name] = metrics
    return {
        "split": kind,
        "k": k,
        "holdout": holdout,
        "seed": seed,
        "members": int(len(users)),
        "segments": int(seg.metrics["n_segments"]),
        "tuning": context.tuning,
        "models": results,
    }


def relabeller(
    data: MemberData, k: int, seed: int, params: dict[str, Any] | None
) -> Callable[[sp.csr_matrix, sp.csr_matrix], np.ndarray]:
    """Segments of the same members from other ratings, with the same recipe and k."""
    recipe = _segmentation(params)

    def relabel(X: sp.csr_matrix, timestamps: sp.csr_matrix) -> np.ndarray:
        return segment_labels(
            with_ratings(data, X, timestamps),
            k=k,
            algorithm=recipe["algorithm"],
            feature_weights=recipe["feature_weights"],
            min_ratings=recipe["min_ratings"],
            seed=seed,
        )

    return relabel


def _segmentation(params: dict[str, Any] | None) -> dict[str, Any]:
    defaults = {
        "k": 8,
        "algorithm": "kmeans",
        "min_ratings": 5,
        "feature_weights": dict(DEFAULT_FEATURE_WEIGHTS),
    }
    return {**defaults, **(params or {})}


def _fit(name: str, X: sp.csr_matrix, context: FitContext, demographics: np.ndarray) -> Recommender:
    if name != "ours":
        return fit_recommender(FIT_NAMES.get(name, name), X, context)
    return fit_with_cold_start("blend", X, context, demographics=demographics)


def _groups(
    labels: np.ndarray, explanations: list[dict[str, Any]], train: sp.csr_matrix
) -> dict[str, np.ndarray]:
    counts = np.diff(train.indptr)
    groups = {f"segment {e['segment']}: {e['label']}": labels == e["segment"] for e in explanations}
    groups[f"fewer than {FEW_RATINGS} ratings"] = counts < FEW_RATINGS
    return groups
