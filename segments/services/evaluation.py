"""Evaluating recommenders side by side on the database's data and storing the result on a run."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.db import transaction

from ml.evaluation.harness import evaluate_slices, evaluate_split
from ml.evaluation.slices import flat_slices
from segments.models import Membership, SegmentationRun
from segments.params import RunParams
from segments.services.dataset import dataset_load_embedded


def run_segment_groups(run: SegmentationRun, member_pks: np.ndarray) -> dict[str, np.ndarray]:
    """The run's own segments as masks over the dataset's members (in ``member_pks`` order);
    members the run did not segment (imported since) are in none."""
    number_of = dict(Membership.objects.filter(run=run).values_list("member_id", "segment__number"))
    numbers = np.array([number_of.get(int(pk), -1) for pk in member_pks])
    return {
        f"segment {number}: {label}": numbers == number
        for number, label in run.segments.order_by("number").values_list("number", "label")
    }


def evaluation_run_job(*, run_id: int, split: str) -> None:
    """The admin's Evaluate button, as a job: evaluate against the run's own segments and
    store the result (or the error) on the run."""
    run = SegmentationRun.objects.get(pk=run_id)
    _note(run_id, split, {"status": "running"})
    try:
        evaluation_run(split=split, holdout=0.2, k=10, seed=0, run=run)
    except Exception as exc:
        _note(run_id, split, {"status": "failed", "error": f"{type(exc).__name__}: {exc}"})
        raise
    _note(run_id, split, {"status": "done"})


def _note(run_id: int, split: str, state: dict[str, Any]) -> None:
    with transaction.atomic():
        run = SegmentationRun.objects.select_for_update().get(pk=run_id)
        jobs = {**run.metrics.get("evaluation_jobs", {}), split: state}
        SegmentationRun.objects.filter(pk=run_id).update(
            metrics={**run.metrics, "evaluation_jobs": jobs}
        )


def evaluation_run(
    *, split: str, holdout: float, k: int, seed: int, run: SegmentationRun | None
) -> dict[str, Any]:
    """Fit every model on the split's training part, score its test part, store on ``run``.

    The segmentation settings are the run's own (or the defaults when there is no run).
    """
    params = RunParams.from_dict(run.params if run else {})
    dataset = dataset_load_embedded()
    data = dataset.data
    segmentation = params.recipe()
    if split == "slices":
        sliced = evaluate_slices(data, holdout=holdout, k=k, seed=seed, segmentation=segmentation)
        # Stored flat, one number per slice, like the other splits' tables.
        result = {**sliced, "split": split, "holdout": holdout, "models": flat_slices(sliced)}
        result["slices"] = sliced["models"]
    else:
        result = evaluate_split(
            data,
            kind=split,
            holdout=holdout,
            k=k,
            seed=seed,
            segmentation=segmentation,
            segment_groups=run_segment_groups(run, dataset.member_pks) if run else None,
        )
        result["groups_from"] = f"run {run.pk}'s own segments" if run else "segments refit"
    if run is not None:
        with transaction.atomic():  # metrics change meanwhile (serving, other jobs)
            fresh = SegmentationRun.objects.select_for_update().get(pk=run.pk)
            evaluations = {**fresh.metrics.get("evaluation", {}), split: result}
            run.metrics = {**fresh.metrics, "evaluation": evaluations}
            SegmentationRun.objects.filter(pk=run.pk).update(metrics=run.metrics)
    return result
