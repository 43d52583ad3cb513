"""The segmentation recipe end to end, Django-free: features -> clusters -> placement -> labels.

Services hand it arrays read from the database; the evaluation harness hands it the
training part of a split. Nothing here knows where the arrays came from.
"""

from __future__ import annotations

# scikit-learn is imported inside the functions that use it: the admin, pages and API import
# this module for its names, and starting Django must stay fast.
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from ml.data import MemberData
from ml.segmentation.classifier import (
    FIT_MAX_ROWS,
    SegmentClassifier,
    cheap_features,
    stratified_rows,
)
from ml.segmentation.clustering import Segmenter
from ml.segmentation.explain import explain_segments
from ml.segmentation.features import (
    DEFAULT_FEATURE_WEIGHTS,
    BlockFuser,
    DemographicEncoder,
    behaviour_factors,
    first_item_picks,
    history_embeddings,
    rating_weights,
)
from ml.segmentation.indices import cluster_indices
from ml.segmentation.model_selection import choose_k, stability, sweep_k
from ml.segmentation.placer import SegmentPlacer
from ml.segmentation.report import light_sweep, project_members

FIRST_ITEMS = 3
# Taste lives in a low-rank space: on ML-100K 8 row-normalised SVD factors gave k=8 segments
# with stability 0.80 where 32 gave 0.42 (more components carry weak, unstable structure).
BEHAVIOUR_COMPONENTS = 8
SILHOUETTE_SAMPLE = 5000


@dataclass
class SegmentationResult:
    labels: np.ndarray
    confidence: np.ndarray
    source: np.ndarray
    explanations: list[dict[str, Any]]
    metrics: dict[str, Any]
    recipe: dict[str, Any]
    sweep: list[dict[str, Any]] | None
    placer: SegmentPlacer


Step = Callable[[str], None]


class Relabel(Protocol):
    """Segments from other ratings: of every member, or of the rows ``members`` only."""

    def __call__(
        self, X: sp.csr_matrix, timestamps: sp.csr_matrix, members: np.ndarray | None = None
    ) -> np.ndarray: ...


# k auto sweeps K_RANGE: fewer than 4 segments rarely tell a marketer anything new.
K_RANGE = (4, 12)


@dataclass(frozen=True)
class SegmentationRecipe:
    """How members are segmented: the parameters every run, evaluation and benchmark share.

    ``fit`` runs the whole recipe (features, clusters, placement of the rest, labels,
    quality); ``relabel`` gives the segments of the same members from other ratings, fast,
    for tuning on validation parts that must not see held-out ratings. Defaults are the
    product's; ``segments.params.RunParams`` takes them from here.
    """

    k: int | str = 8
    algorithm: str = "kmeans"
    feature_weights: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_FEATURE_WEIGHTS)
    )
    min_ratings: int = 5
    seed: int = 0
    k_range: tuple[int, int] = K_RANGE
    # Where k-means runs: "cpu" (scikit-learn) or a torch device such as "cuda".
    device: str = "cpu"

    def fit(self, data: MemberData, *, step: Step | None = None) -> SegmentationResult:
        """Cluster members with enough ratings, classify the rest, explain every segment.

        ``step`` is called with "features", "cluster", "classify", "explain" and
        "quality" as each begins.
        """
        return _fit(self, data, step or (lambda _name: None))

    def relabel(self, data: MemberData, k: int) -> np.ndarray:
        """Segments of every member from these ratings alone, quickly: ``k`` segments, no
        sweep, no classifier, no explanations; members with few ratings go to the nearest
        centre."""
        fused = _fused(self, data)
        segmenter = Segmenter(
            algorithm=self.algorithm, n_clusters=k, random_state=self.seed, device=self.device
        )
        segmenter.fit(fused.X)
        labels = np.empty(data.n_members, dtype=np.int64)
        labels[fused.active] = segmenter.labels_
        rest = np.flatnonzero(~fused.active)
        if len(rest):
            labels[rest] = segmenter.predict(fused.fuser.transform(fused.blocks, rows=rest))
        return labels

    def relabeller(self, data: MemberData, k: int) -> Relabel:
        """``relabel`` of ``data``'s members for a ratings matrix and its timestamps; with
        ``members`` (sorted row indices), of those members only, ``X`` holding their rows."""

        def relabel(
            X: sp.csr_matrix, timestamps: sp.csr_matrix, members: np.ndarray | None = None
        ) -> np.ndarray:
            chosen = data if members is None else data.with_members(members)
            return self.relabel(chosen.with_ratings(X, timestamps), k)

        return relabel


