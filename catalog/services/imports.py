"""Writing imported members, items and ratings: one transaction, batched, idempotent.

Rows arrive as iterators from ``catalog.importers`` and are consumed a batch at a time,
so memory holds one batch plus the external-id -> pk maps of members and items. Rows
whose values already match the database are not written at all, which is what makes a
re-import a no-op and lets the report tell created, updated and unchanged apart.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from django.db import connection, models, transaction
from django.db.models.expressions import RawSQL

from catalog.importers import (
    ImportDataError,
    ItemRow,
    MemberRow,
    RatingRow,
    items_csv_read,
    members_csv_read,
    movielens_files_find,
    ratings_csv_read,
)
from catalog.models import Item, Member, Rating

BATCH_SIZE = 5_000
# Covers MovieLens (1-5, half stars in the larger sets) and 0-5 star scales alike;
# other scales are passed explicitly (the commands' --rating-scale MIN MAX).
DEFAULT_RATING_SCALE = (0.0, 5.0)
Progress = Callable[[str, int], None]
T = TypeVar("T")
# The models the import writes; constrained so each one's manager is known.
_EntityModel = TypeVar("_EntityModel", Member, Item)
_ImportModel = TypeVar("_ImportModel", Member, Item, Rating)


@dataclass
class EntityCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class ImportReport:
    members: EntityCounts = field(default_factory=EntityCounts)
    items: EntityCounts = field(default_factory=EntityCounts)
    ratings: EntityCounts = field(default_factory=EntityCounts)
    sources: tuple[str, ...] = ()
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        counts = {name: vars(getattr(self, name)) for name in ("members", "items", "ratings")}
        return {**counts, "sources": list(self.sources), "seconds": round(self.seconds, 3)}

    def lines(self) -> list[str]:
        return [
            f"{name}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
            for name, c in (
                ("members", self.members),
                ("items", self.items),
                ("ratings", self.ratings),
            )
        ]


def dataset_import(
    *,
    members: Iterable[MemberRow],
    items: Iterable[ItemRow],
    ratings: Iterable[RatingRow],
    progress: Progress | None = None,
    rating_scale: tuple[float, float] = DEFAULT_RATING_SCALE,
) -> ImportReport:
    """Upsert members, then items, then ratings; any error rolls the whole import back."""
    _scale_check(rating_scale)
    started = time.perf_counter()
    report = ImportReport()
    with transaction.atomic():
        _foreign_keys_check_per_statement()
        _entities_upsert(Member, members, report.members, "members", progress)
        _entities_upsert(Item, items, report.items, "items", progress)
        _ratings_upsert(ratings, report.ratings, rating_scale, progress)
    report.seconds = time.perf_counter() - started
    return report


def movielens_import(
    *,
    directory: Path,
    progress: Progress | None = None,
    rating_scale: tuple[float, float] = DEFAULT_RATING_SCALE,
) -> ImportReport:
    """Import a MovieLens folder in either the GroupLens or the RecBole layout."""
    files = movielens_files_find(directory)
    members, items, ratings = files.rows()
    report = dataset_import(
        members=members, items=items, ratings=ratings, progress=progress, rating_scale=rating_scale
    )
    report.sources = files.names
    return report


def csv_import(
    *,
    members: Path | None = None,
    items: Path | None = None,
    ratings: Path | None = None,
    progress: Progress | None = None,
    rating_scale: tuple[float, float] = DEFAULT_RATING_SCALE,
) -> ImportReport:
    """Import any of a members, an items and a ratings CSV file."""
    paths = [path for path in (members, items, ratings) if path is not None]
    if not paths:
        raise ImportDataError("nothing to import: give a members, items or ratings file")
    for path in paths:
        if not path.is_file():
            raise ImportDataError("no such file", source=str(path))
    report = dataset_import(
        members=members_csv_read(members) if members else (),
        items=items_csv_read(items) if items else (),
        ratings=ratings_csv_read(ratings) if ratings else (),
        progress=progress,
        rating_scale=rating_scale,
    )
    report.sources = tuple(path.name for path in paths)
    return report


def _foreign_keys_check_per_statement() -> None:
    # Django declares foreign keys DEFERRABLE INITIALLY DEFERRED, so PostgreSQL would queue
    # two checks per rating in memory until commit: gigabytes for 50M ratings.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _scale_check(scale: tuple[float, float]) -> None:
    low, high = scale
    if not low < high:
        raise ImportDataError(
            f"rating scale {low:g}-{high:g}: the minimum must be below the maximum"
        )


def _batches(rows: Iterable[T], size: int = BATCH_SIZE) -> Iterator[list[T]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _chunks(values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _max_params() -> int:
    # SQLite builds may cap bound parameters at 999; PostgreSQL reports no limit.
    return connection.features.max_query_params or 2 * BATCH_SIZE


def _entities_upsert(
    model: type[_EntityModel],
    rows: Iterable[MemberRow | ItemRow],
    counts: EntityCounts,
    entity: str,
    progress: Progress | None,
) -> None:
    first_lines: dict[str, int] = {}
    for batch in _batches(rows):
        _duplicates_reject(batch, first_lines, entity)
        existing = model.objects.in_bulk(
            [row.external_id for row in batch], field_name="external_id"
        )
        writes: dict[frozenset[str], list[_EntityModel]] = defaultdict(list)
        for row in batch:
            values = {name: getattr(row, name) for name in row.provided}
            old = existing.get(row.external_id)
            if old is not None and all(getattr(old, k) == v for k, v in values.items()):
                counts.unchanged += 1
                continue
            if old is None:
                counts.created += 1
            else:
                counts.updated += 1
            writes[row.provided].append(model(external_id=row.external_id, **values))
        for fields, objs in writes.items():
            _upsert(model, objs, unique=["external_id"], fields=fields)
        if progress:
            progress(entity, len(batch))


def _duplicates_reject(
    batch: Sequence[MemberRow | ItemRow], first_lines: dict[str, int], entity: str
) -> None:
    for row in batch:
        first = first_lines.setdefault(row.external_id, row.line)
        if first != row.line:
            raise ImportDataError(
                f"{entity[:-1]} {row.external_id!r} appears twice (first on line {first})",
                source=row.source,
                line=row.line,
                field=row.id_column,
            )


def _upsert(
    model: type[_ImportModel],
    objs: list[_ImportModel],
    *,
    unique: list[str],
    fields: Iterable[str],
) -> None:
    update_fields = sorted(fields)
    if not update_fields:  # rows carrying only an id: nothing to update, only new ones here
        model.objects.bulk_create(objs)
        return
    model.objects.bulk_create(
        objs, update_conflicts=True, unique_fields=unique, update_fields=update_fields
    )


class _PkMap:
    """External id -> pk of members or items, filled a batch at a time as ratings need it."""

    def __init__(self, model: type[Member] | type[Item], label: str) -> None:
        self.model = model
        self.label = label
        self.pks: dict[str, int] = {}

    def load(self, external_ids: Iterable[str]) -> None:
        missing = sorted({key for key in external_ids if key not in self.pks})
        for chunk in _chunks(missing, _max_params()):
            found = self.model.objects.filter(external_id__in=chunk).values_list(
                "external_id", "pk"
            )
            self.pks.update(found)

    def pk(self, external_id: str, row: RatingRow, column: str) -> int:
        try:
            return self.pks[external_id]
        except KeyError:
            message = f"unknown {self.label} {external_id!r}"
            raise ImportDataError(message, source=row.source, line=row.line, field=column) from None


def _ratings_upsert(
    rows: Iterable[RatingRow],
    counts: EntityCounts,
    scale: tuple[float, float],
    progress: Progress | None,
) -> None:
    members, items = _PkMap(Member, "member"), _PkMap(Item, "item")
    for batch in _batches(rows):
        members.load(row.member_id for row in batch)
        items.load(row.item_id for row in batch)
        # A pair given twice keeps its last line, as a later line would win across batches.
        latest = {_rating_key(row, members, items, scale): row for row in batch}
        existing = _ratings_existing(list(latest))
        writes: dict[frozenset[str], list[_RatingValues]] = defaultdict(list)
        for key, row in latest.items():
            old = existing.get(key)
            if old is not None and not _rating_changed(old, row):
                counts.unchanged += 1
                continue
            if old is None:
                counts.created += 1
            else:
                counts.updated += 1
            writes[row.provided].append((*key, row.value, row.rated_at))
        for fields, values in writes.items():
            _ratings_write(values, fields)
        if progress:
            progress("ratings", len(batch))


_RatingValues = tuple[int, int, float, datetime | None]  # member pk, item pk, value, rated_at


def _rating_key(
    row: RatingRow, members: _PkMap, items: _PkMap, scale: tuple[float, float]
) -> tuple[int, int]:
    member_column, item_column, rating_column = row.columns
    low, high = scale
    if not low <= row.value <= high:  # also rejects NaN
        message = f"'{row.value:g}' is out of range {low:g}-{high:g}"
        raise ImportDataError(message, source=row.source, line=row.line, field=rating_column)
    return members.pk(row.member_id, row, member_column), items.pk(row.item_id, row, item_column)


def _rating_changed(old: tuple[float, datetime | None], row: RatingRow) -> bool:
    value, rated_at = old
    if value != row.value:
        return True
    return "rated_at" in row.provided and rated_at != row.rated_at


def _ratings_existing(
    keys: list[tuple[int, int]],
) -> dict[tuple[int, int], tuple[float, datetime | None]]:
    """(value, rated_at) of the stored ratings among (member pk, item pk) pairs."""
    # The ORM has no lookup for pairs of columns short of OR-ing one Q per pair, which
    # SQLite refuses past 1,000 terms, so the pairs go in as a subquery on the unique index.
    found: dict[tuple[int, int], tuple[float, datetime | None]] = {}
    for chunk in _chunks(keys, _max_params() // 2):
        subquery, params = _pairs_subquery(chunk)
        condition = RawSQL(
            f"(member_id, item_id) IN ({subquery})", params, output_field=models.BooleanField()
        )
        rows = Rating.objects.filter(condition).values_list(
            "member_id", "item_id", "value", "rated_at"
        )
        found.update(((m, i), (value, rated_at)) for m, i, value, rated_at in rows)
    return found


def _pairs_subquery(pairs: Sequence[tuple[int, int]]) -> tuple[str, list[Any]]:
    if connection.vendor == "postgresql":
        # Two array parameters instead of two per pair: psycopg binds them many times faster.
        return "SELECT * FROM unnest(%s::bigint[], %s::bigint[])", [
            list(c) for c in zip(*pairs, strict=True)
        ]
    # SQLite searches the index only when the VALUES list sits in a subquery like this.
    values = ", ".join(["(%s, %s)"] * len(pairs))
    params = [pk for pair in pairs for pk in pair]
    return f"SELECT column1, column2 FROM (VALUES {values}) AS pairs", params


def _ratings_write(ratings: list[_RatingValues], fields: frozenset[str]) -> None:
    if connection.vendor != "postgresql":
        objs = [Rating(member_id=m, item_id=i, value=v, rated_at=t) for m, i, v, t in ratings]
        _upsert(Rating, objs, unique=["member", "item"], fields=fields)
        return
    # Arrays through unnest skip building 5,000 model instances and binding 20,000
    # parameters a batch: on PostgreSQL this halves the time of a large import.
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in sorted(fields))
    sql = (
        f"INSERT INTO {Rating._meta.db_table} (member_id, item_id, value, rated_at) "
        "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::float8[], %s::timestamptz[]) "
        f"ON CONFLICT (member_id, item_id) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(column) for column in zip(*ratings, strict=True)])
