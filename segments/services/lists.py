"""Building every member's recommendation list for a run, with a reason on each item."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import transaction

from ml.recommenders.reasons import ReasonWriter
from ml.recommenders.segment_popularity import SegmentPopularity
from ml.recommenders.tuning import FitContext, fit_for_serving
from ml.segmentation.recipe import SegmentationRecipe, SegmentationResult
from segments.models import RecommendationList, SegmentationRun
from segments.params import RunParams
from segments.services.dataset import Dataset

BATCH = 1_000
SEGMENT_TOP = 100


@dataclass
class ListsBuilt:
    """What writing the lists learned: metrics for the run, and per segment its most liked
    items as [item pk, like share, lift] (the lists newcomers placed between runs get)."""

    metrics: dict[str, Any]
    segment_top: list[list[list[float]]]


def lists_rebuild(
    *,
    run: SegmentationRun,
    dataset: Dataset,
    segmentation: SegmentationResult,
    recipe: SegmentationRecipe,
    params: RunParams,
    progress: Callable[[int, int], None] | None = None,
) -> ListsBuilt:
    """Fit the run's recommender on all ratings and write each member's top-k list."""
    data = dataset.data
    n_segments = int(segmentation.metrics["n_segments"])
    context = FitContext(
        timestamps=data.timestamps_matrix(),
        segments=segmentation.labels,
        item_embeddings=data.item_embeddings,
        profile_embeddings=data.profile_embeddings,
        seed=params.seed,
        relabel=recipe.relabeller(data, n_segments),
    )
    encoder = segmentation.placer.demographic_encoder
    demographics = encoder.transform(data.demographics())
    model = fit_for_serving(params.recommender, data.ratings(), context, demographics=demographics)
    labels = [e["label"] for e in segmentation.explanations]
    reasons = ReasonWriter(
        model, dataset.item_titles(), segmentation.labels, labels, encoder.feature_names_
    )
    for start in range(0, dataset.n_members, BATCH):
        batch = np.arange(start, min(start + BATCH, dataset.n_members))
        items, scores = model.recommend(batch, params.top_k)
        _lists_write(run, dataset, batch, items, scores, reasons.explain(batch, items))
        if progress:
            progress(int(batch[-1]) + 1, dataset.n_members)
    metrics = {
        "recommender": params.recommender,
        "lists": dataset.n_members,
        "top_k": params.top_k,
        "members_without_ratings": int(reasons.served.cold_.sum()),
        "tuning": context.tuning,
    }
    return ListsBuilt(metrics, segment_top_items(reasons.served.segment_model, dataset.item_pks))


def segment_top_items(
    model: SegmentPopularity, item_pks: np.ndarray, n: int = SEGMENT_TOP
) -> list[list[list[float]]]:
    """Per segment, its most liked items as [item pk, like share, lift]: lists for newcomers."""
    top = []
    for rates, lifts in zip(model.rates_, model.lift_, strict=True):
        best = np.argsort(-rates, kind="stable")[:n]
        top.append(
            [[int(item_pks[i]), round(float(rates[i]), 4), round(float(lifts[i]), 2)] for i in best]
        )
    return top


def _lists_write(
    run: SegmentationRun,
    dataset: Dataset,
    batch: np.ndarray,
    items: np.ndarray,
    scores: np.ndarray,
    why: list[list[str]],
) -> None:
    rows = []
    for row, member in enumerate(batch):
        entries = [
            [int(dataset.item_pks[item]), round(float(score), 5), reason]
            for item, score, reason in zip(items[row], scores[row], why[row], strict=True)
            if item >= 0
        ]
        rows.append(
            RecommendationList(run=run, member_id=int(dataset.member_pks[member]), entries=entries)
        )
    with transaction.atomic():
        RecommendationList.objects.bulk_create(rows)
