"""Guessing is slow: logins lock after a few wrong passwords, the API throttles tokens and users."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.support.factories import make_world
from tests.support.roles import make_reader

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_hasher(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_login(username: str = "ana", *, staff: bool = False):
    return get_user_model().objects.create_user(
        username=username, password=PASSWORD, is_staff=staff, is_superuser=staff
    )


def log_in(client: Client, url: str, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_thirty_wrong_passwords_lock_out_the_right_one(client: Client, url: str) -> None:
    make_login(staff=True)
    for _ in range(30):
        log_in(client, url, "ana", "wrong")
    response = log_in(client, url, "ana", PASSWORD)
    assert not signed_in(client)
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 15 * 60
    page = response.content.decode()
    assert "Too many failed logins" in page and "try again in 15 minutes" in page


def test_lockout_starts_at_the_fifth_failure(client: Client) -> None:
    make_login()
    for _ in range(4):
        assert log_in(client, "/accounts/login/", "ana", "wrong").status_code == 200
    assert log_in(client, "/accounts/login/", "ana", "wrong").status_code == 429


def test_a_success_before_the_limit_resets_the_count(client: Client) -> None:
    make_login()
    for _ in range(4):
        log_in(client, "/accounts/login/", "ana", "wrong")
    assert log_in(client, "/accounts/login/", "ana", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        log_in(client, "/accounts/login/", "ana", "wrong")
    assert log_in(client, "/accounts/login/", "ana", PASSWORD).status_code == 302


def test_the_lock_is_per_username_and_address(client: Client) -> None:
    make_login("ana")
    make_login("bob")
    for _ in range(10):
        log_in(client, "/accounts/login/", "ana", "wrong")
    assert log_in(client, "/accounts/login/", "bob", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    assert log_in(client, "/accounts/login/", "ana", PASSWORD, ip="10.0.0.2").status_code == 302


def test_limit_and_cool_off_come_from_the_environment() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.AXES_FAILURE_LIMIT, int(s.AXES_COOLOFF_TIME.total_seconds()))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "segrec_site.settings",
        "SEGREC_LOGIN_FAILURE_LIMIT": "3",
        "SEGREC_LOGIN_COOLOFF_MINUTES": "60",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.stdout.split() == ["3", "3600"], out.stderr


def rates(settings, **changes: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            **changes,
        },
    }


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert body["status"] == 429
    assert body["error"].startswith("Request was throttled.")


def test_wrong_tokens_are_throttled_and_then_the_right_one_too(client: Client, settings) -> None:
    rates(settings, token_failures="3/minute")
    make_world()
    token = Token.objects.create(user=make_reader())

    def get(key: str, ip: str = "10.0.0.1"):
        return client.get("/api/segments", HTTP_AUTHORIZATION=f"Token {key}", REMOTE_ADDR=ip)

    for n in range(3):
        assert get(f"guess{n}").status_code == 401
    assert_throttled(get("guess3"))
    assert_throttled(get(token.key))
    assert get(token.key, ip="10.0.0.2").status_code == 200


def test_a_signed_in_user_is_throttled_past_the_user_rate(client: Client, settings) -> None:
    rates(settings, user="3/minute")
    make_world()
    client.force_login(make_reader())
    for _ in range(3):
        assert client.get("/api/segments").status_code == 200
    assert_throttled(client.get("/api/segments"))
