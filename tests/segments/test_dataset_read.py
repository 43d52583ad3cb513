"""A run reads ratings through COPY on PostgreSQL and through the ORM elsewhere: the same
arrays either way."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from django.db import connection

from catalog.models import Rating
from segments.services import dataset as dataset_service
from tests.support.factories import make_items, make_members, make_ratings

pytestmark = pytest.mark.django_db


def test_the_copy_read_gives_the_orm_read(monkeypatch) -> None:
    members, items = make_members(7), make_items(9)
    make_ratings(members, items, per_member=4)
    # A rating without a time, a fractional value and a time with seconds' fractions.
    first = Rating.objects.order_by("pk").first()
    Rating.objects.filter(pk=first.pk).update(rated_at=None, value=3.5)
    Rating.objects.exclude(pk=first.pk).update(
        rated_at=datetime(2024, 5, 6, 7, 8, 9, 250_000, tzinfo=UTC)
    )
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")
    monkeypatch.setattr(dataset_service, "COPY_PIECE", 64)  # many pieces, cut mid-stream
    copied = dataset_service.dataset_load().data
    iterated = dataset_service._ratings_iterated()
    order = np.lexsort((copied.items, copied.users))
    pks = dataset_service.dataset_load()
    users = np.searchsorted(pks.member_pks, iterated[0])
    item_rows = np.searchsorted(pks.item_pks, iterated[1])
    other = np.lexsort((item_rows, users))
    assert len(copied.users) == Rating.objects.count() == len(users)
    assert np.array_equal(copied.users[order], users[other])
    assert np.array_equal(copied.items[order], item_rows[other])
    assert np.array_equal(copied.values[order], iterated[2][other])
    assert np.array_equal(copied.timestamps[order], iterated[3][other])
    assert 0.0 in copied.timestamps and 3.5 in copied.values
    assert copied.timestamps.max() == datetime(2024, 5, 6, 7, 8, 9, 250_000, tzinfo=UTC).timestamp()
