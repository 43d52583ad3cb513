"""Admin for the data (members, items, ratings) and the pipeline's outputs.

Tables can reach millions of rows: exact-match searches on indexed ids, select_related for
every column shown, raw id widgets and no full result count keep the pages fast.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from catalog.models import Item, Member, Rating
from segments.models import Membership, RecommendationList, Segment, SegmentationRun
from segments.params import InvalidParams
from segments.selectors import active_run, run_by_pk, run_segments, runs_to_compare
from segments.services.comparison import runs_compare
from segments.services.exports import segments_csv_lines
from segments.services.placement import PlacementUnavailable, member_place
from segments.services.progress import run_progress
from segments.services.start import BrokerUnavailable, segmentation_run_create
from web.admin_display import (
    key_value_table,
    list_entries_table,
    segment_summary_tables,
    stars,
)
from web.audiences import audiences_view
from web.forms import RunParamsForm
from web.presenters import migration_chart, migration_table, run_report_context
from web.run_controls import RunControls

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _SegmentCount(TypedDict):
    """What SegmentationRunAdmin.get_queryset annotates each run with."""

    segment_count: int


def pretty_json(value: Any) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True))


def int_or_none(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def run_change_url(run: SegmentationRun) -> str:
    return reverse("admin:segments_segmentationrun_change", args=[run.pk])


def segments_csv_response(run: SegmentationRun) -> StreamingHttpResponse:
    """The same lines as ``manage.py export_segments``, streamed so 1M members never sit in RAM."""
    response = StreamingHttpResponse(
        segments_csv_lines(run=run), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-segments.csv"'
    return response


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
    actions = ["place_in_active_run"]

    @admin.action(description="Place in a segment of the active run", permissions=["change"])
    def place_in_active_run(self, request: HttpRequest, queryset: QuerySet[Member]) -> None:
        run = active_run()
        placed = 0
        try:
            for member in queryset.iterator():
                member_place(member=member, run=run)
                placed += 1
        except PlacementUnavailable as exc:
            self.message_user(request, f"Placed {placed} members: {exc}.", messages.ERROR)
            return
        assert run is not None  # without an active run member_place raised above
        self.message_user(request, f"Placed {placed} members in segments of run {run.pk}.")


class GenreFilter(admin.SimpleListFilter):
    """Items by genre: the genres of the first GENRE_SCAN items are offered."""

    title = "genre"
    parameter_name = "genre"
    GENRE_SCAN = 50_000

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        genres: set[str] = set()
        for names in Item.objects.values_list("genres", flat=True)[: self.GENRE_SCAN]:
            genres.update(names or [])
        return [(name, name) for name in sorted(genres)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if not self.value():
            return queryset
        if connection.vendor == "postgresql":  # jsonb containment, served by the column
            return queryset.filter(genres__contains=[self.value()])
        return queryset.filter(genres__icontains=json.dumps(self.value()))


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("external_id", "title", "year", "genre_list")
    list_filter = (GenreFilter, "year")
    search_fields = ("=external_id", "title")
    show_full_result_count = False

    @admin.display(description="genres")
    def genre_list(self, item: Item) -> str:
        return ", ".join(item.genres or [])


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ("id", "member", "item_title", "stars", "rated_at")
    list_filter = ("value",)
    list_select_related = ("member", "item")
    raw_id_fields = ("member", "item")
    search_fields = ("=member__external_id", "=item__external_id")
    search_help_text = "Exact member or item external id."
    show_full_result_count = False

    @admin.display(description="item", ordering="item__title")
    def item_title(self, rating: Rating) -> str:
        return rating.item.display_title

    @admin.display(description="rating", ordering="value")
    def stars(self, rating: Rating) -> str:
        return f"{stars(rating.value)} {rating.value:g}"


@admin.register(SegmentationRun)
class SegmentationRunAdmin(RunControls, ReadOnlyAdmin):
    list_display = (
        "id",
        "progress_summary",
        "created_at",
        "duration",
        "n_segments",
        "is_active",
    )
    list_filter = ("status", "is_active")
    # Status, stage and percent are in the live progress panel above the fields (one source).
    fields = (
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
    actions = ["download_segments"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request).select_related("created_by")
        return qs.annotate(segment_count=Count("segments"))

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("run/", wrap(self.run_view), name="segments_segmentationrun_run"),
            path(
                "<path:object_id>/segments.csv",
                wrap(self.export_view),
                name="segments_segmentationrun_export",
            ),
            path(
                "<path:object_id>/compare/",
                wrap(self.compare_view),
                name="segments_segmentationrun_compare",
            ),
            path("audiences/", wrap(self.audiences_view), name="segments_audiences"),
            *self.control_urls(),
            *super().get_urls(),
        ]

    def audiences_view(self, request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
        return audiences_view(request, {**self.admin_site.each_context(request), "opts": self.opts})

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        run = self.get_object(request, unquote(object_id))
        if run is not None:
            extra_context = {
                **(extra_context or {}),
                **self.report_context(run),
                **self.control_context(request, run),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "live_runs": self.live_runs()}
        return super().changelist_view(request, extra_context)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The served run goes only after another is served (Promote or Roll back).
        if obj is not None and obj.is_active:
            return False
        return super().has_delete_permission(request, obj)

    def report_context(self, run: SegmentationRun) -> dict[str, Any]:
        segments = run_segments(run)
        return {**run_report_context(run, segments), "compare_choices": runs_to_compare(run)}

    def viewable_run(self, request: HttpRequest, object_id: str) -> SegmentationRun:
        run = self.get_object(request, unquote(object_id))
        if run is None:
            raise Http404(f"No run {object_id}.")
        if not self.has_view_permission(request, run):
            raise PermissionDenied
        return run

    def export_view(self, request: HttpRequest, object_id: str) -> StreamingHttpResponse:
        return segments_csv_response(self.viewable_run(request, object_id))

    @admin.action(description="Download the selected run's segments as CSV")
    def download_segments(
        self, request: HttpRequest, queryset: QuerySet[SegmentationRun]
    ) -> StreamingHttpResponse | None:
        runs = list(queryset[:2])
        if len(runs) != 1:
            self.message_user(request, "Select exactly one run to download.", messages.WARNING)
            return None
        return segments_csv_response(runs[0])

    def compare_view(self, request: HttpRequest, object_id: str) -> TemplateResponse:
        run = self.viewable_run(request, object_id)
        other_id = int_or_none(request.GET.get("with"))
        other = run_by_pk(other_id) if other_id is not None else None
        comparison = runs_compare(run_a=run, run_b=other) if other else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Compare run {run.pk}" + (f" with run {other.pk}" if other else ""),
            "original": run,
            "other": other,
            "missing": other_id if other_id is not None and other is None else None,
            "comparison": comparison,
            "migration": migration_table(comparison) if comparison else [],
            "migration_chart": migration_chart(comparison) if comparison else None,
            "compare_choices": runs_to_compare(run),
        }
        return TemplateResponse(request, "admin/segments/segmentationrun/compare.html", context)

    def run_view(self, request: HttpRequest) -> HttpResponse:
        # Runs take the worker for minutes to hours: only those allowed to add runs start them.
        if not request.user.has_perm("segments.add_segmentationrun"):
            raise PermissionDenied
        form = RunParamsForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = segmentation_run_create(params=form.to_params(), created_by=request.user)
            except InvalidParams as exc:
                form.add_params_error(exc)
            except BrokerUnavailable as exc:
                # Stored and queued all the same: the sweep sends it once the broker is back.
                self.message_user(request, f"{str(exc).capitalize()}.", messages.WARNING)
                return redirect(run_change_url(exc.run))
            else:
                self.message_user(request, f"Run {run.pk} queued.")
                return redirect(run_change_url(run))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Run a segmentation",
            "form": form,
        }
        return TemplateResponse(request, "admin/segments/segmentationrun/run_form.html", context)

    @admin.display(description="progress", ordering="status")
    def progress_summary(self, run: SegmentationRun) -> str:
        return run_progress(run).summary

    @admin.display(description="duration")
    def duration(self, run: SegmentationRun) -> str:
        if run.started_at is None:
            return "-"
        elapsed = (run.finished_at or timezone.now()) - run.started_at
        return str(timedelta(seconds=round(elapsed.total_seconds())))

    @admin.display(description="segments", ordering="segment_count")
    def n_segments(self, run: WithAnnotations[SegmentationRun, _SegmentCount]) -> int:
        return run.segment_count

    @admin.display(description="params")
    def params_pretty(self, run: SegmentationRun) -> str:
        return key_value_table(run.params)

    @admin.display(description="metrics")
    def metrics_pretty(self, run: SegmentationRun) -> str:
        # The map's points and the sweep are drawn above, not listed.
        return key_value_table(run.metrics, skip=("projection", "k_sweep"))

    @admin.display(description="timings (seconds per stage)")
    def timings_table(self, run: SegmentationRun) -> str:
        if not run.timings:
            return "-"
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td></tr>", run.timings.items())
        return format_html("<table>{}</table>", rows)


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    """Labels may be renamed by hand; everything else is the pipeline's."""

    list_display = ("id", "run", "number", "label", "size", "share", "page")
    list_filter = ("run", "run__is_active")
    list_select_related = ("run",)
    search_fields = ("label",)
    fields = ("run", "number", "label", "size", "summary_pretty")
    readonly_fields = ("run", "number", "size", "summary_pretty")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="page")
    def page(self, segment: Segment) -> str:
        return format_html('<a href="{}">view</a>', reverse("segments:segment", args=[segment.pk]))

    @admin.display(description="share")
    def share(self, segment: Segment) -> str:
        share = (segment.summary or {}).get("share")
        return "-" if share is None else f"{share:.1%}"

    @admin.display(description="what sets it apart")
    def summary_pretty(self, segment: Segment) -> str:
        return segment_summary_tables(segment.summary or {})


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("id", "member", "segment", "run", "confidence", "source")
    list_filter = ("run", "source")
    list_select_related = ("member", "segment", "run")
    raw_id_fields = ("run", "member", "segment")
    search_fields = ("=member__external_id",)
    search_help_text = "Exact member external id."
    show_full_result_count = False


@admin.register(RecommendationList)
class RecommendationListAdmin(admin.ModelAdmin):
    """Written only by the pipeline: one row per member and run, so view-only and raw ids."""

    list_display = ("id", "member", "run", "length")
    list_filter = ("run",)
    list_select_related = ("member", "run")
    raw_id_fields = ("run", "member")
    search_fields = ("=member__external_id",)
    search_help_text = "Exact member external id."
    show_full_result_count = False
    fields = ("run", "member", "entries_pretty")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="entries")
    def length(self, rec_list: RecommendationList) -> int:
        return len(rec_list.entries)

    @admin.display(description="the list")
    def entries_pretty(self, rec_list: RecommendationList) -> str:
        return list_entries_table(rec_list.entries)
