"""A run row's life cycle below the pipeline: claim, report progress, fail, activate, prune.

Creating and queueing a run sits above the task, in :mod:`segments.services.start`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from segments.models import RecommendationList, RunStatus, Segment, SegmentationRun
from segments.services.serving import ServingDecision, serving_decision
from segments.signals import active_run_changed

logger = logging.getLogger("segrec.runs")
ACTIVATION_LOCK = 4_207_113
T = TypeVar("T")


def lease_seconds() -> float:
    """How long a worker's claim on a run lasts unless renewed (SEGREC_RUN_LEASE_SECONDS)."""
    return float(settings.SEGREC_RUN_LEASE_SECONDS)


def segmentation_run_claim(*, run_id: int) -> int | None:
    """Move a queued run to running under a fresh lease; None when it is not queued.

    Returns the attempt number, which identifies this claim: each claim counts one (kept
    in the database, so it survives the worker), and the lease, the failure and the
    activation below act only while the run is still held by that attempt. The sweep gives
    a run whose worker died another attempt or fails it, see :mod:`segments.services.sweep`.
    """
    now = timezone.now()
    claimed = SegmentationRun.objects.filter(id=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING,
        started_at=now,
        lease_expires_at=now + timedelta(seconds=lease_seconds()),
        attempts=F("attempts") + 1,
        stage="starting",
        progress=0.0,
        timings={},
    )
    if claimed != 1:
        return None
    return SegmentationRun.objects.values_list("attempts", flat=True).get(pk=run_id)


def _held(run_id: int, attempt: int) -> QuerySet[SegmentationRun]:
    return SegmentationRun.objects.filter(pk=run_id, status=RunStatus.RUNNING, attempts=attempt)


class RunLost(Exception):
    """The run is no longer this worker's: its lease lapsed and the sweep took it back."""


class RunLease:
    """Renews a running run's lease from a background thread while the job works.

    The thread stops renewing when the process dies (the point: the lease then lapses and
    the sweep notices) and when the run is no longer "running" (failed by the sweep,
    cancelled), which sets :attr:`lost`; :meth:`check` raises :class:`RunLost` then.
    """

    def __init__(self, run_id: int, attempt: int, *, seconds: float | None = None) -> None:
        self.run_id = run_id
        self.attempt = attempt
        self.seconds = seconds if seconds is not None else lease_seconds()
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._renew_until_stopped, name=f"run-{run_id}-lease", daemon=True
        )

    def __enter__(self) -> RunLease:
        # Inside a caller's transaction (a test, a script) no other connection sees the run,
        # so no sweep can take it back and there is nothing to renew.
        if not connection.in_atomic_block:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.seconds)

    def check(self) -> None:
        if self.lost.is_set():
            raise RunLost(f"run {self.run_id} is no longer held by this worker")

    def _renew_until_stopped(self) -> None:
        interval = max(self.seconds / 4, 0.2)
        try:
            while not self._stop.wait(interval):
                try:
                    if not self._renew():
                        self.lost.set()
                        return
                except DatabaseError:
                    # The database dropped the connection: open a new one on the next tick;
                    # the lease has three more ticks before it lapses.
                    logger.warning("run %s: lease not renewed", self.run_id, exc_info=True)
                    connection.close()
        finally:
            connection.close()  # this thread's own connection

    def _renew(self) -> bool:
        """Extend the lease; False only when the run is visibly someone else's now."""
        expires = timezone.now() + timedelta(seconds=self.seconds)
        if _held(self.run_id, self.attempt).update(lease_expires_at=expires) == 1:
            return True
        # No row to renew: taken back, or not visible to this connection at all.
        return not SegmentationRun.objects.filter(pk=self.run_id).exists()


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
        lease: RunLease | None = None,
    ) -> None:
        self.run = run
        self.lease = lease
        self.listener = listener
        self.min_interval = min_interval
        self._last_write = 0.0
        self._span = (0.0, 0.0)
        self._stage_started: float | None = None

    def step(self, name: str, *, start: float, end: float) -> None:
        if self.lease:
            self.lease.check()
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
        if self.lease:
            self.lease.check()
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
        runs = SegmentationRun.objects.filter(pk=self.run.pk)
        if self.lease:
            runs = _held(self.run.pk, self.lease.attempt)
        written = runs.update(stage=self.run.stage, progress=progress, timings=self.run.timings)
        if self.lease and not written:
            self.lease.lost.set()  # cancelled or taken back: stop at the next report


