"""Building every member's recommendation list for a run, with a reason on each item."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from django.db import transaction

from recommendations.ml.base import Recommender
from recommendations.ml.blend import Blend
from recommendations.ml.factory import FitContext, fit_recommender
from recommendations.ml.segment_popularity import SegmentPopularity
from recommendations.models import RecommendationList
from segments.models import SegmentationRun
from segments.params import RunParams
from segments.services.dataset import Dataset

BATCH = 1_000


def recommendations_rebuild(
    *, run: SegmentationRun, dataset: Dataset, labels: np.ndarray, segment_pks: np.ndarray,
    segment_labels: list[str], item_embeddings: np.ndarray, params: RunParams,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Fit the run's recommender on all ratings and write each member's top-k list."""
    X = dataset.ratings_matrix()
    context = FitContext(
        timestamps=dataset.timestamps_matrix(), segments=labels,
        item_embeddings=item_embeddings, seed=params.seed,
    )
    model = fit_recommender(params.recommender, X, context)
    reasons = ReasonWriter(model, dataset, labels, segment_labels)
    members = np.arange(dataset.n_members)
    written = 0
    for start in range(0, dataset.n_members, BATCH):
        batch = members[start : start + BATCH]
        items, scores = model.recommend(batch, params.top_k)
        why = reasons.explain(batch, items)
        _lists_write(run, dataset, batch, items, scores, why)
        written += len(batch)
        if progress:
            progress(written, dataset.n_members)
    return {"recommender": params.recommender, "lists": written, "top_k": params.top_k}


def _lists_write(
    run: SegmentationRun, dataset: Dataset, batch: np.ndarray, items: np.ndarray,
    scores: np.ndarray, why: list[list[str]],
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


class ReasonWriter:
    """Turns the component behind each recommended item into a sentence a member reads."""

    def __init__(
        self, model: Recommender, dataset: Dataset, labels: np.ndarray, segment_labels: list[str]
    ) -> None:
        self.model = model
        self.titles = [
            f"{t} ({y})" if y else t
            for t, y in zip(dataset.item_fields["title"], dataset.item_fields["year"], strict=True)
        ]
        self.labels = labels
        self.segment_labels = segment_labels

    def explain(self, users: np.ndarray, items: np.ndarray) -> list[list[str]]:
        if isinstance(self.model, Blend):
            names = self.model.contributions(users, items)
            models = self.model.components
        else:
            names = np.full(items.shape, "self", dtype=object)
            models = {"self": self.model}
        return [
            [self._reason(models, names[r, c], int(u), int(items[r, c])) for c in range(items.shape[1])]
            for r, u in enumerate(users)
        ]

    def _reason(self, models: dict[str, Recommender], name: str, user: int, item: int) -> str:
        if item < 0 or not name:
            return ""
        model = models[name]
        if isinstance(model, SegmentPopularity):
            segment = int(self.labels[user])
            lift = float(model.lift_[segment, item])
            share = float(model.rates_[segment, item])
            label = self.segment_labels[segment]
            return f"liked by {share:.0%} of segment '{label}' (x{lift:.1f} the average)"
        if getattr(model, "half_life_days", None):
            return "new and rising: rated a lot lately"
        seen = model.explain(user, item)
        if seen >= 0:
            return f"because you rated {self.titles[seen]}"
        return "popular with members overall"
