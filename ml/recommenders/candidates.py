"""Which items a large catalogue's lists are drawn from: the candidate pool.

Every recommender scores each member against every item it knows, batch by batch; past a
few thousand items that dense scoring, not the models, is what a run spends its time on
(members x items cells per component). A catalogue larger than the pool serves its most
rated items plus some never rated (new, reached through their text); items outside the pool
still shape the segments (members' histories and text), they are only never recommended.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

# The most rated items kept. EASE and the next-item model solve an items x items system per
# fit (a run makes about ten) at a cost of n³: halving the pool makes each about 8x cheaper.
MAX_CANDIDATES = 5_000
# Never-rated items kept beside them, so a new item with a description can still be served.
MAX_NEW = 1_000


def candidate_pool(
    X: sp.csr_matrix, *, max_items: int = MAX_CANDIDATES, max_new: int = MAX_NEW
) -> np.ndarray | None:
    """Sorted column indices of ``X`` the lists are drawn from, or None to keep every item.

    At most ``max_items`` most-rated items (ties to the lower index) plus at most
    ``max_new`` items with no rating (the lowest indices first).
    """
    n_items = X.shape[1]
    if n_items <= max_items + max_new:
        return None
    counts = np.bincount(X.indices, minlength=n_items)
    rated = np.flatnonzero(counts > 0)
    top = rated[np.argsort(-counts[rated], kind="stable")[:max_items]]
    new = np.flatnonzero(counts == 0)[:max_new]
    return np.sort(np.concatenate([top, new]))


def pool_share(X: sp.csr_matrix, pool: np.ndarray | None) -> float:
    """Share of the ratings of ``X`` that fall on items of ``pool`` (1.0 without a pool)."""
    if pool is None or X.nnz == 0:
        return 1.0
    inside = np.zeros(X.shape[1], dtype=bool)
    inside[pool] = True
    return float(inside[X.indices].mean())
