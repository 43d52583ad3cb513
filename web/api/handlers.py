"""Every API error is JSON with a message: {"error": "...", "status": N}."""

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler


def json_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    if isinstance(detail, dict) and set(detail) == {"detail"}:
        message = str(detail["detail"])
        details = None
    else:
        message = "Invalid request."
        details = detail
    body: dict[str, Any] = {"error": message, "status": response.status_code}
    if details is not None:
        body["details"] = details
    response.data = body
    return response
