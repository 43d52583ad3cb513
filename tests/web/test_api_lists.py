"""The list API's fast path: one query a request, the active run id cached until it changes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from segments.models import RunStatus, SegmentationRun
from segments.selectors import ACTIVE_RUN_ID_KEY, active_run_id
from segments.services.lifecycle import segmentation_run_activate
from tests.support.factories import World, make_user, make_world
from tests.support.roles import make_reader
from web import access

pytestmark = pytest.mark.django_db

URL = "/api/members/m0/recommendations"


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def reader_api() -> APIClient:
    api = APIClient()
    api.force_authenticate(make_reader())
    return api


def test_recommendations_take_one_query_permissions_included(
    reader_api: APIClient, world: World, django_assert_num_queries
) -> None:
    # Cold: one query for the account's permissions (its own and its groups' at once) and one
    # for the active run id, then both come from the cache.
    with django_assert_num_queries(3):
        assert reader_api.get(URL).status_code == 200
    with django_assert_num_queries(1):  # the member with segment, list and items
        response = reader_api.get(f"{URL}?k=3")
    assert response.status_code == 200
    assert [item["rank"] for item in response.json()["items"]] == [1, 2, 3]
    assert response.json()["items"][2]["title"] == "Movie 2"


def test_recommendations_with_a_token_take_one_query(
    client: Client, world: World, django_assert_num_queries
) -> None:
    token = Token.objects.create(user=make_reader())
    headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    client.get(URL, **headers)
    with django_assert_num_queries(1):  # the token and its account come from the cache
        assert client.get(URL, **headers).status_code == 200
    assert not any(token.key in str(key) for key in cache._cache)  # type: ignore[attr-defined]


def test_a_revoked_token_or_deactivated_account_is_refused_at_once(
    client: Client, world: World
) -> None:
    reader = make_reader()
    token = Token.objects.create(user=reader)
    headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    assert client.get(URL, **headers).status_code == 200
    token.delete()
    assert client.get(URL, **headers).status_code == 401
    token = Token.objects.create(user=reader)
    headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    assert client.get(URL, **headers).status_code == 200
    reader.is_active = False
    reader.save()
    assert client.get(URL, **headers).status_code == 401
    reader.is_active = True
    reader.save()
    assert client.get(URL, **headers).status_code == 200


def test_a_deleted_item_is_skipped_not_an_error(reader_api: APIClient, world: World) -> None:
    world.items[1].delete()
    items = reader_api.get(f"{URL}?k=3").json()["items"]
    assert [(item["rank"], item["item_id"]) for item in items] == [(1, "i0"), (2, "i2")]


def test_the_active_run_id_is_cached_not_the_run(world: World, django_assert_num_queries) -> None:
    assert active_run_id() == world.run.pk
    assert cache.get(ACTIVE_RUN_ID_KEY) == world.run.pk  # an int: no pickled placer in the cache
    with django_assert_num_queries(0):
        assert active_run_id() == world.run.pk


def test_activation_forgets_the_cached_active_run(
    reader_api: APIClient, world: World, django_capture_on_commit_callbacks
) -> None:
    assert reader_api.get(URL).json()["run"] == world.run.pk
    newer = SegmentationRun.objects.create(
        status=RunStatus.RUNNING, attempts=1, params={"top_k": 5, "serve": "always"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert segmentation_run_activate(run=newer, metrics={}, attempt=1)
    assert cache.get(ACTIVE_RUN_ID_KEY) is None
    assert active_run_id() == newer.pk
    response = reader_api.get(URL)
    assert response.json()["run"] == newer.pk
    assert response.json()["items"] == []  # the new run made no list for m0


def test_no_active_run_is_cached_too(reader_api: APIClient, django_assert_num_queries) -> None:
    assert active_run_id() is None
    with django_assert_num_queries(0):
        assert active_run_id() is None


def test_k_above_the_stored_list_length_is_400_naming_it(
    reader_api: APIClient, world: World
) -> None:
    # The world's run stores lists of top_k=5.
    response = reader_api.get(f"{URL}?k=6")
    assert response.status_code == 400
    assert response.json() == {
        "error": f"k: at most 5, the list length run {world.run.pk} stored, got 6",
        "status": 400,
    }
    assert len(reader_api.get(f"{URL}?k=5").json()["items"]) == 5
    assert len(reader_api.get(URL).json()["items"]) == 5  # the default 10 is capped, not refused


def test_a_withdrawn_permission_is_refused_at_once(client: Client, world: World) -> None:
    reader = make_reader()
    client.force_login(reader)
    assert client.get(URL).status_code == 200
    Group.objects.get(name=access.READERS_GROUP).user_set.remove(reader)
    assert client.get(URL).status_code == 403
    codename = access.MEMBER_DATA[0].split(".")[1]
    reader.user_permissions.add(Permission.objects.get(codename=codename))
    assert client.get(URL).status_code == 200


def test_a_group_losing_a_permission_is_refused_at_once(client: Client, world: World) -> None:
    client.force_login(make_reader())
    assert client.get(URL).status_code == 200
    readers = Group.objects.get(name=access.READERS_GROUP)
    readers.permissions.remove(Permission.objects.get(codename="view_member"))
    assert client.get(URL).status_code == 403


def test_a_superuser_reads_without_any_grant(client: Client, world: World) -> None:
    boss = make_user("boss", staff=True)  # a superuser holds every permission
    client.force_login(boss)
    assert client.get(URL).status_code == 200
