"""The segmentation job: load -> embed -> segment -> explain -> recommend -> activate."""

from __future__ import annotations

import logging
import pickle
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from ml.segmentation.recipe import SegmentationResult
from ml.text.encoder import resolve_device
from ml.text.texts import display_title
from segments.models import Membership, RunStatus, Segment, SegmentationRun
from segments.params import RunParams
from segments.services.dataset import Dataset, dataset_load_embedded
from segments.services.lifecycle import (
    RunLease,
    RunLost,
    RunReporter,
    segmentation_run_activate,
    segmentation_run_claim,
    segmentation_run_discard_results,
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
    attempt = segmentation_run_claim(run_id=run_id)
    if attempt is None:
        logger.info("run %s is not queued any more; nothing to do", run_id)
        return
    run = SegmentationRun.objects.get(pk=run_id)
    with RunLease(run_id, attempt) as lease:
        reporter = RunReporter(run, listener=listener, lease=lease)
        try:
            segmentation_run_discard_results(run_id=run_id)  # an earlier attempt's rows
            metrics = _execute(run, RunParams.from_dict(run.params), reporter)
            reporter.finish()
            segmentation_run_activate(run=run, metrics=metrics, attempt=attempt)
        except RunLost:
            _stop_lost(run_id, attempt)
        except BaseException as exc:  # record any failure, even Ctrl-C or a soft time limit
            _record_failure(run, attempt, exc)
            if not isinstance(exc, Exception):
                raise


def _stop_lost(run_id: int, attempt: int) -> None:
    """This attempt no longer holds the run: it was cancelled (nobody writes its rows any
    more, so this worker removes what it wrote) or the sweep took it back (whoever holds it
    now owns its rows and its outcome)."""
    status = SegmentationRun.objects.values_list("status", flat=True).get(pk=run_id)
    logger.warning("run %s: attempt %s stops, the run is %s", run_id, attempt, status)
    if status == RunStatus.CANCELLED:
        segmentation_run_discard_results(run_id=run_id)


def _record_failure(run: SegmentationRun, attempt: int, exc: BaseException) -> None:
    """Mark the run failed first (what matters most), then drop its partial rows."""
    logger.error("run %s failed", run.pk, exc_info=exc)
    detail = "".join(traceback.format_exception(exc, limit=5))
    error = f"{type(exc).__name__}: {exc}\n\n{detail}"
    if not segmentation_run_fail(run=run, error=error, attempt=attempt):
        return  # the run is another attempt's now, rows included
    try:
        segmentation_run_discard_results(run_id=run.pk)
    except Exception:  # the rows stay invisible (the run is failed); log and move on
        logger.exception("run %s: partial rows could not be removed", run.pk)


def _step(reporter: RunReporter, name: str) -> None:
    start, end = SPANS[name]
    reporter.step(name, start=start, end=end)


def _execute(run: SegmentationRun, params: RunParams, reporter: RunReporter) -> dict[str, Any]:
    dataset = dataset_load_embedded(step=lambda name: _step(reporter, name), progress=reporter)
    # k-means runs where the encoder does: on the GPU of a GPU worker.
    recipe = replace(params.recipe(), device=resolve_device(settings.SEGREC_DEVICE))
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
        columns = (
            dataset.member_pks.tolist(),
            segment_pks[result.labels].tolist(),
            result.confidence.astype(np.float64).tolist(),
            [str(source) for source in result.source],
        )
        if connection.vendor == "postgresql":
            _memberships_copy(run.pk, columns)
        else:
            _memberships_bulk_create(run.pk, columns)
    return segment_pks


def _memberships_copy(run_id: int, columns: tuple[list, ...]) -> None:
    # One COPY: a million memberships in seconds where bulk_create took minutes.
    sql = (
        f"COPY {Membership._meta.db_table} (run_id, member_id, segment_id, confidence, source) "
        "FROM STDIN"
    )
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for start in range(0, len(columns[0]), WRITE_BATCH * 20):
            part = slice(start, start + WRITE_BATCH * 20)
            copy.write(
                "".join(
                    f"{run_id}\t{member}\t{segment}\t{confidence!r}\t{source}\n"
                    for member, segment, confidence, source in zip(
                        *(column[part] for column in columns), strict=True
                    )
                )
            )


def _memberships_bulk_create(run_id: int, columns: tuple[list, ...]) -> None:
    for start in range(0, len(columns[0]), WRITE_BATCH):
        part = slice(start, start + WRITE_BATCH)
        Membership.objects.bulk_create(
            Membership(
                run_id=run_id,
                member_id=member,
                segment_id=segment,
                confidence=confidence,
                source=source,
            )
            for member, segment, confidence, source in zip(
                *(column[part] for column in columns), strict=True
            )
        )


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
        # How traits were kept and which feature blocks formed the segments (for the page).
        **{key: explanation.get(key) for key in ("rules", "clustered_blocks", "headline")},
        "items": [
            {
                "item_id": items["external_id"][e["index"]],
                "title": display_title(items["title"][e["index"]], items["year"][e["index"]]),
                **{key: value for key, value in e.items() if key != "index"},
            }
            for e in explanation["items"]
        ],
    }
