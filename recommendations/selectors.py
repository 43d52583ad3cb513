"""Reading a member's stored recommendation list with its items resolved in one query."""

from __future__ import annotations

from dataclasses import dataclass

from recommendations.models import RecommendationList
from segments.models import Item, Member, SegmentationRun


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
