"""List writes against a raw COPY of the same rows (issue 10.2), on a scratch PostgreSQL.

Condition A is the run's write path as ``lists_rebuild`` drives it, batch by batch:
the ranked arrays and reason sentences turned into rows (``list_rows``) and streamed into
one open COPY (``lists_writer``). Condition B is one ``COPY`` of the same rows,
serialised beforehand and not timed. They run interleaved (A B A B ...) into the same
emptied table with the same indexes and foreign keys; ``bulk_create`` (the path before)
runs once for context. Computing the reasons (``ReasonWriter.explain``) is not in either:
it is the recommender's work, timed with the run's stages.

    flock /tmp/segrec-bench.lock .venv/bin/python bench/write_bench.py \
        [--members 100000] [--items 20] [--rounds 3] [--database-url postgres://...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from bench/, like the other benches
    sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/segrec_bench_lists"
TARGET = 0.7
TITLES = 3000


def django_scratch(url: str) -> None:
    """Point Django at the scratch database ``url`` (created and migrated if need be),
    unless Django is already configured, in which case its database is used."""
    import django
    from django.conf import settings

    if not settings.configured:
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segrec_site.settings")
        _create_database(url)
        django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _create_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


def synthetic_lists(
    n_members: int, top_k: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[str]]]:
    """Item positions, scores and reasons shaped like a run's (sentences of the real kinds)."""
    from ml.recommenders.reasons import segment_sentence

    rng = np.random.default_rng(seed)
    items = np.argsort(rng.random((n_members, TITLES)), axis=1)[:, :top_k].astype(np.int64)
    items[rng.random(n_members) < 0.02, -3:] = -1  # a few short lists, as members who rated all
    scores = -np.sort(-rng.random((n_members, top_k), dtype=np.float32), axis=1)
    titles = [f"Title {i} ({1950 + i % 70})" for i in range(TITLES)]
    kinds = rng.integers(0, 4, size=(n_members, top_k))
    seen = rng.integers(0, TITLES, size=(n_members, top_k))

    def reason(kind: int, seen_item: int) -> str:
        if kind == 0:
            return f"because you liked {titles[seen_item]} (4.5 stars)"
        if kind == 1:
            return segment_sentence(f"Crime x{1 + seen_item % 9 / 10:.1f}", 0.34, 3.2)
        if kind == 2:
            return f"new, not rated yet: its description is close to {titles[seen_item]}"
        return f"popular with members overall: rated by {seen_item % 40}% of them"

    why = [
        [reason(k, s) for k, s in zip(kind_row, seen_row, strict=True)]
        for kind_row, seen_row in zip(kinds.tolist(), seen.tolist(), strict=True)
    ]
    return items, scores, why


def _fixture(n_members: int) -> tuple[int, np.ndarray, np.ndarray]:
    """A run, ``n_members`` members and TITLES item pks in the scratch database."""
    from django.db import connection

    from segments.models import SegmentationRun

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE segments_member, segments_item, segments_segmentationrun CASCADE")
        cursor.execute(
            "INSERT INTO segments_member (external_id, gender, occupation, location, profile,"
            " created_at) SELECT 'm' || g, '', '', '', '', now() FROM generate_series(1, %s) g",
            [n_members],
        )
        cursor.execute("SELECT id FROM segments_member ORDER BY id")
        member_pks = np.array([row[0] for row in cursor.fetchall()], dtype=np.int64)
    run = SegmentationRun.objects.create(status="running")
    item_pks = np.arange(1, TITLES + 1, dtype=np.int64) * 7  # pks need not be positions
    return run.pk, member_pks, item_pks


def _empty() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE recommendations_recommendationlist")
        cursor.execute("CHECKPOINT")  # each round starts with the same dirty-page state


def _timed_path(run_id: int, member_pks, item_pks, items, scores, why, batch: int) -> float:
    from segments.services.lists import list_rows, lists_writer

    _empty()
    started = time.perf_counter()
    with lists_writer(run_id=run_id) as write:  # as lists_rebuild drives it
        for start in range(0, len(member_pks), batch):
            part = slice(start, start + batch)
            write(list_rows(member_pks[part], item_pks, items[part], scores[part], why[part]))
    return time.perf_counter() - started


