"""Helpers for the import tests: a snapshot of every imported row, to prove a rollback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from catalog.models import Item, Member, Rating

Snapshot = dict[str, list[Any]]


def _snapshot() -> Snapshot:
    ratings = Rating.objects.order_by("member__external_id", "item__external_id")
    return {
        "members": [m.to_dict() for m in Member.objects.order_by("external_id")],
        "items": [i.to_dict() for i in Item.objects.order_by("external_id")],
        "ratings": list(
            ratings.values_list("member__external_id", "item__external_id", "value", "rated_at")
        ),
    }


@pytest.fixture
def db_snapshot() -> Callable[[], Snapshot]:
    """Call it to get every member, item and rating as plain values, in a stable order."""
    return _snapshot
