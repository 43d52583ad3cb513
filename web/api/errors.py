from __future__ import annotations

from rest_framework import status
from rest_framework.exceptions import APIException


class BadRequest(APIException):
    """A 400 whose message names the parameter that is wrong."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Bad request."
    default_code = "bad_request"


class Conflict(APIException):
    """A 409: the request is fine but the data's state does not allow it yet (no active run)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."
    default_code = "conflict"
