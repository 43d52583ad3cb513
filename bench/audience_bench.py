"""Audiences measured: do the members ranked for an item include those who really rate it?

For 30 items (each rated by 20 or more members) the item's ratings are hidden and the
members ranked for it (ml.recommenders.audience); the AUC says how often a member who did
rate it ranks above one who did not. Two cases: half its raters hidden (the item keeps
ratings: co-ratings rank) and all hidden (a new item: only its text ranks). The reference
is member activity (heavy raters rate everything more), which any audience must beat.
Run alone or from `make bench`:

    .venv/bin/python bench/audience_bench.py
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from movielens_data import DEFAULT_DATA, load_movielens
from text_rich_bench import load_text_rich

from ml.recommenders.audience import rank_audience


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def _hide(X: sp.csr_matrix, rows: np.ndarray, item: int) -> sp.csr_matrix:
    X = X.tolil(copy=True)
    X[rows, item] = 0
    X = X.tocsr()
    X.eliminate_zeros()
    return X


def measure(X: sp.csr_matrix, embeddings: np.ndarray | None, *, n_items: int = 30) -> dict:
    rng = np.random.default_rng(0)
    counts = np.asarray((X > 0).sum(axis=0)).ravel()
    items = rng.choice(np.flatnonzero(counts >= 20), n_items, replace=False)
    out: dict[str, list[float]] = {"half": [], "half_ref": [], "new": [], "new_ref": []}
    for item in items:
        raters = np.flatnonzero(X[:, item].toarray().ravel() > 0)
        hidden = rng.permutation(raters)[: len(raters) // 2]
        for case, rows in (("half", hidden), ("new", raters)):
            Xh = _hide(X, rows, item)
            audience = rank_audience(Xh, np.array([item]), item_embeddings=embeddings)
            scores = np.full(X.shape[0], np.nan)
            scores[audience.members] = audience.scores
            ranked = ~np.isnan(scores)
            truth = np.zeros(X.shape[0], dtype=bool)
            truth[rows] = True
            activity = np.asarray((Xh > 0).sum(axis=1)).ravel().astype(float)
            out[case].append(_auc(truth[ranked], scores[ranked]))
            out[f"{case}_ref"].append(_auc(truth[ranked], activity[ranked]))
    return {key: float(np.mean(values)) for key, values in out.items()}


def audience_section() -> list[str]:
    ml, _ = load_movielens(DEFAULT_DATA)
    rich, _ = load_text_rich()
    rows = []
    for name, data in (("ML-100K", ml), ("text-rich", rich)):
        m = measure(data.ratings().tocsr(), data.item_embeddings)
        rows.append(
            f"| {name} | {m['half']:.3f} | {m['half_ref']:.3f} | {m['new']:.3f} | {m['new_ref']:.3f} |"
        )
    return [
        "## Audiences: who is ranked for an item (AUC of its real raters)",
        "",
        "30 items per data set; the item's raters are hidden, the members ranked for it; AUC "
        "of a real rater ranking above a non-rater. Reference: member activity.",
        "",
        "| data | half hidden: co-ratings | activity | all hidden (new item): text | activity |",
        "|---|---|---|---|---|",
        *rows,
        "",
    ]


def main() -> None:
    print("\n".join(audience_section()))


if __name__ == "__main__":
    main()
