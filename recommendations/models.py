"""Recommendation lists, one compact row per member and run."""

from __future__ import annotations

from django.db import models

from segments.models import Member, SegmentationRun


class RecommendationList(models.Model):
    run = models.ForeignKey(
        SegmentationRun, on_delete=models.CASCADE, related_name="recommendation_lists"
    )
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="recommendation_lists"
    )
    # Ranked [item pk, score, reason] triples: one row per member keeps 1M members at 1M rows.
    entries = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "member"], name="one_list_per_run_member")
        ]

    def __str__(self) -> str:
        return f"list of {self.member_id} in run {self.run_id}"
