"""Who may do what, URL by URL: every route of the URL conf, every role, the methods that matter.

The routes come from the URL conf itself, so a new URL without an expectation here fails
``test_every_route_has_an_expectation``. The rule (README, "Who may read what"): anonymous
visitors get nothing (401 in the API, the login page elsewhere); a signed-in account without
read access gets 403; a reader reads members, segments and runs but writes nothing; only staff
write and use the admin.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.admin.sites import site as admin_site
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token

from segments.models import SegmentationRun
from tests.support.factories import World, make_run, make_user, make_world
from tests.support.roles import make_reader

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "no-permission", "reader", "staff")
ALL = ("GET", "POST", "PUT", "PATCH", "DELETE")
LOGIN, ADMIN_LOGIN = "login", "admin-login"  # a 302 to /accounts/login/ or /admin/login/


def walk(patterns: list, prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


ROUTES = sorted(set(walk(get_resolver().url_patterns)))


def same(status: int | str, methods: tuple[str, ...] = ALL) -> dict[str, int | str]:
    return dict.fromkeys(methods, status)


def only(method: str, status: int, methods: tuple[str, ...] = ALL) -> dict[str, int | str]:
    return {m: status if m == method else 405 for m in methods}


def api_read() -> dict[str, dict]:
    return {
        "anonymous": same(401),
        "no-permission": same(403),
        "reader": only("GET", 200),
        "staff": only("GET", 200),
    }


def api_write(staff_status: int) -> dict[str, dict]:
    return {
        "anonymous": same(401),
        "no-permission": same(403),
        "reader": same(403),
        "staff": only("POST", staff_status),
    }


def api_any_account() -> dict[str, dict]:
    return {"anonymous": same(401), **dict.fromkeys(ROLES[1:], only("GET", 200))}


def page_read() -> dict[str, dict]:
    return {
        "anonymous": same(LOGIN),
        "no-permission": same(403),
        "reader": only("GET", 200),
        "staff": only("GET", 200),
    }


GP = ("GET", "POST")


def for_all(cell: dict[str, int | str]) -> dict[str, dict]:
    return dict.fromkeys(ROLES, cell)


def signed_in(cell: dict[str, int | str]) -> dict[str, dict]:
    return {"anonymous": same(LOGIN, GP), **dict.fromkeys(ROLES[1:], cell)}


EXPECTED: dict[str, dict[str, dict]] = {
    # The JSON API.
    "api/members": api_write(400),  # staff: an empty body names the missing member_id
    "api/members/<str:member_id>": api_read(),
    "api/members/<str:member_id>/place": api_write(409),  # no active run with a placer
    "api/members/<str:member_id>/recommendations": api_read(),
    "api/segments": api_read(),
    "api/segments/<int:segment_id>": api_read(),
    "api/": api_any_account(),
    "api/items": api_read(),
    "api/audiences": {  # readers and staff: no item given is a 400 naming the field
        "anonymous": same(401),
        "no-permission": same(403),
        "reader": only("GET", 400),
        "staff": only("GET", 400),
    },
    "api/items/<str:item_id>": api_read(),
    "api/runs": {  # GET lists runs (readers); any other method is a write (staff)
        "anonymous": same(401),
        "no-permission": same(403),
        "reader": {"GET": 200, "POST": 403, "PUT": 403, "PATCH": 403, "DELETE": 403},
        "staff": {"GET": 200, "POST": 201, "PUT": 405, "PATCH": 405, "DELETE": 405},
    },
    "api/runs/<int:run_id>": api_read(),
    "api/runs/<int:run_id>/compare/<int:other_id>": api_read(),
    "api/schema": api_any_account(),
    "api/docs": api_any_account(),
    "api/redoc": api_any_account(),
    # The pages.
    "": page_read(),
    "members/<str:external_id>/": page_read(),
    "segments/<int:pk>/": page_read(),
    # Signing in and out (django.contrib.auth's views).
    "accounts/login/": for_all({"GET": 200, "POST": 200}),  # an empty form is shown again
    "accounts/logout/": for_all({"GET": 405, "POST": 200}),
    "accounts/password_change/": signed_in({"GET": 200, "POST": 200}),
    "accounts/password_change/done/": signed_in({"GET": 200, "POST": 405}),
    "accounts/password_reset/": for_all({"GET": 200, "POST": 200}),
    "accounts/password_reset/done/": for_all({"GET": 200, "POST": 405}),
    "accounts/reset/<uidb64>/<token>/": for_all({"GET": 200, "POST": 200}),  # "invalid link"
    "accounts/reset/done/": for_all({"GET": 200, "POST": 405}),
}

# The admin is for staff: everyone else is sent to its login page. What staff get, by route
# below admin/<app>/<model>/; models whose admin refuses adding or changing answer 403.
READ_ONLY = {"segments.SegmentationRun", "segments.Membership", "segments.RecommendationList"}
AXES = {"axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"}  # redirect a POST
NO_ADD = READ_ONLY | AXES | {"segments.Segment"}
NO_CHANGE = READ_ONLY | AXES
ADMIN_SITE = {
    "admin/": {"GET": 200, "POST": 200},
    "admin/login/": {"GET": 302, "POST": 200},  # staff are signed in: GET goes to the index
    "admin/logout/": {"GET": 405, "POST": 200},
    "admin/password_change/": {"GET": 200, "POST": 200},
    "admin/password_change/done/": {"GET": 200, "POST": 405},
    "admin/autocomplete/": {"GET": 403, "POST": 405},  # without its parameters
    "admin/jsi18n/": {"GET": 200, "POST": 405},
    "admin/r/<path:content_type_id>/<path:object_id>/": {"GET": 404, "POST": 404},
    "admin/^(?P<app_label>auth|authtoken|axes|catalog|segments)/$": {"GET": 200, "POST": 200},
    "admin/(?P<url>.*)$": {"GET": 404, "POST": 404},
}


def staff_in_admin(route: str) -> dict[str, int | str]:
    if route in ADMIN_SITE:
        return ADMIN_SITE[route]
    app_label, model_name, rest = route.removeprefix("admin/").split("/", 2)
    label = apps.get_model(app_label, model_name)._meta.label
    may_add, may_change = label not in NO_ADD, label not in NO_CHANGE
    by_rest: dict[str, dict[str, int | str]] = {
        "": {"GET": 200, "POST": 200},
        "add/": {"GET": 200, "POST": 200} if may_add else {"GET": 403, "POST": 403},
        "<path:object_id>/": {"GET": 302, "POST": 302},  # to its change page
        "<path:object_id>/change/": {
            "GET": 200,
            "POST": 200 if may_change else 302 if label in AXES else 403,
        },
        # A confirmation page; the first run is the served one, which cannot be deleted.
        "<path:object_id>/delete/": (
            {"GET": 403, "POST": 403}
            if label == "segments.SegmentationRun"
            else {"GET": 200, "POST": 200}
        ),
        "<path:object_id>/history/": {"GET": 200, "POST": 200},
        "<id>/password/": {"GET": 200, "POST": 200},
        "run/": {"GET": 200, "POST": 200},  # the Run form, shown again with its errors
        "<path:object_id>/segments.csv": {"GET": 200, "POST": 200},
        "<path:object_id>/compare/": {"GET": 200, "POST": 200},
        # The run controls: a progress fragment, and POST-only actions that redirect back
        # with a message (the served run is promoted already; a succeeded run is not
        # cancellable; nothing was served before it to roll back to).
        "<path:object_id>/progress/": {"GET": 200, "POST": 200},
        "live/": {"GET": 200, "POST": 200},
        "<path:object_id>/promote/": {"GET": 405, "POST": 302},
        "<path:object_id>/cancel/": {"GET": 405, "POST": 302},
        "rollback/": {"GET": 405, "POST": 302},
        "<path:object_id>/evaluate/": {"GET": 405, "POST": 302},  # queues the job
        "audiences/": {"GET": 200, "POST": 200},  # the form (a GET form: POST shows it too)
    }
    return by_rest[rest]


def expected(route: str, role: str) -> dict[str, int | str]:
    if route in EXPECTED:
        return EXPECTED[route][role]
    if not route.startswith("admin/"):
        raise KeyError(f"no expectation for the new route {route!r}: add one to EXPECTED")
    if route == "admin/login/" and role != "staff":
        return {"GET": 200, "POST": 200}
    if route == "admin/logout/" and role != "staff":
        return {"GET": 302, "POST": 302}  # to the admin's index, which asks for a login
    return staff_in_admin(route) if role == "staff" else same(ADMIN_LOGIN, GP)


def test_every_route_has_an_expectation() -> None:
    for route in ROUTES:
        for role in ROLES:
            assert expected(route, role), route
    assert not set(EXPECTED) - set(ROUTES), "expectations for routes that no longer exist"


def object_pk(app_label: str, model_name: str) -> str:
    return str(apps.get_model(app_label, model_name)._default_manager.order_by("pk")[0].pk)


def concrete(route: str, world: World, other: SegmentationRun) -> str:
    values = {
        "<str:member_id>": "m0",
        "<str:external_id>": "m0",
        "<str:item_id>": world.items[0].external_id,
        "<int:segment_id>": str(world.segments[0].pk),
        "<int:pk>": str(world.segments[0].pk),
        "<int:run_id>": str(world.run.pk),
        "<int:other_id>": str(other.pk),
        "<uidb64>": "MQ",
        "<token>": "set-password",
        "<path:content_type_id>": str(ContentType.objects.get_for_model(world.members[0]).pk),
        "^(?P<app_label>auth|authtoken|axes|catalog|segments)/$": "catalog/",
        "(?P<url>.*)$": "nothing/",
        "<id>": str(get_user_model().objects.order_by("pk")[0].pk),
    }
    if route.startswith("admin/r/"):
        values["<path:object_id>"] = str(world.members[0].pk)
    elif "<path:object_id>" in route:
        app_label, model_name = route.split("/")[1:3]
        values["<path:object_id>"] = object_pk(app_label, model_name)
    url = "/" + route
    for placeholder, value in values.items():
        url = url.replace(placeholder, value)
    assert not re.search(r"[<>^$]", url), url
    return url


def observed(response) -> int | str:
    location = response.get("Location", "")
    if response.status_code == 302 and location.startswith("/accounts/login/"):
        return LOGIN
    if response.status_code == 302 and location.startswith("/admin/login/"):
        return ADMIN_LOGIN
    return response.status_code


@pytest.fixture
def world(client: Client, settings) -> World:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    world = make_world()
    # Rows for the admin's login records: one failed and one successful sign-in, for real.
    get_user_model().objects.create_user("someone", password="the right one")
    client.post("/accounts/login/", {"username": "someone", "password": "the right one"})
    client.logout()
    client.post("/accounts/login/", {"username": "someone", "password": "wrong"})
    Token.objects.create(user=get_user_model().objects.get(username="someone"))
    call_command("grant_reader", "someone", stdout=StringIO())  # the readers group exists
    return world


def make_role(role: str) -> AbstractUser | None:
    return {
        "anonymous": lambda: None,
        "no-permission": lambda: make_user("nobody"),
        "reader": lambda: make_reader("reader"),
        "staff": lambda: make_user("boss", staff=True),
    }[role]()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES)
def test_route_answers_each_role_as_documented(
    client: Client, world: World, route: str, role: str
) -> None:
    other = make_run(active=False)
    user = make_role(role)
    if user is not None:
        client.force_login(user)
    url = concrete(route, world, other)
    want = expected(route, role)
    got = {}
    for method in want:
        kwargs = {"content_type": "application/json", "data": "{}"} if method != "GET" else {}
        got[method] = observed(getattr(client, method.lower())(url, **kwargs))
        if user is not None and route.endswith("logout/"):
            client.force_login(user)  # a logout ends the session the next method needs
    assert got == want, url


def test_admin_registry_is_what_the_admin_expectations_cover() -> None:
    registered = {model._meta.label for model in admin_site._registry}
    assert NO_ADD | NO_CHANGE <= registered
