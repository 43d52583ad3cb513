"""The admin's Audiences page and its CSV, on the real database."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from tests.support.factories import World, make_user, make_world
from tests.support.roles import make_reader

pytestmark = pytest.mark.django_db
URL = "/admin/segments/segmentationrun/audiences/"


@pytest.fixture
def world() -> World:
    return make_world(n_members=8, n_items=8)


@pytest.fixture
def admin(client: Client) -> Client:
    client.force_login(make_user("root", staff=True))
    return client


def test_an_items_audience_is_ranked_with_its_segment_breakdown(
    admin: Client, world: World
) -> None:
    item = world.items[0]
    page = admin.get(URL, {"item": item.external_id}).content.decode()

    assert "members for item" in page and 'id="audience-segments"' in page
    assert 'id="audience-members"' in page
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(
                    admin.get(URL, {"item": item.external_id, "format": "csv"}).streaming_content
                ).decode()
            )
        )
    )
    assert rows[0] == ["rank", "member_id", "score", "segment", "segment_label"]
    raters = set(item.ratings.values_list("member__external_id", flat=True))
    audience = [row[1] for row in rows[1:]]
    assert audience and not raters & set(audience)  # who rated it needs no targeting
    assert [int(row[0]) for row in rows[1:]] == list(range(1, len(audience) + 1))


def test_a_query_that_matches_nothing_names_the_field(admin: Client, world: World) -> None:
    response = admin.get(URL, {"genre": "Opera"})
    assert "genre: no item matches genre Opera" in response.content.decode()
    assert "genre" in response.context["form"].errors


def test_an_empty_query_asks_for_an_item(admin: Client, world: World) -> None:
    response = admin.get(URL, {"size": "10"})
    assert "give an item id, or a genre" in response.content.decode()


def test_readers_without_admin_access_are_sent_to_the_login(client: Client, world: World) -> None:
    client.force_login(make_reader())
    assert client.get(URL, {"item": world.items[0].external_id}).status_code == 302


def test_the_api_gives_the_same_audience_as_json(client: Client, world: World) -> None:
    client.force_login(make_reader())
    item = world.items[0]
    body = client.get("/api/audiences", {"item": item.external_id, "size": "3"}).json()

    assert body["n_items"] == 1 and len(body["members"]) <= 3
    assert [m["rank"] for m in body["members"]] == list(range(1, len(body["members"]) + 1))
    raters = set(item.ratings.values_list("member__external_id", flat=True))
    assert not raters & {m["member_id"] for m in body["members"]}
    refused = client.get("/api/audiences", {"genre": "Opera"})
    assert refused.status_code == 400 and refused.json()["error"].startswith("genre: no item")


@pytest.mark.parametrize("raw", ["３", "3_0", "٣", " 3"])
def test_integer_parameters_take_ascii_digits_only(client: Client, world: World, raw: str) -> None:
    client.force_login(make_reader())
    item = world.items[0].external_id
    audience = client.get("/api/audiences", {"item": item, "size": raw})
    listed = client.get("/api/members/m0/recommendations", {"k": raw})
    for response, name in ((audience, "size"), (listed, "k")):
        assert response.status_code == 400
        assert response.json()["error"].startswith(f"{name}: expected an integer")
