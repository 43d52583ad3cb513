"""The API keeps the promises of its OpenAPI schema, for every endpoint and every kind of account.

schemathesis generates requests from the schema the app itself serves (drf-spectacular's
generator, the one behind /api/schema) and sends them through the WSGI app with a token:
no 500s, only documented status codes, content types, headers and response shapes. POST
/api/runs stores queued runs in the test database; the send to the broker runs on commit,
which these rolled-back tests never reach.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from segments.params import PARAM_RANGES, InvalidParams, RunParams
from segrec_site.wsgi import application
from tests.support.factories import make_user, make_world
from tests.support.roles import make_reader

pytestmark = pytest.mark.django_db

RAW_SCHEMA = json.loads(
    OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True))
)
schema = schemathesis.openapi.from_dict(RAW_SCHEMA)
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def keep_the_test_transaction() -> Iterator[None]:
    # Through the WSGI app a request would close the connection that holds the test's
    # transaction; Django's own test client unhooks the same handler.
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(params=["staff", "reader", "no-permission"])
def token(request: pytest.FixtureRequest) -> str:
    make_world()
    user = {
        "staff": lambda: make_user("boss", staff=True),
        "reader": make_reader,
        "no-permission": lambda: make_user("nobody"),
    }[request.param]()
    return Token.objects.create(user=user).key


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(case: schemathesis.Case, token: str) -> None:
    case.call_and_validate(
        app=application, headers={"Authorization": f"Token {token}"}, checks=CHECKS
    )


def test_schema_types_member_ids_as_strings_and_bounds_k() -> None:
    operation = RAW_SCHEMA["paths"]["/api/members/{member_id}/recommendations"]["get"]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert parameters["member_id"]["type"] == "string"
    assert (parameters["k"]["minimum"], parameters["k"]["maximum"]) == (1, 500)
    assert RAW_SCHEMA["components"]["schemas"]["Error"]["required"] == ["error", "status"]


def test_every_operation_documents_its_errors() -> None:
    for path, operations in RAW_SCHEMA["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            assert {"400", "401", "403", "429"} <= documented, (method, path)
    assert "503" in RAW_SCHEMA["paths"]["/api/runs"]["post"]["responses"]


@pytest.mark.parametrize("name", sorted(PARAM_RANGES))
def test_run_param_ranges_in_the_schema_are_the_services(name: str) -> None:
    low, high = PARAM_RANGES[name]
    extra = {"k_min": low} if name == "k_max" else {"k_max": high} if name == "k_min" else {}
    for value in (low, high):
        RunParams.from_dict({name: value, **extra})
    for value in (low - 1, high + 1):
        with pytest.raises(InvalidParams, match=name):
            RunParams.from_dict({name: value, **extra})


def test_new_endpoints_are_in_the_schema_with_their_bounds() -> None:
    paths = RAW_SCHEMA["paths"]
    assert {"/api/", "/api/items", "/api/items/{item_id}"} <= set(paths)
    assert {"get", "post"} <= set(paths["/api/runs"])
    items = {p["name"]: p["schema"] for p in paths["/api/items"]["get"]["parameters"]}
    assert items["q"]["maxLength"] == 100 and items["page"]["minimum"] == 1
    runs = {p["name"]: p["schema"] for p in paths["/api/runs"]["get"]["parameters"]}
    assert runs["page"]["minimum"] == 1
    assert "404" in paths["/api/runs"]["get"]["responses"]
    assert "/api/docs" not in paths and "/api/redoc" not in paths  # HTML pages, not the API
