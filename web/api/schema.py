"""What the OpenAPI schema says about errors: one Error component, one description a status."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from web.api.serializers import RunSerializer

ERROR_DESCRIPTIONS = {
    400: "A parameter or the body is invalid (or holds control characters); `error` names it.",
    401: "No credentials, or a wrong token (`Authorization: Token …` or a session).",
    403: "Signed in, but this account may not do this (see the README's Who may read what).",
    404: "Unknown id, no active run yet, or a page past the end.",
    409: "The data's state does not allow it yet (no active run with a placer).",
    429: "Too many requests (or failed token attempts): wait for `Retry-After` seconds.",
}
# Every operation can answer these: authentication, permissions, throttling, bad characters.
COMMON_ERRORS = (400, 401, 403, 429)


class ErrorSerializer(serializers.Serializer):
    """Every API error: {"error": message, "status": N}, with DRF's details for a bad body."""

    error = serializers.CharField()
    status = serializers.IntegerField()
    details = serializers.JSONField(required=False)


class RunQueuedSerializer(ErrorSerializer):
    """503 from POST /api/runs: the run is stored and queued; the broker was unreachable."""

    run = RunSerializer()


def error_responses(*extra: int, notes: dict[int, str] | None = None) -> dict[int, OpenApiResponse]:
    """The error responses of one operation: the common ones, ``extra`` and their descriptions."""
    descriptions = {**ERROR_DESCRIPTIONS, **(notes or {})}
    codes = sorted(set(COMMON_ERRORS + extra))
    return {
        code: OpenApiResponse(ErrorSerializer, description=descriptions[code]) for code in codes
    }


RUN_QUEUED_RESPONSE = OpenApiResponse(
    RunQueuedSerializer,
    description=(
        "The job broker is unreachable: the run is stored, stays queued and starts once the "
        "broker is back (a worker's sweep sends it). Sent with `Retry-After`."
    ),
)


def int_query(name: str, *, low: int, high: int, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {"type": "integer", "minimum": low, "maximum": high},
        OpenApiParameter.QUERY,
        description=description,
    )


def int_path(name: str) -> OpenApiParameter:
    # Django's <int:…> converter matches digits only.
    return OpenApiParameter(name, {"type": "integer", "minimum": 0}, OpenApiParameter.PATH)


MEMBER_ID_PATH = OpenApiParameter(
    "member_id",
    {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[^/]+$"},
    OpenApiParameter.PATH,
    description="the member's own id (`member_id` of the import), a string",
)


def search_query(name: str, *, max_length: int, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {"type": "string", "maxLength": max_length},
        OpenApiParameter.QUERY,
        description=description,
    )


ITEM_ID_PATH = OpenApiParameter(
    "item_id",
    {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[^/]+$"},
    OpenApiParameter.PATH,
    description="the item's own id (`item_id` of the import), a string",
)
