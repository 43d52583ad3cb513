"""Admin for the data (members, items, ratings) and the pipeline's outputs.

Tables can reach millions of rows: exact-match searches on indexed ids, select_related for
every column shown, raw id widgets and no full result count keep the pages fast.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from segments.forms import RunParamsForm
from segments.models import Item, Member, Membership, Rating, Segment, SegmentationRun
from segments.params import InvalidParams
from segments.selectors import active_run, run_segments
from segments.services.runs import segmentation_run_create


def pretty_json(value: Any) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True))


class ReadOnlyAdmin(admin.ModelAdmin):
    """Pipeline output: viewable and deletable, written only by the pipeline."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ActiveRunSegmentFilter(admin.SimpleListFilter):
    title = "segment in the active run"
    parameter_name = "active_segment"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        run = active_run()
        if run is None:
            return []
        return [(str(s.pk), f"{s.number}: {s.label}") for s in run_segments(run)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if not self.value():
            return queryset
        return queryset.filter(
            memberships__segment_id=self.value(), memberships__run__is_active=True
        )


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("external_id", "age", "gender", "occupation", "location", "created_at")
    search_fields = ("=external_id", "occupation", "location")
    list_filter = ("gender", "occupation", ActiveRunSegmentFilter)
    show_full_result_count = False


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("external_id", "title", "year", "genre_list")
    search_fields = ("=external_id", "title")
    show_full_result_count = False

    @admin.display(description="genres")
    def genre_list(self, item: Item) -> str:
        return ", ".join(item.genres or [])


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ("id", "member", "item", "value", "rated_at")
    list_select_related = ("member", "item")
    raw_id_fields = ("member", "item")
    search_fields = ("=member__external_id", "=item__external_id")
    search_help_text = "Exact member or item external id."
    show_full_result_count = False


@admin.register(SegmentationRun)
class SegmentationRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "status",
        "stage",
        "progress_percent",
        "created_at",
        "duration",
        "n_segments",
        "is_active",
    )
    list_filter = ("status", "is_active")
    fields = (
        "status",
        "stage",
        "progress_percent",
        "is_active",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
        "duration",
        "params_pretty",
        "timings_table",
        "metrics_pretty",
        "error",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request).select_related("created_by")
        return qs.annotate(segment_count=Count("segments"))

    def get_urls(self) -> list[URLPattern]:
        run_view = self.admin_site.admin_view(self.run_view)
        return [path("run/", run_view, name="segments_segmentationrun_run"), *super().get_urls()]

    def run_view(self, request: HttpRequest) -> HttpResponse:
        form = RunParamsForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = segmentation_run_create(params=form.to_params(), created_by=request.user)
            except InvalidParams as exc:
                form.add_params_error(exc)
            else:
                self.message_user(request, f"Run {run.pk} queued.")
                return redirect(reverse("admin:segments_segmentationrun_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Run a segmentation",
            "form": form,
        }
        return TemplateResponse(request, "admin/segments/segmentationrun/run_form.html", context)

    @admin.display(description="progress")
    def progress_percent(self, run: SegmentationRun) -> str:
        return f"{run.progress * 100:.0f}%"

    @admin.display(description="duration")
    def duration(self, run: SegmentationRun) -> str:
        if run.started_at is None:
            return "-"
        elapsed = (run.finished_at or timezone.now()) - run.started_at
        return str(timedelta(seconds=round(elapsed.total_seconds())))

    @admin.display(description="segments", ordering="segment_count")
    def n_segments(self, run: SegmentationRun) -> int:
        return run.segment_count

    @admin.display(description="params")
    def params_pretty(self, run: SegmentationRun) -> str:
        return pretty_json(run.params)

    @admin.display(description="metrics")
    def metrics_pretty(self, run: SegmentationRun) -> str:
        return pretty_json(run.metrics)

    @admin.display(description="timings (seconds per stage)")
    def timings_table(self, run: SegmentationRun) -> str:
        if not run.timings:
            return "-"
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td></tr>", run.timings.items())
        return format_html("<table>{}</table>", rows)


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    """Labels may be renamed by hand; everything else is the pipeline's."""

    list_display = ("id", "run", "number", "label", "size", "share")
    list_filter = ("run",)
    list_select_related = ("run",)
    search_fields = ("label",)
    fields = ("run", "number", "label", "size", "summary_pretty")
    readonly_fields = ("run", "number", "size", "summary_pretty")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="share")
    def share(self, segment: Segment) -> str:
        share = (segment.summary or {}).get("share")
        return "-" if share is None else f"{share:.1%}"

    @admin.display(description="summary")
    def summary_pretty(self, segment: Segment) -> str:
        return pretty_json(segment.summary)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("id", "member", "segment", "run", "confidence", "source")
    list_filter = ("run", "source")
    list_select_related = ("member", "segment", "run")
    raw_id_fields = ("run", "member", "segment")
    search_fields = ("=member__external_id",)
    search_help_text = "Exact member external id."
    show_full_result_count = False
