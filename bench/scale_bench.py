"""Time and peak memory of the numeric pipeline on synthetic data at a chosen scale.

    .venv/bin/python bench/scale_bench.py --members 20000 --items 3000 --ratings-per-member 50

Django-free. Data are drawn with numpy (not tests/support/planted.py, which is far slower):
members belong to latent taste groups that prefer their own slice of a power-law catalogue.
Item embeddings are random unit vectors (dim 384) clustered by group; no text model is run,
and there are no profile embeddings (the "profile" feature weight is 0).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

T0 = time.perf_counter()  # so the first row times the project imports below
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml.data import MemberData
from ml.recommenders.tuning import FitContext, fit_with_cold_start
from ml.segmentation.features import (
    DEFAULT_FEATURE_WEIGHTS,
    DemographicEncoder,
)
from ml.segmentation.recipe import SegmentationRecipe

GROUPS = 10
DIM = 384
BATCH = 1000
TOP_K = 20
GENRES = "Action Adventure Animation Comedy Crime Documentary Drama Fantasy Horror Musical".split()
OCCUPATIONS = [f"occupation_{i:02d}" for i in range(20)]


def synthetic(n_members: int, n_items: int, per_member: int, seed: int = 0) -> MemberData:
    """Members with planted group tastes; (member, item) pairs are unique, times increase."""
    rng = np.random.default_rng(seed)
    member_group = rng.integers(GROUPS, size=n_members)
    item_group = rng.integers(GROUPS, size=n_items)
    popularity = 1.0 / rng.permutation(np.arange(1, n_items + 1)) ** 0.8
    counts = rng.integers(per_member // 2, per_member * 3 // 2 + 1, size=n_members)
    cold = rng.random(n_members) < 0.05  # a few members below min_ratings, to be classified
    counts[cold] = rng.integers(0, 5, size=int(cold.sum()))
    users = np.repeat(np.arange(n_members), counts)
    items = rng.choice(n_items, size=len(users), p=popularity / popularity.sum())
    in_group = rng.random(len(users)) < 0.7
    for g in range(GROUPS):
        pool = np.flatnonzero(item_group == g)
        rows = np.flatnonzero(in_group & (member_group[users] == g))
        p = popularity[pool] / popularity[pool].sum()
        items[rows] = rng.choice(pool, size=len(rows), p=p)
    keys = np.unique(users * n_items + items)
    users, items = keys // n_items, keys % n_items
    order = np.lexsort((rng.random(len(users)), users))
    users, items = users[order], items[order]
    liked = item_group[items] == member_group[users]
    values = np.clip(np.rint(3 + liked + rng.normal(0, 0.8, len(users))), 1, 5)
    starts = np.r_[0, np.cumsum(np.bincount(users, minlength=n_members))[:-1]]
    position = np.arange(len(users)) - starts[users]
    first = rng.integers(9e8, 1.6e9, size=n_members)
    timestamps = first[users] + position * 3600 + rng.integers(0, 3000, len(users))
    centres = rng.normal(size=(GROUPS, DIM))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    embeddings = centres[item_group] + rng.normal(0, 1.2 / np.sqrt(DIM), (n_items, DIM))
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    n_genres = rng.integers(1, 4, size=n_items)
    return MemberData(
        users=users.astype(np.int64),
        items=items.astype(np.int64),
        values=values.astype(np.float32),
        timestamps=timestamps.astype(np.float64),
        n_members=n_members,
        n_items=n_items,
        ages=[int(a) for a in rng.integers(15, 75, n_members)],
        genders=list(rng.choice(["M", "F"], n_members)),
        occupations=list(rng.choice(OCCUPATIONS, n_members)),
        item_genres=[list(rng.choice(GENRES, n, replace=False)) for n in n_genres],
        item_embeddings=embeddings.astype(np.float32),
        profile_embeddings=None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=3_000)
    parser.add_argument("--ratings-per-member", type=int, default=50)
    parser.add_argument("--recommender", default="blend")
    args = parser.parse_args()
    rows: list[tuple[str, float, float]] = []
    clock = [T0]

    def mark(stage: str) -> None:
        now = time.perf_counter()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        rows.append((stage, now - clock[0], peak_mb))
        print(f"  done: {stage} ({now - clock[0]:.1f}s)", flush=True)
        clock[0] = now

    mark("start (imports)")
    data = synthetic(args.members, args.items, args.ratings_per_member)
    mark("synthetic data")

    current = [""]

    def step(name: str) -> None:  # the recipe reports each sub-stage as it begins
        if current[0]:
            mark(current[0])
        current[0] = f"segmentation: {name}"

    weights = {**DEFAULT_FEATURE_WEIGHTS, "profile": 0.0}
    recipe = SegmentationRecipe(k=10, algorithm="minibatch_kmeans", feature_weights=weights)
    result = recipe.fit(data, step=step)
    mark(current[0])
    X = data.ratings()
    T = data.timestamps_matrix()
    demographics = DemographicEncoder().fit_transform(data.demographics())
    context = FitContext(
        timestamps=T,
        segments=result.labels,
        item_embeddings=data.item_embeddings,
        seed=0,
        relabel=None,
    )
    mark("matrices + demographics")
    model = fit_with_cold_start(args.recommender, X, context, demographics=demographics)
    mark(f"fit_with_cold_start({args.recommender!r})")
    for start in range(0, data.n_members, BATCH):
        model.recommend(np.arange(start, min(start + BATCH, data.n_members)), TOP_K)
    mark(f"recommend top-{TOP_K}, all members, batches of {BATCH}")

    print(
        f"\nmembers={data.n_members} items={data.n_items} ratings={len(data.users)} "
        f"(~{args.ratings_per_member}/member requested) embedding_dim={DIM} k=10 "
        f"algorithm=minibatch_kmeans recommender={args.recommender}"
    )
    print(f"tuning: {context.tuning}")
    print(f"\n{'stage':<52} {'seconds':>9} {'peak RSS MB':>12}")
    for stage, seconds, peak in rows:
        print(f"{stage:<52} {seconds:>9.1f} {peak:>12.0f}")
    total = sum(seconds for _, seconds, _ in rows[1:])
    print(f"{'total (after imports)':<52} {total:>9.1f}")


if __name__ == "__main__":
    main()
