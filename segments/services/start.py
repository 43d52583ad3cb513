"""Starting a run: validate the parameters, store a queued run, hand it to a worker.

This sits above the Celery task (it queues it); the pipeline and the run's life cycle sit
below it, so imports run one way: start -> tasks -> pipeline -> lifecycle.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from segments.models import SegmentationRun
from segments.params import RunParams
from segments.tasks import segmentation_run_execute_task


def segmentation_run_create(
    *,
    params: dict[str, Any] | None = None,
    created_by: AbstractBaseUser | AnonymousUser | None = None,
    enqueue: bool = True,
) -> SegmentationRun:
    """Validate the parameters, store a queued run and hand it to the worker once committed.

    Raises ``segments.params.InvalidParams`` naming the wrong field. ``created_by`` is
    recorded only for a signed-in user (``request.user`` may be anonymous).
    """
    run_params = RunParams.from_dict(params)
    user_model = get_user_model()
    creator = (
        created_by if isinstance(created_by, user_model) and created_by.is_authenticated else None
    )
    with transaction.atomic():
        run = SegmentationRun.objects.create(
            params=run_params.to_dict(),
            created_by=creator,
        )
        if enqueue:
            transaction.on_commit(lambda: segmentation_run_execute_task.delay(run.pk))
    return run
