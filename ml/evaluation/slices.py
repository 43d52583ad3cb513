"""Where the text model and the segments matter: one split, scored slice by slice.

A single split holds out, at once, members whole (cold: only who they are and what they
wrote is known), items whole (new: only their text is known) and each remaining member's
latest ratings (warm). One fitted model is then scored on every slice: warm members, each
history-length bucket, cold members and new items.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ml.evaluation.metrics import ndcg_at_k, recall_at_k
from ml.evaluation.splits import Split, temporal_split
from ml.recommenders._sparse import keep_columns
from ml.recommenders.buckets import NAMES as BUCKETS
from ml.recommenders.buckets import history_buckets, rating_counts


@dataclass(frozen=True)
class SliceSplit:
    """A :class:`Split` and which members and items it made cold and new."""

    split: Split
    cold_members: np.ndarray
    new_items: np.ndarray


def slice_split(
    users: np.ndarray,
    items: np.ndarray,
    values: np.ndarray,
    timestamps: np.ndarray,
    n_users: int,
    n_items: int,
    *,
    holdout: float = 0.2,
    member_fraction: float = 0.15,
    item_fraction: float = 0.05,
    random_state: int = 0,
) -> SliceSplit:
    """Hold out ``member_fraction`` of the rated members and ``item_fraction`` of the rated
    items with all their ratings, then each other member's latest ``holdout`` share.

    Items that no training rating is left on (those chosen, and any whose every rating was
    held out) count as new.
    """
    u, i = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
    v, t = np.asarray(values, dtype=np.float32), np.asarray(timestamps, dtype=np.float64)
    rng = np.random.default_rng(random_state)
    cold = _pick(np.unique(u), member_fraction, n_users, rng)
    new = _pick(np.unique(i), item_fraction, n_items, rng)
    whole = cold[u] | new[i]
    rest = temporal_split(
        u[~whole], i[~whole], v[~whole], t[~whole], n_users, n_items, holdout=holdout
    )
    held = _matrix(u[whole], i[whole], v[whole], (n_users, n_items))
    held_ts = _matrix(u[whole], i[whole], t[whole], (n_users, n_items), np.float64)
    test = (rest.test + held).tocsr()
    test_ts = (rest.test_timestamps + held_ts).tocsr()
    new_items = np.bincount(rest.train.indices, minlength=n_items) == 0
    evaluated = np.diff(test.indptr) > 0
    split = Split(rest.train, test, rest.train_timestamps, test_ts, evaluated)
    return SliceSplit(split, cold, new_items)


def _pick(
    candidates: np.ndarray, fraction: float, size: int, rng: np.random.Generator
) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    n = int(round(fraction * len(candidates)))
    if n:
        mask[rng.choice(candidates, size=n, replace=False)] = True
    return mask


def _matrix(
    u: np.ndarray, i: np.ndarray, x: np.ndarray, shape: tuple[int, int], dtype: type = np.float32
) -> sp.csr_matrix:
    m = sp.csr_matrix((x.astype(dtype), (u, i)), shape=shape)
    m.sort_indices()
    return m


def slice_metrics(
    recs: np.ndarray, users: np.ndarray, sliced: SliceSplit, k: int
) -> dict[str, dict[str, float]]:
    """NDCG@k per slice, and recall@k of the held-out ratings on new items.

    ``recs`` has one row per member of ``users`` (the evaluated members). Warm slices score
    against ratings of items that had training ratings; the cold slice against everything
    its members rated; the new-items slice, over members who rated a new item, against
    those ratings alone.
    """
    split = sliced.split
    test = split.test[users]
    counts = rating_counts(split.train)[users]
    old_only = keep_columns(test, ~sliced.new_items)
    new_only = keep_columns(test, sliced.new_items)
    buckets = history_buckets(counts)
    out: dict[str, dict[str, float]] = {}
    warm = (counts > 0) & (np.diff(old_only.indptr) > 0)
    out["warm"] = _ndcg(recs, old_only, warm)
    for bucket in BUCKETS[1:]:
        out[f"bucket {bucket}"] = _ndcg(recs, old_only, warm & (buckets == bucket))
    out["cold members"] = _ndcg(recs, test, counts == 0)
    rated_new = np.diff(new_only.indptr) > 0
    recall = recall_at_k(recs[rated_new], new_only[rated_new]) if rated_new.any() else np.array([])
    out["new items"] = {
        "members": int(rated_new.sum()),
        f"recall@{k}": float(recall.mean()) if len(recall) else float("nan"),
    }
    return out


def _ndcg(recs: np.ndarray, relevant: sp.csr_matrix, rows: np.ndarray) -> dict[str, float]:
    k = recs.shape[1]
    if not rows.any():
        return {"members": 0, f"ndcg@{k}": float("nan")}
    return {
        "members": int(rows.sum()),
        f"ndcg@{k}": float(ndcg_at_k(recs[rows], relevant[rows]).mean()),
    }


def segment_accuracy(
    labels: np.ndarray, planted: np.ndarray, clustered: np.ndarray, rows: np.ndarray
) -> float:
    """Share of ``rows`` whose segment's majority planted group (over ``clustered`` members)
    is their own planted group."""
    majority = {}
    for segment in np.unique(labels[clustered]):
        groups = planted[clustered & (labels == segment)]
        majority[int(segment)] = int(np.bincount(groups).argmax())
    if not rows.any():
        return float("nan")
    return float(
        np.mean(
            [
                majority.get(int(s), -1) == g
                for s, g in zip(labels[rows], planted[rows], strict=True)
            ]
        )
    )


SLICE_COLUMNS = ("warm", "bucket 1-5", "bucket 6-20", "bucket 21+", "cold members", "new items")


def slice_rows(result: dict) -> tuple[list[str], list[list[str]]]:
    """The table of an ``evaluate_slices`` result: a header and one row per model, NDCG@k
    per slice (members evaluated in brackets in the header), recall@k for new items, and
    the cold members' segment accuracy when planted groups were known."""
    k = result["k"]
    models = result["models"]
    first = next(iter(models.values()))["slices"]
    header = ["model", *(f"{c} ({first[c]['members']})" for c in SLICE_COLUMNS)]
    accuracy = any("cold_segment_accuracy" in m for m in models.values())
    if accuracy:
        header.append("cold members' segment accuracy")
    rows = []
    for name, entry in models.items():
        cells = [name, *(_number(slice_value(entry["slices"][c], k)) for c in SLICE_COLUMNS)]
        if accuracy:
            cells.append(_number(entry.get("cold_segment_accuracy")))
        rows.append(cells)
    return header, rows


def slice_value(cell: dict, k: int) -> float:
    """A slice's number: recall@k for new items, NDCG@k otherwise."""
    return cell.get(f"recall@{k}", cell.get(f"ndcg@{k}", float("nan")))


def _number(value: float | None) -> str:
    if value is None or value != value:  # NaN: nobody in the slice
        return "-"
    return f"{value:.4f}"


def flat_slices(result: dict) -> dict[str, dict[str, float]]:
    """Per model, one number per slice under keys like "ndcg@10 warm", "recall@10 new items"
    (and "members" with the warm count): the shape other evaluation tables have."""
    k = result["k"]
    flat = {}
    for name, entry in result["models"].items():
        row: dict[str, float] = {"members": entry["slices"]["warm"]["members"]}
        for column in SLICE_COLUMNS:
            metric = "recall" if column == "new items" else "ndcg"
            row[f"{metric}@{k} {column}"] = slice_value(entry["slices"][column], k)
        flat[name] = row
    return flat
