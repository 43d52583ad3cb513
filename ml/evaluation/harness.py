"""Side-by-side evaluation of the baselines and our pipeline on one split, fitted on train only.

Everything learned (segments, scalers, classifier, recommenders, tuned weights) sees only the
training part of the split; what is known of members and items regardless of ratings
(demographics, item texts and their embeddings) is used as the product would.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from ml.data import MemberData
from ml.evaluation.report import evaluate
from ml.evaluation.slices import segment_accuracy, slice_metrics, slice_split
from ml.evaluation.splits import Split, cold_member_split, random_split, temporal_split
from ml.recommenders.base import Recommender
from ml.recommenders.new_items import NewItems
from ml.recommenders.tuning import FitContext, fit_for_serving, fit_recommender
from ml.segmentation.features import DemographicEncoder
from ml.segmentation.recipe import SegmentationRecipe, SegmentationResult

# "slices" is evaluate_slices: one split scored per slice, with the text model on and off.
SPLITS = ("temporal", "random", "cold-members", "slices")
BASELINES = ("popularity", "item_knn", "ease")
# The EASE baseline is plain EASE with its penalty tuned on validation, as published.
FIT_NAMES = {"ease": "ease_tuned"}
FEW_RATINGS = 20
TEXT_VARIANTS = ("ours", "ours, no text", "ours, texts shuffled")
# The text model switched off: no text blocks in the clustering (and no vectors anywhere).
NO_TEXT_WEIGHTS = {"history": 0.0, "profile": 0.0}
WITHOUT_NEW_ITEMS = "ours, without the new-item path"


def make_split(data: MemberData, kind: str, *, holdout: float, seed: int) -> Split:
    args = (data.users, data.items, data.values, data.timestamps, data.n_members, data.n_items)
    if kind == "temporal":
        return temporal_split(*args, holdout=holdout)
    if kind == "random":
        return random_split(*args, holdout=holdout, random_state=seed)
    if kind == "cold-members":
        return cold_member_split(*args, member_fraction=0.15, random_state=seed)
    raise ValueError(f"split: expected one of {', '.join(SPLITS)}, got {kind!r}")


def evaluate_split(
    data: MemberData,
    *,
    kind: str,
    holdout: float = 0.2,
    k: int = 10,
    seed: int = 0,
    segmentation: SegmentationRecipe | None = None,
    recommenders: tuple[str, ...] = BASELINES,
    segment_groups: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Fit baselines and ``ours`` on the split's training part; metrics on its test part.

    Results are also given per member group: the segments found on the training part, or
    ``segment_groups`` (name -> boolean mask over members), e.g. a served run's own segments.
    """
    split = make_split(data, kind, holdout=holdout, seed=seed)
    validation = "random" if kind == "random" else "temporal"
    ours = fit_ours(data, split, k=k, seed=seed, segmentation=segmentation, validation=validation)
    users = np.flatnonzero(split.evaluated)
    popularity = np.bincount(split.train.indices, minlength=data.n_items)
    groups = _groups(ours.segmentation.labels, ours.segmentation.explanations, split.train)
    if segment_groups is not None:
        few = {name: mask for name, mask in groups.items() if not name.startswith("segment ")}
        groups = {**segment_groups, **few}
    results: dict[str, Any] = {}
    for name in (*recommenders, "ours"):
        fit_started = time.perf_counter()
        model = ours.model if name == "ours" else _fit_baseline(name, split, ours.context)
        fit_seconds = ours.seconds if name == "ours" else time.perf_counter() - fit_started
        metrics = evaluate(
            model,
            split.test,
            k=k,
            users=users,
            item_embeddings=data.item_embeddings,
            item_popularity=popularity,
            groups=groups,
        )
        metrics["fit_seconds"] = round(fit_seconds, 2)
        results[name] = metrics
    return {
        "split": kind,
        "k": k,
        "holdout": holdout,
        "seed": seed,
        "members": int(len(users)),
        "segments": int(ours.segmentation.metrics["n_segments"]),
        "tuning": ours.context.tuning,
        "models": results,
    }


@dataclass
class FittedOurs:
    """Our pipeline fitted on a split's training part, with what it chose on the way."""

    model: NewItems
    segmentation: SegmentationResult
    context: FitContext
    seconds: float


