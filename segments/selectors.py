"""Read-only queries behind the pages, the admin and the API: one place that knows the joins."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.dispatch import receiver

from catalog.models import Item, Member, Rating
from segments.models import Membership, RecommendationList, RunStatus, Segment, SegmentationRun
from segments.params import RunParams
from segments.signals import active_run_changed

SEGMENT_MEMBERS_PER_PAGE = 50
RUNS_PER_PAGE = 20
ITEMS_PER_PAGE = 50
# The active run's id (never the row: it holds the pickled placer and the metrics) is kept in
# the cache. The signal clears it in every process that shares the cache (SEGREC_CACHE_URL);
# with a per-process cache, other processes see a change within this many seconds.
ACTIVE_RUN_ID_KEY = "segrec:active-run-id"
NO_ACTIVE_RUN = 0


@dataclass(frozen=True)
class MemberOverview:
    """A member with what the active run says about them."""

    member: Member
    run: SegmentationRun | None
    membership: Membership | None
    rating_count: int


def active_run() -> SegmentationRun | None:
    return SegmentationRun.objects.filter(is_active=True).first()


def active_run_id() -> int | None:
    """The active run's id, from the cache when it is there (no query)."""
    cached = cache.get(ACTIVE_RUN_ID_KEY)
    if cached is None:
        active = SegmentationRun.objects.filter(is_active=True).values_list("pk", flat=True)
        cached = active.first() or NO_ACTIVE_RUN
        ttl = float(getattr(settings, "SEGREC_ACTIVE_RUN_CACHE_SECONDS", 5.0))
        cache.set(ACTIVE_RUN_ID_KEY, cached, ttl)
    return cached or None


@receiver(active_run_changed, dispatch_uid="segments.selectors.forget_active_run_id")
def forget_active_run_id(**_: Any) -> None:
    cache.delete(ACTIVE_RUN_ID_KEY)


def runs_page(*, page_number: int) -> Page:
    """One page of runs, newest first; the pickled placer is left in the database."""
    runs = SegmentationRun.objects.defer("placer").order_by("-id")
    return Paginator(runs, RUNS_PER_PAGE).page(page_number)


def items_page(*, search: str, page_number: int) -> Page:
    """One page of items in id order; ``search`` matches the title or the item's own id."""
    items = Item.objects.order_by("id")
    if search:
        items = items.filter(Q(title__icontains=search) | Q(external_id=search))
    return Paginator(items, ITEMS_PER_PAGE).page(page_number)


def item_by_external_id(external_id: str) -> Item | None:
    return Item.objects.filter(external_id=external_id).first()


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


@dataclass(frozen=True)
class ListedSegment:
    id: int
    number: int
    label: str
    confidence: float
    source: str


@dataclass(frozen=True)
class ListedItem:
    rank: int
    item_id: str
    title: str
    year: int | None
    genres: list[str]
    score: float
    reason: str


@dataclass(frozen=True)
class MemberList:
    """A member's stored list in one run, with their segment: what the list API serves."""

    member_id: str
    run_id: int
    segment: ListedSegment | None
    items: list[ListedItem]  # the first k entries of the stored list, with their items
    limit: int  # the run's list length (its top_k)


# The list API's query is written out: compiling it with the ORM cost several times running
# it, on the busiest endpoint. PostgreSQL and SQLite read the list's items in the same query
# (JSON functions of each); other databases ask for them in a second one. JSON columns come
# back as text or decoded, by driver.
MEMBER_LIST_SQL = f"""
SELECT m.external_id, l.entries, r.params, ms.segment_id, s.number, s.label, ms.confidence,
       ms.source, {{items}}
FROM {Member._meta.db_table} m
LEFT JOIN {RecommendationList._meta.db_table} l ON l.member_id = m.id AND l.run_id = %s
LEFT JOIN {Membership._meta.db_table} ms ON ms.member_id = m.id AND ms.run_id = %s
LEFT JOIN {Segment._meta.db_table} s ON s.id = ms.segment_id
LEFT JOIN {SegmentationRun._meta.db_table} r ON r.id = %s
WHERE m.external_id = %s
"""
ITEM = Item._meta.db_table
ITEMS_OF_LIST = {
    # = ANY(ARRAY(...)), not IN (SELECT ...): the planner hashed the list's ids and scanned
    # every item (0.2 ms at 3,000 items, growing with the catalogue) instead of using the key.
    "postgresql": (
        "(SELECT json_agg(json_build_array(i.id, i.external_id, i.title, i.year, i.genres)) "
        f"FROM {ITEM} i WHERE i.id = ANY(ARRAY(SELECT (e.value ->> 0)::bigint "
        "FROM jsonb_array_elements(l.entries) WITH ORDINALITY AS e(value, n) WHERE e.n <= %s)))"
    ),
    "sqlite": (
        "(SELECT json_group_array(json_array(i.id, i.external_id, i.title, i.year, "
        f"json(i.genres))) FROM {ITEM} i WHERE i.id IN (SELECT json_extract(e.value, '$[0]') "
        "FROM json_each(l.entries) AS e WHERE e.key < %s))"
    ),
}
ITEMS_SQL = f"SELECT id, external_id, title, year, genres FROM {ITEM} WHERE id IN "


def from_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def member_list(*, external_id: str, run_id: int, k: int) -> MemberList | None:
    """The member, their segment and the top ``k`` of their list in ``run_id`` with its
    items, in one query (two on databases other than PostgreSQL and SQLite); None: no member.
    """
    folded = ITEMS_OF_LIST.get(connection.vendor)
    sql = MEMBER_LIST_SQL.format(items=folded or "NULL")
    params: list[int | str] = [run_id, run_id, run_id, external_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, [k, *params] if folded else params)
        row = cursor.fetchone()
    if row is None:
        return None
    member_id, entries, run_params, segment_id, number, label, confidence, source, rows = row
    segment = ListedSegment(segment_id, number, label, confidence, source) if segment_id else None
    top_k = (from_json(run_params) or {}).get("top_k")
    limit = int(top_k or RunParams.top_k)
    head = (from_json(entries) or [])[:k]
    items = with_items(head, from_json(rows) or []) if folded else listed_items(head)
    return MemberList(member_id, run_id, segment, items, limit)


def listed_items(entries: list[list[Any]]) -> list[ListedItem]:
    """The entries with their items' fields, read in one query."""
    if not entries:
        return []
    pks = [int(entry[0]) for entry in entries]
    with connection.cursor() as cursor:
        cursor.execute(ITEMS_SQL + f"({', '.join(['%s'] * len(pks))})", pks)
        return with_items(entries, cursor.fetchall())


def with_items(entries: list[list[Any]], rows: list[Any]) -> list[ListedItem]:
    """Entries joined to (pk, item id, title, year, genres) rows; items deleted since are
    skipped rather than failing the whole list."""
    items = {row[0]: row[1:] for row in rows}
    listed: list[ListedItem] = []
    for pk, score, reason in entries:
        if pk in items:
            item_id, title, year, genres = items[pk]
            rank = len(listed) + 1
            listed.append(
                ListedItem(rank, item_id, title, year, from_json(genres), float(score), reason)
            )
    return listed
