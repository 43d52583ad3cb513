from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from segments.models import RecommendationList, RunStatus, SegmentationRun
from tests.support.factories import make_items, make_lists, make_members, make_run

pytestmark = pytest.mark.django_db


def test_prune_keeps_the_active_run_running_ones_and_the_newest_inactive() -> None:
    members, items = make_members(2), make_items(6)
    old = make_run(active=False)
    make_lists(old, members, items)
    failed = make_run(active=False, status=RunStatus.FAILED)
    newest = make_run(active=False)
    running = make_run(active=False, status=RunStatus.RUNNING)
    active = make_run(active=True)

    call_command("prune_runs", "--keep", "1")

    left = set(SegmentationRun.objects.values_list("id", flat=True))
    assert left == {newest.pk, running.pk, active.pk}
    assert failed.pk not in left
    assert not RecommendationList.objects.filter(run_id=old.pk).exists()


def test_prune_first_fails_a_dead_run_on_its_last_attempt_then_removes_it(settings) -> None:
    settings.SEGREC_RUN_MAX_ATTEMPTS = 1
    members, items = make_members(2), make_items(6)
    dead = make_run(active=False, status=RunStatus.RUNNING)
    SegmentationRun.objects.filter(pk=dead.pk).update(attempts=1, lease_expires_at=timezone.now())
    make_lists(dead, members, items)

    call_command("prune_runs", "--keep", "0")

    assert not SegmentationRun.objects.filter(pk=dead.pk).exists()
    assert not RecommendationList.objects.filter(run_id=dead.pk).exists()
