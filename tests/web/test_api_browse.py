"""The API's root, its docs pages, the runs list and the items endpoints."""

from __future__ import annotations

import pytest
from django.test import Client

from segments.models import SegmentationRun
from segments.selectors import ITEMS_PER_PAGE, RUNS_PER_PAGE
from tests.support.factories import World, make_items, make_run, make_user, make_world
from tests.support.roles import make_reader

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def reader(client: Client) -> Client:
    client.force_login(make_reader())
    return client


def test_root_lists_every_endpoint(client: Client) -> None:
    client.force_login(make_user("nobody"))  # it names endpoints, no data: any account
    body = client.get("/api/").json()
    assert {"/api/runs", "/api/items", "/api/items/{item_id}"} <= set(body["endpoints"])
    assert "/api/members/{member_id}/recommendations" in body["endpoints"]
    assert body["schema"] == "/api/schema"
    assert body["docs"] == {"swagger": "/api/docs", "redoc": "/api/redoc"}


@pytest.mark.parametrize(
    "url, asset",
    [
        ("/api/docs", "/static/api-docs/swagger-ui/swagger-ui-bundle.js"),
        ("/api/redoc", "/static/api-docs/redoc/redoc.standalone.js"),
    ],
)
def test_docs_pages_load_their_scripts_from_this_server(
    reader: Client, url: str, asset: str
) -> None:
    response = reader.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert asset in page and "/api/schema" in page
    assert "cdn" not in page.lower()  # offline: nothing from elsewhere


def test_docs_assets_are_found_by_staticfiles() -> None:
    from django.contrib.staticfiles import finders

    for path in ("api-docs/swagger-ui/swagger-ui.css", "api-docs/redoc/redoc.standalone.js"):
        assert finders.find(path), path


def test_runs_are_listed_newest_first_in_pages(reader: Client, world: World) -> None:
    for _ in range(RUNS_PER_PAGE):
        make_run(active=False)
    first = reader.get("/api/runs").json()
    newest = SegmentationRun.objects.order_by("-id").values_list("pk", flat=True)
    assert [run["id"] for run in first["results"]] == list(newest[:RUNS_PER_PAGE])
    assert (first["page"], first["pages"], first["count"]) == (1, 2, RUNS_PER_PAGE + 1)
    second = reader.get("/api/runs?page=2").json()
    assert [run["id"] for run in second["results"]] == [world.run.pk]
    assert reader.get("/api/runs?page=3").json() == {
        "error": "There is no page 3 of runs.",
        "status": 404,
    }


def test_items_page_and_search(reader: Client, world: World) -> None:
    body = reader.get("/api/items").json()
    assert body["count"] == len(world.items)
    assert body["results"][0] == {
        "item_id": "i0",
        "title": "Movie 0",
        "year": 1980,
        "genres": world.items[0].genres,
        "description": "",
    }
    assert [i["item_id"] for i in reader.get("/api/items?q=movie 3").json()["results"]] == ["i3"]
    assert [i["item_id"] for i in reader.get("/api/items?q=i5").json()["results"]] == ["i5"]
    assert reader.get("/api/items?q=nothing").json()["results"] == []


def test_items_pages_hold_fifty(reader: Client) -> None:
    make_items(ITEMS_PER_PAGE + 1)
    assert len(reader.get("/api/items").json()["results"]) == ITEMS_PER_PAGE
    assert len(reader.get("/api/items?page=2").json()["results"]) == 1


def test_item_detail_and_unknown_item(reader: Client, world: World) -> None:
    assert reader.get("/api/items/i2").json()["title"] == "Movie 2"
    assert reader.get("/api/items/nope").json() == {"error": "Unknown item 'nope'.", "status": 404}


def test_a_long_search_is_400_naming_the_limit(reader: Client) -> None:
    response = reader.get("/api/items?q=" + "x" * 101)
    assert response.status_code == 400
    assert response.json()["error"] == "q: at most 100 characters, got 101"
