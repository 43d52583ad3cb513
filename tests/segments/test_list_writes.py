"""Lists written by COPY (PostgreSQL) read back exactly as bulk_create writes them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.db import connection

from segments.models import RecommendationList, RunStatus
from segments.services.lists import list_rows, lists_store, lists_writer
from tests.support.factories import make_members, make_run
from tests.support.processes import ROOT

# Reasons with everything COPY's text format escapes, JSON escapes, or both.
REASONS = [
    "because you liked Alien (4.5 stars)",
    'a back\\slash, a "quote", a\ttab and a\nnewline',
    "non-ASCII: Amélie, 東京物語, emoji 🎬",
    "\\N looks like COPY's NULL",
    "",
]


def _rows(member_pks: list[int]) -> list:
    n, k = len(member_pks), len(REASONS)
    items = np.tile(np.arange(k), (n, 1))
    items[0, -2:] = -1  # a short list: padding is left out
    scores = np.linspace(1, 0, n * k, dtype=np.float32).reshape(n, k)
    why = [list(REASONS) for _ in range(n)]
    item_pks = np.arange(k, dtype=np.int64) * 10 + 3
    return list_rows(np.array(member_pks), item_pks, items, scores, why)


def _lists(run) -> dict[int, list]:
    return {r.member_id: r.entries for r in RecommendationList.objects.filter(run=run)}


def _bulk_created(run, rows) -> dict[int, list]:
    RecommendationList.objects.bulk_create(
        RecommendationList(run=run, member_id=m, entries=e) for m, e in rows
    )
    return _lists(run)


@pytest.mark.django_db(transaction=True)
def test_copied_lists_read_back_as_bulk_created_ones():
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")
    rows = _rows([m.pk for m in make_members(4)])
    copied, reference = make_run(active=False), make_run(active=False)
    with lists_writer(run_id=copied.pk) as write:  # its own connection, as in a run
        write(rows[:2])
        write(rows[2:])

    assert _lists(copied) == _bulk_created(reference, rows)
    assert len(_lists(copied)[rows[0][0]]) == len(REASONS) - 2


@pytest.mark.django_db
def test_batch_stored_inside_a_transaction_reads_back_the_same():
    # Inside a transaction (here the test's) the batch goes through Django's connection.
    rows = _rows([m.pk for m in make_members(3)])
    stored, reference = make_run(active=False), make_run(active=False)
    lists_store(stored.pk, rows)

    assert _lists(stored) == _bulk_created(reference, rows)
    assert _lists(stored)[rows[1][0]][1] == [13, pytest.approx(4 / 7, abs=1e-5), REASONS[1]]


@pytest.mark.django_db(transaction=True)
def test_failed_list_writing_leaves_no_rows():
    rows = _rows([m.pk for m in make_members(3)])
    run = make_run(active=False, status=RunStatus.RUNNING)
    with pytest.raises(RuntimeError), lists_writer(run_id=run.pk) as write:
        write(rows)
        raise RuntimeError("the recommender failed half way")

    assert not RecommendationList.objects.filter(run=run).exists()


SQLITE_SCRIPT = """
import numpy as np
from catalog.models import Member
from segments.models import RecommendationList, SegmentationRun
from segments.services.lists import list_rows, lists_writer
members = [Member.objects.create(external_id=f"m{i}").pk for i in range(3)]
run = SegmentationRun.objects.create()
items = np.array([[0, 1, -1], [1, 0, 2], [2, 1, 0]])
scores = np.array([[0.9, 0.5, 0.0], [0.8, 0.7, 0.6], [0.3, 0.2, 0.1]], dtype=np.float32)
why = [["a\\\\b", "tab\\there", ""], ["x", "y", "z"], ["é", "\\\\N", "q"]]
rows = list_rows(np.array(members), np.array([7, 8, 9]), items, scores, why)
with lists_writer(run_id=run.pk) as write:
    write(rows)
stored = {r.member_id: r.entries for r in RecommendationList.objects.filter(run=run)}
assert stored[members[0]] == [[7, 0.9, "a\\\\b"], [8, 0.5, "tab\\there"]], stored
assert len(stored) == 3 and stored[members[2]][1] == [8, 0.2, "\\\\N"], stored
print("sqlite lists ok")
"""


def test_lists_are_bulk_created_on_sqlite(tmp_path: Path):
    # The suite's database is PostgreSQL: a fresh SQLite one in a child process, as the
    # laptop runs it (no DATABASE_URL, no broker).
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env["SEGREC_VAR_DIR"] = str(tmp_path)
    for args in (["migrate", "--noinput"], ["shell", "-c", SQLITE_SCRIPT]):
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    assert "sqlite lists ok" in done.stdout
