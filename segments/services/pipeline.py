"""The segmentation job: load -> embed -> segment -> explain -> recommend -> activate."""

from __future__ import annotations

import logging
import pickle
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np
from django.db import transaction

from ml.segmentation.recipe import SegmentationResult
from ml.text.texts import display_title
from segments.models import Membership, RecommendationList, Segment, SegmentationRun
from segments.params import RunParams
from segments.services.dataset import Dataset, dataset_load_embedded
from segments.services.lifecycle import (
    RunReporter,
    segmentation_run_activate,
    segmentation_run_claim,
    segmentation_run_fail,
)
from segments.services.lists import lists_rebuild

logger = logging.getLogger("segrec.pipeline")
WRITE_BATCH = 5_000
# Share of the progress bar each stage takes, roughly by its time on ML-100K.
SPANS = {
    "load": (0.00, 0.05),
    "embed_items": (0.05, 0.30),
    "embed_profiles": (0.30, 0.40),
    "features": (0.40, 0.45),
    "cluster": (0.45, 0.60),
    "classify": (0.60, 0.62),
    "explain": (0.62, 0.64),
    "quality": (0.64, 0.70),
    "write_segments": (0.70, 0.74),
    "recommend": (0.74, 0.99),
}


def segmentation_run_execute(
    *, run_id: int, listener: Callable[[str, float], None] | None = None
) -> None:
    """Run the whole job for a queued run; a second delivery of the same run does nothing.

    ``listener(stage, progress)`` hears each stage as it starts (the CLI prints them).
    """
    if not segmentation_run_claim(run_id=run_id):
        logger.info("run %s is not queued any more; nothing to do", run_id)
        return
    run = SegmentationRun.objects.get(pk=run_id)
    _discard_results(run)  # a reclaimed stale run may have left rows behind
    reporter = RunReporter(run, listener=listener)
    try:
        metrics = _execute(run, RunParams.from_dict(run.params), reporter)
        reporter.finish()
        segmentation_run_activate(run=run, metrics=metrics)
    except BaseException as exc:  # record any failure, even Ctrl-C or a soft time limit
        _record_failure(run, exc)
        if not isinstance(exc, Exception):
            raise


def _record_failure(run: SegmentationRun, exc: BaseException) -> None:
    """Mark the run failed first (what matters most), then drop its partial rows."""
    logger.error("run %s failed", run.pk, exc_info=exc)
    detail = "".join(traceback.format_exception(exc, limit=5))
    segmentation_run_fail(run=run, error=f"{type(exc).__name__}: {exc}\n\n{detail}")
    try:
        _discard_results(run)
    except Exception:  # the rows stay invisible (the run is failed); log and move on
        logger.exception("run %s: partial rows could not be removed", run.pk)


def _step(reporter: RunReporter, name: str) -> None:
    start, end = SPANS[name]
    reporter.step(name, start=start, end=end)


def _execute(run: SegmentationRun, params: RunParams, reporter: RunReporter) -> dict[str, Any]:
    dataset = dataset_load_embedded(step=lambda name: _step(reporter, name), progress=reporter)
    recipe = params.recipe()
    result = recipe.fit(dataset.data, step=lambda name: _step(reporter, name))
    _step(reporter, "write_segments")
    segment_pks = _segments_write(run, dataset, result)
    _step(reporter, "recommend")
    lists = lists_rebuild(
        run=run,
        dataset=dataset,
        segmentation=result,
        recipe=recipe,
        params=params,
        progress=reporter,
    )
    _segments_finish(run, segment_pks, lists.segment_top, result)
    return {
        **result.metrics,
        "recipe": result.recipe,
        "k_sweep": result.sweep,
        **dataset.stats,
        "recommendations": lists.metrics,
    }


def _segments_write(
    run: SegmentationRun, dataset: Dataset, result: SegmentationResult
) -> np.ndarray:
    """Segments and memberships of this run; invisible until the run is activated."""
    with transaction.atomic():
        segments = Segment.objects.bulk_create(
            Segment(
                run=run,
                number=e["segment"],
                label=e["label"][:200],
                size=e["size"],
                summary=_summary(e, dataset),
            )
            for e in result.explanations
        )
        segment_pks = np.array([s.pk for s in segments], dtype=np.int64)
        for start in range(0, dataset.n_members, WRITE_BATCH):
            stop = min(start + WRITE_BATCH, dataset.n_members)
            Membership.objects.bulk_create(
                Membership(
                    run=run,
                    member_id=int(dataset.member_pks[i]),
                    segment_id=int(segment_pks[result.labels[i]]),
                    confidence=float(result.confidence[i]),
                    source=str(result.source[i]),
                )
                for i in range(start, stop)
            )
    return segment_pks


def _segments_finish(
    run: SegmentationRun,
    segment_pks: np.ndarray,
    segment_top: list[list[list[float]]],
    result: SegmentationResult,
) -> None:
    """Keep what serves newcomers with the run: each segment's liked items and the placer."""
    segments = Segment.objects.in_bulk([int(pk) for pk in segment_pks])
    for number, pk in enumerate(segment_pks):
        segment = segments[int(pk)]
        segment.summary = {**segment.summary, "popular": segment_top[number]}
    Segment.objects.bulk_update(segments.values(), ["summary"])
    SegmentationRun.objects.filter(pk=run.pk).update(placer=pickle.dumps(result.placer))


def _summary(explanation: dict[str, Any], dataset: Dataset) -> dict[str, Any]:
    items = dataset.item_fields
    return {
        "description": explanation["description"],
        "share": explanation["share"],
        "genres": explanation["genres"],
        "demographics": explanation["demographics"],
        "items": [
            {
                "item_id": items["external_id"][e["index"]],
                "title": display_title(items["title"][e["index"]], items["year"][e["index"]]),
                **{key: e[key] for key in ("lift", "share", "population_share") if key in e},
            }
            for e in explanation["items"]
        ],
    }


def _discard_results(run: SegmentationRun) -> None:
    # Partial rows of a failed run are never shown; removing them keeps the tables lean.
    Segment.objects.filter(run=run).delete()
    RecommendationList.objects.filter(run=run).delete()
