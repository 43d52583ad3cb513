"""Comparing two runs' segmentations: how much they agree and who moved where."""

from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np

from ml.segmentation.compare import compare_labelings
from segments.models import Membership, Segment, SegmentationRun

CHUNK = 50_000


def runs_compare(*, run_a: SegmentationRun, run_b: SegmentationRun) -> dict[str, Any]:
    """ARI and migration matrix over the members both runs segmented.

    ``rows`` are run A's segments and ``cols`` run B's, as ``{"number", "label"}``;
    ``matrix[i][j]`` counts members in ``rows[i]`` of A and ``cols[j]`` of B.
    """
    members_a, labels_a = _labels(run_a)
    members_b, labels_b = _labels(run_b)
    _, in_a, in_b = np.intersect1d(members_a, members_b, assume_unique=True, return_indices=True)
    result = compare_labelings(labels_a[in_a], labels_b[in_b])
    return {
        "run_a": run_a.pk,
        "run_b": run_b.pk,
        "ari": result["ari"],
        "n_common": result["n_common"],
        "rows": _named(run_a, result["rows"]),
        "cols": _named(run_b, result["cols"]),
        "matrix": result["matrix"],
    }


def _labels(run: SegmentationRun) -> tuple[np.ndarray, np.ndarray]:
    """Member pks and segment numbers as two int arrays: 1M members cost 16 MB, not a dict."""
    rows = (
        Membership.objects.filter(run=run)
        .order_by()
        .values_list("member_id", "segment__number")
        .iterator(chunk_size=CHUNK)
    )
    pairs = np.fromiter(chain.from_iterable(rows), dtype=np.int64).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


def _named(run: SegmentationRun, numbers: list[int]) -> list[dict[str, Any]]:
    labels = dict(Segment.objects.filter(run=run).values_list("number", "label"))
    return [{"number": n, "label": labels.get(n, f"segment {n}")} for n in numbers]
