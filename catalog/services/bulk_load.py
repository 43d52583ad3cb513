"""Loading a large set of rows into an empty PostgreSQL table: indexes built once, after.

Inserting 50M ratings row by row into a table with a unique index, a second index and two
foreign keys maintains three b-trees and runs two key lookups per row. Into an empty table
the same rows go in faster with those dropped first and rebuilt at the end: each index is
built by one sort, each foreign key is checked by one join. Everything happens inside the
caller's transaction, so a failure (a duplicate pair refusing the unique constraint, say)
rolls back the rows and the dropped definitions together.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.models import Model

# Sorting 50M index entries in memory instead of on disk (PostgreSQL's default is 64 MB).
INDEX_BUILD_MEMORY = "1GB"


def table_is_empty(model: type[Model]) -> bool:
    """Whether ``model``'s table holds no row, and then locks it (``ACCESS EXCLUSIVE``, until
    the transaction ends) so that it stays empty for :func:`indexes_built_after`: another
    import that saw it empty at the same time waits, then finds it full."""
    table = connection.ops.quote_name(model._meta.db_table)
    query = f"SELECT NOT EXISTS (SELECT 1 FROM {table})"
    with connection.cursor() as cursor:
        cursor.execute(query)
        if not cursor.fetchone()[0]:
            return False
        cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(query)
        return bool(cursor.fetchone()[0])


@contextmanager
def indexes_built_after(model: type[Model]) -> Iterator[None]:
    """Drop ``model``'s unique and foreign-key constraints and its other indexes (the
    primary key stays), run the block, then create them again under the same names and
    definitions. Must run inside a transaction; ``ACCESS EXCLUSIVE`` on the table until
    it commits, so readers of the table wait for the load."""
    if not connection.in_atomic_block:
        raise RuntimeError("indexes_built_after: run inside transaction.atomic()")
    table = model._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # Unique constraints first, so duplicates are refused before keys are looked up.
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') "
            "ORDER BY contype = 'f', conname",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid) "
            "ORDER BY i.relname",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _ in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
        for name, definition in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        for _, definition in indexes:
            cursor.execute(definition)
