"""Placing a member in an existing segmentation without re-running it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ml.segmentation.classifier import SegmentClassifier, cheap_features
from ml.segmentation.features import DemographicEncoder


@dataclass
class SegmentPlacer:
    """What a run learned to place members from cheap features: demographics, profile text
    and, once they have some, their first ratings.

    Kept with the run (pickled) so a member who arrives between runs gets a segment at once.
    ``classifier`` places members with a few ratings (demographics, first items, profile);
    ``newcomer_classifier`` places members with none (demographics and profile alone), so
    neither sees a block of zeros it was never trained on. ``uses_profiles`` says whether
    the classifiers were given profile embeddings.
    """

    demographic_encoder: DemographicEncoder
    classifier: SegmentClassifier | None
    fallback_segment: int
    embedding_dim: int
    newcomer_classifier: SegmentClassifier | None = None
    uses_profiles: bool = False

    def place(
        self,
        *,
        ages: Sequence[int | None],
        genders: Sequence[str],
        occupations: Sequence[str],
        first_item_embeddings: np.ndarray | None = None,
        profile_embeddings: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Segment and confidence for each member described; a member whose first-item
        embedding is missing or all zeros is placed as a newcomer."""
        n = len(ages)
        if self.classifier is None:
            return np.full(n, self.fallback_segment), np.ones(n)
        demographics = self.demographic_encoder.transform(
            {"age": list(ages), "gender": list(genders), "occupation": list(occupations)}
        )
        if first_item_embeddings is None:
            first_item_embeddings = np.zeros((n, self.embedding_dim), dtype=np.float32)
        profiles = None
        # Placers pickled before profiles entered placement lack both attributes.
        if getattr(self, "uses_profiles", False):
            profiles = (
                np.zeros((n, self.embedding_dim), dtype=np.float32)
                if profile_embeddings is None
                else profile_embeddings
            )
        segments, confidence = np.empty(n, dtype=np.int64), np.empty(n)
        rated = np.abs(np.asarray(first_item_embeddings)).sum(axis=1) > 0
        newcomer = getattr(self, "newcomer_classifier", None)
        # (members, their classifier, their first-item embeddings; None for newcomers)
        groups: list[tuple[np.ndarray, SegmentClassifier, np.ndarray | None]] = [
            (rated, self.classifier, first_item_embeddings)
        ]
        if newcomer is None:
            groups = [(np.ones(n, bool), self.classifier, first_item_embeddings)]
        else:
            groups.append((~rated, newcomer, None))
        for rows, classifier, first in groups:
            if not rows.any():
                continue
            features = cheap_features(
                demographics[rows],
                None if first is None else np.asarray(first)[rows],
                None if profiles is None else np.asarray(profiles)[rows],
            )
            proba = classifier.predict_proba(features)
            segments[rows] = classifier.classes_[proba.argmax(axis=1)]
            confidence[rows] = proba.max(axis=1)
        return segments, confidence
