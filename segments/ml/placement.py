"""Placing a member in an existing segmentation without re-running it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segments.ml.classifier import SegmentClassifier, cheap_features
from segments.ml.features import DemographicEncoder


@dataclass
class SegmentPlacer:
    """What a run learned to place members from cheap features: demographics, first ratings.

    Kept with the run (pickled) so a member who arrives between runs gets a segment at once.
    """

    demographic_encoder: DemographicEncoder
    classifier: SegmentClassifier | None
    fallback_segment: int
    embedding_dim: int

    def place(
        self,
        *,
        ages: Sequence[int | None],
        genders: Sequence[str],
        occupations: Sequence[str],
        first_item_embeddings: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Segment and confidence for each member described."""
        n = len(ages)
        if self.classifier is None:
            return np.full(n, self.fallback_segment), np.ones(n)
        demographics = self.demographic_encoder.transform(
            {"age": list(ages), "gender": list(genders), "occupation": list(occupations)}
        )
        if first_item_embeddings is None:
            first_item_embeddings = np.zeros((n, self.embedding_dim), dtype=np.float32)
        proba = self.classifier.predict_proba(cheap_features(demographics, first_item_embeddings))
        return self.classifier.classes_[proba.argmax(axis=1)], proba.max(axis=1)
