"""The operator's controls of served runs: Promote, Roll back, Cancel, and the guard that
keeps the served run from being deleted. The automatic decision at the end of a run is
:func:`segments.services.lifecycle.segmentation_run_activate`'s."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from segments.models import RunStatus, SegmentationRun
from segments.services.lifecycle import activation_lock, announce_active_change


class RunStateError(Exception):
    """The run is not in a state that allows what was asked (the message says why)."""


def segmentation_run_promote(*, run_id: int, reason: str = "promoted by hand") -> None:
    """Serve a succeeded run now, whatever the automatic decision was."""
    with transaction.atomic():
        activation_lock()
        run = SegmentationRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            raise RunStateError(f"run {run_id} does not exist")
        if run.status != RunStatus.SUCCEEDED:
            raise RunStateError(f"run {run_id} is {run.status}: only a succeeded run can be served")
        if run.is_active:
            return
        previous = SegmentationRun.objects.filter(is_active=True).values_list("pk", flat=True)
        replaced = previous.first()
        SegmentationRun.objects.filter(is_active=True).update(is_active=False)
        serving = {"served": True, "reason": reason, "compared_with": replaced}
        SegmentationRun.objects.filter(pk=run_id).update(
            is_active=True,
            activated_at=timezone.now(),
            metrics={**run.metrics, "serving": serving},
        )
        announce_active_change()


def segmentation_run_rollback_target() -> int | None:
    """The run served before the active one (what Roll back would serve), if any."""
    active = SegmentationRun.objects.filter(is_active=True).values("activated_at").first()
    earlier = SegmentationRun.objects.filter(
        status=RunStatus.SUCCEEDED, is_active=False, activated_at__isnull=False
    )
    if active is not None and active["activated_at"] is not None:
        earlier = earlier.filter(activated_at__lt=active["activated_at"])
    return earlier.order_by("-activated_at").values_list("pk", flat=True).first()


def segmentation_run_rollback() -> int:
    """Serve again the run served before the active one; returns its id."""
    with transaction.atomic():
        activation_lock()
        previous = segmentation_run_rollback_target()
        if previous is None:
            raise RunStateError("no run was served before the active one: nothing to roll back to")
        active = SegmentationRun.objects.filter(is_active=True).values_list("pk", flat=True).first()
        reason = f"rolled back to from run {active}" if active else "rolled back to"
        segmentation_run_promote(run_id=previous, reason=reason)
    return previous


def refuse_deleting_the_active_run(sender: object, instance: SegmentationRun, **_: object) -> None:
    """pre_delete guard: the served run goes only after another is served (Promote, Roll
    back); deleting it would leave every member without segments and lists."""
    if instance.is_active:
        raise RunStateError(
            f"run {instance.pk} is the one being served: serve another run first "
            "(Promote or Roll back), then delete it"
        )


def segmentation_run_cancel(*, run_id: int) -> None:
    """Stop a queued or running run: it ends "cancelled" and the active run stays served.

    A queued run never starts (its message finds it not queued); a running one stops at its
    worker's next progress report, which then removes the rows it wrote.
    """
    cancelled = SegmentationRun.objects.filter(
        pk=run_id, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
    ).update(
        status=RunStatus.CANCELLED,
        error="cancelled by hand",
        finished_at=timezone.now(),
        lease_expires_at=None,
    )
    if not cancelled:
        status = SegmentationRun.objects.filter(pk=run_id).values_list("status", flat=True).first()
        raise RunStateError(
            f"run {run_id} does not exist"
            if status is None
            else f"run {run_id} is {status}: only a queued or running run can be cancelled"
        )
