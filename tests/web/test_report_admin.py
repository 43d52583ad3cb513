"""The admin run page's report: charts drawn by the vendored library from the run's numbers."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from segments.models import SegmentationRun
from tests.support.factories import World, make_user, make_world

pytestmark = pytest.mark.django_db
SWEEP = [
    {"k": 2, "silhouette": 0.18, "stability": 0.99},
    {"k": 3, "silhouette": 0.21, "stability": 0.9},
    {"k": 4, "silhouette": 0.17, "stability": 0.6},
]


@pytest.fixture
def admin(client: Client) -> Client:
    client.force_login(make_user("root", staff=True))
    return client


def run_page(admin: Client, run: SegmentationRun) -> str:
    return admin.get(f"/admin/segments/segmentationrun/{run.pk}/change/").content.decode()


def test_run_page_draws_the_k_sweep_with_the_library(admin: Client) -> None:
    world: World = make_world(n_members=20)
    metrics = {
        **world.run.metrics,
        "n_segments": 3,
        "k_sweep": SWEEP,
        "stability_ari": {"mean": 0.6},
    }
    SegmentationRun.objects.filter(pk=world.run.pk).update(metrics=metrics)
    page = run_page(admin, world.run)
    match = re.search(r'<script id="chart-k-sweep" type="application/json">(.*?)</script>', page)
    assert match
    chart = json.loads(match.group(1))
    assert chart["k"] == [2, 3, 4] and chart["chosen"] == 3
    assert chart["stability"] == [0.99, 0.9, 0.6] and chart["silhouette"] == [0.18, 0.21, 0.17]
    assert 'id="k-sweep-chart"' not in page and "<polyline" not in page  # no hand-drawn SVG
    assert '<script src="/static/vendor/chartjs/chart.umd.min.js"></script>' in page
    assert "0.600 · weak" in page  # stability under 0.8, flagged beside its meaning
