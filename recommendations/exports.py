"""Streaming a run's lists out as CSV, memory bounded by the id maps, not the lists."""

from __future__ import annotations

import csv
from typing import TextIO

from recommendations.models import RecommendationList
from segments.models import Item, Membership, SegmentationRun

HEADER = ["member_id", "rank", "item_id", "score", "segment", "reason"]


def recommendations_export_csv(*, run: SegmentationRun, out: TextIO, k: int) -> int:
    """Write the run's lists (top ``k`` of each) to ``out``; returns the rows written."""
    item_ids = dict(Item.objects.values_list("id", "external_id").iterator(chunk_size=50_000))
    segments = dict(
        Membership.objects.filter(run=run)
        .values_list("member_id", "segment__number")
        .iterator(chunk_size=50_000)
    )
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    lists = (
        RecommendationList.objects.filter(run=run)
        .order_by("member_id")
        .values_list("member_id", "member__external_id", "entries")
    )
    rows = 0
    for member_pk, member_id, entries in lists.iterator(chunk_size=2_000):
        segment = segments.get(member_pk, "")
        kept = [entry for entry in entries if entry[0] in item_ids]  # items deleted since the run
        for rank, (item_pk, score, reason) in enumerate(kept[:k], start=1):
            writer.writerow([member_id, rank, item_ids[item_pk], score, segment, reason])
            rows += 1
    return rows
