"""The web app when PostgreSQL drops its connections between requests.

A real single-threaded server process keeps one connection across requests, as a
production worker does; the test kills that connection between two requests.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import pytest
from rest_framework.authtoken.models import Token

from tests.support.factories import make_run, make_user
from tests.support.processes import (
    ROOT,
    app_env,
    free_port,
    terminate_other_connections,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--nothreading", "--noreload", str(port)],
        cwd=ROOT,
        env=app_env("redis://127.0.0.1:6379/15"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: _answers(url), timeout=60, what="the web server")
    yield url
    process.terminate()
    process.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/accounts/login/", timeout=2)
    except OSError:
        return False
    return True


def get_json(url: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, {"body": error.read().decode(errors="replace")[:500]}


def test_a_connection_dropped_between_requests_is_replaced_not_served_as_an_error(
    server: str,
) -> None:
    run = make_run()
    token = Token.objects.create(user=make_user(staff=True)).key
    assert get_json(f"{server}/api/runs/{run.pk}", token)[0] == 200

    assert terminate_other_connections() >= 1  # the server's kept connection
    status, body = get_json(f"{server}/api/runs/{run.pk}", token)

    assert status == 200, body
    assert body["id"] == run.pk
