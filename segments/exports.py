"""A run's segment memberships as CSV, streamed: the command and the admin share these lines."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TextIO

from segments.models import Membership, SegmentationRun

HEADER = ["member_id", "segment", "label", "confidence"]
CHUNK = 5_000


class _Echo:
    """A csv writer's file that hands each formatted line back instead of storing it."""

    def write(self, line: str) -> str:
        return line


def segments_csv_lines(*, run: SegmentationRun) -> Iterator[str]:
    """The header, then one line per member of ``run`` (external ids), in member order."""
    writer = csv.writer(_Echo(), lineterminator="\n")
    yield writer.writerow(HEADER)
    rows = (
        Membership.objects.filter(run=run)
        .order_by("member_id")
        .values_list("member__external_id", "segment__number", "segment__label", "confidence")
    )
    for member_id, number, label, confidence in rows.iterator(chunk_size=CHUNK):
        yield writer.writerow([member_id, number, label, round(confidence, 4)])


def segments_export_csv(*, run: SegmentationRun, out: TextIO) -> int:
    """Write the run's memberships to ``out``; returns the member rows written."""
    lines = 0
    for line in segments_csv_lines(run=run):
        out.write(line)
        lines += 1
    return lines - 1  # the header is not a member
