"""The accounts the web tests sign in as."""

from __future__ import annotations

from io import StringIO

from django.contrib.auth.models import AbstractUser
from django.core.management import call_command

from tests.support.factories import make_user


def make_reader(username: str = "analyst") -> AbstractUser:
    """A non-staff account given read access the documented way (manage.py grant_reader)."""
    user = make_user(username)
    call_command("grant_reader", username, stdout=StringIO())
    return user
