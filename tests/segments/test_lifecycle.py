"""The run's life cycle on the real database: claims, leases, the sweep, activation."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from catalog.models import Member, Rating
from segments.models import RecommendationList, RunStatus, Segment, SegmentationRun
from segments.services.dataset import dataset_load
from segments.services.lifecycle import (
    RunLease,
    RunLost,
    segmentation_run_activate,
    segmentation_run_claim,
    segmentation_run_fail,
)
from segments.services.sweep import segmentation_runs_sweep
from segments.signals import active_run_changed
from tests.support.factories import (
    make_items,
    make_lists,
    make_members,
    make_ratings,
    make_run,
    make_segments,
)

pytestmark = pytest.mark.django_db


def lapsed_run(*, attempts: int, stage: str = "cluster") -> SegmentationRun:
    run = make_run(active=False, status=RunStatus.RUNNING)
    SegmentationRun.objects.filter(pk=run.pk).update(
        attempts=attempts, stage=stage, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    return SegmentationRun.objects.get(pk=run.pk)


def test_each_claim_is_an_attempt_and_only_a_queued_run_can_be_claimed() -> None:
    run = make_run(active=False, status=RunStatus.QUEUED)

    assert segmentation_run_claim(run_id=run.pk) == 1
    assert segmentation_run_claim(run_id=run.pk) is None  # a redelivered message
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and run.lease_expires_at > timezone.now()


def test_the_sweep_requeues_a_run_whose_lease_lapsed_while_attempts_remain(settings) -> None:
    settings.SEGREC_RUN_MAX_ATTEMPTS = 2
    run = lapsed_run(attempts=1)
    make_segments(run, make_members(3), make_items(4))

    report = segmentation_runs_sweep()

    run.refresh_from_db()
    assert report.requeued == [run.pk] and report.sent == [run.pk]
    assert run.status == RunStatus.QUEUED and run.sent_at is not None
    # The rows of the lost attempt go when the next attempt claims the run.
    assert segmentation_run_claim(run_id=run.pk) == 2


def test_the_sweep_fails_a_run_on_its_last_attempt_and_removes_its_rows(settings) -> None:
    settings.SEGREC_RUN_MAX_ATTEMPTS = 2
    members, items = make_members(3), make_items(4)
    run = lapsed_run(attempts=2, stage="recommend")
    make_segments(run, members, items)
    make_lists(run, members, items)

    report = segmentation_runs_sweep()

    run.refresh_from_db()
    assert report.failed == [run.pk]
    assert run.status == RunStatus.FAILED and "'recommend'" in run.error
    assert "attempt 2 of 2" in run.error
    assert not Segment.objects.filter(run=run).exists()
    assert not RecommendationList.objects.filter(run=run).exists()


def test_the_sweep_leaves_a_run_with_a_live_lease_alone() -> None:
    run = make_run(active=False, status=RunStatus.QUEUED)
    segmentation_run_claim(run_id=run.pk)

    report = segmentation_runs_sweep()

    assert report.requeued == report.failed == []
    assert SegmentationRun.objects.get(pk=run.pk).status == RunStatus.RUNNING


def test_the_sweep_resends_only_queued_runs_not_sent_recently(settings) -> None:
    settings.SEGREC_RUN_RESEND_SECONDS = 60
    never_sent = make_run(active=False, status=RunStatus.QUEUED)
    just_sent = make_run(active=False, status=RunStatus.QUEUED)
    SegmentationRun.objects.filter(pk=just_sent.pk).update(sent_at=timezone.now())

    assert segmentation_runs_sweep().sent == [never_sent.pk]
    assert segmentation_runs_sweep(resend_all=True).sent == [never_sent.pk, just_sent.pk]


@pytest.mark.django_db(transaction=True)  # the lease's thread reads committed rows
def test_a_lease_renews_itself_and_notices_when_the_run_was_taken_back(settings) -> None:
    settings.SEGREC_RUN_LEASE_SECONDS = 0.8
    run = make_run(active=False, status=RunStatus.QUEUED)
    attempt = segmentation_run_claim(run_id=run.pk)
    assert attempt is not None
    first = SegmentationRun.objects.get(pk=run.pk).lease_expires_at

    with RunLease(run.pk, attempt) as lease:
        threading.Event().wait(0.5)
        renewed = SegmentationRun.objects.get(pk=run.pk).lease_expires_at
        SegmentationRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED)
        threading.Event().wait(0.5)
        with pytest.raises(RunLost):
            lease.check()

    assert renewed > first


def test_an_attempt_that_lost_its_run_can_neither_fail_nor_activate_it() -> None:
    run = make_run(active=False, status=RunStatus.QUEUED)
    segmentation_run_claim(run_id=run.pk)
    SegmentationRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED)
    segmentation_run_claim(run_id=run.pk)  # attempt 2 holds it now

    assert not segmentation_run_fail(run=run, error="late", attempt=1)
    with pytest.raises(RunLost):
        segmentation_run_activate(run=run, metrics={}, attempt=1)
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and not run.is_active


def finish(run: SegmentationRun) -> bool:
    attempt = segmentation_run_claim(run_id=run.pk)
    assert attempt is not None
    return segmentation_run_activate(run=run, metrics={"n_segments": 2}, attempt=attempt)


def test_an_older_run_finishing_after_a_newer_one_does_not_replace_it() -> None:
    older = make_run(active=False, status=RunStatus.QUEUED)
    newer = make_run(active=False, status=RunStatus.QUEUED)

    assert finish(newer) is True
    assert finish(older) is False

    older.refresh_from_db()
    assert SegmentationRun.objects.get(is_active=True) == newer
    assert older.status == RunStatus.SUCCEEDED
    assert older.metrics["serving"]["served"] is False
    assert (
        f"run {newer.pk}, requested later, is already served" in older.metrics["serving"]["reason"]
    )


def test_a_newer_run_finishing_last_replaces_the_older_one() -> None:
    older = make_run(active=False, status=RunStatus.QUEUED)
    newer = make_run(active=False, status=RunStatus.QUEUED)

    assert finish(older) is True
    assert finish(newer) is True
    assert SegmentationRun.objects.get(is_active=True) == newer


@pytest.mark.django_db(transaction=True)
def test_the_load_reads_one_snapshot_while_imports_commit() -> None:
    """Members and ratings committed between the load's queries never show up half."""
    items = make_items(5)
    make_ratings(make_members(20), items)
    stop = threading.Event()

    def import_members_with_ratings() -> None:
        n = 0
        try:
            while not stop.is_set():
                n += 1
                with transaction.atomic():  # as an import commits: all of it or nothing
                    member = Member.objects.create(external_id=f"late-{n}")
                    ratings = (Rating(member=member, item=i, value=4) for i in items)
                    Rating.objects.bulk_create(ratings)
        finally:
            connection.close()

    writer = threading.Thread(target=import_members_with_ratings)
    writer.start()
    try:
        loads = [dataset_load() for _ in range(15)]
    finally:
        stop.set()
        writer.join()

    for dataset in loads:
        data = dataset.data
        assert data.users.max() < dataset.n_members
        rated = set(dataset.member_pks[data.users].tolist())
        assert rated == set(dataset.member_pks.tolist())  # every member read has its ratings