@dataclass
class _Fused:
    blocks: dict[str, np.ndarray]
    demographics: np.ndarray
    demo_encoder: DemographicEncoder
    active: np.ndarray
    fuser: BlockFuser
    X: np.ndarray


def _fused(recipe: SegmentationRecipe, data: MemberData) -> _Fused:
    """Feature blocks of every member, fused over those with enough ratings to cluster."""
    demo_encoder = DemographicEncoder().fit(data.demographics())
    demographics = demo_encoder.transform(data.demographics())
    blocks = _feature_blocks(data, data.ratings(), demographics, recipe.seed)
    counts = np.bincount(data.users, minlength=data.n_members)
    active = counts >= max(recipe.min_ratings, 1)
    if active.sum() < 2:
        raise ValueError(
            f"only {int(active.sum())} members have at least {max(recipe.min_ratings, 1)} "
            "ratings; import ratings or lower min_ratings"
        )
    weights = dict(recipe.feature_weights)
    rows = np.flatnonzero(active)  # most members: indexed, never copied block by block
    fuser = BlockFuser(weights=weights).fit(blocks, rows=rows)
    X = fuser.transform(blocks, rows=rows)
    return _Fused(blocks, demographics, demo_encoder, active, fuser, X)


def _fit(recipe: SegmentationRecipe, data: MemberData, note: Step) -> SegmentationResult:
    note("features")
    seed, algorithm, k = recipe.seed, recipe.algorithm, recipe.k
    fused = _fused(recipe, data)
    demographics, demo_encoder, active, X, fuser = (
        fused.demographics,
        fused.demo_encoder,
        fused.active,
        fused.X,
        fused.fuser,
    )
    del fused  # its blocks (1.5 GB of history vectors at a million members) are fused into X
    counts = np.bincount(data.users, minlength=data.n_members)
    note("cluster")
    sweep = None
    if k == "auto":
        k_values = range(recipe.k_range[0], min(recipe.k_range[1], int(active.sum()) - 1) + 1)
        sweep = sweep_k(
            X, list(k_values), algorithm=algorithm, random_state=seed, device=recipe.device
        )
        k = choose_k(sweep)
    segmenter = Segmenter(
        algorithm=algorithm, n_clusters=int(k), random_state=seed, device=recipe.device
    ).fit(X)
    labels = np.full(data.n_members, -1, dtype=np.int64)
    labels[active] = segmenter.labels_
    confidence = np.zeros(data.n_members, dtype=np.float64)
    confidence[active] = segmenter.confidence_
    source = np.full(data.n_members, "classified", dtype=object)
    source[active] = np.where(segmenter.noise_, "noise", "clustered")
    note("classify")
    profiles = data.profile_embeddings
    first_picks = _first_item_picks(data)

    def rated(rows: np.ndarray) -> np.ndarray:
        first_items = np.asarray(first_picks[rows] @ data.item_embeddings, dtype=np.float32)
        return cheap_features(demographics[rows], first_items, _rows_of(profiles, rows))

    def newcomers(rows: np.ndarray) -> np.ndarray:
        return cheap_features(demographics[rows], None, _rows_of(profiles, rows))

    classifier, newcomer_classifier = _place_the_rest(
        rated, newcomers, labels, confidence, active, counts, seed
    )
    note("explain")
    explanations = explain_segments(
        labels,
        ratings=data.ratings(),
        item_genres=data.item_genres,
        demographics=_demographic_categories(data, demo_encoder),
        clustered_blocks=fuser.blocks_,
    )
    note("quality")
    metrics = _quality(X, segmenter, algorithm, seed, classifier, active, labels)
    # The report's pictures: a sampled map of members and, when k was fixed, a light sweep.
    metrics["projection"] = project_members(X, segmenter.labels_, random_state=seed)
    metrics["k_sweep_kind"] = "full"
    if sweep is None:
        sweep = light_sweep(
            X, segmenter.n_clusters_, algorithm=algorithm, random_state=seed, device=recipe.device
        )
        metrics["k_sweep_kind"] = "light" if sweep else None
    if newcomer_classifier is not None:
        metrics["newcomer_classifier_cv_accuracy"] = float(newcomer_classifier.cv_accuracy_)
    return SegmentationResult(
        labels=labels,
        confidence=confidence,
        source=source,
        explanations=explanations,
        metrics=metrics,
        recipe=fuser.recipe_,
        sweep=sweep,
        placer=SegmentPlacer(
            demographic_encoder=demo_encoder,
            classifier=classifier,
            fallback_segment=int(np.bincount(labels[active]).argmax()),
            embedding_dim=data.item_embeddings.shape[1],
            newcomer_classifier=newcomer_classifier,
            uses_profiles=profiles is not None,
        ),
    )


