from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from catalog.models import Item, Member, Rating
from segments.models import Membership, RecommendationList, RunStatus, Segment, SegmentationRun
from tests.support.factories import World, make_user, make_world

pytestmark = pytest.mark.django_db

MODELS = [Member, Item, Rating, SegmentationRun, Segment, Membership, RecommendationList]


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def admin(client: Client) -> Client:
    client.force_login(make_user("root", staff=True))
    return client


def admin_url(model: type, view: str = "changelist") -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/" + (
        "" if view == "changelist" else view
    )


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelists_and_change_pages_load(admin: Client, world: World, model: type) -> None:
    assert admin.get(admin_url(model)).status_code == 200
    obj = model.objects.first()
    assert admin.get(admin_url(model, f"{obj.pk}/change/")).status_code == 200


@pytest.mark.parametrize(
    "model, query",
    [
        (Member, "q=m1"),
        (Item, "q=Movie"),
        (Rating, "q=m1"),
        (Membership, "q=m1"),
        (Segment, "q=fans"),
        (RecommendationList, "q=m1"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_searches_work(admin: Client, world: World, model: type, query: str) -> None:
    response = admin.get(f"{admin_url(model)}?{query}")
    assert response.status_code == 200
    assert response.context["cl"].result_count > 0


def test_member_filter_by_active_segment(admin: Client, world: World) -> None:
    segment = world.segments[1]
    response = admin.get(f"{admin_url(Member)}?active_segment={segment.pk}")
    members = list(response.context["cl"].result_list)
    assert [m.external_id for m in members] == ["m1", "m3", "m5"]
    assert "Comedy fans" in response.content.decode()


def test_run_changelist_links_the_run_form(admin: Client, world: World) -> None:
    page = admin.get(admin_url(SegmentationRun)).content.decode()
    assert 'href="/admin/segments/segmentationrun/run/"' in page
    assert "succeeded" in page  # the progress column's summary


def test_run_change_page_shows_timings_metrics_and_polls_while_running(
    admin: Client, world: World
) -> None:
    running = SegmentationRun.objects.create(
        status=RunStatus.RUNNING, stage="embed_items", progress=0.4, timings={"load": 2.5}
    )
    page = admin.get(admin_url(SegmentationRun, f"{running.pk}/change/")).content.decode()
    assert f'hx-get="/admin/segments/segmentationrun/{running.pk}/progress/"' in page
    assert 'value="40"' in page and "running: embed_items, 40%" in page
    assert "<td>load</td><td>2.5</td>" in page
    assert "/static/vendor/htmx/htmx.min.js" in page
    done = admin.get(admin_url(SegmentationRun, f"{world.run.pk}/change/")).content.decode()
    assert "hx-get" not in done.split('id="run-progress"')[1].split(">")[0]
    assert "<tr><th>silhouette</th><td>0.3125</td></tr>" in done  # metrics as a table


def test_run_form_creates_a_queued_run(admin: Client) -> None:
    url = "/admin/segments/segmentationrun/run/"
    assert admin.get(url).status_code == 200
    form = {
        "k": "auto",
        "algorithm": "gmm",
        "recommender": "popularity",
        "top_k": "12",
        "seed": "3",
        "min_ratings": "2",
        "k_min": "2",
        "k_max": "6",
        "weight_history": "1",
        "weight_profile": "0.25",
        "weight_behaviour": "1",
        "weight_demographics": "0",
    }
    response = admin.post(url, form)
    run = SegmentationRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/segments/segmentationrun/{run.pk}/change/"
    assert run.status == RunStatus.QUEUED
    assert run.params["k"] == "auto"
    assert run.params["top_k"] == 12
    assert run.params["feature_weights"]["profile"] == 0.25
    assert run.created_by.username == "root"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"top_k": "0"}, "top_k"),
        ({"k": "lots"}, "k"),
        ({"k": "1"}, "k"),
        ({"k_min": "9", "k_max": "4"}, "k_max"),
        ({"weight_profile": "-1"}, "weight_profile"),
        (
            {
                "weight_history": "0",
                "weight_profile": "0",
                "weight_behaviour": "0",
                "weight_demographics": "0",
            },
            "weight_history",
        ),
    ],
)
def test_run_form_shows_the_wrong_field(admin: Client, change: dict, field: str) -> None:
    form = {
        "k": "8",
        "algorithm": "kmeans",
        "recommender": "blend",
        "top_k": "20",
        "seed": "0",
        "min_ratings": "5",
        "k_min": "2",
        "k_max": "16",
        "weight_history": "1",
        "weight_profile": "0.5",
        "weight_behaviour": "1",
        "weight_demographics": "0.5",
    }
    response = admin.post("/admin/segments/segmentationrun/run/", {**form, **change})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not SegmentationRun.objects.exists()


