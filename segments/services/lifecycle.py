"""A run row's life cycle below the pipeline: claim, report progress, fail, activate, prune.

Creating and queueing a run sits above the task, in :mod:`segments.services.start`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from segments.models import RunStatus, SegmentationRun

logger = logging.getLogger("segrec.runs")
STALE_MARGIN = 600
ACTIVATION_LOCK = 4_207_113


def segmentation_run_claim(*, run_id: int) -> bool:
    """Move a queued run to running; False when another worker already has it.

    A run still "running" long past the task's hard time limit lost its worker (killed,
    out of memory) and is claimed again when its message is redelivered.
    """
    stale = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + STALE_MARGIN)
    claimable = Q(status=RunStatus.QUEUED) | Q(status=RunStatus.RUNNING, started_at__lt=stale)
    claimed = SegmentationRun.objects.filter(claimable, id=run_id).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), stage="starting", progress=0.0
    )
    return claimed == 1


class RunReporter:
    """Records a run's stage, progress and per-stage timings as the pipeline goes.

    ``step(name, start, end)`` closes the previous stage's timing and opens the next, whose
    progress runs from ``start`` to ``end``; calling the reporter with (done, total) moves
    progress within the current stage. Writes are throttled so progress costs no time.
    """

    def __init__(
        self,
        run: SegmentationRun,
        *,
        min_interval: float = 0.5,
        listener: Callable[[str, float], None] | None = None,
    ) -> None:
        self.run = run
        self.listener = listener
        self.min_interval = min_interval
        self._last_write = 0.0
        self._span = (0.0, 0.0)
        self._stage_started: float | None = None

    def step(self, name: str, *, start: float, end: float) -> None:
        self._close_stage()
        logger.debug("run %s: %s", self.run.pk, name)
        self.run.stage, self._span = name, (start, end)
        self._stage_started = time.perf_counter()
        self._write(progress=start, force=True)
        if self.listener:
            self.listener(name, start)

    def finish(self) -> None:
        self._close_stage()

    def __call__(self, done: int, total: int) -> None:
        fraction = min(max(done / total, 0.0), 1.0) if total else 1.0
        self._write(progress=self._span[0] + (self._span[1] - self._span[0]) * fraction)

    def _close_stage(self) -> None:
        if self._stage_started is None:
            return
        elapsed = round(time.perf_counter() - self._stage_started, 3)
        self.run.timings = {**self.run.timings, self.run.stage: elapsed}
        self._stage_started = None
        self._write(progress=self._span[1], force=True)

    def _write(self, *, progress: float, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last_write < self.min_interval:
            return
        self._last_write = now
        self.run.progress = progress
        SegmentationRun.objects.filter(pk=self.run.pk).update(
            stage=self.run.stage, progress=progress, timings=self.run.timings
        )


def segmentation_run_fail(*, run: SegmentationRun, error: str) -> None:
    """Record the error; the previously active run stays active and served."""
    SegmentationRun.objects.filter(pk=run.pk).update(
        status=RunStatus.FAILED,
        error=error[:10000],
        finished_at=timezone.now(),
        timings=run.timings,
    )


def segmentation_run_activate(*, run: SegmentationRun, metrics: dict[str, Any]) -> None:
    """Mark the run succeeded and make it the active one, atomically."""
    with transaction.atomic():
        _activation_lock()
        SegmentationRun.objects.filter(is_active=True).exclude(pk=run.pk).update(is_active=False)
        SegmentationRun.objects.filter(pk=run.pk).update(
            status=RunStatus.SUCCEEDED,
            is_active=True,
            stage="done",
            progress=1.0,
            metrics=metrics,
            timings=run.timings,
            finished_at=timezone.now(),
        )


def _activation_lock() -> None:
    # Two workers finishing together would both see the old active run and break the
    # one-active-run constraint; PostgreSQL serialises them on this lock (SQLite's
    # IMMEDIATE transactions already do).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ACTIVATION_LOCK])


def runs_execute_in_process() -> bool:
    """With no broker configured (the laptop default) commands run jobs in their own process."""
    return bool(settings.SEGREC_EMBEDDED_BROKER)


def segmentation_runs_prune(*, keep: int) -> int:
    """Delete finished runs that are not active, except the ``keep`` newest, with their rows.

    Each run holds a membership and a list per member; without pruning they pile up.
    Returns how many runs were deleted.
    """
    finished = SegmentationRun.objects.filter(
        status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED], is_active=False
    ).order_by("-id")
    doomed = list(finished.values_list("id", flat=True)[keep:])
    SegmentationRun.objects.filter(id__in=doomed).delete()
    return len(doomed)
