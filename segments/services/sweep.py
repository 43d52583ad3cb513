"""The sweep: take back runs whose worker died and send queued runs no worker has claimed.

A run lives in the database, its task in the broker; either can be lost without the other
(a worker killed mid-run, a broker restarted without persistence). The sweep reconciles
them: a running run whose lease lapsed goes back to the queue for another attempt, or is
failed once it has used its attempts (a run that kills its worker each time must not loop);
a queued run not sent recently is sent again. Every change is a conditional UPDATE, so
sweeps on several workers at once, or beside the CLI, do each thing once.

Workers sweep when they start and then periodically (:class:`RunSweeper`, started from
``segrec_site.celery``); ``manage.py sweep_runs`` does the same from cron.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from segments.models import RunStatus, SegmentationRun
from segments.services.lifecycle import lease_seconds, segmentation_run_discard_results
from segments.services.start import segmentation_run_send

logger = logging.getLogger("segrec.runs")


@dataclass
class SweepReport:
    """Run ids the sweep requeued, failed and sent (``unsent``: the broker was down)."""

    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    unsent: list[int] = field(default_factory=list)


def segmentation_runs_sweep(*, resend_all: bool = False) -> SweepReport:
    """One pass; ``resend_all`` sends every queued run (a worker just started: the broker
    may have restarted and lost them), otherwise only those not sent for a while."""
    report = SweepReport()
    now = timezone.now()
    lapsed = SegmentationRun.objects.filter(status=RunStatus.RUNNING).filter(
        Q(lease_expires_at__lt=now)
        | Q(lease_expires_at__isnull=True, started_at__lt=now - timedelta(seconds=lease_seconds()))
    )
    for run in lapsed.only("pk", "attempts", "stage", "lease_expires_at"):
        _take_back(run, lapsed.filter(pk=run.pk, attempts=run.attempts), report)
    queued = SegmentationRun.objects.filter(status=RunStatus.QUEUED).order_by("pk")
    if not resend_all:
        stale = now - timedelta(seconds=settings.SEGREC_RUN_RESEND_SECONDS)
        queued = queued.filter(Q(sent_at__isnull=True) | Q(sent_at__lt=stale))
    for run in queued.only("pk"):
        try:
            segmentation_run_send(run)
        except (BrokerError, ConnectionError, OSError) as exc:
            logger.warning("sweep: broker unreachable, queued runs stay queued: %s", exc)
            report.unsent.extend(queued.filter(pk__gte=run.pk).values_list("pk", flat=True))
            break
        report.sent.append(run.pk)
    return report


def _take_back(
    run: SegmentationRun, still_lapsed: QuerySet[SegmentationRun], report: SweepReport
) -> None:
    max_attempts = settings.SEGREC_RUN_MAX_ATTEMPTS
    if run.attempts >= max_attempts:
        error = (
            f"The worker stopped renewing this run's lease during stage {run.stage!r} on "
            f"attempt {run.attempts} of {max_attempts} (it was killed, ran out of memory or "
            "lost the database), so the run is not tried again."
        )
        done = still_lapsed.update(
            status=RunStatus.FAILED, error=error, finished_at=timezone.now(), lease_expires_at=None
        )
        if done:
            logger.error("run %s failed: %s", run.pk, error)
            segmentation_run_discard_results(run_id=run.pk)
            report.failed.append(run.pk)
        return
    done = still_lapsed.update(
        status=RunStatus.QUEUED, stage="", progress=0.0, lease_expires_at=None, sent_at=None
    )
    if done:
        logger.warning(
            "run %s lost its worker during %s (attempt %s of %s); queued again",
            run.pk,
            run.stage,
            run.attempts,
            max_attempts,
        )
        report.requeued.append(run.pk)


class RunSweeper:
    """Sweeps from a daemon thread every SEGREC_RUN_SWEEP_SECONDS while a worker lives."""

    def __init__(self, interval: float | None = None) -> None:
        self.interval = interval if interval is not None else settings.SEGREC_RUN_SWEEP_SECONDS
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="segrec-run-sweeper", daemon=True)

    def start(self) -> RunSweeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        resend_all = True
        try:
            while not self._stop.is_set():
                try:
                    close_old_connections()
                    report = segmentation_runs_sweep(resend_all=resend_all)
                    resend_all = False
                    if report.requeued or report.failed or report.sent:
                        logger.info("sweep: %s", report)
                except DatabaseError:
                    logger.warning("sweep: database unreachable", exc_info=True)
                    connection.close()
                self._stop.wait(self.interval)
        finally:
            connection.close()
