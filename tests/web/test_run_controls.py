"""The run admin's controls: Promote, Roll back, Cancel, delete guard, live progress."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from segments.models import RunStatus, SegmentationRun
from tests.support.factories import make_run, make_user
from tests.support.roles import make_reader

pytestmark = pytest.mark.django_db
BASE = "/admin/segments/segmentationrun/"


@pytest.fixture
def admin(client: Client) -> Client:
    client.force_login(make_user("root", staff=True))
    return client


def served_then_waiting() -> tuple[SegmentationRun, SegmentationRun]:
    """A served run and a newer succeeded one waiting for review, as the pipeline leaves them."""
    served = make_run(active=True)
    SegmentationRun.objects.filter(pk=served.pk).update(
        activated_at=timezone.now() - timedelta(hours=1),
        metrics={"serving": {"served": True, "reason": "served at once: no run was active"}},
    )
    waiting = make_run(active=False)
    reason = "waiting for review: worse than the active run on validation NDCG 0.190 against 0.200"
    SegmentationRun.objects.filter(pk=waiting.pk).update(
        metrics={"serving": {"served": False, "reason": reason}}
    )
    return served, waiting


def test_a_waiting_run_says_why_and_promote_then_roll_back_switch_what_is_served(
    admin: Client,
) -> None:
    served, waiting = served_then_waiting()
    page = admin.get(f"{BASE}{waiting.pk}/change/").content.decode()
    assert "Not served." in page and "validation NDCG 0.190 against 0.200" in page
    assert "Promote: serve this run" in page

    response = admin.post(f"{BASE}{waiting.pk}/promote/")
    assert response.status_code == 302
    assert SegmentationRun.objects.get(is_active=True) == waiting
    page = admin.get(f"{BASE}{waiting.pk}/change/").content.decode()
    assert "This run is served" in page and f"Roll back to run {served.pk}" in page

    admin.post(f"{BASE}rollback/")
    assert SegmentationRun.objects.get(is_active=True) == served


def test_promote_of_a_failed_run_is_refused_with_the_reason(admin: Client) -> None:
    failed = make_run(active=False, status=RunStatus.FAILED)
    response = admin.post(f"{BASE}{failed.pk}/promote/", follow=True)
    assert "only a succeeded run can be served" in response.content.decode()
    assert not SegmentationRun.objects.get(pk=failed.pk).is_active


def test_the_served_run_cannot_be_deleted_from_the_admin(admin: Client) -> None:
    served, waiting = served_then_waiting()
    assert admin.get(f"{BASE}{served.pk}/delete/").status_code == 403
    admin.post(
        BASE,
        {"action": "delete_selected", "_selected_action": [served.pk, waiting.pk], "post": "yes"},
    )
    # Django's bulk delete refuses the whole selection when one run may not be deleted.
    assert SegmentationRun.objects.filter(pk=served.pk).exists()


def test_cancel_a_queued_run(admin: Client) -> None:
    queued = make_run(active=False, status=RunStatus.QUEUED)
    page = admin.get(f"{BASE}{queued.pk}/change/").content.decode()
    assert "Cancel this run" in page and "queued: waiting for a worker" in page

    admin.post(f"{BASE}{queued.pk}/cancel/")

    assert SegmentationRun.objects.get(pk=queued.pk).status == RunStatus.CANCELLED


def test_the_progress_fragment_has_one_story_and_asks_for_a_reload_when_done(
    admin: Client,
) -> None:
    running = make_run(active=False, status=RunStatus.RUNNING)
    SegmentationRun.objects.filter(pk=running.pk).update(
        stage="cluster", progress=0.5, started_at=timezone.now() - timedelta(seconds=60)
    )
    fragment = admin.get(f"{BASE}{running.pk}/progress/")
    body = fragment.content.decode()
    assert "running: cluster, 50%, about 60 s left" in body
    assert "HX-Refresh" not in fragment

    SegmentationRun.objects.filter(pk=running.pk).update(status=RunStatus.SUCCEEDED, progress=1.0)
    assert admin.get(f"{BASE}{running.pk}/progress/")["HX-Refresh"] == "true"


def test_the_runs_list_reloads_when_a_run_starts_or_ends(admin: Client) -> None:
    queued = make_run(active=False, status=RunStatus.QUEUED)
    page = admin.get(BASE).content.decode()
    assert f"seen={queued.pk}%3Aqueued" in page

    assert "HX-Refresh" not in admin.get(f"{BASE}live/", {"seen": f"{queued.pk}:queued"})
    SegmentationRun.objects.filter(pk=queued.pk).update(status=RunStatus.RUNNING)
    assert admin.get(f"{BASE}live/", {"seen": f"{queued.pk}:queued"})["HX-Refresh"] == "true"


def test_readers_cannot_promote_or_cancel(client: Client) -> None:
    client.force_login(make_reader())
    _, waiting = served_then_waiting()
    client.post(f"{BASE}{waiting.pk}/promote/")
    assert not SegmentationRun.objects.get(pk=waiting.pk).is_active
