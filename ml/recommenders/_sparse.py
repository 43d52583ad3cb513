"""Checks and small sparse helpers shared by the recommenders (private to ``ml``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, TypeGuard

import numpy as np
import scipy.sparse as sp

SECONDS_PER_DAY = 86_400.0


def _is_sparse(value: object) -> TypeGuard[sp.spmatrix]:
    """``sp.issparse`` as a type guard, so a checked argument is known to be a sparse matrix."""
    return sp.issparse(value)


def check_interactions(X: object, *, name: str = "X") -> sp.csr_matrix:
    """A canonical float32 CSR copy of a members x items matrix, or a clear error."""
    if not _is_sparse(X) or X.ndim != 2:
        raise TypeError(f"{name} must be a 2-D scipy sparse matrix, got {type(X).__name__}")
    out = sp.csr_matrix(X, dtype=np.float32, copy=True)
    out.sum_duplicates()
    out.sort_indices()
    if not np.all(np.isfinite(out.data)):
        raise ValueError(f"{name} holds NaN or infinite values")
    return out


def check_aligned(X: sp.csr_matrix, T: object, *, name: str = "timestamps") -> sp.csr_matrix:
    """``T`` as canonical float64 CSR with exactly the stored pattern of ``X``.

    Timestamps stay float64: Unix seconds (~1e9) lose about a minute in float32.
    """
    if not _is_sparse(T) or T.shape != X.shape:
        raise ValueError(f"{name} must be a sparse matrix of shape {X.shape}")
    out = sp.csr_matrix(T, dtype=np.float64, copy=True)
    out.sum_duplicates()
    out.sort_indices()
    same = np.array_equal(out.indptr, X.indptr) and np.array_equal(out.indices, X.indices)
    if not same:
        raise ValueError(f"{name} must store a value for exactly the (member, item) pairs of X")
    return out


def binarize(X: sp.csr_matrix) -> sp.csr_matrix:
    """Every stored rating becomes 1: the models treat ratings as implicit feedback."""
    out = X.copy()
    out.data = np.ones_like(out.data)
    return out


def row_ids(X: sp.csr_matrix) -> np.ndarray:
    """The row of every stored value, aligned with ``X.data``."""
    return np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))


def tie_breaker(u: np.ndarray, i: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random uint64 per (member, item): the splitmix64 finaliser."""
    with np.errstate(over="ignore"):  # wrap-around multiplication is the point
        x = (u.astype(np.uint64) << np.uint64(32)) ^ i.astype(np.uint64)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def check_recency(half_life: float | None, floor: float) -> None:
    """Validate the shared ``history_half_life`` / ``history_floor`` parameters."""
    check_positive(half_life, "history_half_life", allow_none=True)
    if not 0.0 <= floor <= 1.0:
        raise ValueError(f"history_floor must lie in [0, 1], got {floor!r}")


def recency_weights(
    X: sp.csr_matrix, timestamps: sp.csr_matrix, half_life: float, floor: float = 0.0
) -> sp.csr_matrix:
    """``X`` with each value scaled by floor + (1 - floor) * 0.5 ** (age / half_life).

    A rating's age is how many of the member's ratings are strictly later than it, so the
    latest ones weigh 1 and ties share a weight. Age is counted in ratings, not days: most
    MovieLens members rate everything within an hour, where days say nothing about order.
    ``floor`` keeps old tastes from vanishing entirely.
    """
    rows = row_ids(X)
    order = np.lexsort((-timestamps.data, rows))  # per member, latest first
    r, t = rows[order], timestamps.data[order]
    new_group = np.r_[True, (r[1:] != r[:-1]) | (t[1:] != t[:-1])]
    pos = np.arange(X.nnz)
    first_of_tie = np.maximum.accumulate(np.where(new_group, pos, 0))
    age = np.empty(X.nnz)
    age[order] = first_of_tie - X.indptr[r]
    out = X.copy()
    out.data = (out.data * (floor + (1.0 - floor) * 0.5 ** (age / half_life))).astype(np.float32)
    return out