def segmentation_run_fail(*, run: SegmentationRun, error: str, attempt: int | None = None) -> bool:
    """Record the error; the previously active run stays active and served.

    With ``attempt``, only while that attempt still holds the run: a worker that lost its
    run to the sweep must not fail the attempt that replaced it. Returns whether the run
    was failed.

    The failure may be the database itself (a dropped connection, a restart), so the update
    is retried on a fresh connection for a little while; if the database stays away the
    lease lapses and the sweep records the failure later.
    """

    def record() -> int:
        runs = SegmentationRun.objects.filter(pk=run.pk)
        if attempt is not None:
            runs = _held(run.pk, attempt)
        return runs.update(
            status=RunStatus.FAILED,
            error=error[:10000],
            finished_at=timezone.now(),
            lease_expires_at=None,
            timings=run.timings,
        )

    return on_fresh_connection(record) == 1


def on_fresh_connection(action: Callable[[], T], *, tries: int = 5) -> T:
    """Do ``action``; when the connection is broken, reconnect and try again with backoff."""
    for attempt in range(tries):
        try:
            return action()
        except (OperationalError, InterfaceError):
            if attempt == tries - 1 or connection.in_atomic_block:
                raise
            logger.warning("database connection lost; reconnecting", exc_info=True)
            connection.close()
            time.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


def segmentation_run_activate(
    *, run: SegmentationRun, metrics: dict[str, Any], attempt: int
) -> bool:
    """Mark the run succeeded and decide whether it is served now.

    Runs are ordered by when they were requested (their id): a run that finishes after a
    newer one has been activated is never served over it. Otherwise the run's ``serve``
    parameter decides (:func:`segments.services.serving.serving_decision`): by default it is
    served only if not worse than the active run on its own validation metrics, else it
    waits for :func:`segments.services.controls.segmentation_run_promote`. The decision and its reason are stored in
    ``metrics["serving"]``. Returns whether the run became active; raises :class:`RunLost`
    (changing nothing) when ``attempt`` no longer holds the run.
    """
    with transaction.atomic():
        activation_lock()
        active = SegmentationRun.objects.filter(is_active=True).values("pk", "metrics").first()
        if active is not None and active["pk"] > run.pk:
            decision = ServingDecision(
                False, f"not served: run {active['pk']}, requested later, is already served"
            )
        else:
            mode = str(run.params.get("serve", "auto"))
            decision = serving_decision(metrics, active["metrics"] if active else None, mode=mode)
        metrics = {
            **metrics,
            "serving": decision.to_dict(compared_with=active["pk"] if active else None),
        }
        now = timezone.now()
        if decision.serve:
            SegmentationRun.objects.filter(is_active=True).exclude(pk=run.pk).update(
                is_active=False
            )
        updated = _held(run.pk, attempt).update(
            status=RunStatus.SUCCEEDED,
            is_active=decision.serve,
            activated_at=now if decision.serve else None,
            stage="done",
            progress=1.0,
            metrics=metrics,
            timings=run.timings,
            lease_expires_at=None,
            finished_at=now,
        )
        if updated != 1:
            raise RunLost(f"run {run.pk} is no longer held by attempt {attempt}")
        if decision.serve:
            announce_active_change()
    return decision.serve


def announce_active_change() -> None:
    transaction.on_commit(lambda: active_run_changed.send(sender=SegmentationRun))


def activation_lock() -> None:
    # Two workers finishing together would both see the old active run and break the
    # one-active-run constraint; PostgreSQL serialises them on this lock (SQLite's
    # IMMEDIATE transactions already do).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ACTIVATION_LOCK])


def segmentation_run_discard_results(*, run_id: int) -> None:
    """Remove a run's segments, memberships and lists (a failed or retried run's partial rows).

    They are never shown (the run is not active); removing them keeps the tables lean and
    lets a retried attempt write its own set.
    """
    Segment.objects.filter(run_id=run_id).delete()  # memberships go with their segments
    RecommendationList.objects.filter(run_id=run_id).delete()


def runs_execute_in_process() -> bool:
    """With no broker configured (the laptop default) commands run jobs in their own process."""
    return bool(settings.SEGREC_EMBEDDED_BROKER)


def segmentation_runs_prune(*, keep: int) -> int:
    """Delete finished runs that are not active, except the ``keep`` newest, with their rows.

    Each run holds a membership and a list per member; without pruning they pile up.
    Returns how many runs were deleted.
    """
    finished = SegmentationRun.objects.filter(
        status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED], is_active=False
    ).order_by("-id")
    doomed = list(finished.values_list("id", flat=True)[keep:])
    SegmentationRun.objects.filter(id__in=doomed).delete()
    return len(doomed)
