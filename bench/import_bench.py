"""Import speed side by side: `csv_import` of N ratings against a COPY-plus-upsert reference.

The reference does the same work with no validation at all: a raw `COPY` of the ratings
file into a staging table, then one `INSERT ... SELECT ... ON CONFLICT DO UPDATE` mapping
external ids to pks by join into the same table (unique index, foreign keys). Rounds are
interleaved (ours, reference, ours, reference) on a fresh scratch database each, with the
same members and items already imported, so a busy machine slows both alike; the ratio is
the median round's. Run alone or from `make bench`:

    .venv/bin/python bench/import_bench.py [--ratings 1000000] [--rounds 3] [--keep DIR]

The scratch database is SEGREC_BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/segrec_import_bench); it is dropped and recreated.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.9
TARGET_50M_MINUTES = 20.0
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/segrec_import_bench"
RATINGS_PER_MEMBER = 50
_ITEM_STRIDE = 37  # items of one member: start + j * stride (mod items), all distinct


def dataset_write(folder: Path, *, n_ratings: int, seed: int = 0) -> dict[str, Path]:
    """members.csv, items.csv and ratings.csv of a synthetic catalogue with n_ratings."""
    rng = np.random.default_rng(seed)
    n_members = max(1, -(-n_ratings // RATINGS_PER_MEMBER))
    n_items = max(_ITEM_STRIDE * RATINGS_PER_MEMBER + 1, n_ratings // 200) | 1
    if n_items % _ITEM_STRIDE == 0:
        n_items += 2
    paths = {name: folder / f"{name}.csv" for name in ("members", "items", "ratings")}
    _members_write(paths["members"], n_members, rng)
    _items_write(paths["items"], n_items, rng)
    _ratings_write(paths["ratings"], n_ratings, n_members, n_items, rng)
    return paths


def _members_write(path: Path, n: int, rng: np.random.Generator) -> None:
    ages = rng.integers(16, 80, n)
    genders = np.array(["F", "M", ""])[rng.integers(0, 3, n)]
    with path.open("w") as out:
        out.write("member_id,age,gender,occupation,location\n")
        for i in range(n):
            out.write(f"m{i},{ages[i]},{genders[i]},job{i % 21},city{i % 97}\n")


def _items_write(path: Path, n: int, rng: np.random.Generator) -> None:
    years = rng.integers(1950, 2025, n)
    with path.open("w") as out:
        out.write("item_id,title,year,genres\n")
        for i in range(n):
            out.write(f"i{i},Item number {i},{years[i]},Drama|G{i % 17}\n")


def _ratings_write(
    path: Path, n: int, n_members: int, n_items: int, rng: np.random.Generator
) -> None:
    chunk = 1_000_000
    with path.open("w") as out:
        out.write("member_id,item_id,rating,timestamp\n")
        for start in range(0, n, chunk):
            k = np.arange(start, min(n, start + chunk))
            member = k // RATINGS_PER_MEMBER
            offset = (member * 7919) % n_items
            item = (offset + (k % RATINGS_PER_MEMBER) * _ITEM_STRIDE) % n_items
            value = rng.integers(1, 11, len(k)) / 2
            stamp = rng.integers(946_684_800, 1_700_000_000, len(k))
            out.write(
                "".join(
                    f"m{m},i{i},{v:g},{t}\n"
                    for m, i, v, t in zip(
                        member.tolist(), item.tolist(), value.tolist(), stamp.tolist(), strict=True
                    )
                )
            )


def import_section(
    *, n_ratings: int = 1_000_000, rounds: int = 2, keep: Path | None = None
) -> list[str]:
    """Markdown lines: our import against the reference on the same rows, interleaved."""
    with tempfile.TemporaryDirectory(prefix="segrec-import-") as scratch:
        folder = keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        paths = _dataset(folder, n_ratings)
        _django_setup()
        from catalog.services.imports import csv_import

        report = csv_import(members=paths["members"], items=paths["items"])
        ours: list[float] = []
        reference: list[float] = []
        for _ in range(rounds):
            _ratings_truncate()
            ours.append(_timed(lambda: csv_import(ratings=paths["ratings"])))
            _ratings_truncate()
            reference.append(_timed(lambda: _reference_import(paths["ratings"])))
        # Into the full table: our upsert (every row unchanged) against the reference's.
        again = _timed(lambda: csv_import(ratings=paths["ratings"]))
        reference_again = _timed(lambda: _reference_import(paths["ratings"]))
    ratios = [r / o for o, r in zip(ours, reference, strict=True)]
    ratio, best = statistics.median(ratios), min(ours)
    minutes_50m = best / n_ratings * 50_000_000 / 60
    return [
        "## Import: `import_csv` against COPY into staging plus one upsert, same rows",
        "",
        f"{n_ratings:,} synthetic ratings ({report.members.created:,} members, "
        f"{report.items.created:,} items, seed 0) on PostgreSQL; rounds interleaved "
        f"(ours, reference) x {rounds}, fresh ratings table each.",
        "",
        "| | seconds (each round) | rows/s (best) |",
        "|---|---|---|",
        f"| ours: `csv_import` | {_seconds(ours)} | {n_ratings / best:,.0f} |",
        f"| reference: COPY + INSERT ... SELECT ... ON CONFLICT | {_seconds(reference)} | "
        f"{n_ratings / min(reference):,.0f} |",
        f"| ours again into the full table: every row unchanged, nothing written | "
        f"{again:.1f} | {n_ratings / again:,.0f} |",
        f"| reference again into the full table: every row rewritten | {reference_again:.1f} | "
        f"{n_ratings / reference_again:,.0f} |",
        "",
        "Into an empty table ours inserts without its indexes and keys and builds them after "
        "(`catalog.services.bulk_load`); into a full one it upserts, like the reference.",
        "",
        f"Ratio (reference time / ours, median round, empty table): **{ratio:.2f}x** "
        f"(target >= {TARGET_RATIO}x); into the full table {reference_again / again:.2f}x, where "
        "ours skips the rows that did not change. 50M ratings extrapolated linearly from this run: "
        f"{minutes_50m:.1f} min (target <= {TARGET_50M_MINUTES:.0f} min); bench/SCALE.md has "
        "a measured import of 50M ratings with 1M members (bench/scale_e2e.py).",
        "",
    ]


def _dataset(folder: Path, n_ratings: int) -> dict[str, Path]:
    stamp = folder / f"generated-{n_ratings}"
    if stamp.exists():
        return {name: folder / f"{name}.csv" for name in ("members", "items", "ratings")}
    paths = dataset_write(folder, n_ratings=n_ratings)
    stamp.touch()
    return paths


def _django_setup() -> None:
    import django
    import psycopg

    url = os.environ.get("SEGREC_BENCH_DATABASE_URL", DEFAULT_URL)
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segrec_site.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _seconds(values: list[float]) -> str:
    return ", ".join(f"{value:.1f}" for value in values)


def _ratings_truncate() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE segments_rating")
        cursor.execute("CHECKPOINT")


def _reference_import(path: Path) -> None:
    """No validation: the file's bytes into a staging table, then one upsert by join."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "CREATE TEMPORARY TABLE reference_stage "
            "(member text, item text, value float8, ts bigint) ON COMMIT DROP"
        )
        copy_sql = "COPY reference_stage FROM STDIN (FORMAT csv, HEADER true)"
        with path.open("rb") as handle, cursor.cursor.copy(copy_sql) as copy:
            while block := handle.read(4 << 20):
                copy.write(block)
        cursor.execute(
            "INSERT INTO segments_rating (member_id, item_id, value, rated_at) "
            "SELECT m.id, i.id, s.value, to_timestamp(s.ts) FROM reference_stage s "
            "JOIN segments_member m ON m.external_id = s.member "
            "JOIN segments_item i ON i.external_id = s.item "
            "ON CONFLICT (member_id, item_id) DO UPDATE "
            "SET value = EXCLUDED.value, rated_at = EXCLUDED.rated_at"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="write/reuse the CSVs here")
    args = parser.parse_args()
    print("\n".join(import_section(n_ratings=args.ratings, rounds=args.rounds, keep=args.keep)))


if __name__ == "__main__":
    main()
