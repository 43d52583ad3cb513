"""Segmentation runs and everything a run writes: segments, memberships, lists, embeddings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from catalog.models import Member


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class SegmentationRun(models.Model):
    """One execution of the pipeline; its results are visible once it is the active run."""

    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True
    )
    stage = models.CharField(max_length=64, blank=True)
    progress = models.FloatField(default=0.0)
    error = models.TextField(blank=True)
    timings = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=False)
    # The pickled SegmentPlacer: places members who arrive between runs.
    placer = models.BinaryField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Life cycle bookkeeping (segments.services.lifecycle and sweep): when the task was last
    # handed to the broker, how often a worker has claimed the run, and the running worker's
    # lease, which it renews; a run whose lease lapsed lost its worker.
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When the run last became the served one: Roll back returns to the latest before it.
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_run"
            )
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "status": self.status,
            "stage": self.stage,
            "progress": round(self.progress, 4),
            "params": self.params,
            "error": self.error,
            "timings": self.timings,
            "metrics": self.metrics,
            "is_active": self.is_active,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "attempts": self.attempts,
        }


class Segment(models.Model):
    run = models.ForeignKey(SegmentationRun, on_delete=models.CASCADE, related_name="segments")
    number = models.PositiveIntegerField()
    label = models.CharField(max_length=200)
    size = models.PositiveIntegerField(default=0)
    # Lifts of genres and demographics, distinctive items, with the numbers behind them.
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["run_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="one_segment_number_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.number}: {self.label}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "run": self.run_id,
            "number": self.number,
            "label": self.label,
            "size": self.size,
            "summary": self.summary,
        }


class Membership(models.Model):
    run = models.ForeignKey(SegmentationRun, on_delete=models.CASCADE, related_name="memberships")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="memberships")
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    confidence = models.FloatField(default=1.0)
    # How the member got the segment: clustered, classified (few ratings) or attached noise.
    source = models.CharField(max_length=16, default="clustered")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "member"], name="one_membership_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.segment_id}"


class EmbeddingCache(models.Model):
    """Text embeddings keyed by (model, text hash), so a second run embeds only what changed."""

    model_name = models.CharField(max_length=200)
    text_hash = models.CharField(max_length=64)
    vector = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model_name", "text_hash"], name="one_vector_per_text")
        ]


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
        db_table = "recommendations_recommendationlist"  # the table predates this app owning it
        constraints = [
            models.UniqueConstraint(fields=["run", "member"], name="one_list_per_run_member")
        ]

    def __str__(self) -> str:
        return f"list of {self.member_id} in run {self.run_id}"