def test_sweep_runs_command_reports_what_it_did(capsys) -> None:
    run = lapsed_run(attempts=1)

    call_command("sweep_runs")

    out = capsys.readouterr().out
    assert f"requeued: {run.pk}" in out and f"sent: {run.pk}" in out


def test_a_run_inside_a_callers_transaction_keeps_its_lease(settings) -> None:
    """Other connections cannot see the run there, so none can take it back."""
    settings.SEGREC_RUN_LEASE_SECONDS = 0.4
    run = make_run(active=False, status=RunStatus.QUEUED)
    attempt = segmentation_run_claim(run_id=run.pk)
    assert attempt is not None

    with RunLease(run.pk, attempt) as lease:
        threading.Event().wait(0.5)
        lease.check()


def test_activation_announces_the_change_once_committed(django_capture_on_commit_callbacks) -> None:
    heard: list[object] = []
    receiver = lambda sender, **kwargs: heard.append(sender)  # noqa: E731
    active_run_changed.connect(receiver)
    try:
        older = make_run(active=False, status=RunStatus.QUEUED)
        newer = make_run(active=False, status=RunStatus.QUEUED)
        with django_capture_on_commit_callbacks(execute=True):
            finish(newer)
        with django_capture_on_commit_callbacks(execute=True):
            finish(older)  # not activated: nothing changed
    finally:
        active_run_changed.disconnect(receiver)
    assert heard == [SegmentationRun]