def _timed_bulk_create(run_id: int, member_pks, item_pks, items, scores, why, batch: int) -> float:
    from django.db import transaction

    from segments.models import RecommendationList
    from segments.services.lists import list_rows

    _empty()
    started = time.perf_counter()
    for start in range(0, len(member_pks), batch):
        part = slice(start, start + batch)
        rows = list_rows(member_pks[part], item_pks, items[part], scores[part], why[part])
        with transaction.atomic():
            RecommendationList.objects.bulk_create(
                RecommendationList(run_id=run_id, member_id=m, entries=e) for m, e in rows
            )
    return time.perf_counter() - started


def _serialised(run_id: int, member_pks, item_pks, items, scores, why) -> list[bytes]:
    """The same rows in COPY text format, in 1 MB pieces, built before the clock starts."""
    import json

    from segments.services.lists import list_rows

    rows = list_rows(member_pks, item_pks, items, scores, why)
    text = "".join(
        f"{run_id}\t{m}\t{json.dumps(e, separators=(',', ':')).replace(chr(92), chr(92) * 2)}\n"
        for m, e in rows
    ).encode()
    return [text[i : i + (1 << 20)] for i in range(0, len(text), 1 << 20)]


def _timed_raw_copy(pieces: list[bytes]) -> float:
    from django.db import connection, transaction

    _empty()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        sql = "COPY recommendations_recommendationlist (run_id, member_id, entries) FROM STDIN"
        with cursor.copy(sql) as copy:
            for piece in pieces:
                copy.write(piece)
    return time.perf_counter() - started


def write_section(
    *, n_members: int = 100_000, top_k: int = 20, rounds: int = 3, url: str = DEFAULT_URL
) -> list[str]:
    django_scratch(url)
    from segments.services.lists import BATCH

    run_id, member_pks, item_pks = _fixture(n_members)
    items, scores, why = synthetic_lists(n_members, top_k)
    args: tuple[Any, ...] = (run_id, member_pks, item_pks, items, scores, why)
    pieces = _serialised(*args)
    megabytes = sum(len(p) for p in pieces) / 1e6
    ours, raw = [], []
    for _ in range(rounds):  # interleaved, so load from other processes hits both alike
        ours.append(_timed_path(*args, batch=BATCH))
        raw.append(_timed_raw_copy(pieces))
    before = _timed_bulk_create(*args, batch=BATCH)
    _empty()
    best_ours, best_raw = min(ours), min(raw)
    ratios = [r / o for o, r in zip(ours, raw, strict=True)]
    status = "met" if best_raw / best_ours >= TARGET else "NOT met"
    return [
        "## List writes: the run's path against a raw COPY of the same rows (issue 10.2)",
        "",
        f"{n_members} members x {top_k} items with reasons ({megabytes:.0f} MB as COPY text), "
        f"batches of {BATCH}, {rounds} interleaved rounds, best of each:",
        "",
        "```",
        f"our path (rows + streamed COPY)  {best_ours:7.2f} s  {n_members / best_ours:9.0f} rows/s",
        f"raw COPY, pre-serialised         {best_raw:7.2f} s  {n_members / best_raw:9.0f} rows/s",
        f"bulk_create (before), once       {before:7.2f} s  {n_members / before:9.0f} rows/s",
        f"ratio ours/COPY (best)           {best_raw / best_ours:7.2f}x  target >= {TARGET}x: "
        f"{status}",
        f"ratio per round                  {' '.join(f'{r:.2f}x' for r in ratios)}",
        f"bulk_create/COPY                 {best_raw / before:7.2f}x",
        "```",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--database-url", default=os.environ.get("SEGREC_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    args = parser.parse_args()
    lines = write_section(
        n_members=args.members, top_k=args.items, rounds=args.rounds, url=args.database_url
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
