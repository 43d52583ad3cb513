"""Evaluating recommenders side by side on the database's data and storing the result on a run."""

from __future__ import annotations

from typing import Any

from ml.evaluation.harness import evaluate_slices, evaluate_split
from ml.evaluation.slices import flat_slices
from segments.models import SegmentationRun
from segments.params import RunParams
from segments.services.dataset import dataset_load_embedded


def evaluation_run(
    *, split: str, holdout: float, k: int, seed: int, run: SegmentationRun | None
) -> dict[str, Any]:
    """Fit every model on the split's training part, score its test part, store on ``run``.

    The segmentation settings are the run's own (or the defaults when there is no run).
    """
    params = RunParams.from_dict(run.params if run else {})
    data = dataset_load_embedded().data
    segmentation = params.recipe()
    if split == "slices":
        sliced = evaluate_slices(data, holdout=holdout, k=k, seed=seed, segmentation=segmentation)
        # Stored flat, one number per slice, like the other splits' tables.
        result = {**sliced, "split": split, "holdout": holdout, "models": flat_slices(sliced)}
        result["slices"] = sliced["models"]
    else:
        result = evaluate_split(
            data, kind=split, holdout=holdout, k=k, seed=seed, segmentation=segmentation
        )
    if run is not None:
        evaluations = {**run.metrics.get("evaluation", {}), split: result}
        run.metrics = {**run.metrics, "evaluation": evaluations}
        SegmentationRun.objects.filter(pk=run.pk).update(metrics=run.metrics)
    return result
