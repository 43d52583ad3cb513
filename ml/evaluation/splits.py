"""Train / test splits of rating lists, built so that held-out ratings never reach training.

Every split takes the ratings as parallel arrays (member, item, value, timestamp), decides
per rating which side it goes to, and only then builds the two sparse matrices, each of shape
(n_users, n_items). Nothing fitted on ``train`` can see a test rating.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ml.recommenders._sparse import check_aligned, check_interactions, row_ids, tie_breaker


@dataclass(frozen=True)
class Split:
    """Two members x items matrices over the same shape, and who to evaluate.

    Attributes
    ----------
    train, test : csr_matrix
        Rating values; a (member, item) pair is stored in at most one of them.
    train_timestamps, test_timestamps : csr_matrix
        Unix seconds, with exactly the stored pattern of ``train`` and ``test``.
    evaluated : ndarray of bool, shape (n_users,)
        Members with at least one test rating (and, for the per-member splits, at least one
        training rating to recommend from).
    """

    train: sp.csr_matrix
    test: sp.csr_matrix
    train_timestamps: sp.csr_matrix
    test_timestamps: sp.csr_matrix
    evaluated: np.ndarray


def temporal_split(
    users: np.ndarray,
    items: np.ndarray,
    values: np.ndarray,
    timestamps: np.ndarray,
    n_users: int,
    n_items: int,
    *,
    holdout: float = 0.2,
) -> Split:
    """Hold out each member's latest ``holdout`` share of ratings.

    A member with n >= 2 ratings gives floor(holdout * n) of them, at least 1 and at most
    n - 1; a member with one rating keeps it in train. Equal timestamps (half of MovieLens'
    consecutive ratings share a second) are ordered by a fixed hash of (member, item): the
    split is the same on every run, and which tied item is "latest" carries no signal such
    as the item's index.
    """
    u, i, v, t = _check_ratings(users, items, values, timestamps, n_users, n_items)
    _check_fraction(holdout, "holdout")
    order = np.lexsort((tie_breaker(u, i), t, u))
    pos, n = _positions(u, order, n_users)
    is_test = np.zeros(len(u), dtype=bool)
    is_test[order] = pos >= n - _n_holdout(n, holdout)
    return _build(u, i, v, t, is_test, n_users, n_items)


def random_split(
    users: np.ndarray,
    items: np.ndarray,
    values: np.ndarray,
    timestamps: np.ndarray | None,
    n_users: int,
    n_items: int,
    *,
    holdout: float = 0.2,
    random_state: int | np.random.Generator | None = None,
) -> Split:
    """Hold out a random ``holdout`` share of each member's ratings (counts as in temporal)."""
    u, i, v, t = _check_ratings(users, items, values, timestamps, n_users, n_items)
    _check_fraction(holdout, "holdout")
    rng = np.random.default_rng(random_state)
    order = np.lexsort((rng.random(len(u)), u))
    pos, n = _positions(u, order, n_users)
    is_test = np.zeros(len(u), dtype=bool)
    is_test[order] = pos < _n_holdout(n, holdout)
    return _build(u, i, v, t, is_test, n_users, n_items)


def cold_member_split(
    users: np.ndarray,
    items: np.ndarray,
    values: np.ndarray,
    timestamps: np.ndarray | None,
    n_users: int,
    n_items: int,
    *,
    member_fraction: float = 0.15,
    random_state: int | np.random.Generator | None = None,
) -> Split:
    """Hold out ``member_fraction`` of the members who have ratings, all their ratings.

    Their train rows are empty; ``evaluated`` marks exactly them.
    """
    u, i, v, t = _check_ratings(users, items, values, timestamps, n_users, n_items)
    _check_fraction(member_fraction, "member_fraction")
    rng = np.random.default_rng(random_state)
    active = np.flatnonzero(np.bincount(u, minlength=n_users))
    n_cold = max(1, int(round(member_fraction * len(active)))) if len(active) else 0
    cold = np.zeros(n_users, dtype=bool)
    cold[rng.choice(active, size=n_cold, replace=False)] = True
    split = _build(u, i, v, t, cold[u], n_users, n_items)
    return Split(split.train, split.test, split.train_timestamps, split.test_timestamps, cold)


