from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


class IsStaffForWrites(BasePermission):
    """Any signed-in user may read; only staff may start work (a run costs hours of compute)."""

    message = "Only staff users can start a segmentation run."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_staff)


class IsStaffForMemberWrites(IsStaffForWrites):
    """Adding or placing members changes what is served: staff only, like runs."""

    message = "Only staff users can add or place members."