def _feature_blocks(
    data: MemberData, ratings: sp.csr_matrix, demographics: np.ndarray, seed: int
) -> dict[str, np.ndarray]:
    weights = rating_weights(
        data.users, data.items, data.values, data.timestamps, data.n_members, data.n_items
    )
    blocks = {
        "history": history_embeddings(weights, data.item_embeddings),
        "behaviour": behaviour_factors(
            ratings, n_components=BEHAVIOUR_COMPONENTS, random_state=seed
        ),
        "demographics": demographics,
    }
    if data.profile_embeddings is not None:
        blocks["profile"] = data.profile_embeddings
    return blocks


def _first_item_picks(data: MemberData) -> sp.csr_matrix:
    return first_item_picks(
        data.users, data.items, data.timestamps, data.n_members, data.n_items, FIRST_ITEMS
    )


def _place_the_rest(
    rated: Callable[[np.ndarray], np.ndarray],
    newcomers: Callable[[np.ndarray], np.ndarray],
    labels: np.ndarray,
    confidence: np.ndarray,
    active: np.ndarray,
    counts: np.ndarray,
    seed: int,
) -> tuple[SegmentClassifier | None, SegmentClassifier | None]:
    """Classifiers trained on the clustered members: one on demographics, first items and
    profile for members with a few ratings, one without first items for members with none;
    each places its members in place (``labels``, ``confidence``). ``rated(rows)`` and
    ``newcomers(rows)`` build those features for the given rows only: for a million members
    the full matrices were 5 GB, of which a sample trains and a few percent are placed."""
    if len(np.unique(labels[active])) < 2:
        labels[~active] = labels[active][0]
        return None, None
    train = np.flatnonzero(active)
    train = train[stratified_rows(labels[train], FIT_MAX_ROWS, seed)]
    fitted = []
    for features, placed in ((rated, ~active & (counts > 0)), (newcomers, counts == 0)):
        classifier = SegmentClassifier(model="logistic", random_state=seed).fit(
            features(train), labels[train]
        )
        rows = np.flatnonzero(placed)
        if len(rows):
            proba = classifier.predict_proba(features(rows))
            labels[rows] = classifier.classes_[proba.argmax(axis=1)]
            confidence[rows] = proba.max(axis=1)
        fitted.append(classifier)
    return fitted[0], fitted[1]


def _rows_of(block: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    return None if block is None else block[rows]


def _demographic_categories(data: MemberData, encoder: DemographicEncoder) -> dict[str, list[str]]:
    return {
        "age": [encoder.age_bucket_label(age) for age in data.ages],
        "gender": [g or "unknown" for g in data.genders],
        "occupation": [o or "unknown" for o in data.occupations],
    }


def _quality(
    X: np.ndarray,
    segmenter: Segmenter,
    algorithm: str,
    seed: int,
    classifier: SegmentClassifier | None,
    active: np.ndarray,
    labels: np.ndarray,
) -> dict[str, Any]:
    from sklearn.metrics import silhouette_score

    metrics: dict[str, Any] = {
        "n_segments": int(segmenter.n_clusters_),
        "n_clustered": int(active.sum()),
        "n_classified": int((~active).sum()),
        "n_noise": int(segmenter.noise_.sum()),
        "segment_sizes": np.bincount(labels, minlength=segmenter.n_clusters_).tolist(),
    }
    if segmenter.n_clusters_ > 1:
        sample = min(SILHOUETTE_SAMPLE, len(X))
        metrics["silhouette"] = float(
            silhouette_score(X, segmenter.labels_, sample_size=sample, random_state=seed)
        )
        metrics.update(cluster_indices(X, segmenter.labels_))
        stab = stability(
            X,
            algorithm=algorithm,
            n_clusters=segmenter.n_clusters_,
            random_state=seed,
            device=segmenter.device,
        )
        metrics["stability_ari"] = stab
    if classifier is not None:
        metrics["classifier_cv_accuracy"] = float(classifier.cv_accuracy_)
    return metrics