def validation_split(
    train: sp.spmatrix,
    train_timestamps: sp.spmatrix | None = None,
    *,
    method: str = "temporal",
    holdout: float = 0.2,
    random_state: int | np.random.Generator | None = None,
) -> Split:
    """Carve a validation part out of a training matrix, the way the test part was made.

    Tune hyper-parameters on the result (fit on its ``train``, score on its ``test``) so the
    real test part is never looked at. ``method`` is "temporal" (needs timestamps) or "random".
    """
    X = check_interactions(train, name="train")
    if train_timestamps is None:
        if method == "temporal":
            raise ValueError("a temporal validation split needs train_timestamps")
        ts = np.zeros(X.nnz)
    else:
        ts = check_aligned(X, train_timestamps, name="train_timestamps").data
    args = (row_ids(X), X.indices, X.data, ts, X.shape[0], X.shape[1])
    if method == "temporal":
        return temporal_split(*args, holdout=holdout)
    if method == "random":
        return random_split(*args, holdout=holdout, random_state=random_state)
    raise ValueError(f"method must be 'temporal' or 'random', got {method!r}")


def _check_ratings(
    users: np.ndarray,
    items: np.ndarray,
    values: np.ndarray,
    timestamps: np.ndarray | None,
    n_users: int,
    n_items: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    u = np.asarray(users, dtype=np.int64)
    i = np.asarray(items, dtype=np.int64)
    v = np.asarray(values, dtype=np.float32)
    t = np.zeros(len(u)) if timestamps is None else np.asarray(timestamps, dtype=np.float64)
    if not (u.ndim == 1 and len(u) == len(i) == len(v) == len(t)):
        raise ValueError("users, items, values and timestamps must be 1-D of equal length")
    if len(u) and (u.min() < 0 or u.max() >= n_users or i.min() < 0 or i.max() >= n_items):
        raise ValueError(f"indices must lie in [0, {n_users}) x [0, {n_items})")
    keys = u * n_items + i
    if len(np.unique(keys)) != len(keys):
        raise ValueError("a (member, item) pair occurs twice: keep one rating per pair first")
    return u, i, v, t


def _check_fraction(value: float, name: str) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value!r}")


def _positions(u: np.ndarray, order: np.ndarray, n_users: int) -> tuple[np.ndarray, np.ndarray]:
    """For ratings in ``order`` (grouped by member): rank within the member, member's count."""
    counts = np.bincount(u, minlength=n_users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    sorted_u = u[order]
    return np.arange(len(u)) - starts[sorted_u], counts[sorted_u]


def _n_holdout(n: np.ndarray, holdout: float) -> np.ndarray:
    # The small epsilon keeps 0.2 * 5 from flooring to 0 through rounding error.
    wanted = np.floor(n * holdout + 1e-9).astype(np.int64)
    return np.where(n >= 2, np.clip(wanted, 1, n - 1), 0)


def _build(
    u: np.ndarray,
    i: np.ndarray,
    v: np.ndarray,
    t: np.ndarray,
    is_test: np.ndarray,
    n_users: int,
    n_items: int,
) -> Split:
    shape = (n_users, n_items)

    def part(mask: np.ndarray, data: np.ndarray, dtype: type) -> sp.csr_matrix:
        m = sp.csr_matrix((data[mask].astype(dtype), (u[mask], i[mask])), shape=shape)
        m.sort_indices()
        return m

    train, test = part(~is_test, v, np.float32), part(is_test, v, np.float32)
    evaluated = (np.diff(test.indptr) > 0) & (np.diff(train.indptr) > 0)
    return Split(
        train=train,
        test=test,
        train_timestamps=part(~is_test, t, np.float64),
        test_timestamps=part(is_test, t, np.float64),
        evaluated=evaluated,
    )
