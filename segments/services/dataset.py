"""Reading members, items and ratings out of the database as arrays for the numeric core."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from segments.ml.texts import display_title
from segments.models import Item, Member, Rating

CHUNK = 50_000


@dataclass
class Dataset:
    """Everything the pipeline needs, indexed 0..n-1; ``member_pks[i]`` is row i's database id."""

    member_pks: np.ndarray
    member_fields: dict[str, list[Any]]
    item_pks: np.ndarray
    item_fields: dict[str, list[Any]]
    users: np.ndarray
    items: np.ndarray
    values: np.ndarray
    timestamps: np.ndarray

    @property
    def n_members(self) -> int:
        return len(self.member_pks)

    @property
    def n_items(self) -> int:
        return len(self.item_pks)

    def item_titles(self) -> list[str]:
        fields = self.item_fields
        return [display_title(t, y) for t, y in zip(fields["title"], fields["year"], strict=True)]

    def ratings_matrix(self) -> sp.csr_matrix:
        return sp.csr_matrix(
            (self.values, (self.users, self.items)),
            shape=(self.n_members, self.n_items),
            dtype=np.float32,
        )

    def timestamps_matrix(self) -> sp.csr_matrix:
        return sp.csr_matrix(
            (self.timestamps, (self.users, self.items)),
            shape=(self.n_members, self.n_items),
            dtype=np.float64,
        )


MEMBER_FIELDS = ("external_id", "age", "gender", "occupation", "location", "profile")
ITEM_FIELDS = ("external_id", "title", "year", "genres", "description")


def dataset_load() -> Dataset:
    member_pks, member_fields = _columns(Member.objects.order_by("id"), MEMBER_FIELDS)
    item_pks, item_fields = _columns(Item.objects.order_by("id"), ITEM_FIELDS)
    users, items, values, timestamps = _ratings(member_pks, item_pks)
    return Dataset(
        member_pks, member_fields, item_pks, item_fields, users, items, values, timestamps
    )


def _columns(queryset: Any, names: tuple[str, ...]) -> tuple[np.ndarray, dict[str, list[Any]]]:
    pks: list[int] = []
    columns: dict[str, list[Any]] = {name: [] for name in names}
    for row in queryset.values_list("id", *names).iterator(chunk_size=CHUNK):
        pks.append(row[0])
        for name, value in zip(names, row[1:], strict=True):
            columns[name].append(value)
    return np.asarray(pks, dtype=np.int64), columns


def _ratings(
    member_pks: np.ndarray, item_pks: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    # Preallocated arrays filled chunk by chunk keep memory at ~24 bytes a rating.
    total = Rating.objects.count()
    member_pk_all = np.empty(total, dtype=np.int64)
    item_pk_all = np.empty(total, dtype=np.int64)
    values = np.empty(total, dtype=np.float32)
    timestamps = np.zeros(total, dtype=np.float64)
    rows = Rating.objects.values_list("member_id", "item_id", "value", "rated_at")
    n = 0
    for n, (member_pk, item_pk, value, rated_at) in enumerate(rows.iterator(chunk_size=CHUNK)):
        if n >= total:
            break
        member_pk_all[n], item_pk_all[n], values[n] = member_pk, item_pk, value
        timestamps[n] = rated_at.timestamp() if rated_at else 0.0
    seen = min(total, n + 1) if total else 0
    users = np.searchsorted(member_pks, member_pk_all[:seen])
    items = np.searchsorted(item_pks, item_pk_all[:seen])
    return users, items, values[:seen], timestamps[:seen]
