"""Members without ratings on MovieLens-100K: which way of scoring them beats popularity?

The harness's "cold-members" split holds out 15% of members whole; only their demographics
and profile embedding are known, and every one of their ratings counts as relevant. For
seeds 0, 1 and 2 each idea's parameter is chosen on a validation part carved from the
training members the same way (15% held out whole, `random_state=seed + 1000`), then it is
refitted on the training part and scored on the test part. Printed: test NDCG@10, its ratio
to Popularity's, and the value validation chose.

    .venv/bin/python bench/cold_start_ml100k.py [--segments]

Without ``--segments`` it takes under half a minute. ``--segments`` adds the segment-based ideas,
segmenting each seed's training part as the harness does (20-100 s a seed on 2 busy cores);
their validation reuses that segmentation, whose clusters saw the validation members'
ratings, and the classifier placing members learnt their labels, so their tuning is slightly
optimistic.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from movielens_data import load_movielens

from ml.data import MemberData
from ml.evaluation.harness import make_split
from ml.evaluation.metrics import ndcg_at_k
from ml.evaluation.report import evaluate
from ml.evaluation.splits import Split, cold_member_split
from ml.recommenders._sparse import row_ids
from ml.recommenders.base import top_k
from ml.recommenders.cold_start import SegmentColdStart
from ml.recommenders.demographic import DemographicPopularity, tune_l2
from ml.recommenders.popularity import Popularity
from ml.recommenders.segment_popularity import SegmentPopularity
from ml.segmentation.classifier import SegmentClassifier, cheap_features
from ml.segmentation.features import DemographicEncoder
from ml.segmentation.recipe import SegmentationRecipe

SEEDS = (0, 1, 2)
K = 10
# A scorer takes (split, parameter) and returns scores for the split's evaluated members.
Scorer = Callable[[Split, float], np.ndarray]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--segments", action="store_true", help="add segment-based ideas")
    args = parser.parse_args()
    data, _ = load_movielens(device="cpu")
    encoder = DemographicEncoder().fit(data.demographics())
    demo = encoder.transform(data.demographics()).astype(np.float64)
    columns = {p: _columns_of(encoder, p) for p in ("age=", "gender=", "occupation=")}
    rows: dict[str, list[str]] = {}
    for seed in SEEDS:
        test = make_split(data, "cold-members", holdout=0.2, seed=seed)
        val = _validation(test, seed)
        ideas = _demographic_ideas(demo, data.profile_embeddings, columns)
        if args.segments:
            ideas.update(_segment_ideas(data, test, demo, seed))
        pop = _ndcg(test, _popularity(test, 0.0))
        for name, (scorer, grid) in ideas.items():
            chosen = max(grid, key=lambda p, s=scorer: _ndcg(val, s(val, p)))
            score = _ndcg(test, scorer(test, chosen))
            rows.setdefault(name, []).append(f"{score:.4f} x{score / pop:.3f} ({chosen:g})")
            print(f"seed {seed} {name:44s} {rows[name][-1]}", flush=True)
        print(f"seed {seed} as wired, through evaluate(): {_wired(test, demo, seed)}", flush=True)
    print(f"\n{'idea':44s} " + "  ".join(f"seed {s:<16d}" for s in SEEDS) + "  mean ratio")
    for name, cells in rows.items():
        mean = np.mean([float(c.split("x")[1].split()[0]) for c in cells])
        print(f"{name:44s} " + "  ".join(cells) + f"  x{mean:.3f}")


def _wired(split: Split, demo: np.ndarray, seed: int) -> str:
    """NDCG@10 of Popularity and of the proposed wiring, l2 tuned on the training part.

    Members without ratings never reach the warm model or the segment model's scores, so
    stand-ins (popularity, one segment) are enough here.
    """
    X = split.train
    l2, _ = tune_l2(X, demo, k=K, random_state=seed)
    one_segment = SegmentPopularity().fit(X, segments=np.zeros(X.shape[0], dtype=np.int64))
    cold_model = DemographicPopularity(l2=l2).fit(X, features=demo)
    ours = SegmentColdStart(Popularity().fit(X), one_segment, cold_model).fit(X)
    users = np.flatnonzero(split.evaluated)
    pop = evaluate(Popularity().fit(X), split.test, k=K, users=users)[f"ndcg@{K}"]
    got = evaluate(ours, split.test, k=K, users=users)[f"ndcg@{K}"]
    return f"popularity {pop:.4f}, ours {got:.4f} x{got / pop:.3f} (l2 {l2:g})"


def _validation(split: Split, seed: int) -> Split:
    X = split.train
    args = (row_ids(X), X.indices, X.data, None, X.shape[0], X.shape[1])
    return cold_member_split(*args, member_fraction=0.15, random_state=seed + 1000)


def _ndcg(split: Split, scores: np.ndarray) -> float:
    users = np.flatnonzero(split.evaluated)
    items, _ = top_k(np.asarray(scores, dtype=np.float32), K)
    return float(ndcg_at_k(items, split.test[users]).mean())


def _seen(split: Split) -> tuple[np.ndarray, sp.csr_matrix]:
    """Members with ratings, and their rows as 0/1."""
    fitted = np.flatnonzero(np.diff(split.train.indptr) > 0)
    seen = split.train[fitted].astype(bool).astype(np.float64)
    return fitted, seen


def _popularity(split: Split, _: float) -> np.ndarray:
    counts = np.bincount(split.train.indices, minlength=split.train.shape[1])
    return np.tile(counts.astype(np.float64), (int(split.evaluated.sum()), 1))


def _columns_of(encoder: DemographicEncoder, prefix: str) -> np.ndarray:
    return np.array([i for i, n in enumerate(encoder.feature_names_) if n.startswith(prefix)])


def _demographic_ideas(
    demo: np.ndarray, profile: np.ndarray, columns: dict[str, np.ndarray]
) -> dict[str, tuple[Scorer, tuple[float, ...]]]:
    both = np.hstack([demo, profile])
    cohort = _codes(demo, columns, ("age=", "gender="))
    cohort_occ = _codes(demo, columns, ("age=", "gender=", "occupation="))
    return {
        "popularity (rating counts)": (_popularity, (0.0,)),
        "(c) cohort gender x age, shrinkage": (lambda s, b: _cohort(s, cohort, b), (5, 20, 50)),
        "(c) cohort gender x age x occupation": (
            lambda s, b: _cohort(s, cohort_occ, b),
            (5, 20, 50),
        ),
        "(c) kNN on demographics, k": (lambda s, k: _knn(s, demo, int(k)), (50, 100, 200)),
        "(d) kNN k=200 mixed with popularity, w": (
            lambda s, w: (1 - w) * _knn(s, demo, 200) + w * _rate(s),
            (0.0, 0.25, 0.5),
        ),
        "(c) ridge on demographics, l2 [chosen]": (
            lambda s, l2: _ridge(s, demo, l2),
            (30, 100, 300, 1000),
        ),
        "(c) ridge on demographics + profile emb., l2": (
            lambda s, l2: _ridge(s, both, l2),
            (30, 100, 300, 1000),
        ),
        "(c) ridge on profile embedding, l2": (
            lambda s, l2: _ridge(s, profile, l2),
            (10, 30, 100, 300),
        ),
    }


def _rate(split: Split) -> np.ndarray:
    _, seen = _seen(split)
    return np.asarray(seen.mean(axis=0)).ravel()


def _codes(demo: np.ndarray, columns: dict[str, np.ndarray], parts: tuple[str, ...]) -> np.ndarray:
    """One integer per member for their cell of the crossed categories (e.g. gender x age)."""
    code = np.zeros(len(demo), dtype=np.int64)
    for part in parts:
        block = demo[:, columns[part]]
        # An unknown category (all zeros) is a value of its own.
        value = np.where(block.any(axis=1), block.argmax(axis=1) + 1, 0)
        code = code * (block.shape[1] + 1) + value
    return code


def _cohort(split: Split, codes: np.ndarray, shrinkage: float) -> np.ndarray:
    return _group_rates(split, codes, shrinkage)[codes[np.flatnonzero(split.evaluated)]]


def _knn(split: Split, features: np.ndarray, k: int) -> np.ndarray:
    fitted, seen = _seen(split)
    unit = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    sims = np.maximum(unit[np.flatnonzero(split.evaluated)] @ unit[fitted].T, 0.0)
    kth = -np.partition(-sims, k - 1, axis=1)[:, k - 1 : k]
    weights = np.where(sims >= kth, sims, 0.0)
    weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    return np.asarray((sp.csr_matrix(weights) @ seen).todense())


def _ridge(split: Split, features: np.ndarray, l2: float) -> np.ndarray:
    model = DemographicPopularity(l2=l2).fit(split.train, features=features)
    return model.score(np.flatnonzero(split.evaluated))


def _segment_ideas(
    data: MemberData, split: Split, demo: np.ndarray, seed: int
) -> dict[str, tuple[Scorer, tuple[float, ...]]]:
    seg = SegmentationRecipe(seed=seed).fit(data.with_ratings(split.train, split.train_timestamps))
    labels, placer = seg.labels, seg.placer
    zeros = np.zeros((len(demo), placer.embedding_dim), dtype=np.float32)
    # What the harness's classifier says of a member with no first ratings (all zeros).
    placer_proba = placer.classifier.predict_proba(cheap_features(demo, zeros))
    # The segment the harness gives them; validation members' own (clustered) labels would
    # leak their ratings into tuning.
    placed = placer.classifier.classes_[placer_proba.argmax(axis=1)]

    def demo_proba(s: Split) -> np.ndarray:
        fitted, _ = _seen(s)
        clf = SegmentClassifier(random_state=seed).fit(demo[fitted], labels[fitted])
        return clf.predict_proba(demo[np.flatnonzero(s.evaluated)])

    def likes(s: Split, shrinkage: float) -> np.ndarray:
        segments = np.where(s.evaluated, placed, labels)
        model = SegmentPopularity(shrinkage=shrinkage).fit(s.train, segments=segments)
        return model.score(np.flatnonzero(s.evaluated))

    def rates(s: Split, shrinkage: float) -> np.ndarray:
        return _group_rates(s, labels, shrinkage)

    def evaluated(s: Split) -> np.ndarray:
        return np.flatnonzero(s.evaluated)

    return {
        "current: segment like-rate, shrinkage": (likes, (20.0,)),
        "(a) segment rating-rate, hard, shrinkage": (
            lambda s, b: rates(s, b)[placed[evaluated(s)]],
            (20, 100),
        ),
        "(b) soft, harness classifier p(s), shrinkage": (
            lambda s, b: placer_proba[evaluated(s)] @ rates(s, b),
            (20, 100),
        ),
        "(b) soft, demographics-only p(s), shrinkage": (
            lambda s, b: demo_proba(s) @ rates(s, b),
            (20, 100),
        ),
        "(d) ridge l2=300 + w * soft demo-only p(s)": (
            lambda s, w: (1 - w) * _ridge(s, demo, 300) + w * (demo_proba(s) @ rates(s, 100)),
            (0.0, 0.25, 0.5),
        ),
    }


def _group_rates(split: Split, groups: np.ndarray, shrinkage: float) -> np.ndarray:
    """Per group, the share of its members with ratings who rated each item, shrunk to all."""
    fitted, seen = _seen(split)
    n_groups = int(groups.max()) + 1
    onehot = sp.csr_matrix(
        (np.ones(len(fitted)), (groups[fitted], np.arange(len(fitted)))),
        shape=(n_groups, len(fitted)),
    )
    counts = np.asarray((onehot @ seen).todense())
    sizes = np.bincount(groups[fitted], minlength=n_groups)[:, None]
    return (counts + shrinkage * _rate(split)) / (sizes + shrinkage)


if __name__ == "__main__":
    main()
