"""The API's side of web.access: reads ask view permissions, writes a staff account too."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db.models import Q
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from web import access

# An account's permissions are read once (one query, its own and its groups') and kept in the
# cache for SEGREC_PERMISSION_CACHE_SECONDS; any change of a user's or group's permissions or
# of group memberships made in a process sharing the cache (SEGREC_CACHE_URL) starts afresh
# at once, elsewhere within that time.
PERMISSIONS_VERSION_KEY = "segrec:permissions-version"


def permissions_key(user_pk: Any) -> str:
    return f"segrec:permissions:{user_pk}"


def user_permissions(user: Any) -> frozenset[str]:
    """``app_label.codename`` of every permission the account holds, as ModelBackend reads."""
    key = permissions_key(user.pk)
    found = cache.get_many([PERMISSIONS_VERSION_KEY, key])
    version = found.get(PERMISSIONS_VERSION_KEY, 0)
    stored = found.get(key)
    if stored is not None and stored[0] == version:
        return stored[1]
    rows = Permission.objects.filter(Q(user=user) | Q(group__user=user)).values_list(
        "content_type__app_label", "codename"
    )
    perms = frozenset(f"{app_label}.{codename}" for app_label, codename in rows.distinct())
    ttl = float(getattr(settings, "SEGREC_PERMISSION_CACHE_SECONDS", 30.0))
    cache.set(key, (version, perms), ttl)
    return perms


def holds(user: Any, perms: tuple[str, ...]) -> bool:
    if not user.is_active:
        return False
    return user.is_superuser or set(perms) <= user_permissions(user)


@receiver(m2m_changed, sender=get_user_model().user_permissions.through)
@receiver(m2m_changed, sender=get_user_model().groups.through)
@receiver(m2m_changed, sender=Group.permissions.through)
def forget_permissions(action: str, **_: Any) -> None:
    if action in {"post_add", "post_remove", "post_clear"}:
        cache.set(PERMISSIONS_VERSION_KEY, time.time_ns(), None)


class HasPermissions(BasePermission):
    perms: tuple[str, ...] = ()
    staff_only = False

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if self.staff_only and not user.is_staff:
            return False
        return holds(user, self.perms)


class ReadsMembers(HasPermissions):
    perms = access.MEMBER_DATA
    message = "Reading members' data needs read access (manage.py grant_reader)."


class ReadsSegments(HasPermissions):
    perms = access.SEGMENTS
    message = "Reading segments needs read access (manage.py grant_reader)."


class ReadsSegmentMembers(HasPermissions):
    perms = access.SEGMENT_MEMBERS
    message = "Reading a segment's members needs read access (manage.py grant_reader)."


class ReadsItems(HasPermissions):
    perms = access.ITEMS
    message = "Reading items needs read access (manage.py grant_reader)."


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
