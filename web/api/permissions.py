"""The API's side of web.access: reads ask view permissions, writes a staff account too."""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from web import access


class HasPermissions(BasePermission):
    perms: tuple[str, ...] = ()
    staff_only = False

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if self.staff_only and not user.is_staff:
            return False
        return user.has_perms(self.perms)


class ReadsMembers(HasPermissions):
    perms = access.MEMBER_DATA
    message = "Reading members' data needs read access (manage.py grant_reader)."


class ReadsSegments(HasPermissions):
    perms = access.SEGMENTS
    message = "Reading segments needs read access (manage.py grant_reader)."


class ReadsSegmentMembers(HasPermissions):
    perms = access.SEGMENT_MEMBERS
    message = "Reading a segment's members needs read access (manage.py grant_reader)."


class ReadsRuns(HasPermissions):
    perms = access.RUNS
    message = "Reading runs needs read access (manage.py grant_reader)."


class StartsRuns(HasPermissions):
    """A run costs the worker minutes to hours: staff who may add runs in the admin."""

    perms = access.START_RUN
    staff_only = True
    message = "Only staff users can start a segmentation run."


class AddsMembers(HasPermissions):
    """Adding or placing members changes what is served: staff, like runs."""

    perms = access.ADD_MEMBER
    staff_only = True
    message = "Only staff users can add or place members."


class PlacesMembers(AddsMembers):
    perms = access.PLACE_MEMBER
