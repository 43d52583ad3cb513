from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from segments.models import RunStatus, SegmentationRun
from tests.support.factories import (
    World,
    make_members,
    make_run,
    make_segments,
    make_user,
    make_world,
)
from tests.support.roles import make_reader

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def user_client(client: Client) -> Client:
    client.force_login(make_reader())
    return client


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(make_user("boss", staff=True))
    return client


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", "/api/members/m0"),
        ("get", "/api/members/m0/recommendations"),
        ("get", "/api/segments"),
        ("get", "/api/segments/1"),
        ("get", "/api/runs/1"),
        ("post", "/api/runs"),
        ("get", "/api/runs/1/compare/2"),
        ("post", "/api/members"),
        ("post", "/api/members/m0/place"),
        ("get", "/api/schema"),
    ],
)
def test_anonymous_gets_401_json(client: Client, method: str, url: str) -> None:
    response = getattr(client, method)(url, HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response.json() == {
        "error": "Authentication credentials were not provided.",
        "status": 401,
    }
    assert response["WWW-Authenticate"] == "Token"


def test_token_authenticates(client: Client, world: World) -> None:
    token = Token.objects.create(user=make_reader())
    response = client.get("/api/members/m0", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert response.json()["member_id"] == "m0"


def test_wrong_token_is_401(client: Client, world: World) -> None:
    response = client.get("/api/members/m0", HTTP_AUTHORIZATION="Token nope")
    assert response.status_code == 401
    assert response.json()["error"] == "Invalid token."


def test_member_detail_shape(user_client: Client, world: World) -> None:
    body = user_client.get("/api/members/m1").json()
    segment = world.segments[1]
    assert body == {
        "member_id": "m1",
        "age": 21,
        "gender": "F",
        "occupation": "engineer",
        "location": "city1",
        "profile": "",
        "rating_count": 3,
        "run": world.run.pk,
        "segment": {
            "id": segment.pk,
            "number": 1,
            "label": "Comedy fans",
            "confidence": pytest.approx(0.899),
            "source": "classified",
        },
    }


def test_member_detail_without_active_run_has_no_segment(user_client: Client) -> None:
    make_members(1)
    body = user_client.get("/api/members/m0").json()
    assert body["run"] is None
    assert body["segment"] is None


def test_unknown_member_is_404_naming_it(user_client: Client, world: World) -> None:
    response = user_client.get("/api/members/nobody")
    assert response.status_code == 404
    assert response.json() == {"error": "Unknown member 'nobody'.", "status": 404}


def test_recommendations_shape_and_k(user_client: Client, world: World) -> None:
    # Query counts: tests/web/test_api_lists.py.
    response = user_client.get("/api/members/m0/recommendations?k=3")
    body = response.json()
    assert response.status_code == 200
    assert body["member_id"] == "m0"
    assert body["run"] == world.run.pk
    assert body["segment"]["label"] == "Sci-Fi fans"
    assert [item["rank"] for item in body["items"]] == [1, 2, 3]
    first = world.items[0]
    assert body["items"][0] == {
        "rank": 1,
        "item_id": first.external_id,
        "title": first.title,
        "year": first.year,
        "genres": first.genres,
        "score": 1.0,
        "reason": "popular with Movie 0 fans #0",
    }


def test_recommendations_default_k_is_10_capped_by_list(user_client: Client, world: World) -> None:
    body = user_client.get("/api/members/m0/recommendations").json()
    assert len(body["items"]) == 5


@pytest.mark.parametrize("k", ["0", "501", "ten"])
def test_recommendations_reject_bad_k(user_client: Client, world: World, k: str) -> None:
    response = user_client.get(f"/api/members/m0/recommendations?k={k}")
    assert response.status_code == 400
    assert response.json()["error"].startswith("k: expected an integer from 1 to 500")


def test_recommendations_404_without_active_run(user_client: Client) -> None:
    make_members(1)
    response = user_client.get("/api/members/m0/recommendations")
    assert response.status_code == 404
    assert "No active segmentation run" in response.json()["error"]


def test_recommendations_404_for_unknown_member(user_client: Client, world: World) -> None:
    response = user_client.get("/api/members/ghost/recommendations")
    assert response.status_code == 404
    assert response.json()["error"] == "Unknown member 'ghost'."


def test_segment_list_is_the_active_runs(user_client: Client, world: World) -> None:
    old_run = make_run(active=False)
    make_segments(old_run, world.members, world.items)
    body = user_client.get("/api/segments").json()
    assert body["run"] == world.run.pk
    assert [s["label"] for s in body["segments"]] == ["Sci-Fi fans", "Comedy fans"]
    first = body["segments"][0]
    assert set(first) == {"id", "run", "number", "label", "size", "share", "summary"}
    assert first["size"] == 3
    assert first["share"] == 0.5
    assert first["summary"]["genres"][0]["name"] == "Sci-Fi"


def test_segment_list_404_without_active_run(user_client: Client) -> None:
    response = user_client.get("/api/segments")
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_segment_detail_pages_members(user_client: Client, world: World) -> None:
    segment = world.segments[0]
    body = user_client.get(f"/api/segments/{segment.pk}?page=1").json()
    assert body["label"] == "Sci-Fi fans"
    assert body["run_is_active"] is True
    members = body["members"]
    assert (members["page"], members["pages"], members["count"]) == (1, 1, 3)
    assert [m["member_id"] for m in members["results"]] == ["m0", "m2", "m4"]
    assert members["results"][0] == {"member_id": "m0", "confidence": 0.9, "source": "clustered"}


def test_segment_detail_errors(user_client: Client, world: World) -> None:
    segment = world.segments[0]
    past_end = user_client.get(f"/api/segments/{segment.pk}?page=2")
    assert past_end.status_code == 404
    assert past_end.json()["error"] == f"Segment {segment.pk} has no page 2."
    assert user_client.get(f"/api/segments/{segment.pk}?page=x").status_code == 400
    unknown = user_client.get("/api/segments/999999")
    assert unknown.json() == {"error": "Unknown segment 999999.", "status": 404}


def test_non_staff_cannot_start_a_run(user_client: Client) -> None:
    response = user_client.post("/api/runs", {"k": 4}, content_type="application/json")
    assert response.status_code == 403
    assert response.json() == {
        "error": "Only staff users can start a segmentation run.",
        "status": 403,
    }
    assert not SegmentationRun.objects.exists()


def test_staff_starts_a_queued_run(staff_client: Client) -> None:
    params = {"k": "auto", "algorithm": "gmm", "top_k": 15}
    response = staff_client.post("/api/runs", params, content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    run = SegmentationRun.objects.get()
    assert body["id"] == run.pk
    assert body["status"] == RunStatus.QUEUED
    assert body["params"]["algorithm"] == "gmm"
    assert run.params["k"] == "auto"
    assert run.created_by.username == "boss"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"k": 0}, "k"),
        ({"algorithm": "magic"}, "algorithm"),
        ({"top_k": 9999}, "top_k"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_run_params_are_400_naming_the_field(
    staff_client: Client, params: dict, field: str
) -> None:
    response = staff_client.post("/api/runs", params, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()["error"]
    assert not SegmentationRun.objects.exists()


def test_run_body_must_be_an_object(staff_client: Client) -> None:
    response = staff_client.post("/api/runs", [1, 2], content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"].startswith("body:")


def test_run_detail_for_a_reader(user_client: Client, world: World) -> None:
    body = user_client.get(f"/api/runs/{world.run.pk}").json()
    assert body["status"] == "succeeded"
    assert body["is_finished"] is True
    assert body["timings"] == {"load": 0.5, "cluster": 1.25}
    assert body["metrics"]["silhouette"] == 0.3125
    assert body["error"] == ""
    assert user_client.get("/api/runs/999999").json()["error"] == "Unknown run 999999."


def test_schema_lists_the_endpoints(user_client: Client) -> None:
    response = user_client.get("/api/schema", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/members/{member_id}/recommendations" in paths
    assert "post" in paths["/api/runs"]
    assert "post" in paths["/api/members"]
    assert "post" in paths["/api/members/{member_id}/place"]
    assert "/api/runs/{run_id}/compare/{other_id}" in paths
