"""With the broker down, starting a run stores it queued and says so: 503 in the API, a warning
in the admin, never a 500. The broker is a real Redis URL on a port where nothing listens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from segments.models import RunStatus, SegmentationRun
from segrec_site.celery import app
from tests.support.factories import make_user
from tests.web.test_admin import admin_url

# on_commit has to fire for the send to be tried: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)
UNREACHABLE = "redis://127.0.0.1:1/0"


def forget_connections() -> None:
    # Celery caches its connection and producer pools for the URL it first used.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", UNREACHABLE)
    forget_connections()
    assert app.connection_for_write().port == 1
    yield
    monkeypatch.undo()
    forget_connections()


@pytest.fixture
def staff(client: Client) -> Client:
    client.force_login(make_user("boss", staff=True))
    return client


def test_api_answers_503_with_the_queued_run(broker_down: None, staff: Client) -> None:
    response = staff.post("/api/runs", {"k": 4}, content_type="application/json")
    run = SegmentationRun.objects.get()
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert body["status"] == 503
    assert f"Run {run.pk} is queued and will start" in body["error"]
    assert "127.0.0.1:1" not in body["error"]  # the broker's address stays in the log
    assert body["run"]["id"] == run.pk
    assert body["run"]["status"] == RunStatus.QUEUED
    assert run.status == RunStatus.QUEUED
    assert run.params["k"] == 4


def test_admin_run_form_warns_and_shows_the_queued_run(broker_down: None, staff: Client) -> None:
    form = {
        "k": "4",
        "algorithm": "kmeans",
        "recommender": "popularity",
        "top_k": "10",
        "seed": "0",
        "min_ratings": "2",
        "k_min": "2",
        "k_max": "6",
        "weight_history": "1",
        "weight_profile": "0.25",
        "weight_behaviour": "1",
        "weight_demographics": "0",
    }
    response = staff.post(admin_url(SegmentationRun, "run/"), form)
    run = SegmentationRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == admin_url(SegmentationRun, f"{run.pk}/change/")
    [message] = get_messages(response.wsgi_request)
    assert message.level_tag == "warning"
    assert f"Run {run.pk} is queued and will start when the job broker is reachable" in str(message)
    assert run.status == RunStatus.QUEUED
    assert staff.get(response["Location"]).status_code == 200
