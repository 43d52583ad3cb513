"""The whole job on a slice of real MovieLens data, on the real database, broker and worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Member, Rating
from segments.models import Membership, RecommendationList, RunStatus, Segment, SegmentationRun
from segments.services.pipeline import segmentation_run_execute
from segments.services.start import segmentation_run_create
from tests.support.slices import N_ITEMS, write_slice


@pytest.fixture
def real_slice(ml100k_dir: Path, tmp_path: Path, celery_worker: None) -> Path:
    """The slice imported, with a worker running: under `make test` runs go through Redis."""
    directory = write_slice(ml100k_dir, tmp_path / "slice")
    call_command("import_movielens", str(directory))
    return directory


def run_job(*args: str) -> SegmentationRun:
    call_command("run_segmentation", *args)
    return SegmentationRun.objects.order_by("-id").first()


def test_run_through_the_worker_segments_and_recommends(real_slice: Path):
    run = run_job("--k", "3", "--top-k", "10")

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.is_active and run.progress == 1.0
    assert {"load", "embed_items", "cluster", "recommend"} <= set(run.timings)
    segments = Segment.objects.filter(run=run)
    assert segments.count() == 3
    assert sum(s.size for s in segments) == Member.objects.count()
    assert all(s.label and s.summary["description"] for s in segments)
    assert Membership.objects.filter(run=run).count() == Member.objects.count()
    lists = RecommendationList.objects.filter(run=run)
    assert lists.count() == Member.objects.count()
    for recs in lists[:30]:
        seen = set(
            Rating.objects.filter(member_id=recs.member_id).values_list("item_id", flat=True)
        )
        items = [entry[0] for entry in recs.entries]
        assert len(items) == 10 and not seen & set(items)
        scores = [entry[1] for entry in recs.entries]
        assert scores == sorted(scores, reverse=True)
        assert all(entry[2] for entry in recs.entries)


def test_second_run_embeds_only_what_changed(real_slice: Path):
    first = run_job("--k", "2")
    second = run_job("--k", "2")

    assert first.metrics["embedded_afresh"]["items"] == N_ITEMS
    assert second.metrics["embedded_afresh"] == {"items": 0, "profiles": 0}
    assert SegmentationRun.objects.get(is_active=True) == second


def test_failed_run_keeps_previous_segments(real_slice: Path):
    good = run_job("--k", "3")
    labels_before = list(Segment.objects.filter(run=good).values_list("label", flat=True))

    with pytest.raises(CommandError, match="failed"):
        run_job("--k", "500")  # more segments than members: the clustering step fails

    failed = SegmentationRun.objects.order_by("-id").first()
    assert failed.status == RunStatus.FAILED and "500" in failed.error
    assert not Segment.objects.filter(run=failed).exists()
    assert not RecommendationList.objects.filter(run=failed).exists()
    active = SegmentationRun.objects.get(is_active=True)
    assert active == good
    assert list(Segment.objects.filter(run=good).values_list("label", flat=True)) == labels_before


def test_a_redelivered_run_is_not_executed_twice(real_slice: Path):
    run = segmentation_run_create(params={"k": 2}, enqueue=False)
    segmentation_run_execute(run_id=run.pk)
    finished = SegmentationRun.objects.get(pk=run.pk).finished_at

    segmentation_run_execute(run_id=run.pk)

    assert SegmentationRun.objects.get(pk=run.pk).finished_at == finished
    assert Segment.objects.filter(run=run).count() == 2


def test_members_without_ratings_get_a_segment_and_its_list(real_slice: Path):
    newcomer = Member.objects.create(external_id="new-1", age=23, gender="M", occupation="student")

    run = run_job("--k", "3")

    membership = Membership.objects.get(run=run, member=newcomer)
    assert membership.source == "classified"
    entries = RecommendationList.objects.get(run=run, member=newcomer).entries
    assert len(entries) == 20
    # No history: every item comes from what their segment or members like them rate.
    assert all(entry[2].startswith(("liked by", "rated by", "popular with")) for entry in entries)
    assert any(entry[2].startswith(("liked by", "rated by")) for entry in entries)
