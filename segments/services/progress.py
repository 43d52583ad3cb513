"""A run's progress in one place: status, stage, percent, elapsed time and an estimate of
what is left, for the admin's live panels, the runs list and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from segments.models import RunStatus, SegmentationRun

# Below this share done, elapsed time says too little about the rest to estimate it.
ETA_FROM = 0.05


@dataclass(frozen=True)
class RunProgress:
    run_id: int
    status: str
    stage: str
    percent: int
    elapsed_seconds: int | None
    eta_seconds: int | None
    finished: bool

    @property
    def summary(self) -> str:
        """One line that cannot contradict itself, e.g. "running: cluster, 45%, about 2 min left"."""
        if self.status == RunStatus.QUEUED:
            return "queued: waiting for a worker"
        if self.status == RunStatus.RUNNING:
            left = f", about {_duration(self.eta_seconds)} left" if self.eta_seconds else ""
            return f"running: {self.stage or 'starting'}, {self.percent}%{left}"
        took = f" in {_duration(self.elapsed_seconds)}" if self.elapsed_seconds else ""
        return f"{self.status}{took}"


def run_progress(run: SegmentationRun, *, now: datetime | None = None) -> RunProgress:
    now = now or timezone.now()
    fraction = 1.0 if run.status == RunStatus.SUCCEEDED else min(max(run.progress, 0.0), 1.0)
    if run.status == RunStatus.QUEUED:
        fraction = 0.0
    elapsed = None
    if run.started_at is not None:
        elapsed = int(((run.finished_at or now) - run.started_at).total_seconds())
    eta = None
    if run.status == RunStatus.RUNNING and elapsed is not None and fraction >= ETA_FROM:
        eta = int(round(elapsed * (1 - fraction) / fraction))
    return RunProgress(
        run_id=run.pk,
        status=run.status,
        stage=run.stage if run.status == RunStatus.RUNNING else "",
        percent=int(fraction * 100),
        elapsed_seconds=elapsed,
        eta_seconds=eta,
        finished=run.is_finished,
    )


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
