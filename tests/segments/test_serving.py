"""Review before serving: the automatic decision, Promote, Roll back, Cancel, delete guard."""

from __future__ import annotations

import pytest
from django.db import transaction

from segments.models import RecommendationList, RunStatus, SegmentationRun
from segments.params import InvalidParams, RunParams
from segments.services.controls import (
    RunStateError,
    segmentation_run_cancel,
    segmentation_run_promote,
    segmentation_run_rollback,
)
from segments.services.lifecycle import segmentation_run_activate, segmentation_run_claim
from segments.services.serving import serving_decision
from tests.support.factories import make_items, make_lists, make_members, make_run

pytestmark = pytest.mark.django_db


def metrics(ndcg: float | None = None, stability: float | None = None) -> dict:
    out: dict = {"n_segments": 4}
    if ndcg is not None:
        out["recommendations"] = {"tuning": {"blend_validation_ndcg": ndcg}}
    if stability is not None:
        out["stability_ari"] = {"mean": stability}
    return out


@pytest.mark.parametrize(
    ("candidate", "active", "mode", "served", "says"),
    [
        (metrics(0.20), None, "auto", True, "no run was active"),
        (metrics(0.20, 0.9), metrics(0.20, 0.9), "auto", True, "not worse"),
        (metrics(0.197), metrics(0.20), "auto", True, "not worse"),  # within 2%
        (metrics(0.19), metrics(0.20), "auto", False, "validation NDCG 0.190 against 0.200"),
        (metrics(0.20, 0.5), metrics(0.20, 0.9), "auto", False, "stability (ARI) 0.500"),
        (metrics(), metrics(0.20), "auto", True, "no validation metric in common"),
        (metrics(0.10), metrics(0.20), "always", True, "serve=always"),
        (metrics(0.30), metrics(0.20), "review", False, "serve=review"),
    ],
)
def test_the_serving_decision(
    candidate: dict, active: dict | None, mode: str, served: bool, says: str
) -> None:
    decision = serving_decision(candidate, active, mode=mode)
    assert decision.serve is served
    assert says in decision.reason


def finish(run: SegmentationRun, result: dict) -> bool:
    attempt = segmentation_run_claim(run_id=run.pk)
    assert attempt is not None
    return segmentation_run_activate(run=run, metrics=result, attempt=attempt)


def queued(serve: str = "auto") -> SegmentationRun:
    run = make_run(active=False, status=RunStatus.QUEUED)
    SegmentationRun.objects.filter(pk=run.pk).update(params={"serve": serve})
    return SegmentationRun.objects.get(pk=run.pk)


def test_a_worse_run_waits_for_promote_and_roll_back_returns_to_the_first() -> None:
    good, worse = queued(), queued()
    assert finish(good, metrics(0.25)) is True
    assert finish(worse, metrics(0.10)) is False

    worse.refresh_from_db()
    assert worse.status == RunStatus.SUCCEEDED and not worse.is_active
    assert "waiting for review" in worse.metrics["serving"]["reason"]
    assert worse.metrics["serving"]["compared_with"] == good.pk

    segmentation_run_promote(run_id=worse.pk)
    assert SegmentationRun.objects.get(is_active=True) == worse

    assert segmentation_run_rollback() == good.pk
    good.refresh_from_db()
    assert (
        good.is_active
        and good.metrics["serving"]["reason"] == f"rolled back to from run {worse.pk}"
    )


def test_only_a_succeeded_run_can_be_promoted() -> None:
    failed = make_run(active=False, status=RunStatus.FAILED)
    with pytest.raises(RunStateError, match="is failed: only a succeeded run can be served"):
        segmentation_run_promote(run_id=failed.pk)


def test_roll_back_without_an_earlier_served_run_says_so() -> None:
    finish(queued(), metrics(0.2))
    with pytest.raises(RunStateError, match="nothing to roll back to"):
        segmentation_run_rollback()


def test_the_served_run_cannot_be_deleted() -> None:
    served = queued()
    finish(served, metrics(0.2))
    with pytest.raises(RunStateError, match="serve another run first"), transaction.atomic():
        SegmentationRun.objects.filter(pk=served.pk).delete()
    assert SegmentationRun.objects.filter(pk=served.pk).exists()


def test_a_cancelled_queued_run_never_starts() -> None:
    run = queued()
    segmentation_run_cancel(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.is_finished
    assert segmentation_run_claim(run_id=run.pk) is None
    with pytest.raises(RunStateError, match="is cancelled: only a queued or running run"):
        segmentation_run_cancel(run_id=run.pk)


def test_a_running_run_that_is_cancelled_loses_its_claim() -> None:
    members, items = make_members(2), make_items(4)
    run = queued()
    attempt = segmentation_run_claim(run_id=run.pk)
    make_lists(run, members, items)
    segmentation_run_cancel(run_id=run.pk)

    from segments.services.lifecycle import RunLost

    with pytest.raises(RunLost):
        segmentation_run_activate(run=run, metrics=metrics(0.2), attempt=attempt or 0)
    assert RecommendationList.objects.filter(run=run).count() == 2  # the worker removes them


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"k": 1}, "k: expected 'auto' or an integer from 2 to 1000"),
        ({"k_min": 9, "k_max": 4}, "k_max: must be at least k_min (9), got 4"),
        (
            {"feature_weights": {"history": 0, "profile": 0, "behaviour": 0, "demographics": 0}},
            "feature_weights: every block has weight 0",
        ),
        ({"serve": "sometimes"}, "serve: expected one of auto, always, review"),
    ],
)
def test_impossible_parameters_are_refused_by_name(params: dict, message: str) -> None:
    with pytest.raises(InvalidParams, match=message.replace("(", r"\(").replace(")", r"\)")):
        RunParams.from_dict(params)
