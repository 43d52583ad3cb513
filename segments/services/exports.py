"""A run's segment memberships and lists as CSV, streamed (memory bounded by the id maps):
the export commands and the admin share these."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TYPE_CHECKING

from catalog.models import Item
from segments.models import Membership, RecommendationList, SegmentationRun

if TYPE_CHECKING:  # a file, a StringIO or a command's stdout: anything with write(str)
    from _typeshed import SupportsWrite

SEGMENT_HEADER = ["member_id", "segment", "label", "confidence"]
CHUNK = 5_000


class _Echo:
    """A csv writer's file that hands each formatted line back instead of storing it."""

    def write(self, line: str) -> str:
        return line


def segments_csv_lines(*, run: SegmentationRun) -> Iterator[str]:
    """The header, then one line per member of ``run`` (external ids), in member order."""
    writer = csv.writer(_Echo(), lineterminator="\n")
    yield writer.writerow(SEGMENT_HEADER)
    rows = (
        Membership.objects.filter(run=run)
        .order_by("member_id")
        .values_list("member__external_id", "segment__number", "segment__label", "confidence")
    )
    for member_id, number, label, confidence in rows.iterator(chunk_size=CHUNK):
        yield writer.writerow([member_id, number, label, round(confidence, 4)])


def segments_export_csv(*, run: SegmentationRun, out: SupportsWrite[str]) -> int:
    """Write the run's memberships to ``out``; returns the member rows written."""
    lines = 0
    for line in segments_csv_lines(run=run):
        out.write(line)
        lines += 1
    return lines - 1  # the header is not a member


LIST_HEADER = ["member_id", "rank", "item_id", "score", "segment", "reason"]


def recommendations_export_csv(*, run: SegmentationRun, out: SupportsWrite[str], k: int) -> int:
    """Write the run's lists (top ``k`` of each) to ``out``; returns the rows written."""
    item_ids = dict(Item.objects.values_list("id", "external_id").iterator(chunk_size=50_000))
    segments = dict(
        Membership.objects.filter(run=run)
        .values_list("member_id", "segment__number")
        .iterator(chunk_size=50_000)
    )
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LIST_HEADER)
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
