"""Read-only queries behind the pages, the admin and the API: one place that knows the joins."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import F, QuerySet

from catalog.models import Item, Member, Rating
from segments.models import Membership, RecommendationList, RunStatus, Segment, SegmentationRun

SEGMENT_MEMBERS_PER_PAGE = 50


@dataclass(frozen=True)
class MemberOverview:
    """A member with what the active run says about them."""

    member: Member
    run: SegmentationRun | None
    membership: Membership | None
    rating_count: int


def active_run() -> SegmentationRun | None:
    return SegmentationRun.objects.filter(is_active=True).first()


def run_by_pk(pk: int) -> SegmentationRun | None:
    return SegmentationRun.objects.filter(pk=pk).first()


def runs_to_compare(run: SegmentationRun, *, limit: int = 100) -> QuerySet[SegmentationRun]:
    """Other succeeded runs, newest first: what ``run`` can be compared with."""
    finished = SegmentationRun.objects.filter(status=RunStatus.SUCCEEDED).exclude(pk=run.pk)
    return finished.order_by("-id")[:limit]


def member_by_external_id(external_id: str) -> Member | None:
    return Member.objects.filter(external_id=external_id).first()


def membership_in_run(*, member: Member, run: SegmentationRun | None) -> Membership | None:
    if run is None:
        return None
    return Membership.objects.select_related("segment").filter(run=run, member=member).first()


def member_overview(*, member: Member, run: SegmentationRun | None) -> MemberOverview:
    return MemberOverview(
        member=member,
        run=run,
        membership=membership_in_run(member=member, run=run),
        rating_count=member.ratings.count(),
    )


def member_recent_ratings(*, member: Member, limit: int = 20) -> list[Rating]:
    ratings = member.ratings.select_related("item").order_by(
        F("rated_at").desc(nulls_last=True), "-id"
    )
    return list(ratings[:limit])


def run_segments(run: SegmentationRun) -> QuerySet[Segment]:
    return run.segments.order_by("number")


def segment_by_pk(pk: int) -> Segment | None:
    """A segment of a finished, successful run; a running run's rows are not shown."""
    return (
        Segment.objects.select_related("run").filter(pk=pk, run__status=RunStatus.SUCCEEDED).first()
    )


def segment_members_page(*, segment: Segment, page_number: int) -> Page:
    """One page of a segment's members, most confident first; raises EmptyPage past the end."""
    memberships = (
        Membership.objects.filter(segment=segment)
        .select_related("member")
        .order_by("-confidence", "member_id")
    )
    return Paginator(memberships, SEGMENT_MEMBERS_PER_PAGE).page(page_number)


class NoRunError(LookupError):
    """No active run (or no run with the given id) to export."""


def run_or_active(*, run_id: int | None) -> SegmentationRun:
    """The run with ``run_id``, or the active one when it is None; NoRunError otherwise."""
    if run_id is None:
        run = SegmentationRun.objects.filter(is_active=True).first()
        if run is None:
            raise NoRunError("there is no active run yet: run a segmentation first")
        return run
    run = SegmentationRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NoRunError(f"there is no run {run_id}")
    return run


@dataclass(frozen=True)
class Recommendation:
    rank: int
    item: Item
    score: float
    reason: str


def recommendation_list(*, run: SegmentationRun, member: Member) -> RecommendationList | None:
    return RecommendationList.objects.filter(run=run, member=member).first()


def member_recommendations(
    *, run: SegmentationRun, member: Member, k: int | None = None
) -> list[Recommendation]:
    """The top k entries of the member's list in the run; [] when the run made no list."""
    stored = recommendation_list(run=run, member=member)
    if stored is None:
        return []
    entries = stored.entries[:k] if k is not None else stored.entries
    items = Item.objects.in_bulk([entry[0] for entry in entries])
    # An item deleted since the run is skipped rather than failing the whole list.
    kept = [entry for entry in entries if entry[0] in items]
    return [
        Recommendation(rank=rank, item=items[pk], score=float(score), reason=reason)
        for rank, (pk, score, reason) in enumerate(kept, start=1)
    ]
