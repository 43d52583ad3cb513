"""The PostgreSQL import: ``COPY`` into a staging table, then one set-based upsert per table.

Rows are validated while they stream into a temporary staging table; the upsert then maps
external ids to pks by join and counts what it did from its own ``RETURNING`` (``xmax = 0``
marks a row it inserted; a row whose values already match is neither written nor
returned, so re-importing the same file writes nothing). A plain ratings CSV goes in as
raw bytes (``catalog.importers.fast_csv``) and anything it cannot be sure of, from a bad
line to an unknown id, makes it start over the careful way, which names the line. All of
it runs inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db import DatabaseError, connection, transaction

from catalog.importers import ImportDataError, ItemRow, MemberRow, RatingRow
from catalog.importers.checks import duplicates_reject, rating_error
from catalog.importers.fast_csv import UNIX_MAX, NotPlain, PlainRatings
from catalog.models import Item, Member, Rating
from catalog.services.bulk_load import indexes_built_after, table_is_empty
from catalog.services.import_report import Progress

Counts = tuple[int, int, int]  # created, updated, unchanged
_MEMBER_TYPES = {
    "age": "integer",
    "gender": "text",
    "occupation": "text",
    "location": "text",
    "profile": "text",
}
_ITEM_TYPES = {"title": "text", "year": "integer", "genres": "jsonb", "description": "text"}
_STAGE = "import_stage"
_PROGRESS_ROWS = 50_000
_JOIN_MEMORY = "256MB"


class _Entity:
    """How members or items are staged and upserted."""

    def __init__(self, model: type[Member] | type[Item], types: dict[str, str]) -> None:
        self.table = model._meta.db_table
        self.types = types
        self.fields = tuple(types)
        self.extra = {"created_at": "now()"} if model is Member else {}

    def values(self, row: MemberRow | ItemRow) -> tuple[Any, ...]:
        values = [getattr(row, name) for name in self.fields]
        if isinstance(row, ItemRow):
            values[self.fields.index("genres")] = json.dumps(row.genres)
        return (row.external_id, *values)


MEMBERS = _Entity(Member, _MEMBER_TYPES)
ITEMS = _Entity(Item, _ITEM_TYPES)


def entities_copy(
    entity: _Entity,
    rows: Iterable[MemberRow | ItemRow],
    label: str,
    progress: Progress | None,
) -> Counts:
    """Stage validated members or items and upsert them, one statement per set of columns."""
    columns = ", ".join(f"{name} {kind}" for name, kind in entity.types.items())
    _stage_create(f"external_id text NOT NULL, grp integer NOT NULL, {columns}")
    groups: dict[frozenset[str], list[int]] = {}  # provided fields -> [group, rows]
    first_lines: dict[str, int] = {}

    def staged() -> Iterator[tuple[Any, ...]]:
        for row in rows:
            duplicates_reject([row], first_lines, label)
            group = groups.setdefault(row.provided, [len(groups), 0])
            group[1] += 1
            yield (*entity.values(row), group[0])

    order = ("external_id", *entity.fields, "grp")
    _copy_rows(order, staged(), label, progress)
    created = updated = unchanged = 0
    for provided, (group, count) in groups.items():
        c, u = _entities_apply(entity, sorted(provided), group)
        created, updated, unchanged = created + c, updated + u, unchanged + count - c - u
    _stage_drop()
    return created, updated, unchanged


def _entities_apply(entity: _Entity, provided: list[str], group: int) -> tuple[int, int]:
    names = ["external_id", *entity.fields, *entity.extra]
    selected = ["external_id", *entity.fields, *entity.extra.values()]
    conflict = "DO NOTHING"
    if provided:
        target = ", ".join(f"{entity.table}.{name}" for name in provided)
        excluded = ", ".join(f"EXCLUDED.{name}" for name in provided)
        sets = ", ".join(f"{name} = EXCLUDED.{name}" for name in provided)
        conflict = f"DO UPDATE SET {sets} WHERE ROW({target}) IS DISTINCT FROM ROW({excluded})"
    sql = (
        f"INSERT INTO {entity.table} ({', '.join(names)}) "
        f"SELECT {', '.join(selected)} FROM {_STAGE} WHERE grp = {group} "
        f"ON CONFLICT (external_id) {conflict}"
    )
    return _upsert_counted(sql)


def ratings_copy(
    rows: Iterable[RatingRow],
    plain: PlainRatings | None,
    scale: tuple[float, float],
    progress: Progress | None,
) -> Counts:
    """Stage and upsert ratings: raw bytes where the file is plain, else row by row."""
    if plain is not None:
        try:
            with transaction.atomic():  # a savepoint: a miss leaves nothing behind
                return _ratings_plain(plain, scale, progress)
        except (NotPlain, DatabaseError, _Miss):
            pass  # the careful way below says what is wrong, or finds nothing wrong
    return _ratings_careful(rows, scale, progress)


class _Miss(Exception):
    """The plain path cannot vouch for the file (no rows, say)."""


def _ratings_plain(
    plain: PlainRatings, scale: tuple[float, float], progress: Progress | None
) -> Counts:
    low, high = (f"'{float(bound)!r}'::float8" for bound in scale)
    _stage_create(
        "member text NOT NULL, item text NOT NULL, "
        f"value float8 NOT NULL CHECK (value >= {low} AND value <= {high}), "
        f"ts bigint CHECK (ts < {UNIX_MAX})"
    )
    staged = 0
    with connection.cursor() as cursor, connection.wrap_database_errors:
        columns = ", ".join(plain.staging_columns)
        with cursor.cursor.copy(f"COPY {_STAGE} ({columns}) FROM STDIN (FORMAT csv)") as copy:
            for block in plain.chunks():
                copy.write(block)
                lines = block.count(b"\n")
                staged += lines
                if progress:
                    progress("ratings", lines)
    if not staged:
        raise _Miss
    time_given = "timestamp" in plain.columns
    created, updated = _ratings_apply("to_timestamp(s.ts)", time_given, deduplicate=False)
    _stage_drop()
    return created, updated, staged - created - updated


def _ratings_careful(
    rows: Iterable[RatingRow],
    scale: tuple[float, float],
    progress: Progress | None,
) -> Counts:
    _stage_create(
        "member text NOT NULL, item text NOT NULL, value float8 NOT NULL, "
        "rated_at timestamptz, line bigint NOT NULL, src integer NOT NULL"
    )
    sources: dict[str, RatingRow] = {}  # source -> its first row, for its column names
    provided: set[frozenset[str]] = set()

    def staged() -> Iterator[tuple[str, str, float, datetime | None, int, int]]:
        for row in rows:
            if error := rating_error(row, scale):
                raise error
            sources.setdefault(row.source, row)
            provided.add(row.provided)
            yield row.member_id, row.item_id, row.value, row.rated_at, row.line, len(sources)

    order = ("member", "item", "value", "rated_at", "line", "src")
    _copy_rows(order, staged(), "ratings", progress)
    if not sources:
        _stage_drop()
        return 0, 0, 0
    _unknown_ids_reject(list(sources.values()))
    time_given = all("rated_at" in fields for fields in provided)
    created, updated = _ratings_apply("s.rated_at", time_given, deduplicate=True)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(DISTINCT (member, item)) FROM {_STAGE}")
        distinct = cursor.fetchone()[0]
    _stage_drop()
    return created, updated, distinct - created - updated


def _unknown_ids_reject(first_rows: list[RatingRow]) -> None:
    member, item = Member._meta.db_table, Item._meta.db_table
    sql = (
        f"SELECT s.src, s.line, m.id IS NULL, s.member, s.item FROM {_STAGE} s "
        f"LEFT JOIN {member} m ON m.external_id = s.member "
        f"LEFT JOIN {item} i ON i.external_id = s.item "
        "WHERE m.id IS NULL OR i.id IS NULL ORDER BY s.src, s.line LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        found = cursor.fetchone()
    if found is None:
        return
    src, line, member_unknown, member_id, item_id = found
    first = first_rows[src - 1]
    label, value, column = (
        ("member", member_id, first.columns[0])
        if member_unknown
        else ("item", item_id, first.columns[1])
    )
    raise ImportDataError(
        f"unknown {label} {value!r}", source=first.source, line=line, field=column
    )


def _ratings_apply(rated_at: str, time_given: bool, *, deduplicate: bool) -> tuple[int, int]:
    """(created, updated) of the staged ratings: an upsert, or into an empty table a plain
    insert with its indexes and keys built afterwards (``catalog.services.bulk_load``)."""
    table, member, item = Rating._meta.db_table, Member._meta.db_table, Item._meta.db_table
    # A pair given twice keeps its last line; only the careful way can see lines.
    source = (
        f"(SELECT DISTINCT ON (member, item) * FROM {_STAGE} ORDER BY member, item, line DESC)"
        if deduplicate
        else _STAGE
    )
    # LEFT JOIN: an unknown id becomes a NULL pk that the NOT NULL column refuses, so the
    # plain path needs no separate look for them.
    insert = (
        f"INSERT INTO {table} (member_id, item_id, value, rated_at) "
        f"SELECT m.id, i.id, s.value, {rated_at} FROM {source} s "
        f"LEFT JOIN {member} m ON m.external_id = s.member "
        f"LEFT JOIN {item} i ON i.external_id = s.item"
    )
    with connection.cursor() as cursor:
        # The joins hash a million members' ids: in memory, not in batches on disk.
        cursor.execute(f"SET LOCAL work_mem = '{_JOIN_MEMORY}'")
    if table_is_empty(Rating):
        # A pair staged twice (the plain path does not deduplicate) fails the unique
        # constraint as it is rebuilt, as it would fail the upsert.
        with indexes_built_after(Rating), connection.cursor() as cursor:
            cursor.execute(insert)
            return cursor.rowcount, 0
    fields = ["value", "rated_at"] if time_given else ["value"]
    sets = ", ".join(f"{name} = EXCLUDED.{name}" for name in fields)
    target = ", ".join(f"{table}.{name}" for name in fields)
    excluded = ", ".join(f"EXCLUDED.{name}" for name in fields)
    return _upsert_counted(
        f"{insert} ON CONFLICT (member_id, item_id) DO UPDATE SET {sets} "
        f"WHERE ROW({target}) IS DISTINCT FROM ROW({excluded})"
    )


def _upsert_counted(insert: str) -> tuple[int, int]:
    """(created, updated) by an INSERT ... ON CONFLICT, from its RETURNING."""
    sql = (
        f"WITH done AS ({insert} RETURNING xmax = 0 AS created) "
        "SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM done"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        created, updated = cursor.fetchone()
    return created, updated


def _copy_rows(
    columns: Sequence[str], rows: Iterable[tuple[Any, ...]], label: str, progress: Progress | None
) -> None:
    done = 0
    with connection.cursor() as cursor, connection.wrap_database_errors:
        sql = f"COPY {_STAGE} ({', '.join(columns)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
                done += 1
                if progress and done % _PROGRESS_ROWS == 0:
                    progress(label, _PROGRESS_ROWS)
    if progress and done % _PROGRESS_ROWS:
        progress(label, done % _PROGRESS_ROWS)


def _stage_create(columns: str) -> None:
    _stage_drop()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {_STAGE} ({columns}) ON COMMIT DROP")


def _stage_drop() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{_STAGE}")
