"""Evaluating recommenders side by side on the database's data and storing the result on a run."""

from __future__ import annotations

from typing import Any

from recommendations.ml.harness import evaluate_slices, evaluate_split
from recommendations.ml.slices import flat_slices
from segments.models import SegmentationRun
from segments.params import RunParams
from segments.services.member_data import member_data_load


def evaluation_run(
    *, split: str, holdout: float, k: int, seed: int, run: SegmentationRun | None
) -> dict[str, Any]:
    """Fit every model on the split's training part, score its test part, store on ``run``.

    The segmentation settings are the run's own (or the defaults when there is no run).
    """
    params = RunParams.from_dict(run.params if run else {})
    loaded = member_data_load()
    segmentation = {
        "k": 8 if params.k == "auto" else params.k,
        "algorithm": params.algorithm,
        "min_ratings": params.min_ratings,
        "feature_weights": params.feature_weights,
    }
    if split == "slices":
        sliced = evaluate_slices(
            loaded.data, holdout=holdout, k=k, seed=seed, segmentation=segmentation
        )
        # Stored flat, one number per slice, like the other splits' tables.
        result = {**sliced, "split": split, "holdout": holdout, "models": flat_slices(sliced)}
        result["slices"] = sliced["models"]
    else:
        result = evaluate_split(
            loaded.data, kind=split, holdout=holdout, k=k, seed=seed, segmentation=segmentation
        )
    if run is not None:
        evaluations = {**run.metrics.get("evaluation", {}), split: result}
        run.metrics = {**run.metrics, "evaluation": evaluations}
        SegmentationRun.objects.filter(pk=run.pk).update(metrics=run.metrics)
    return result