def fit_ours(
    data: MemberData,
    split: Split,
    *,
    k: int,
    seed: int,
    segmentation: SegmentationRecipe | None,
    validation: str = "temporal",
) -> FittedOurs:
    """Segment the training part and fit what a run serves on it, as the product does."""
    started = time.perf_counter()
    recipe = replace(segmentation or SegmentationRecipe(), seed=seed)
    # The fixed k of the recipe (8 when it asks for a sweep) keeps evaluation fast.
    if recipe.k == "auto":
        recipe = replace(recipe, k=SegmentationRecipe().k)
    seg = recipe.fit(data.with_ratings(split.train, split.train_timestamps))
    context = FitContext(
        relabel=recipe.relabeller(data, int(seg.metrics["n_segments"])),
        timestamps=split.train_timestamps,
        segments=seg.labels,
        item_embeddings=data.item_embeddings,
        profile_embeddings=data.profile_embeddings,
        seed=seed,
        k=k,
        validation=validation,
    )
    # Demographics are known of every member whatever their ratings: no leakage.
    demographics = DemographicEncoder().fit_transform(data.demographics())
    model = fit_for_serving("blend", split.train, context, demographics=demographics)
    return FittedOurs(model, seg, context, time.perf_counter() - started)


def evaluate_slices(
    data: MemberData,
    *,
    k: int = 10,
    seed: int = 0,
    holdout: float = 0.2,
    member_fraction: float = 0.15,
    item_fraction: float = 0.05,
    segmentation: SegmentationRecipe | None = None,
    planted: np.ndarray | None = None,
) -> dict[str, Any]:
    """Popularity, EASE and our pipeline three ways (default, without the text model, with
    texts shuffled among items and among members) on every slice of one :func:`slice_split`.

    With ``planted`` (each member's true group) the cold members' segment accuracy is
    reported too: how often their segment's majority group is theirs.
    """
    sliced = slice_split(
        data.users,
        data.items,
        data.values,
        data.timestamps,
        data.n_members,
        data.n_items,
        holdout=holdout,
        member_fraction=member_fraction,
        item_fraction=item_fraction,
        random_state=seed,
    )
    split = sliced.split
    users = np.flatnonzero(split.evaluated)
    results: dict[str, Any] = {}
    variants = {name: text_variant(data, name, seed) for name in TEXT_VARIANTS}
    for name, (variant, weights) in variants.items():
        recipe = segmentation or SegmentationRecipe()
        recipe = replace(recipe, feature_weights={**recipe.feature_weights, **weights})
        ours = fit_ours(variant, split, k=k, seed=seed, segmentation=recipe)
        entry: dict[str, Any] = {
            "slices": slice_metrics(ours.model.recommend(users, k)[0], users, sliced, k),
            "fit_seconds": round(ours.seconds, 1),
            "tuning": ours.context.tuning,
        }
        if planted is not None:
            entry["cold_segment_accuracy"] = segment_accuracy(
                ours.segmentation.labels,
                planted,
                ours.segmentation.source == "clustered",
                sliced.cold_members,
            )
        results[name] = entry
        if name == TEXT_VARIANTS[0]:
            # The same fit without the new-item path: what mixing new items in costs warm lists.
            recs = ours.model.base.recommend(users, k)[0]
            results[WITHOUT_NEW_ITEMS] = {"slices": slice_metrics(recs, users, sliced, k)}
            for baseline in ("popularity", "ease"):
                model = _fit_baseline(baseline, split, ours.context)
                recs = model.recommend(users, k)[0]
                results[baseline] = {"slices": slice_metrics(recs, users, sliced, k)}
    return {
        "k": k,
        "seed": seed,
        "members": int(len(users)),
        "cold_members": int(sliced.cold_members.sum()),
        "new_items": int(sliced.new_items.sum()),
        "models": results,
    }


def text_variant(data: MemberData, name: str, seed: int) -> tuple[MemberData, dict[str, float]]:
    """``data`` as the variant ``name`` sees it, and the feature weights it overrides.

    "no text" zeroes the item embeddings and drops the profiles (and their blocks in the
    clustering); "texts shuffled" gives each item another item's embedding and each member
    another member's profile: the same vectors, with the meaning cut from who has them.
    """
    if name == "ours":
        return data, {}
    if name == "ours, no text":
        blank = np.zeros_like(data.item_embeddings)
        return replace(data, item_embeddings=blank, profile_embeddings=None), NO_TEXT_WEIGHTS
    if name == "ours, texts shuffled":
        rng = np.random.default_rng(seed)
        profiles = data.profile_embeddings
        return (
            replace(
                data,
                item_embeddings=data.item_embeddings[rng.permutation(data.n_items)],
                profile_embeddings=None
                if profiles is None
                else profiles[rng.permutation(len(profiles))],
            ),
            {},
        )
    raise ValueError(f"variant: expected one of {', '.join(TEXT_VARIANTS)}, got {name!r}")


def _fit_baseline(name: str, split: Split, context: FitContext) -> Recommender:
    return fit_recommender(FIT_NAMES.get(name, name), split.train, context)


def _groups(
    labels: np.ndarray, explanations: list[dict[str, Any]], train: sp.csr_matrix
) -> dict[str, np.ndarray]:
    counts = np.diff(train.indptr)
    groups = {f"segment {e['segment']}: {e['label']}": labels == e["segment"] for e in explanations}
    groups[f"fewer than {FEW_RATINGS} ratings"] = counts < FEW_RATINGS
    return groups
