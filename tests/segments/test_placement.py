"""Members who arrive between runs: placed at once by the API and the admin, with a list."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.models import Member
from segments.models import Membership, RecommendationList
from tests.support.factories import (
    World,
    cache_item_embeddings,
    make_members,
    make_placeable,
    make_user,
    make_world,
)

pytestmark = pytest.mark.django_db

NEW_MEMBER = {
    "member_id": "new1",
    "age": 33,
    "gender": "F",
    "occupation": "doctor",
    "location": "Lyon",
    "profile": "Likes witty comedies.",
}


@pytest.fixture
def world() -> World:
    world = make_world()
    make_placeable(world)
    return world


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(make_user("boss", staff=True))
    return client


def item_ids(client: Client, member_id: str) -> list[str]:
    body = client.get(f"/api/members/{member_id}/recommendations").json()
    return [item["item_id"] for item in body["items"]]


def test_new_member_is_placed_by_the_classifier_with_the_segments_list(
    staff_client: Client, world: World
) -> None:
    response = staff_client.post("/api/members", NEW_MEMBER, content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["member_id"] == "new1" and body["location"] == "Lyon"
    assert body["run"] == world.run.pk
    assert body["rating_count"] == 0
    assert "note" not in body
    segment = body["segment"]
    assert (segment["number"], segment["label"], segment["source"]) == (1, "Comedy fans", "placed")
    assert segment["confidence"] > 0.5
    assert item_ids(staff_client, "new1") == ["i1", "i3", "i5", "i7"]
    reasons = staff_client.get("/api/members/new1/recommendations").json()["items"]
    assert "segment 'Comedy fans'" in reasons[0]["reason"]
    assert staff_client.get("/api/members/new1").json()["segment"]["source"] == "placed"


def test_gender_decides_the_segment_of_a_new_man(staff_client: Client, world: World) -> None:
    man = {**NEW_MEMBER, "member_id": "new2", "gender": "M"}
    body = staff_client.post("/api/members", man, content_type="application/json").json()
    assert body["segment"]["label"] == "Sci-Fi fans"
    assert item_ids(staff_client, "new2") == ["i0", "i2", "i4", "i6"]


def test_placing_an_existing_member_leaves_out_what_they_rated(
    staff_client: Client, world: World
) -> None:
    cache_item_embeddings(world.items)  # m1's first ratings are embedded from the cache
    response = staff_client.post("/api/members/m1/place")
    assert response.status_code == 200
    assert response.json()["segment"]["source"] == "placed"
    # m1 rated i1, i2 and i3; of segment 1's popular items only i5 and i7 are new to them.
    assert item_ids(staff_client, "m1") == ["i5", "i7"]
    assert Membership.objects.filter(run=world.run, member__external_id="m1").count() == 1
    assert RecommendationList.objects.filter(run=world.run, member__external_id="m1").count() == 1


def test_member_page_explains_a_placed_member(staff_client: Client, world: World) -> None:
    staff_client.post("/api/members", NEW_MEMBER, content_type="application/json")
    page = staff_client.get("/members/new1/").content.decode()
    assert "Comedy fans" in page
    assert "placed: joined after the run" in page
    assert "Movie 1 (1981)" in page


def test_without_an_active_run_the_member_is_kept_unplaced_with_a_note(
    staff_client: Client,
) -> None:
    response = staff_client.post("/api/members", NEW_MEMBER, content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["segment"] is None and body["run"] is None
    assert "next run" in body["note"]
    assert Member.objects.filter(external_id="new1").exists()


def test_placing_without_an_active_run_is_409(staff_client: Client) -> None:
    make_members(1)
    response = staff_client.post("/api/members/m0/place")
    assert response.status_code == 409
    assert "no active run" in response.json()["error"]
    assert staff_client.post("/api/members/ghost/place").status_code == 404


@pytest.mark.parametrize(
    "change, field",
    [
        ({"age": -1}, "age"),
        ({"age": "old"}, "age"),
        ({"member_id": ""}, "member_id"),
        ({"member_id": None}, "member_id"),
        ({"gender": "x" * 40}, "gender"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_fields_are_400_naming_the_field(
    staff_client: Client, world: World, change: dict, field: str
) -> None:
    body = {**NEW_MEMBER, **change}
    response = staff_client.post("/api/members", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"{field}: ")
    assert not Member.objects.filter(external_id="new1").exists()


def test_missing_member_id_and_non_object_bodies_are_400(staff_client: Client) -> None:
    missing = staff_client.post("/api/members", {"age": 3}, content_type="application/json")
    assert missing.json()["error"].startswith("member_id: ")
    listed = staff_client.post("/api/members", [1], content_type="application/json")
    assert listed.status_code == 400
    assert listed.json()["error"].startswith("body: ")


def test_duplicate_member_id_is_400(staff_client: Client, world: World) -> None:
    body = {**NEW_MEMBER, "member_id": "m0"}
    response = staff_client.post("/api/members", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "member_id: a member 'm0' already exists"
    assert Member.objects.get(external_id="m0").gender == "M"


def test_non_staff_cannot_add_or_place_members(client: Client, world: World) -> None:
    client.force_login(make_user())
    created = client.post("/api/members", NEW_MEMBER, content_type="application/json")
    placed = client.post("/api/members/m0/place")
    for response in (created, placed):
        assert response.status_code == 403
        assert response.json()["error"] == "Only staff users can add or place members."
    assert not Member.objects.filter(external_id="new1").exists()
    assert Membership.objects.get(run=world.run, member__external_id="m0").source == "clustered"


def test_admin_action_places_the_selected_members(staff_client: Client, world: World) -> None:
    newcomers = Member.objects.bulk_create(
        [Member(external_id="n1", gender="F"), Member(external_id="n2", gender="M")]
    )
    response = staff_client.post(
        "/admin/catalog/member/",
        {"action": "place_in_active_run", "_selected_action": [m.pk for m in newcomers]},
        follow=True,
    )
    assert f"Placed 2 members in segments of run {world.run.pk}." in response.content.decode()
    placed = Membership.objects.filter(run=world.run, source="placed").select_related("segment")
    assert {(m.member.external_id, m.segment.number) for m in placed} == {("n1", 1), ("n2", 0)}


def test_admin_action_without_an_active_run_says_why(staff_client: Client) -> None:
    members = make_members(2)
    response = staff_client.post(
        "/admin/catalog/member/",
        {"action": "place_in_active_run", "_selected_action": [m.pk for m in members]},
        follow=True,
    )
    assert "Placed 0 members: there is no active run" in response.content.decode()
    assert not Membership.objects.exists()
