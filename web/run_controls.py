"""The run admin's controls: live progress, Promote, Roll back, Cancel and the runs list's
live panel. A mixin of SegmentationRunAdmin (web/admin.py); the decisions themselves live in
segments.services.lifecycle, the progress in segments.services.progress."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from segments.models import RunStatus, SegmentationRun
from segments.services.controls import (
    RunStateError,
    segmentation_run_cancel,
    segmentation_run_promote,
    segmentation_run_rollback,
    segmentation_run_rollback_target,
)
from segments.services.progress import run_progress
from segments.tasks import evaluation_run_task

# Serving, rolling back and cancelling change what every member gets: those who may start
# runs may do them.
CONTROL_PERMISSION = "segments.add_segmentationrun"
UNFINISHED = (RunStatus.QUEUED, RunStatus.RUNNING)


class RunControls:
    """Mixed into a ModelAdmin of SegmentationRun."""

    admin_site: Any

    def control_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("live/", wrap(self.live_view), name="segments_segmentationrun_live"),
            path(
                "rollback/",
                wrap(require_POST(self.rollback_view)),
                name="segments_segmentationrun_rollback",
            ),
            path(
                "<path:object_id>/progress/",
                wrap(self.progress_view),
                name="segments_segmentationrun_progress",
            ),
            path(
                "<path:object_id>/promote/",
                wrap(require_POST(self.promote_view)),
                name="segments_segmentationrun_promote",
            ),
            path(
                "<path:object_id>/cancel/",
                wrap(require_POST(self.cancel_view)),
                name="segments_segmentationrun_cancel",
            ),
            path(
                "<path:object_id>/evaluate/",
                wrap(require_POST(self.evaluate_view)),
                name="segments_segmentationrun_evaluate",
            ),
        ]

    def control_context(self, request: HttpRequest, run: SegmentationRun) -> dict[str, Any]:
        may = request.user.has_perm(CONTROL_PERMISSION)
        target = segmentation_run_rollback_target() if run.is_active else None
        return {
            **self.progress_context(request, run),
            "serving": run.metrics.get("serving", {}),
            "can_promote": may and run.status == RunStatus.SUCCEEDED and not run.is_active,
            "can_roll_back": may and target is not None,
            "roll_back_to": target,
            "can_evaluate": may and run.status == RunStatus.SUCCEEDED,
            "evaluation_jobs": run.metrics.get("evaluation_jobs", {}),
        }

    def progress_context(self, request: HttpRequest, run: SegmentationRun) -> dict[str, Any]:
        return {
            "progress": run_progress(run),
            "timings": run.timings,
            "can_cancel": request.user.has_perm(CONTROL_PERMISSION) and run.status in UNFINISHED,
        }

    def progress_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        run = self._run(request, object_id)
        response = TemplateResponse(
            request,
            "admin/segments/segmentationrun/_progress.html",
            self.progress_context(request, run),
        )
        if run.is_finished:
            response["HX-Refresh"] = "true"  # the report, serving and metrics are ready
        return response

    def live_view(self, request: HttpRequest) -> HttpResponse:
        context = self.live_runs()
        response = TemplateResponse(
            request,
            "admin/segments/segmentationrun/_live_runs.html",
            {"unfinished": context["unfinished"], "signature": context["signature"]},
        )
        if request.GET.get("seen", "") != context["signature"]:
            response["HX-Refresh"] = "true"  # a run started or ended: redraw the list
        return response

    def live_runs(self) -> dict[str, Any]:
        unfinished = SegmentationRun.objects.filter(status__in=UNFINISHED).order_by("id")
        progress = [run_progress(run) for run in unfinished[:20]]
        signature = ",".join(f"{p.run_id}:{p.status}" for p in progress)
        return {"unfinished": progress, "signature": signature}

    def promote_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        run = self._run(request, object_id, control=True)
        return self._act(
            request,
            run.pk,
            lambda: segmentation_run_promote(run_id=run.pk),
            f"Run {run.pk} is served now.",
        )

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        run = self._run(request, object_id, control=True)
        return self._act(
            request,
            run.pk,
            lambda: segmentation_run_cancel(run_id=run.pk),
            f"Run {run.pk} is cancelled; the served run stays as it is.",
        )

    def evaluate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Queue `evaluate` for the run (temporal split, its own segments as groups)."""
        run = self._run(request, object_id, control=True)
        if run.status != RunStatus.SUCCEEDED:
            messages.error(
                request, f"Run {run.pk} is {run.status}: only a succeeded run is evaluated."
            )
        else:
            evaluation_run_task.delay(run.pk, "temporal")
            messages.success(
                request,
                f"Evaluation of run {run.pk} queued: the tables appear on this page when the "
                "worker has fitted every model (minutes on MovieLens-100K).",
            )
        return redirect(reverse("admin:segments_segmentationrun_change", args=[run.pk]))

    def rollback_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm(CONTROL_PERMISSION):
            raise PermissionDenied
        try:
            previous = segmentation_run_rollback()
        except RunStateError as exc:
            messages.error(request, str(exc))
            return redirect(reverse("admin:segments_segmentationrun_changelist"))
        messages.success(request, f"Rolled back: run {previous} is served again.")
        return redirect(reverse("admin:segments_segmentationrun_change", args=[previous]))

    def _act(self, request: HttpRequest, run_id: int, action: Any, done: str) -> HttpResponse:
        try:
            action()
        except RunStateError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, done)
        return redirect(reverse("admin:segments_segmentationrun_change", args=[run_id]))

    def _run(
        self, request: HttpRequest, object_id: str, *, control: bool = False
    ) -> SegmentationRun:
        if control and not request.user.has_perm(CONTROL_PERMISSION):
            raise PermissionDenied
        run = SegmentationRun.objects.filter(
            pk=int(object_id) if object_id.isdigit() else -1
        ).first()
        if run is None:
            raise Http404(f"No run {object_id}.")
        if not request.user.has_perm("segments.view_segmentationrun"):
            raise PermissionDenied
        return run
