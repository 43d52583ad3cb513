"""A large synthetic catalogue as the three CSV files `manage.py import_csv` reads.

    .venv/bin/python bench/scale_data.py --members 1000000 --items 100000 \
        --ratings-per-member 50 --out var/scale/1m

Items get English descriptions about one of the planted topics of
tests/support/planted_text.py (space exploration, cooking, ...); members of a topic rate its
items more and higher, so the text model's item vectors carry the taste. A share of members
(``--profile-share``) write a profile about their topic; the rest leave it empty and give no
location, as most members of a real shop do (their profile text is then their demographics
alone: a few thousand distinct sentences). Ratings are drawn with numpy in one pass: a
power-law popularity over the catalogue, 70% of a member's ratings from their topic, unique
(member, item) pairs, increasing timestamps per member. Writing is the slow part (~1 µs a
rating row).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.planted_text import TOPICS, item_fields, member_fields

IN_TOPIC = 0.7
COLD_SHARE = 0.05  # members with 0-4 ratings: placed by the classifier, not clustered
WRITE_CHUNK = 1_000_000


def ratings(
    member_group: np.ndarray, item_group: np.ndarray, per_member: int, rng: np.random.Generator
) -> tuple[np.ndarray, ...]:
    """(users, items, values, timestamps), sorted by member then time."""
    n_members, n_items = len(member_group), len(item_group)
    popularity = 1.0 / rng.permutation(np.arange(1, n_items + 1)) ** 0.8
    counts = rng.integers(per_member // 2, per_member * 3 // 2 + 1, size=n_members)
    cold = rng.random(n_members) < COLD_SHARE
    counts[cold] = rng.integers(0, 5, size=int(cold.sum()))
    users = np.repeat(np.arange(n_members), counts)
    items = rng.choice(n_items, size=len(users), p=popularity / popularity.sum())
    in_group = rng.random(len(users)) < IN_TOPIC
    for g in range(len(TOPICS)):
        pool = np.flatnonzero(item_group == g)
        rows = np.flatnonzero(in_group & (member_group[users] == g))
        p = popularity[pool] / popularity[pool].sum()
        items[rows] = rng.choice(pool, size=len(rows), p=p)
    del in_group
    keys = np.unique(users * n_items + items)  # drops repeated pairs, sorts by member
    users, items = keys // n_items, keys % n_items
    del keys
    order = np.lexsort((rng.random(len(users)), users))  # a random order within each member
    users, items = users[order], items[order]
    liked = item_group[items] == member_group[users]
    values = np.clip(np.rint(3 + liked + rng.normal(0, 0.8, len(users))), 1, 5).astype(np.int8)
    starts = np.r_[0, np.cumsum(np.bincount(users, minlength=n_members))[:-1]]
    position = np.arange(len(users)) - starts[users]
    first = rng.integers(1_500_000_000, 1_700_000_000, size=n_members)
    timestamps = first[users] + position * 3600 + rng.integers(0, 3000, len(users))
    return users, items, values, timestamps


def write(path: Path, header: tuple[str, ...], columns: tuple[list, ...]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(header)
        out.writerows(zip(*columns, strict=True))


def write_ratings(path: Path, users, items, values, timestamps) -> None:  # noqa: ANN001
    with path.open("w", encoding="utf-8") as handle:
        handle.write("member_id,item_id,rating,timestamp\n")
        for start in range(0, len(users), WRITE_CHUNK):
            part = slice(start, start + WRITE_CHUNK)
            handle.write(
                "".join(
                    f"m{u},i{i},{v},{t}\n"
                    for u, i, v, t in zip(
                        users[part].tolist(),
                        items[part].tolist(),
                        values[part].tolist(),
                        timestamps[part].tolist(),
                        strict=True,
                    )
                )
            )


def generate(
    out: Path, *, n_members: int, n_items: int, per_member: int, profile_share: float, seed: int
) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    item_group = rng.integers(len(TOPICS), size=n_items)
    member_group = rng.integers(len(TOPICS), size=n_members)
    titles, years, genres, descriptions = item_fields(rng, item_group)
    write(
        out / "items.csv",
        ("item_id", "title", "year", "genres", "description"),
        (
            [f"i{i}" for i in range(n_items)],
            titles,
            years,
            ["|".join(g) for g in genres],
            descriptions,
        ),
    )
    del titles, years, genres, descriptions
    ages, genders, occupations, _, profiles = member_fields(rng, member_group)
    writes = rng.random(n_members) < profile_share
    profiles = [p if w else "" for p, w in zip(profiles, writes.tolist(), strict=True)]
    write(
        out / "members.csv",
        ("member_id", "age", "gender", "occupation", "location", "profile"),
        (
            [f"m{i}" for i in range(n_members)],
            ages,
            genders,
            occupations,
            [""] * n_members,
            profiles,
        ),
    )
    del ages, genders, occupations, profiles
    users, items, values, timestamps = ratings(member_group, item_group, per_member, rng)
    write_ratings(out / "ratings.csv", users, items, values, timestamps)
    np.save(out / "member_group.npy", member_group)
    return {
        "members": n_members,
        "items": n_items,
        "ratings": len(users),
        "profiles": int(writes.sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--ratings-per-member", type=int, default=50)
    parser.add_argument("--profile-share", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    counts = generate(
        args.out,
        n_members=args.members,
        n_items=args.items,
        per_member=args.ratings_per_member,
        profile_share=args.profile_share,
        seed=args.seed,
    )
    print(f"wrote {counts} to {args.out} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