def history_matrix(
    X: sp.csr_matrix,
    timestamps: object,
    half_life: float | None,
    floor: float,
    *,
    owner: str,
) -> sp.csr_matrix:
    """Binarised ``X``, recency-weighted when ``half_life`` is set (then timestamps are needed)."""
    binary = binarize(X)
    if half_life is None:
        return binary
    if timestamps is None:
        raise ValueError(f"{owner}(history_half_life=...) needs timestamps in fit")
    return recency_weights(binary, check_aligned(X, timestamps), half_life, floor)


def liked_matrix(X: sp.csr_matrix) -> sp.csr_matrix:
    """The ratings of ``X`` that say the member liked the item, as a 0/1 matrix.

    A rating is a like when it is above the member's own mean or in the top half of the
    scale seen in ``X`` (its lowest to highest value); with one value only (implicit
    feedback) every interaction is a like. Reasons may cite only these items.
    """
    X = sp.csr_matrix(X)
    rows = row_ids(X)
    counts = np.maximum(np.diff(X.indptr), 1)
    means = np.bincount(rows, weights=X.data, minlength=X.shape[0]) / counts
    if X.nnz == 0 or X.data.min() == X.data.max():
        liked = np.ones(X.nnz, dtype=bool)
    else:
        middle = (float(X.data.min()) + float(X.data.max())) / 2
        liked = (X.data > means[rows] + 1e-9) | (X.data > middle)
    # Copies: eliminate_zeros below rewrites the index arrays, which X must keep.
    out = sp.csr_matrix(
        (liked.astype(np.float32), X.indices.copy(), X.indptr.copy()), shape=X.shape
    )
    out.eliminate_zeros()
    return out


class Row(NamedTuple):
    """One row of a CSR matrix as views of its arrays: its column indices and values."""

    indices: np.ndarray
    data: np.ndarray

    @property
    def nnz(self) -> int:
        return len(self.indices)

    def value(self, column: int, default: float = 0.0) -> float:
        hit = np.flatnonzero(self.indices == column)
        return float(self.data[hit[0]]) if len(hit) else default


def row_of(M: sp.csr_matrix, i: int) -> Row:
    """Row ``i`` of ``M`` without building a matrix: scipy's ``M[i]`` costs ~50 µs, which
    writing reasons for a million lists paid twenty million times."""
    start, stop = M.indptr[i], M.indptr[i + 1]
    return Row(M.indices[start:stop], M.data[start:stop])


def strongest_seen(
    history_row: Row | sp.csr_matrix, column: np.ndarray, only: np.ndarray | None = None
) -> int:
    """The seen item whose history weight x link to the target is largest; -1 if none is > 0.

    ``column`` holds every item's link to the target; ``only`` (item indices) limits the
    answer to those seen items, e.g. the member's likes.
    """
    return strongest_link(history_row, column[history_row.indices], only)


def strongest_link(
    history_row: Row | sp.csr_matrix, links: np.ndarray, only: np.ndarray | None = None
) -> int:
    """:func:`strongest_seen` given only the links of the row's own items (``links[j]`` for
    item ``history_row.indices[j]``): a dense model reads ~50 values, not a whole column."""
    if history_row.nnz == 0:
        return -1
    contrib = history_row.data * links
    if only is not None:
        contrib = np.where(member_of(history_row.indices, only), contrib, -np.inf)
    best = int(np.argmax(contrib))
    return int(history_row.indices[best]) if contrib[best] > 0 else -1


