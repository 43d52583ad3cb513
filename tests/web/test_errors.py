"""Every error under /api/ is JSON {"error", "status"}, with DEBUG on or off, and leaks nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.support.factories import make_user, make_world
from tests.support.roles import make_reader

pytestmark = pytest.mark.django_db

LEAKS = ("Traceback", "DATABASE", "SECRET_KEY", "hunter2", "postgres", "settings")


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request: pytest.FixtureRequest, settings) -> bool:
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def reader_client(client: Client) -> Client:
    client.force_login(make_reader())
    return client


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    text = response.content.decode()
    assert not [leak for leak in LEAKS if leak in text]
    return body


@pytest.mark.parametrize(
    "url", ["/api/nothing", "/api/members/", "/api/items/", "/api/segments/x", "/api/runs/-1"]
)
def test_unknown_api_paths_are_json_404(debug: bool, reader_client: Client, url: str) -> None:
    body = assert_json_error(reader_client.get(url), 404)
    assert "/api/schema" in body["error"]


def test_unknown_api_path_is_json_404_for_anonymous_too(debug: bool, client: Client) -> None:
    assert_json_error(client.get("/api/nothing"), 404)


def test_unknown_page_is_still_html(client: Client) -> None:
    response = client.get("/nothing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "method, url",
    [("patch", "/api/runs"), ("put", "/api/runs/1"), ("delete", "/api/members/m0")],
)
def test_wrong_method_is_json_405(debug: bool, client: Client, method: str, url: str) -> None:
    client.force_login(make_user("boss", staff=True))
    response = getattr(client, method)(url)
    body = assert_json_error(response, 405)
    assert method.upper() in body["error"]
    assert response["Allow"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/members/%00",
        "/api/members/m%000/recommendations",
        "/api/members/m0/recommendations?k=%00",
        "/api/segments?x%00=1",
        "/api/members/%01",
        "/api/runs/1?page=a%0Ab",
    ],
)
def test_control_characters_are_json_400_never_500(
    debug: bool, reader_client: Client, url: str
) -> None:
    make_world()
    body = assert_json_error(reader_client.get(url), 400)
    assert "control characters" in body["error"]


def test_control_characters_in_a_page_path_are_400(reader_client: Client) -> None:
    response = reader_client.get("/members/%00/")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_nul_in_a_json_body_is_400(debug: bool, client: Client) -> None:
    client.force_login(make_user("boss", staff=True))
    response = client.post("/api/members", {"member_id": "a\x00b"}, content_type="application/json")
    assert "member_id" in assert_json_error(response, 400)["error"]


def test_malformed_json_is_400(debug: bool, client: Client) -> None:
    client.force_login(make_user("boss", staff=True))
    response = client.post("/api/runs", "{", content_type="application/json")
    assert "JSON parse error" in assert_json_error(response, 400)["error"]


def test_session_post_without_csrf_token_is_json_403(debug: bool) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("boss", staff=True))
    response = client.post("/api/runs", {}, content_type="application/json")
    assert "CSRF" in assert_json_error(response, 403)["error"]


def test_missing_permission_is_json_403(debug: bool, client: Client) -> None:
    client.force_login(make_user())
    assert "read access" in assert_json_error(client.get("/api/segments"), 403)["error"]


@pytest.mark.parametrize("url", ["/api/crash", "/api/crash-drf"])
def test_a_crash_is_json_500_without_details(debug: bool, settings, url: str) -> None:
    settings.ROOT_URLCONF = "tests.web.crash_urls"
    client = Client(raise_request_exception=False)
    client.force_login(make_user())
    body = assert_json_error(client.get(url), 500)
    assert body == {"error": "Internal server error: it has been logged.", "status": 500}


def test_a_crash_outside_the_api_stays_html(settings) -> None:
    settings.ROOT_URLCONF = "tests.web.crash_urls"
    response = Client(raise_request_exception=False).get("/crash")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
