"""Errors under /api/ leave as JSON, whoever raised them; control characters never reach a view.

DRF already answers its own errors as {"error": ..., "status": N}; Django answers the rest
(a path the URL resolver does not know, a crash, a CSRF failure, a bad Host) with HTML, and
with DEBUG on its technical pages show settings. Those are replaced here for /api/ paths.
A NUL in a path or query would reach PostgreSQL (which refuses it with a 500), so any control
character there is answered 400 first, on every path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from http import HTTPStatus

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template import loader

API_PREFIX = "/api/"
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
MESSAGES = {
    404: "No API endpoint at this path: the endpoints are listed at /api/schema.",
    500: "Internal server error: it has been logged.",
}
BAD_CHARACTERS = "The path or query holds control characters (or is malformed): no id has them."


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def has_control_characters(request: HttpRequest) -> bool:
    if CONTROL_CHARACTERS.search(request.path_info):
        return True
    return any(
        CONTROL_CHARACTERS.search(key) or any(CONTROL_CHARACTERS.search(v) for v in values)
        for key, values in request.GET.lists()
    )


def is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def json_error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message, "status": status}, status=status)


def bad_characters_response(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return json_error(400, BAD_CHARACTERS)
    body: str
    try:
        body = loader.render_to_string("400.html", request=request)
    except loader.TemplateDoesNotExist:
        body = "<h1>Bad Request (400)</h1>"
    return HttpResponseBadRequest(body)


def status_phrase(status: int) -> str:
    try:
        return f"{HTTPStatus(status).phrase}."
    except ValueError:
        return "Error."


def as_json(response: HttpResponse) -> HttpResponse:
    status = response.status_code
    data = getattr(response, "data", None)  # a DRF error rendered as HTML (browsable API)
    if isinstance(data, dict) and "error" in data:
        replacement = JsonResponse(data, status=status)
    else:
        replacement = json_error(status, MESSAGES.get(status) or status_phrase(status))
    for header in ("Allow", "Retry-After", "WWW-Authenticate"):
        if header in response:
            replacement[header] = response[header]
    return replacement


class ApiErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            refused = has_control_characters(request)
        except SuspiciousOperation:  # e.g. too many query fields
            refused = True
        if refused:
            return bad_characters_response(request)
        response = self.get_response(request)
        if is_api(request) and response.status_code >= 400 and not is_json(response):
            return as_json(response)
        return response