def strongest_links(
    history: sp.csr_matrix,
    links: Callable[[np.ndarray, np.ndarray], np.ndarray],
    users: np.ndarray,
    items: np.ndarray,
    only: sp.csr_matrix | None = None,
) -> np.ndarray:
    """:func:`strongest_link` for many picks at once: per pick ``p``, the item ``j`` of
    ``history``'s row ``users[p]`` with the largest ``history[u, j] * links(j, items[p])``,
    among the row's items stored in ``only``'s row when it is given; -1 where none is > 0.

    ``links(js, targets)`` gives the link of each ``js[q]`` to ``targets[q]``. One pass of
    numpy over a batch's (pick, seen item) pairs, where a call per pick cost ~90 µs: the
    reasons of a million lists took longer than computing the lists.
    """
    users = np.asarray(users, dtype=np.int64)
    items = np.asarray(items, dtype=np.int64)
    pick, flat = row_entries(history, users)
    best = np.full(len(users), -1, dtype=np.int64)
    if len(flat) == 0:
        return best
    seen = history.indices[flat].astype(np.int64)
    contrib = history.data[flat] * links(seen, items[pick])
    if only is not None:
        contrib = np.where(values_at(only, users[pick], seen) != 0, contrib, -np.inf)
    at = argmax_per_group(pick, contrib, len(users))
    found = at >= 0
    found[found] = contrib[at[found]] > 0
    best[found] = seen[at[found]]
    return best


def argmax_per_group(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group ``g`` in 0..n_groups-1, the position in ``values`` of its largest value
    (the first one on ties, as ``np.argmax``), or -1 for a group with no values.

    ``groups`` must be nondecreasing (entries grouped, as :func:`row_entries` gives them).
    """
    out = np.full(n_groups, -1, dtype=np.int64)
    if len(values) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    lengths = np.diff(np.r_[starts, len(values)])
    best = np.maximum.reduceat(values, starts)
    at_best = np.flatnonzero(values == np.repeat(best, lengths))
    first = at_best[np.r_[True, groups[at_best][1:] != groups[at_best][:-1]]]
    out[groups[first]] = first
    return out


def values_at(
    M: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray, default: float = 0.0
) -> np.ndarray:
    """``M[rows[p], cols[p]]`` for every pair ``p`` (``default`` where nothing is stored),
    by one sorted search over the stored entries of the rows asked about."""
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    out = np.full(len(rows), default, dtype=np.float64)
    if len(rows) == 0:
        return out
    unique, where = np.unique(rows, return_inverse=True)
    owner, flat = row_entries(M, unique)
    if len(flat) == 0:
        return out
    n_cols = np.int64(M.shape[1])
    keys = owner * n_cols + M.indices[flat]
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    wanted = where.astype(np.int64) * n_cols + cols
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    found = (cols >= 0) & (keys[at] == wanted)
    out[found] = M.data[flat[order[at[found]]]]
    return out


def row_entries(M: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``rows``, index into ``M.indices``/``M.data``) of every stored entry of
    the rows ``rows``, row by row."""
    starts, stops = M.indptr[rows].astype(np.int64), M.indptr[rows + 1].astype(np.int64)
    lengths = stops - starts
    owner = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    offsets = np.cumsum(lengths) - lengths
    flat = np.arange(int(lengths.sum()), dtype=np.int64) - offsets[owner] + starts[owner]
    return owner, flat


def member_of(values: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """``np.isin(values, pool)`` for the short arrays of one member's row: a binary search
    in the sorted pool, about 5x faster than ``isin`` at this size (reasons ask it ~20 million
    times for a million lists)."""
    pool = np.sort(np.asarray(pool))
    if len(pool) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(pool, values), len(pool) - 1)
    return pool[at] == values


def check_positive(value: float | None, name: str, *, allow_none: bool = False) -> None:
    """Raise a ValueError naming the parameter unless it is a positive finite number."""
    if value is None and allow_none:
        return
    if value is None or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")


def keep_columns(M: sp.spmatrix, keep: np.ndarray) -> sp.csr_matrix:
    """``M`` with only its stored values in the ``keep`` columns (stored zeros stay stored,
    so a timestamps matrix keeps the pattern of its ratings)."""
    coo = sp.csr_matrix(M).tocoo()
    mask = keep[coo.col]
    out = sp.csr_matrix((coo.data[mask], (coo.row[mask], coo.col[mask])), shape=M.shape)
    out.sort_indices()
    return out
