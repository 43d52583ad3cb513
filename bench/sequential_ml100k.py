"""Sequential transformer vs EASE on MovieLens-100K, temporal split (Django-free).

Each member's latest 20% of ratings are held out; ratings count as implicit interactions;
top-10 lists exclude items rated in train. A validation part is carved from train the same
way to pick EASE's l2, the transformer's epochs (early stopping) and blend weights; the
chosen models are then refit on the full train part and scored on the test part.

    .venv/bin/python bench/sequential_ml100k.py [--device cuda] [--seeds 3] [--hidden 64 ...]

Besides EASE it fits two priors to blend with: RecentPop (ratings of each item by anyone in
the 30 days before the member's last rating) and EASE-recency (EASE scored on a history
weighted by 0.5 ** (age in ratings / half-life)); blend weights are picked on validation.
With the class defaults the transformer trains ~250 epochs in all (validation run + refit):
a few minutes on a GPU, over an hour on two CPU cores (~17 s an epoch there).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from itertools import pairwise
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml.evaluation.metrics import catalogue_coverage, summarise
from ml.evaluation.splits import Split, temporal_split, validation_split
from ml.recommenders.base import Recommender, top_k
from ml.recommenders.ease import EASE
from ml.recommenders.sequential import SequentialRecommender

DATA = Path(os.environ.get("SEGREC_ML100K", "/work/shared/data/ml-100k/ml-100k.inter"))
EASE_L2 = (100.0, 250.0, 500.0, 1000.0)
BLEND_WEIGHTS = tuple(np.round(np.arange(0.0, 1.0001, 0.05), 2))
HALF_LIVES = (2.0, 3.0, 5.0, 8.0, 13.0, 20.0)  # in ratings
DAY = 86_400.0


def load_split(path: Path = DATA) -> Split:
    raw = np.loadtxt(path, skiprows=1, dtype=np.float64)
    _, users = np.unique(raw[:, 0].astype(np.int64), return_inverse=True)
    _, items = np.unique(raw[:, 1].astype(np.int64), return_inverse=True)
    return temporal_split(
        users, items, raw[:, 2], raw[:, 3], int(users.max()) + 1, int(items.max()) + 1
    )


def evaluate(model: Recommender, split: Split, k: int = 10) -> dict[str, float]:
    return evaluate_scores(dense_scores(model, split), split, k)


def dense_scores(model: Recommender, split: Split) -> np.ndarray:
    """Scores of the evaluated members (943 x 1682 fits in memory), seen items at -inf."""
    users = np.flatnonzero(split.evaluated)
    scores = model.score(users).astype(np.float64)
    seen = split.train[users]
    scores[np.repeat(np.arange(len(users)), np.diff(seen.indptr)), seen.indices] = -np.inf
    return scores


def evaluate_scores(scores: np.ndarray, split: Split, k: int = 10) -> dict[str, float]:
    users = np.flatnonzero(split.evaluated)
    recs, _ = top_k(scores, k)
    metrics = summarise(recs, split.test[users])
    metrics["coverage"] = catalogue_coverage(recs, split.test.shape[1])
    return metrics


def blend(parts: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """Weighted sum of per-member standardised scores (over unseen items)."""
    return sum(w * _standardise(p) for p, w in zip(parts, weights, strict=True) if w)


def _standardise(scores: np.ndarray) -> np.ndarray:
    finite = np.where(np.isfinite(scores), scores, np.nan)
    mean, std = np.nanmean(finite, 1, keepdims=True), np.nanstd(finite, 1, keepdims=True)
    return (scores - mean) / (std + 1e-9)


def blend_weights(w: float, n_parts: int) -> list[float]:
    """Weight w for the first part, the rest share 1 - w equally."""
    return [w] + [(1 - w) / (n_parts - 1)] * (n_parts - 1)


def pick_weight(parts: list[np.ndarray], val: Split) -> tuple[float, float]:
    """Weight of parts[0] with the best validation NDCG@10, and that NDCG."""
    results = [
        (evaluate_scores(blend(parts, blend_weights(w, len(parts))), val)["ndcg@10"], w)
        for w in BLEND_WEIGHTS
    ]
    ndcg, w = max(results)
    return w, ndcg


class RecentPopularity(Recommender):
    """log(1 + ratings of each item by anyone in the window before the member's last rating)."""

    def __init__(self, window_days: float = 30.0) -> None:
        self.window_days = window_days

    def fit(self, X: sp.csr_matrix, *, timestamps: sp.csr_matrix) -> RecentPopularity:
        self.X_ = sp.csr_matrix(X)
        by_item = sp.csc_matrix(timestamps)
        self.item_times_ = [np.sort(by_item.data[a:b]) for a, b in pairwise(by_item.indptr)]
        by_user = sp.csr_matrix(timestamps)
        self.last_ = np.array(
            [by_user.data[a:b].max(initial=0) for a, b in pairwise(by_user.indptr)]
        )
        return self

    def _score_batch(self, users: np.ndarray) -> np.ndarray:
        end = self.last_[users]
        start = end - self.window_days * DAY
        counts = [
            np.searchsorted(t, end, "right") - np.searchsorted(t, start) for t in self.item_times_
        ]
        return np.log1p(np.stack(counts, axis=1)).astype(np.float32)


def pick_ease(val: Split) -> tuple[float, dict[float, float]]:
    ndcg = {l2: evaluate(EASE(l2=l2).fit(val.train), val)["ndcg@10"] for l2 in EASE_L2}
    return max(ndcg, key=ndcg.get), ndcg


def sequential_params(args: argparse.Namespace) -> dict[str, object]:
    names = ("hidden", "n_layers", "n_heads", "dropout", "max_len", "lr", "weight_decay")
    names += ("batch_size", "horizon", "ema_decay", "device")
    return {**{name: getattr(args, name) for name in names}, "random_state": args.seed}


def fit_timed(model: Recommender, X: sp.csr_matrix, **context: object) -> tuple[Recommender, float]:
    start = time.perf_counter()
    model.fit(X, **context)
    return model, time.perf_counter() - start


def scored(model: Recommender, fit_s: float, val_model: Recommender, split: Split, val: Split):
    """Dense validation and test scores of one model, for side-by-side reports and blends."""
    return {"val": dense_scores(val_model, val), "test": dense_scores(model, split), "fit_s": fit_s}


def fit_baselines(split: Split, val: Split, window_days: float) -> dict[str, dict]:
    """EASE (l2 picked on validation) and a recent-popularity prior, scored on both parts."""
    l2, by_l2 = pick_ease(val)
    print("EASE validation ndcg@10 by l2:", {k: round(v, 4) for k, v in by_l2.items()})
    ease, ease_s = fit_timed(EASE(l2=l2), split.train)
    recent, recent_s = fit_timed(
        RecentPopularity(window_days), split.train, timestamps=split.train_timestamps
    )
    recent_val = RecentPopularity(window_days).fit(val.train, timestamps=val.train_timestamps)
    half_life = pick_half_life(val, l2)
    decayed, decayed_s = fit_timed(
        EASE(l2=l2, history_half_life=half_life),
        split.train,
        timestamps=split.train_timestamps,
    )
    decayed_val = EASE(l2=l2, history_half_life=half_life)
    decayed_val.fit(val.train, timestamps=val.train_timestamps)
    return {
        f"EASE(l2={l2:g})": scored(ease, ease_s, EASE(l2=l2).fit(val.train), split, val),
        f"RecentPop({window_days:g}d)": scored(recent, recent_s, recent_val, split, val),
        f"EASE-recency(half-life {half_life:g})": scored(
            decayed, decayed_s, decayed_val, split, val
        ),
    }


def pick_half_life(val: Split, l2: float) -> float:
    """EASE history half-life (in ratings) with the best validation NDCG@10."""
    ndcg = {}
    for days in HALF_LIVES:
        model = EASE(l2=l2, history_half_life=days)
        ndcg[days] = evaluate(model.fit(val.train, timestamps=val.train_timestamps), val)["ndcg@10"]
    print(
        "EASE-recency validation ndcg@10 by half-life:", {k: round(v, 4) for k, v in ndcg.items()}
    )
    return max(ndcg, key=ndcg.get)


def fit_sequential(
    params: dict, max_epochs: int, patience: int, split: Split, val: Split
) -> tuple[str, dict]:
    """Early-stop on validation, then refit on all of train for the best epoch count."""
    seq_val, val_s = fit_timed(
        SequentialRecommender(**params, n_epochs=max_epochs, patience=patience),
        val.train,
        timestamps=val.train_timestamps,
        validation=val.test,
    )
    epochs = seq_val.best_epoch_
    curve = " ".join(f"{h:.3f}" for h in seq_val.history_)
    print(
        f"{params}\n  validation: best epoch {epochs}, ndcg@10 {max(seq_val.history_):.4f} "
        f"({val_s:.0f}s) curve {curve}",
        flush=True,
    )
    seq, seq_s = fit_timed(
        SequentialRecommender(**params, n_epochs=epochs),
        split.train,
        timestamps=split.train_timestamps,
    )
    return f"Sequential({epochs} ep)", scored(seq, seq_s, seq_val, split, val)


def run_sequential(
    params: dict,
    max_epochs: int,
    patience: int,
    split: Split,
    val: Split,
    baselines: dict,
    seeds: int = 1,
) -> dict[str, dict[str, float]]:
    """Fit one sequential model per seed (averaged when several) and report beside baselines."""
    fitted = [
        fit_sequential(
            {**params, "random_state": params["random_state"] + seed},
            max_epochs,
            patience,
            split,
            val,
        )
        for seed in range(seeds)
    ]
    name, part = fitted[0]
    if seeds > 1:
        for seed_name, seed_part in fitted:
            metrics = evaluate_scores(seed_part["test"], split)
            print(f"  {seed_name}: test ndcg@10 {metrics['ndcg@10']:.4f}")
        name, part = f"Sequential(mean of {seeds} seeds)", average_parts([p for _, p in fitted])
    return report_all({name: part, **baselines}, split, val)


def average_parts(parts: list[dict]) -> dict:
    """Mean of standardised scores: an ensemble of models of one kind."""
    out = {key: np.mean([_standardise(p[key]) for p in parts], axis=0) for key in ("val", "test")}
    return {**out, "fit_s": sum(p["fit_s"] for p in parts)}


def report_all(parts: dict[str, dict], split: Split, val: Split) -> dict[str, dict[str, float]]:
    """Each model alone, then the first (sequential) blended with each other model and all."""
    names = list(parts)
    ease_ndcg = evaluate_scores(parts[names[1]]["test"], split)["ndcg@10"]
    results = {}
    for name in names:
        metrics = evaluate_scores(parts[name]["test"], split)
        results[name] = report(name, metrics, parts[name]["fit_s"], ease_ndcg)
    for combo in [[names[0], other] for other in names[1:]] + [names]:
        w, _ = pick_weight([parts[n]["val"] for n in combo], val)
        scores = blend([parts[n]["test"] for n in combo], blend_weights(w, len(combo)))
        label = f"Blend {w:.2f} seq + " + " + ".join(n.split("(")[0] for n in combo[1:])
        fit_s = sum(parts[n]["fit_s"] for n in combo)
        results[label] = report(label, evaluate_scores(scores, split), fit_s, ease_ndcg)
    return results


def report(
    name: str, metrics: dict[str, float], fit_s: float, ease_ndcg: float
) -> dict[str, float]:
    ratio = metrics["ndcg@10"] / ease_ndcg
    print(
        f"{name:30s} ndcg@10={metrics['ndcg@10']:.4f} recall@10={metrics['recall@10']:.4f} "
        f"precision@10={metrics['precision@10']:.4f} coverage={metrics['coverage']:.3f} "
        f"fit_s={fit_s:6.1f} ratio_vs_EASE={ratio:.3f}",
        flush=True,
    )
    return {**metrics, "fit_s": fit_s, "ratio": ratio}


def load_parts(window_days: float) -> tuple[Split, Split, dict[str, dict]]:
    split = load_split()
    val = validation_split(split.train, split.train_timestamps)
    return split, val, fit_baselines(split, val, window_days)


def main(args: argparse.Namespace) -> None:
    import torch  # only to cap threads on a shared machine

    torch.set_num_threads(args.threads)
    split, val, baselines = load_parts(args.window_days)
    params = sequential_params(args)
    run_sequential(params, args.epochs, args.patience, split, val, baselines, args.seeds)


def parse_args() -> argparse.Namespace:
    defaults = SequentialRecommender()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("hidden", "n_layers", "n_heads", "max_len", "batch_size", "horizon"):
        parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name))
    for name in ("dropout", "lr", "weight_decay", "ema_decay"):
        parser.add_argument(f"--{name}", type=float, default=getattr(defaults, name))
    parser.add_argument("--device", default=defaults.device)
    parser.add_argument("--epochs", type=int, default=150, help="most epochs on validation")
    parser.add_argument("--patience", type=int, default=defaults.patience)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=1, help="models to average (seed, seed+1..)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--window_days", type=float, default=30.0)
    return parser.parse_args()


if __name__ == "__main__":
    main(parse_args())
