"""The signed-in HTML pages: the active run, a member, a segment.

Who sees which page is web.access's rule, the API's too: anonymous visitors go to the login
page, signed-in accounts without the view permission get 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import EmptyPage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from segments.models import SegmentationRun
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
from web import access
from web.presenters import display_number, percent, run_quality

SOURCE_WORDS = {
    "clustered": "clustered with members of similar taste",
    "classified": "too few ratings to cluster: assigned by a classifier",
    "noise": "an outlier: attached to the nearest segment",
    "placed": "joined after the run: placed from demographics and first ratings",
}


def key_metrics(run: SegmentationRun | None) -> list[tuple[str, str]]:
    """Scalar metrics, with one level of nesting flattened ("evaluation.ndcg@10")."""
    flat: list[tuple[str, Any]] = []
    for name, value in (run.metrics if run else {}).items():
        if isinstance(value, dict):
            flat += [(f"{name}.{k}", v) for k, v in value.items() if not isinstance(v, dict | list)]
        elif not isinstance(value, list):
            flat.append((name, value))
    return [(name, display_number(value)) for name, value in flat]


def summary_row_name(row: dict[str, Any]) -> str:
    if "field" in row:
        return f"{row['field']}: {row.get('value', '')}"
    return str(row.get("title") or row.get("name") or row.get("item_id", ""))


def summary_rows(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Summary rows (genres, demographics, items) as text: a name, the lift, percentages."""
    return [
        {
            "name": summary_row_name(row),
            "lift": display_number(row.get("lift", "-")),
            "share": percent(row.get("share")),
            "population_share": percent(row.get("population_share")),
        }
        for row in rows
    ]


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
        "metrics": key_metrics(run),
        "quality": run_quality(run.metrics) if run else [],
        "lookup": lookup,
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
        "tables": {
            key: summary_rows(summary.get(key) or []) for key in ("genres", "demographics", "items")
        },
        "page": page,
        "quality": run_quality(segment.run.metrics),
    }
    return render(request, "segments/segment_detail.html", context)
