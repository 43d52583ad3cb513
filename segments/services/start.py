"""Starting a run: validate the parameters, store a queued run, hand it to a worker.

This sits above the Celery task (it queues it); the pipeline and the run's life cycle sit
below it, so imports run one way: start -> tasks -> pipeline -> lifecycle.

A queued run is stored before it is sent, so a broker outage loses nothing: the run stays
queued and :func:`segments.services.sweep.segmentation_runs_sweep` sends it again.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from segments.models import RunStatus, SegmentationRun
from segments.params import RunParams
from segments.tasks import segmentation_run_execute_task

logger = logging.getLogger("segrec.runs")
# A web request should not hang on a dead broker: try briefly, then leave it to the sweep.
SEND_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0.5}


class BrokerUnavailable(Exception):
    """The run is stored and queued, but the broker could not be reached to send it.

    Nothing is lost: the sweep sends queued runs again once a worker starts or the broker is
    back. ``run`` is the stored run.
    """

    def __init__(self, run: SegmentationRun, cause: BaseException) -> None:
        self.run = run
        super().__init__(
            f"run {run.pk} is queued and will start when the job broker is reachable again "
            f"({type(cause).__name__}: {cause})"
        )


def segmentation_run_create(
    *,
    params: dict[str, Any] | None = None,
    created_by: AbstractBaseUser | AnonymousUser | None = None,
    enqueue: bool = True,
) -> SegmentationRun:
    """Validate the parameters, store a queued run and send it to a worker once committed.

    Raises ``segments.params.InvalidParams`` naming the wrong field, and
    :class:`BrokerUnavailable` (after the run is stored) when it could not be sent.
    ``created_by`` is recorded only for a signed-in user (``request.user`` may be anonymous).
    """
    run_params = RunParams.from_dict(params)
    user_model = get_user_model()
    creator = (
        created_by if isinstance(created_by, user_model) and created_by.is_authenticated else None
    )
    failures: list[BaseException] = []
    with transaction.atomic():
        run = SegmentationRun.objects.create(params=run_params.to_dict(), created_by=creator)
        if enqueue:
            transaction.on_commit(lambda: _send_or_note(run, failures))
    if failures:
        raise BrokerUnavailable(run, failures[0])
    return run


def segmentation_run_send(run: SegmentationRun) -> None:
    """Send a queued run's task to the broker and note when; raises the broker's error."""
    segmentation_run_execute_task.apply_async(
        args=[run.pk], retry=True, retry_policy=SEND_RETRY_POLICY
    )
    SegmentationRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        sent_at=timezone.now()
    )


def _send_or_note(run: SegmentationRun, failures: list[BaseException]) -> None:
    try:
        segmentation_run_send(run)
    except (BrokerError, ConnectionError, OSError) as exc:
        logger.warning("run %s stored but not sent: %s", run.pk, exc)
        failures.append(exc)
