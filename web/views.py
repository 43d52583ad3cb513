"""The signed-in HTML pages: the active run, a member, a segment.

Who sees which page is web.access's rule, the API's too: anonymous visitors go to the login
page, signed-in accounts without the view permission get 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import EmptyPage
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from segments.models import RunStatus, Segment, SegmentationRun
from segments.selectors import (
    active_run,
    member_by_external_id,
    member_overview,
    member_recent_ratings,
    member_recommendations,
    run_segments,
    segment_by_pk,
    segment_members_page,
)
from segments.services.comparison import runs_compare
from web import access
from web.presenters import (
    CONFIDENCE_HELP,
    THRESHOLDS,
    confidence_words,
    display_number,
    lift_chart,
    migration_chart,
    percent,
    quality_warnings,
    run_changes,
    run_quality,
    run_report_context,
)

# The home page compares with the previous run on every load: above this many memberships
# (both runs together) it shows the figures only and leaves the matrix to the admin's Compare.
COMPARE_ON_PAGE = 200_000
TRAIT_KINDS = ("genres", "demographics", "items")
BASIS_WORDS = {
    "clustered": "formed the segments",
    "over-represented": "only over-represented (not a clustering feature)",
}
SOURCE_WORDS = {
    "clustered": "clustered with members of similar taste",
    "classified": "too few ratings to cluster: assigned by a classifier",
    "noise": "an outlier: attached to the nearest segment",
    "placed": "joined after the run: placed from demographics and first ratings",
}


def summary_row_name(row: dict[str, Any]) -> str:
    if "field" in row:
        return f"{row['field']}: {row.get('value', '')}"
    return str(row.get("title") or row.get("name") or row.get("item_id", ""))


def summary_rows(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Summary rows (genres, demographics, items) as text: a name, the lift, percentages,
    the support and the share's interval (where the run stored them)."""
    return [
        {
            "name": summary_row_name(row),
            "lift": display_number(row.get("lift", "-")),
            "share": percent(row.get("share")),
            "population_share": percent(row.get("population_share")),
            "support": f"{row['support']:,} of {row['n']:,}" if "n" in row else "-",
            "interval": (
                f"{percent(row['ci_low'])}–{percent(row['ci_high'])}" if "ci_low" in row else "-"
            ),
            "basis": BASIS_WORDS.get(row.get("basis", ""), ""),
        }
        for row in rows
    ]


def previous_run(run: SegmentationRun) -> SegmentationRun | None:
    """The latest succeeded run before ``run``: what "what changed" compares with."""
    earlier = SegmentationRun.objects.filter(status=RunStatus.SUCCEEDED, pk__lt=run.pk)
    return earlier.defer("placer").order_by("-pk").first()


def _members_in(run: SegmentationRun) -> int:
    return int(Segment.objects.filter(run=run).aggregate(n=Sum("size"))["n"] or 0)


def run_changes_context(run: SegmentationRun) -> dict[str, Any]:
    previous = previous_run(run)
    comparison = None
    if previous is not None and _members_in(run) + _members_in(previous) <= COMPARE_ON_PAGE:
        comparison = runs_compare(run_a=previous, run_b=run)
    return {
        "previous": previous,
        "changes": run_changes(run, previous),
        "comparison": comparison,
        "migration_chart": migration_chart(comparison) if comparison else None,
    }


@login_required
@permission_required(access.SEGMENTS + access.RUNS, raise_exception=True)
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    lookup = request.GET.get("member", "").strip()
    may_read_members = request.user.has_perms(access.MEMBER_DATA)
    if lookup and may_read_members and member_by_external_id(lookup) is not None:
        return redirect("segments:member", external_id=lookup)
    run = active_run()
    segments = list(run_segments(run)) if run else []
    context = {
        "run": run,
        "segments": [(segment, percent(segment.summary.get("share"))) for segment in segments],
        "lookup": lookup,
        **(run_report_context(run, segments) if run else {}),
        **(run_changes_context(run) if run else {}),
    }
    return render(request, "segments/home.html", context)


@login_required
@permission_required(access.MEMBER_DATA, raise_exception=True)
@require_safe
def member_detail(request: HttpRequest, external_id: str) -> HttpResponse:
    member = member_by_external_id(external_id)
    if member is None:
        raise Http404(f"No member {external_id!r}.")
    overview = member_overview(member=member, run=active_run())
    run = overview.run
    context = {
        "overview": overview,
        "member": member,
        "source_words": SOURCE_WORDS.get(getattr(overview.membership, "source", ""), ""),
        "confidence_words": confidence_words(getattr(overview.membership, "confidence", None)),
        "confidence_help": CONFIDENCE_HELP,
        "ratings": member_recent_ratings(member=member),
        "recommendations": member_recommendations(run=run, member=member) if run else [],
    }
    return render(request, "segments/member_detail.html", context)


@login_required
@permission_required(access.SEGMENT_MEMBERS + access.RUNS, raise_exception=True)
@require_safe
def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    segment = segment_by_pk(pk)
    if segment is None:
        raise Http404(f"No segment {pk}.")
    try:
        page = segment_members_page(segment=segment, page_number=int(request.GET.get("page", 1)))
    except (EmptyPage, ValueError):
        raise Http404("No such page of members.") from None
    summary = segment.summary or {}
    context = {
        "segment": segment,
        "description": summary.get("description", ""),
        "share": percent(summary.get("share")),
        "tables": {key: summary_rows(summary.get(key) or []) for key in TRAIT_KINDS},
        "lift_charts": {
            key: lift_chart(summary.get(key) or [], summary_row_name) for key in TRAIT_KINDS
        },
        "rules": summary.get("rules"),
        "clustered_blocks": summary.get("clustered_blocks"),
        "page": page,
        "quality": run_quality(segment.run.metrics),
        "quality_warnings": quality_warnings(segment.run.metrics),
        "thresholds": THRESHOLDS,
        "confidence_help": CONFIDENCE_HELP,
    }
    return render(request, "segments/segment_detail.html", context)
