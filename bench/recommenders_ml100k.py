"""Benchmark the recommender core on MovieLens-100K (no Django, no database).

For a temporal split (each member's latest 20% of ratings held out) and a random one (20%
per member at random) it fits every recommender on the training part, tunes what needs
tuning on a validation part carved out of the training part the same way (never the test
part), and prints one table per split at k=10 with the fit time of each model.

    .venv/bin/python bench/recommenders_ml100k.py [--data DIR] [--k 10]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml.evaluation.metrics import ndcg_at_k
from ml.evaluation.report import evaluate, format_table
from ml.evaluation.splits import Split, random_split, temporal_split, validation_split
from ml.recommenders.base import Recommender
from ml.recommenders.blend import Blend, tune_weights
from ml.recommenders.content import ContentRecommender
from ml.recommenders.ease import EASE
from ml.recommenders.item_knn import ItemKNN
from ml.recommenders.popularity import Popularity
from ml.recommenders.transitions import TransitionEASE

DEFAULT_DATA = Path("/work/shared/data/ml-100k")
L2_GRID = (50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0)
# None = no recency weighting, so validation can also choose plain EASE.
RECENCY_GRID = [(l2, hl) for l2 in (200.0, 500.0, 1000.0) for hl in (None, 3.0, 5.0, 10.0, 20.0)]
HISTORY_FLOOR = 0.1
BLEND_GRID = {"ease": (1.0,), "next": (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)}
POP_BLEND_GRID = {"ease": (1.0,), "pop": (0.0, 0.1, 0.2, 0.4)}


def load_ratings(data_dir: Path) -> dict:
    """Ratings as 0-based index arrays, plus one-hot genre vectors per item."""
    raw = np.loadtxt(data_dir / "ml-100k.inter", skiprows=1, delimiter="\t")
    user_ids, users = np.unique(raw[:, 0].astype(np.int64), return_inverse=True)
    item_ids, items = np.unique(raw[:, 1].astype(np.int64), return_inverse=True)
    return {
        "users": users,
        "items": items,
        "values": raw[:, 2],
        "timestamps": raw[:, 3],
        "n_users": len(user_ids),
        "n_items": len(item_ids),
        "genres": _genre_vectors(data_dir / "ml-100k.item", item_ids),
    }


def _genre_vectors(path: Path, item_ids: np.ndarray) -> np.ndarray:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]
    genres_of = {}
    for line in lines:
        fields = line.split("\t")
        genres_of[int(fields[0])] = fields[3].split() if len(fields) > 3 else []
    vocab = sorted({g for gs in genres_of.values() for g in gs})
    out = np.zeros((len(item_ids), len(vocab)), dtype=np.float32)
    for row, item in enumerate(item_ids):
        for g in genres_of.get(int(item), []):
            out[row, vocab.index(g)] = 1.0
    return out


def make_split(data: dict, kind: str) -> Split:
    args = (data["users"], data["items"], data["values"], data["timestamps"])
    shape = (data["n_users"], data["n_items"])
    if kind == "temporal":
        return temporal_split(*args, *shape, holdout=0.2)
    return random_split(*args, *shape, holdout=0.2, random_state=0)


def valid_ndcg(model: Recommender, valid: Split, k: int) -> float:
    users = np.flatnonzero(valid.evaluated)
    return float(ndcg_at_k(model.recommend(users, k)[0], valid.test[users]).mean())


def tune_ease(valid: Split, k: int) -> tuple[float, tuple[float, float]]:
    """Best plain l2, and best (l2, history half-life) with recency, by validation NDCG."""
    plain = {l2: valid_ndcg(EASE(l2=l2).fit(valid.train), valid, k) for l2 in L2_GRID}
    ts = valid.train_timestamps
    recent = {
        (l2, hl): valid_ndcg(_recent_ease(l2, hl).fit(valid.train, timestamps=ts), valid, k)
        for l2, hl in RECENCY_GRID
    }
    print("  validation NDCG, EASE l2:", {k_: round(v, 4) for k_, v in plain.items()})
    print("  validation NDCG, EASE (l2, half-life):", {k_: round(v, 4) for k_, v in recent.items()})
    return max(plain, key=plain.get), max(recent, key=recent.get)


def _recent_ease(l2: float, half_life: float | None) -> EASE:
    return EASE(l2=l2, history_half_life=half_life, history_floor=HISTORY_FLOOR)


def _transitions(l2: float, half_life: float | None) -> TransitionEASE:
    # The next-item model always weighs recent history; 5 ratings is its default.
    return TransitionEASE(l2=l2, history_half_life=half_life or 5.0, history_floor=HISTORY_FLOOR)


def tune_blends(valid: Split, best_recent: tuple[float, float], k: int) -> tuple[dict, dict]:
    """Blend weights for EASE(recent)+next-item and EASE(recent)+decayed popularity."""
    ts = valid.train_timestamps
    ease = _recent_ease(*best_recent).fit(valid.train, timestamps=ts)
    nxt = _transitions(*best_recent).fit(valid.train, timestamps=ts)
    pop = Popularity(half_life_days=30.0).fit(valid.train, timestamps=ts)
    w_next, table = tune_weights(
        {"ease": ease, "next": nxt}, valid.train, valid.test, k, BLEND_GRID
    )
    print(
        "  validation NDCG, blend with next-item:",
        [(r["next"], round(r["ndcg"], 4)) for r in table],
    )
    w_pop, table = tune_weights(
        {"ease": ease, "pop": pop}, valid.train, valid.test, k, POP_BLEND_GRID
    )
    print(
        "  validation NDCG, blend with decayed pop:",
        [(r["pop"], round(r["ndcg"], 4)) for r in table],
    )
    return w_next, w_pop


def build_models(split: Split, data: dict, tuned: dict) -> dict[str, tuple[float, Recommender]]:
    """Fit every model on the training part; name -> (fit seconds, fitted model)."""
    X, ts = split.train, split.train_timestamps
    l2, (rl2, rhl) = tuned["l2"], tuned["recent"]
    recent_name = f"ease(l2={rl2:g}, recent {rhl or 'off'})"
    specs = {
        "popularity": lambda: Popularity().fit(X),
        "popularity(30d decay)": lambda: Popularity(half_life_days=30.0).fit(X, timestamps=ts),
        "content(genres)": lambda: ContentRecommender(data["genres"]).fit(X),
        "itemknn": lambda: ItemKNN().fit(X),
        f"itemknn(recent {rhl or 'off'})": lambda: ItemKNN(
            history_half_life=rhl, history_floor=HISTORY_FLOOR
        ).fit(X, timestamps=ts),
        f"ease(l2={l2:g})": lambda: EASE(l2=l2).fit(X),
        recent_name: lambda: _recent_ease(rl2, rhl).fit(X, timestamps=ts),
        "next-item": lambda: _transitions(rl2, rhl).fit(X, timestamps=ts),
    }
    models = {name: _timed(make) for name, make in specs.items()}
    blends = {
        f"blend ease-recent + next x{tuned['w_next']['next']:g}": (
            {"ease": models[recent_name][1], "next": models["next-item"][1]},
            tuned["w_next"],
        ),
        f"blend ease-recent + pop30d x{tuned['w_pop']['pop']:g}": (
            {"ease": models[recent_name][1], "pop": models["popularity(30d decay)"][1]},
            tuned["w_pop"],
        ),
    }
    for name, (components, weights) in blends.items():
        fit_s = sum(models[n][0] for n in models if models[n][1] in components.values())
        models[name] = (fit_s, Blend(components, weights).fit(X))
    return models


def _timed(make) -> tuple[float, Recommender]:
    start = time.perf_counter()
    model = make()
    return time.perf_counter() - start, model


def run_split(data: dict, kind: str, k: int) -> dict[str, dict]:
    split = make_split(data, kind)
    users = np.flatnonzero(split.evaluated)
    print(
        f"\n== {kind} split: {split.train.nnz} train / {split.test.nnz} test ratings, "
        f"{len(users)} members evaluated"
    )
    valid = validation_split(split.train, split.train_timestamps, method=kind, random_state=1)
    l2, recent = tune_ease(valid, k)
    w_next, w_pop = tune_blends(valid, recent, k)
    tuned = {"l2": l2, "recent": recent, "w_next": w_next, "w_pop": w_pop}
    popularity = np.bincount(split.train.indices, minlength=split.train.shape[1])
    light = np.diff(split.train.indptr) < 20
    results = {}
    for name, (fit_s, model) in build_models(split, data, tuned).items():
        start = time.perf_counter()
        res = evaluate(
            model,
            split.test,
            k=k,
            users=users,
            item_embeddings=data["genres"],
            item_popularity=popularity,
            groups={"<20 train": light},
        )
        res["ndcg<20"] = res["groups"]["<20 train"].get(f"ndcg@{k}", float("nan"))
        res["fit_s"], res["rec_s"] = fit_s, time.perf_counter() - start
        results[name] = res
    print(format_table(results))
    return results


def print_ratios(all_results: dict[str, dict[str, dict]], k: int) -> None:
    print(f"\nNDCG@{k} and coverage relative to tuned plain EASE")
    for kind, results in all_results.items():
        base = next(r for n, r in results.items() if n.startswith("ease(") and "recent" not in n)
        for name, r in results.items():
            ratio = r[f"ndcg@{k}"] / base[f"ndcg@{k}"]
            cov = r[f"coverage@{k}"] / base[f"coverage@{k}"]
            print(f"  {kind:8s} {name:40s} ndcg x{ratio:5.2f}  coverage x{cov:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    data = load_ratings(args.data)
    print(
        f"MovieLens-100K: {data['n_users']} members, {data['n_items']} items, "
        f"{len(data['users'])} ratings"
    )
    all_results = {kind: run_split(data, kind, args.k) for kind in ("temporal", "random")}
    print_ratios(all_results, args.k)


if __name__ == "__main__":
    main()
