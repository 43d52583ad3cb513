"""The database's members, items and ratings, read in one pass and embedded, as the ML
core's input (:class:`ml.data.MemberData`) beside the database ids they came from."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from django.db import connection, transaction

from catalog.models import Item, Member, Rating
from ml.data import MemberData
from ml.text.texts import display_title, item_text, member_profile_text
from segments.services.embeddings import text_encoder_build, texts_embed

CHUNK = 50_000
MEMBER_FIELDS = ("external_id", "age", "gender", "occupation", "location", "profile")
ITEM_FIELDS = ("external_id", "title", "year", "genres", "description")


@dataclass
class Dataset:
    """Everything a run reads, indexed 0..n-1: ``member_pks[i]`` is row i's database id.

    ``data`` is the ML core's view of the same rows; its text embeddings are empty until
    :func:`dataset_load_embedded` fills them. ``stats`` says what embedding cost.
    """

    member_pks: np.ndarray
    member_fields: dict[str, list[Any]]
    item_pks: np.ndarray
    item_fields: dict[str, list[Any]]
    data: MemberData
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def n_members(self) -> int:
        return len(self.member_pks)

    @property
    def n_items(self) -> int:
        return len(self.item_pks)

    def item_titles(self) -> list[str]:
        fields = self.item_fields
        return [display_title(t, y) for t, y in zip(fields["title"], fields["year"], strict=True)]


def dataset_load() -> Dataset:
    """Members, items and ratings as arrays, without text embeddings, from one snapshot.

    The three tables are read in one REPEATABLE READ transaction, so an import committing
    meanwhile is either wholly in the run or wholly out of it (a rating is never read
    without its member). Inside a caller's transaction, that transaction is the snapshot.
    """
    with _snapshot():
        member_pks, members = _columns(Member.objects.order_by("id"), MEMBER_FIELDS)
        item_pks, items = _columns(Item.objects.order_by("id"), ITEM_FIELDS)
        users, item_rows, values, timestamps = _ratings(member_pks, item_pks)
    data = MemberData(
        users=users,
        items=item_rows,
        values=values,
        timestamps=timestamps,
        n_members=len(member_pks),
        n_items=len(item_pks),
        ages=members["age"],
        genders=members["gender"],
        occupations=members["occupation"],
        item_genres=items["genres"],
    )
    return Dataset(member_pks, members, item_pks, items, data)


def dataset_load_embedded(
    *,
    step: Callable[[str], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Dataset:
    """Everything read and embedded; ``step`` hears "load", "embed_items", "embed_profiles".

    Profiles are embedded whatever their clustering weight: they place members with few or
    no ratings and serve them (the cache makes a second run free).
    """
    note = step or (lambda _name: None)
    note("load")
    dataset = dataset_load()
    _require_data(dataset)
    encoder = text_encoder_build()
    note("embed_items")
    item_embeddings, fresh_items = texts_embed(
        texts=_item_texts(dataset), encoder=encoder, progress=progress, fan_out=True
    )
    note("embed_profiles")
    profile_embeddings, fresh_profiles = texts_embed(
        texts=_profile_texts(dataset), encoder=encoder, progress=progress, fan_out=True
    )
    dataset.data = replace(
        dataset.data, item_embeddings=item_embeddings, profile_embeddings=profile_embeddings
    )
    dataset.stats = {
        "text_model": encoder.model_name,
        "device": getattr(encoder, "device_", "none needed: every text was cached"),
        "precision": getattr(encoder, "precision_", "none needed: every text was cached"),
        "precision_probe": getattr(encoder, "probe_", {}),
        "embedded_afresh": {"items": fresh_items, "profiles": fresh_profiles},
    }
    return dataset


@contextmanager
def _snapshot() -> Iterator[None]:
    if connection.in_atomic_block:
        yield
        return
    # SQLite's transactions (IMMEDIATE here) already hold writers off until the read ends.
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _require_data(dataset: Dataset) -> None:
    n_ratings = len(dataset.data.values)
    if dataset.n_members == 0 or dataset.n_items == 0 or n_ratings == 0:
        raise ValueError(
            f"nothing to segment: {dataset.n_members} members, {dataset.n_items} items, "
            f"{n_ratings} ratings; import data first (import_movielens or import_csv)"
        )


def _item_texts(dataset: Dataset) -> list[str]:
    f = dataset.item_fields
    return [
        item_text(title, year, genres, description)
        for title, year, genres, description in zip(
            f["title"], f["year"], f["genres"], f["description"], strict=True
        )
    ]


def _profile_texts(dataset: Dataset) -> list[str]:
    f = dataset.member_fields
    return [
        member_profile_text(age, gender, occupation, location, profile)
        for age, gender, occupation, location, profile in zip(
            f["age"], f["gender"], f["occupation"], f["location"], f["profile"], strict=True
        )
    ]


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
    if connection.vendor == "postgresql":
        member_pk_all, item_pk_all, values, timestamps = _ratings_copied()
    else:
        member_pk_all, item_pk_all, values, timestamps = _ratings_iterated()
    users = np.searchsorted(member_pks, member_pk_all)
    items = np.searchsorted(item_pks, item_pk_all)
    return users, items, values, timestamps


# Text COPY parsed by numpy in pieces of this many bytes: 50M ratings read in ~1/10 the time
# of the ORM's rows, and memory stays at the arrays plus one piece.
COPY_PIECE = 32 << 20
_RATINGS_COPY = (
    f"COPY (SELECT member_id, item_id, value, COALESCE(EXTRACT(EPOCH FROM rated_at), 0) "
    f"FROM {Rating._meta.db_table}) TO STDOUT"
)


def _ratings_copied() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every rating through one ``COPY ... TO STDOUT`` (PostgreSQL), parsed by numpy."""
    pieces: list[np.ndarray] = []
    pending: list[bytes] = []
    size = 0
    with connection.cursor() as cursor, cursor.copy(_RATINGS_COPY) as copy:
        for block in copy:
            pending.append(bytes(block))
            size += len(block)
            if size >= COPY_PIECE:
                text = b"".join(pending)
                cut = text.rindex(b"\n") + 1
                pieces.append(_parsed(text[:cut]))
                pending, size = [text[cut:]], len(text) - cut
    pieces.append(_parsed(b"".join(pending)))
    table = np.concatenate(pieces) if pieces else np.zeros((0, 4))
    return (
        table[:, 0].astype(np.int64),
        table[:, 1].astype(np.int64),
        table[:, 2].astype(np.float32),
        table[:, 3].copy(),
    )


def _parsed(text: bytes) -> np.ndarray:
    # Tabs and newlines are both whitespace to the parser; every column is a number.
    return np.fromstring(text.decode("ascii"), dtype=np.float64, sep=" ").reshape(-1, 4)


def _ratings_iterated() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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
    return member_pk_all[:seen], item_pk_all[:seen], values[:seen], timestamps[:seen]
