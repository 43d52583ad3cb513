"""Building every member's recommendation list for a run, with a reason on each item."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from django.db import transaction

from recommendations.ml._sparse import liked_matrix
from recommendations.ml.base import Recommender
from recommendations.ml.blend import Blend
from recommendations.ml.cold_start import MIN_LIFT, SegmentColdStart
from recommendations.ml.factory import FitContext, fit_for_serving
from recommendations.ml.new_items import NewItems
from recommendations.ml.popularity import Popularity
from recommendations.ml.segment_popularity import SegmentPopularity
from recommendations.ml.transitions import TransitionEASE
from recommendations.models import RecommendationList
from recommendations.reasons import segment_sentence
from segments.ml.features import DemographicEncoder
from segments.models import SegmentationRun
from segments.params import RunParams
from segments.services.dataset import Dataset

BATCH = 1_000
SEGMENT_TOP = 100


def recommendations_rebuild(
    *,
    run: SegmentationRun,
    dataset: Dataset,
    labels: np.ndarray,
    segment_pks: np.ndarray,
    segment_labels: list[str],
    item_embeddings: np.ndarray,
    profile_embeddings: np.ndarray | None,
    params: RunParams,
    relabel: Callable[[sp.csr_matrix, sp.csr_matrix], np.ndarray] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Fit the run's recommender on all ratings and write each member's top-k list."""
    X = dataset.ratings_matrix()
    context = FitContext(
        timestamps=dataset.timestamps_matrix(),
        segments=labels,
        item_embeddings=item_embeddings,
        profile_embeddings=profile_embeddings,
        seed=params.seed,
        relabel=relabel,
    )
    encoder = DemographicEncoder().fit(_demographic_records(dataset))
    model = fit_for_serving(
        params.recommender,
        X,
        context,
        demographics=encoder.transform(_demographic_records(dataset)),
    )
    reasons = ReasonWriter(model, dataset, labels, segment_labels, encoder.feature_names_)
    for start in range(0, dataset.n_members, BATCH):
        batch = np.arange(start, min(start + BATCH, dataset.n_members))
        items, scores = model.recommend(batch, params.top_k)
        _lists_write(run, dataset, batch, items, scores, reasons.explain(batch, items))
        if progress:
            progress(int(batch[-1]) + 1, dataset.n_members)
    return {
        "recommender": params.recommender,
        "lists": dataset.n_members,
        "top_k": params.top_k,
        "members_without_ratings": int(model.base.cold_.sum()),
        "tuning": context.tuning,
        "segment_top": segment_top_items(model.base.segment_model, dataset.item_pks),
    }


def _demographic_records(dataset: Dataset) -> dict[str, list[Any]]:
    return {key: dataset.member_fields[key] for key in ("age", "gender", "occupation")}


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


def _readable(feature: str) -> str:
    """'gender=F' -> 'women', 'age=18-24' -> 'members aged 18-24', and so on."""
    field, _, value = feature.partition("=")
    if field == "gender":
        return {"F": "women", "M": "men"}.get(value, f"members of gender {value}")
    if field == "age":
        return f"members aged {value}"
    if field == "occupation":
        return f"members who are {value}s" if value not in {"other", "none"} else "members"
    return f"members with {feature}"


