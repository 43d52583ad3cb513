"""Importing members, items and ratings: one transaction, set-based, idempotent.

On PostgreSQL rows stream through ``COPY`` into staging tables and one upsert per table
(``catalog.services.import_copy``); elsewhere (SQLite) they go in batches of
``bulk_create`` (``catalog.services.import_batches``). Either way a refused import leaves
the database as it was, and re-importing the same files writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import DatabaseError, connection, transaction

from catalog.importers import (
    ImportDataError,
    ItemRow,
    MemberRow,
    RatingRow,
    fast_csv,
    items_csv_read,
    members_csv_read,
    movielens_files_find,
    ratings_csv_read,
)
from catalog.importers.fast_csv import PlainRatings
from catalog.models import Item, Member
from catalog.services import import_batches, import_copy
from catalog.services.import_report import EntityCounts, ImportReport, Progress

# Covers MovieLens (1-5, half stars in the larger sets) and 0-5 star scales alike;
# other scales are passed explicitly (the commands' --rating-scale MIN MAX).
DEFAULT_RATING_SCALE = (0.0, 5.0)
__all__ = ["DEFAULT_RATING_SCALE", "EntityCounts", "ImportReport", "csv_import", "dataset_import"]


def dataset_import(
    *,
    members: Iterable[MemberRow],
    items: Iterable[ItemRow],
    ratings: Iterable[RatingRow],
    progress: Progress | None = None,
    rating_scale: tuple[float, float] = DEFAULT_RATING_SCALE,
    ratings_plain: PlainRatings | None = None,
) -> ImportReport:
    """Upsert members, then items, then ratings; any error rolls the whole import back.

    On PostgreSQL each goes through a staging table and one set-based upsert
    (``catalog.services.import_copy``), ratings from ``ratings_plain`` as raw bytes where
    that file allows; elsewhere (SQLite) in batches of ``bulk_create``.
    """
    _scale_check(rating_scale)
    started = time.perf_counter()
    report = ImportReport()
    with transaction.atomic():
        _foreign_keys_check_per_statement()
        if connection.vendor == "postgresql":
            _copy_import(report, members, items, ratings, ratings_plain, rating_scale, progress)
        else:
            with _refusal_reported("members"):
                import_batches.entities_upsert(Member, members, report.members, "members", progress)
            with _refusal_reported("items"):
                import_batches.entities_upsert(Item, items, report.items, "items", progress)
            with _refusal_reported("ratings"):
                import_batches.ratings_upsert(ratings, report.ratings, rating_scale, progress)
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
        ratings_plain=fast_csv.ratings_plain(ratings) if ratings else None,
    )
    report.sources = tuple(path.name for path in paths)
    return report


def _copy_import(
    report: ImportReport,
    members: Iterable[MemberRow],
    items: Iterable[ItemRow],
    ratings: Iterable[RatingRow],
    plain: PlainRatings | None,
    scale: tuple[float, float],
    progress: Progress | None,
) -> None:
    with _refusal_reported("members"):
        counts = import_copy.entities_copy(import_copy.MEMBERS, members, "members", progress)
        report.members = EntityCounts(*counts)
    with _refusal_reported("items"):
        counts = import_copy.entities_copy(import_copy.ITEMS, items, "items", progress)
        report.items = EntityCounts(*counts)
    with _refusal_reported("ratings"):
        counts = import_copy.ratings_copy(ratings, plain, scale, progress)
        report.ratings = EntityCounts(*counts)


@contextmanager
def _refusal_reported(entity: str) -> Iterator[None]:
    """A database error while writing (a constraint, say) as an ImportDataError."""
    try:
        yield
    except DatabaseError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        message = f"the database refused the {entity}, nothing was imported: {reason}"
        raise ImportDataError(message) from error


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