def test_run_form_is_staff_only(client: Client) -> None:
    client.force_login(make_user())
    response = client.get("/admin/segments/segmentationrun/run/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


REPORTED_METRICS = {
    "n_segments": 3,
    "silhouette": 0.21,
    "stability_ari": {"mean": 0.91, "std": 0.04, "scores": [0.87, 0.95]},
    "classifier_cv_accuracy": 0.625,
    "k_sweep": [
        {"k": 2, "silhouette": 0.18, "stability": 0.99},
        {"k": 3, "silhouette": 0.21, "stability": 0.9},
        {"k": 4, "silhouette": 0.17, "stability": 0.6},
    ],
    "evaluation": {
        "temporal": {
            "split": "temporal",
            "k": 10,
            "members": 900,
            "segments": 3,
            "models": {
                "popularity": {
                    "members": 900,
                    "ndcg@10": 0.1,
                    "hit@10": 0.4,
                    "coverage@10": 0.05,
                    "groups": {"segment 0: Night owls": {"members": 300, "ndcg@10": 0.08}},
                },
                "ours": {
                    "members": 900,
                    "ndcg@10": 0.2,
                    "hit@10": 0.5,
                    "coverage@10": 0.25,
                    "groups": {"segment 0: Night owls": {"members": 300, "ndcg@10": 0.19}},
                },
            },
        }
    },
}


def test_run_page_draws_the_k_sweep_quality_and_evaluation(admin: Client, world: World) -> None:
    SegmentationRun.objects.filter(pk=world.run.pk).update(metrics=REPORTED_METRICS)
    page = admin.get(admin_url(SegmentationRun, f"{world.run.pk}/change/")).content.decode()
    match = re.search(r'<script id="chart-k-sweep" type="application/json">(.*?)</script>', page)
    assert match  # drawn by the vendored Chart.js; tests/web/test_report_admin.py checks more
    assert json.loads(match.group(1))["chosen"] == 3
    assert "0.910 ± 0.040" in page  # stability beside the segments
    assert "62.5%" in page  # classifier accuracy
    assert "Comedy fans" in page
    evaluation = page[page.index('id="evaluation-temporal"') :]
    headers = ["ndcg@10", "hit@10", "coverage@10"]
    assert "".join(f"<th>{h}</th>" for h in headers) in evaluation
    assert "<td>ours</td><td>900</td><td><strong>0.2000</strong></td>" in evaluation
    assert "<summary>By member group (1)</summary>" in evaluation
    assert "segment 0: Night owls" in evaluation and "0.1900" in evaluation


def test_run_page_without_a_sweep_draws_no_chart(admin: Client, world: World) -> None:
    page = admin.get(admin_url(SegmentationRun, f"{world.run.pk}/change/")).content.decode()
    assert "k-sweep-chart" not in page
    assert 'id="evaluation-' not in page  # the factory's evaluation is not split-shaped
    assert "Silhouette" in page and "0.312" in page


def test_stored_lists_and_segments_read_as_tables_with_titles_and_links(
    admin: Client, world: World
) -> None:
    rec_list = RecommendationList.objects.filter(run=world.run).first()
    page = admin.get(admin_url(RecommendationList, f"{rec_list.pk}/change/")).content.decode()
    first_item = Item.objects.get(pk=rec_list.entries[0][0])
    assert f">{first_item.display_title}</a>" in page
    assert f"/admin/catalog/item/{first_item.pk}/change/" in page
    assert "\\u2605" not in page and "[[" not in page  # no JSON dump

    segment = world.segments[0]
    page = admin.get(admin_url(Segment, f"{segment.pk}/change/")).content.decode()
    assert "<th>in the segment</th>" in page and "<td>Sci-Fi</td>" in page
    assert f'href="/segments/{segment.pk}/"' in admin.get(admin_url(Segment)).content.decode()

    ratings = admin.get(admin_url(Rating)).content.decode()
    assert "★" in ratings


def test_items_filter_by_genre_and_year(admin: Client, world: World) -> None:
    genre = world.items[0].genres[0]
    page = admin.get(admin_url(Item), {"genre": genre}).content.decode()
    shown = [i for i in world.items if f"/admin/catalog/item/{i.pk}/change/" in page]
    assert shown and all(genre in i.genres for i in shown)
    assert f"?genre={genre}" in admin.get(admin_url(Item)).content.decode()
