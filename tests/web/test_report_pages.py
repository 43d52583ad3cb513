"""The report pages: the charts' data is embedded and true to the rows behind it, labels
hold on the stored numbers, weak quality is warned about, and the chart library is ours."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.test import Client

from ml.segmentation.explain import explain_segments
from segments.models import Membership, Segment, SegmentationRun
from tests.support.factories import World, make_run, make_segments, make_world
from tests.support.roles import make_reader

pytestmark = pytest.mark.django_db
CHART_JS = "vendor/chartjs/chart.umd.min.js"
STRONG = {"silhouette": 0.5, "stability_ari": {"mean": 0.95}, "classifier_cv_accuracy": 0.9}
WEAK = {"silhouette": 0.05, "stability_ari": {"mean": 0.5}, "classifier_cv_accuracy": 0.25}


@pytest.fixture
def world() -> World:
    return make_world(n_members=60)


@pytest.fixture
def user_client(client: Client) -> Client:
    client.force_login(make_reader())
    return client


def chart_data(page: str, chart_id: str) -> dict:
    match = re.search(rf'<script id="{chart_id}" type="application/json">(.*?)</script>', page)
    assert match, f"no data for {chart_id}"
    return json.loads(match.group(1))


def set_metrics(run: SegmentationRun, **metrics: object) -> None:
    SegmentationRun.objects.filter(pk=run.pk).update(metrics={**run.metrics, **metrics})


def test_segment_sizes_chart_adds_up_to_the_members(user_client: Client, world: World) -> None:
    page = user_client.get("/").content.decode()
    sizes = chart_data(page, "chart-sizes")
    assert sizes["values"] == [s.size for s in world.segments] == [30, 30]
    assert (
        sum(sizes["values"]) == sizes["total"] == Membership.objects.filter(run=world.run).count()
    )
    assert sizes["labels"] == ["0: Sci-Fi fans", "1: Comedy fans"]
    assert 'data-chart="sizes" data-source="chart-sizes"' in page


def test_member_map_shows_the_stored_projection_by_segment(
    user_client: Client, world: World
) -> None:
    projection = {
        "x": [0.1, -0.2, 0.3],
        "y": [1.0, 0.5, -1.0],
        "segment": [0, 1, 0],
        "explained_variance_ratio": [0.3, 0.2],
        "n_points": 3,
        "n_members": 60,
    }
    set_metrics(world.run, projection=projection)
    page = user_client.get("/").content.decode()
    chart = chart_data(page, "chart-map")
    assert [s["label"] for s in chart["series"]] == ["0: Sci-Fi fans", "1: Comedy fans"]
    assert chart["series"][0]["points"] == [[0.1, 1.0], [0.3, -1.0]]
    assert chart["series"][1]["points"] == [[-0.2, 0.5]]
    assert "3 of 60 clustered members" in page and "keep 50% of their variance" in page


def test_no_map_without_a_projection(user_client: Client, world: World) -> None:
    assert 'id="chart-map"' not in user_client.get("/").content.decode()


def test_k_sweep_chart_says_when_the_sweep_was_light(user_client: Client, world: World) -> None:
    sweep = [{"k": k, "silhouette": 0.1 * k, "stability": 0.9} for k in (1, 2, 3)]
    set_metrics(world.run, k_sweep=sweep, k_sweep_kind="light")
    page = user_client.get("/").content.decode()
    chart = chart_data(page, "chart-k-sweep")
    assert chart["k"] == [1, 2, 3] and chart["chosen"] == 2 and chart["stable"] == 0.8
    assert chart["silhouette"] == pytest.approx([0.1, 0.2, 0.3])
    assert chart["kind"] == "light" and "this is a light sweep" in page
    assert "<svg" not in page


def test_weak_quality_is_warned_about_on_home_and_segment_pages(
    user_client: Client, world: World
) -> None:
    set_metrics(world.run, **WEAK)
    for url in ("/", f"/segments/{world.segments[0].pk}/"):
        page = user_client.get(url).content.decode()
        warnings = page[page.index('id="quality-warnings"') :]
        assert "Stability 0.500 is below 0.8" in warnings
        assert "Silhouette 0.050 is below 0.25" in warnings
        assert "Classifier accuracy 25% is below 50%" in warnings
        assert "· weak" in page


def test_strong_quality_carries_no_warning(user_client: Client, world: World) -> None:
    set_metrics(world.run, **STRONG)
    for url in ("/", f"/segments/{world.segments[0].pk}/"):
        assert 'id="quality-warnings"' not in user_client.get(url).content.decode()


def test_confidence_is_explained_where_it_is_shown(user_client: Client, world: World) -> None:
    member = user_client.get("/members/m0/").content.decode()
    assert "(clearly in this segment)" in member  # m0's confidence is 0.90
    assert "Confidence says how clearly a member belongs" in member
    segment = user_client.get(f"/segments/{world.segments[0].pk}/").content.decode()
    assert "Confidence says how clearly a member belongs" in segment


def test_what_changed_since_the_last_run(user_client: Client) -> None:
    older = make_run(active=False)
    world = make_world(n_members=60)
    make_segments(older, world.members, world.items)
    set_metrics(older, silhouette=0.25)
    page = user_client.get("/").content.decode()
    changes = page[page.index("What changed since run") :]
    assert f"What changed since run {older.pk}" in page
    assert "0.250" in changes and "0.312" in changes and "+0.062" in changes
    migration = chart_data(page, "chart-migration")
    total = sum(sum(series["values"]) for series in migration["series"])
    assert total == len(world.members)  # every member is in both runs
    assert "Agreement with run" in changes and "1.000" in changes  # the same segments


def test_evaluation_is_a_table_and_a_chart_true_to_the_scores(
    user_client: Client, world: World
) -> None:
    evaluation = {
        "temporal": {
            "k": 10,
            "members": 60,
            "models": {
                "popularity": {"members": 60, "ndcg@10": 0.1, "hit@10": 0.4},
                "ours": {"members": 60, "ndcg@10": 0.2, "hit@10": 0.5},
            },
        }
    }
    set_metrics(world.run, evaluation=evaluation)
    page = user_client.get("/").content.decode()
    chart = chart_data(page, "chart-evaluation-temporal")
    assert chart["labels"] == ["ndcg@10", "hit@10"]
    assert {s["label"]: s["values"] for s in chart["series"]} == {
        "popularity": [0.1, 0.4],
        "ours": [0.2, 0.5],
    }
    assert 'id="evaluation-temporal"' in page and "<strong>0.2000</strong>" in page


def planted_explanation(clustered: list[str]) -> list[dict]:
    """Ten segments of 100 members; occupation "x" is half of segment 1, 15% elsewhere."""
    labels = np.repeat(np.arange(10), 100)
    counts = [15, 50] + [15] * 8
    occupation = ["x" if i % 100 < counts[i // 100] else "y" for i in range(1000)]
    return explain_segments(
        labels,
        ratings=sp.csr_matrix((1000, 1)),
        item_genres=[["A"]],
        demographics={"occupation": occupation},
        clustered_blocks=clustered,
    )


def store(run: SegmentationRun, entry: dict) -> Segment:
    keys = ("description", "share", "genres", "demographics", "rules", "clustered_blocks")
    return Segment.objects.create(
        run=run,
        number=5,
        label=entry["label"],
        size=entry["size"],
        summary={**{key: entry[key] for key in keys}, "headline": entry["headline"], "items": []},
    )


def test_label_statements_hold_on_the_stored_numbers(user_client: Client, world: World) -> None:
    segment = store(world.run, planted_explanation(["behaviour", "demographics"])[1])
    page = user_client.get(f"/segments/{segment.pk}/").content.decode()
    rules, traits = segment.summary["rules"], segment.summary["demographics"]
    assert segment.label == "x x2.7"  # 50% vs 18.5%
    for headline in segment.summary["headline"]:
        row = next(t for t in traits if t["value"] == headline["name"])
        assert f"{headline['name']} x{row['lift']:.1f}" in segment.label
        assert row["support"] >= rules["min_support"] and row["lift"] >= rules["min_lift"]
        assert row["ci_low"] > row["population_share"]
        assert row["basis"] == "clustered"
    lift = chart_data(page, "chart-lift-demographics")
    assert lift["lift"] == [t["lift"] for t in traits]
    assert lift["support"] == [t["support"] for t in traits]
    row = traits[0]
    low, high = lift["interval"][0]
    assert low == pytest.approx(row["ci_low"] / row["population_share"], abs=1e-4)
    assert high == pytest.approx(row["ci_high"] / row["population_share"], abs=1e-4)
    assert "at least 20 cases" in page and "95% Wilson score interval" in page
    assert "50 of 100" in page  # the support, shown
    assert "entered the clustering too" in page


def test_traits_outside_the_clustering_are_marked_and_kept_out_of_the_label(
    user_client: Client, world: World
) -> None:
    segment = store(world.run, planted_explanation(["history", "behaviour"])[1])
    page = user_client.get(f"/segments/{segment.pk}/").content.decode()
    assert segment.label == "Segment 1"
    assert "only over-represented (not a clustering feature)" in page
    assert "did not enter the clustering" in page
    blocks = page[page.index('id="clustered-blocks"') :]
    assert '<span class="tag">behaviour</span><span class="tag">history</span>' in blocks


def test_chart_library_is_vendored_and_served_from_static(
    user_client: Client, world: World
) -> None:
    found = finders.find(CHART_JS)
    assert found, "the vendored Chart.js is not in a static folder"
    assert Path(found).read_text().startswith("/*!\n * Chart.js v4")
    assert (Path(found).parent / "LICENSE.md").is_file()
    page = user_client.get("/").content.decode()
    assert f'<script src="{static(CHART_JS)}"></script>' in page
    assert static(CHART_JS) == "/static/vendor/chartjs/chart.umd.min.js"
    assert f'<script src="{static("segrec/charts.js")}"></script>' in page
    assert finders.find("segrec/charts.js")


def test_no_template_loads_a_script_from_elsewhere() -> None:
    remote = re.compile(r"<script[^>]*\bsrc\s*=\s*[\"']?\s*(https?:)?//", re.IGNORECASE)
    templates = Path(settings.BASE_DIR, "templates").rglob("*.html")
    offenders = [str(path) for path in templates if remote.search(path.read_text())]
    assert not offenders