class ReasonWriter:
    """Turns what put each item in a list into a sentence that is true of the data.

    A reason cites only an item the member liked (:func:`liked_matrix`), the segment or
    group whose ratings drove the pick, the text match, or that the item is new.
    """

    def __init__(
        self,
        model: NewItems,
        dataset: Dataset,
        labels: np.ndarray,
        segment_labels: list[str],
        feature_names: list[str],
    ) -> None:
        self.model = model
        self.served: SegmentColdStart = model.base
        self.feature_names = feature_names
        self.titles = dataset.item_titles()
        self.labels = labels
        self.segment_labels = segment_labels
        self.ratings = model.X_
        self.liked = liked_matrix(model.X_)
        n_members = max(model.X_.shape[0], 1)
        self.rated_share = np.bincount(model.X_.indices, minlength=model.X_.shape[1]) / n_members

    def explain(self, users: np.ndarray, items: np.ndarray) -> list[list[str]]:
        cold = self.served.cold_[users]
        warm_rows = np.flatnonzero(~cold)
        warm = self._explain(self.served.warm, users[warm_rows], items[warm_rows])
        out: list[list[str]] = [[] for _ in users]
        for row, why in zip(warm_rows, warm, strict=True):
            out[row] = why
        for row in np.flatnonzero(cold):
            out[row] = [self._cold_reason(int(users[row]), int(i)) for i in items[row]]
        return out

    def _new_reason(self, user: int, item: int) -> str:
        """New items are scored through the rated items their text is closest to: name the
        one that counted most (never one the member disliked)."""
        rated, liked = self.ratings[user].indices, self.liked[user].indices
        match = self.model.neighbour(user, item, exclude=np.setdiff1d(rated, liked))
        if match < 0:
            return "new, not rated yet"
        close = f"new, not rated yet: its description is close to {self.titles[match]}"
        if match in liked:
            return f"{close}, which you liked"
        if len(rated):
            return f"{close}, which your ratings point to"
        who = "your profile" if self.model.profile_embeddings is not None else "your details"
        return f"{close}, which members with {who} rate"

    def _cold_reason(self, user: int, item: int) -> str:
        if item < 0:
            return ""
        if self.model.new_[item]:
            return self._new_reason(user, item)
        why = self.served.cold_reason(user, item)
        if why.kind == "segment":
            placed_by = "your profile" if self.model.profile_embeddings is not None else ""
            return segment_sentence(
                self.segment_labels[why.index], why.share, why.lift, placed_by=placed_by
            )
        if why.kind == "feature":
            who = _readable(self.feature_names[why.index])
            return f"rated by {why.share:.0%} of {who} (x{why.lift:.1f} the average)"
        return self._popular_sentence(item)

    def _popular_sentence(self, item: int) -> str:
        return f"popular with members overall: rated by {self.rated_share[item]:.0%} of them"

    def _explain(self, model: Recommender, users: np.ndarray, items: np.ndarray) -> list[list[str]]:
        if isinstance(model, Blend):
            names = model.contributions(users, items)
            models = model.components
        else:
            names = np.full(items.shape, "self", dtype=object)
            models = {"self": model}
        return [
            [
                self._reason(models, names[r, c], int(u), int(items[r, c]))
                for c in range(items.shape[1])
            ]
            for r, u in enumerate(users)
        ]

    def _reason(self, models: dict[str, Recommender], name: str, user: int, item: int) -> str:
        if item < 0 or not name:
            return ""
        if self.model.new_[item]:
            return self._new_reason(user, item)
        model = models[name]
        if isinstance(model, SegmentPopularity):
            return self._segment_reason(user, item)
        if isinstance(model, Popularity):
            if model.half_life_days:
                return "new and rising: rated a lot lately"
            return self._popular_sentence(item)
        seen = model.explain(user, item, self.liked[user].indices)
        if seen < 0:
            return self._group_reason(user, item)
        title, stars = self.titles[seen], float(self.ratings[user, seen])
        if isinstance(model, TransitionEASE):
            return f"often rated next after {title}, which you liked recently ({stars:g}★)"
        return f"because you liked {title} ({stars:g}★)"

    def _segment_reason(self, user: int, item: int) -> str:
        seg = self.served.segment_model
        segment = int(self.labels[user])
        share, lift = float(seg.rates_[segment, item]), float(seg.lift_[segment, item])
        return segment_sentence(self.segment_labels[segment], share, lift)

    def _group_reason(self, user: int, item: int) -> str:
        """No liked item led to it: the member's segment if it likes the item distinctly,
        else what members overall do."""
        seg = self.served.segment_model
        if float(seg.lift_[int(self.labels[user]), item]) >= MIN_LIFT:
            return self._segment_reason(user, item)
        return self._popular_sentence(item)
