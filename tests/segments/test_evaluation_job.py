"""The admin's Evaluate button: a job on the real worker, grouped by the run's own segments."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from segments.models import Segment, SegmentationRun
from tests.support.factories import make_user
from tests.support.processes import wait_for
from tests.support.slices import write_slice

pytestmark = pytest.mark.services


@pytest.fixture
def served_run(ml100k_dir: Path, tmp_path: Path, celery_worker: None) -> SegmentationRun:
    call_command("import_movielens", str(write_slice(ml100k_dir, tmp_path / "slice")))
    call_command("run_segmentation", "--k", "3", "--top-k", "10")
    return SegmentationRun.objects.get(is_active=True)


def evaluated(run_id: int) -> dict | None:
    metrics = SegmentationRun.objects.get(pk=run_id).metrics
    job = metrics.get("evaluation_jobs", {}).get("temporal", {})
    assert job.get("status") != "failed", job
    return metrics.get("evaluation", {}).get("temporal") if job.get("status") == "done" else None


def test_evaluate_runs_as_a_job_and_reports_by_the_runs_own_segments(
    client: Client, served_run: SegmentationRun
) -> None:
    client.force_login(make_user("boss", staff=True))
    page = f"/admin/segments/segmentationrun/{served_run.pk}/change/"
    assert "Evaluate (temporal split" in client.get(page).content.decode()

    client.post(f"/admin/segments/segmentationrun/{served_run.pk}/evaluate/")
    result = wait_for(lambda: evaluated(served_run.pk), timeout=300, what="the evaluation job")

    own = {f"segment {s.number}: {s.label}" for s in Segment.objects.filter(run=served_run)}
    groups = set(result["models"]["ours"]["groups"])
    assert own <= groups  # the served run's segments, not segments refit on the split
    assert result["groups_from"] == f"run {served_run.pk}'s own segments"
    report = client.get(page).content.decode()
    assert 'id="evaluation-temporal"' in report and "Evaluation (temporal): done" in report
