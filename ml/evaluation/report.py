"""One call from a recommender (or its lists) to every metric, overall and per member group."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ml.evaluation.metrics import catalogue_coverage, intra_list_diversity, novelty, summarise
from ml.recommenders.base import Recommender


def evaluate(
    recommender_or_recs: Recommender | np.ndarray,
    test: sp.spmatrix,
    *,
    k: int,
    users: np.ndarray,
    item_embeddings: np.ndarray | None = None,
    item_popularity: np.ndarray | None = None,
    groups: dict[str, np.ndarray] | None = None,
) -> dict:
    """All metrics at ``k`` for ``users`` (member indices), against their rows of ``test``.

    ``recommender_or_recs`` is a fitted recommender (its ``recommend`` excludes seen items)
    or an array of lists of shape (len(users), >= k). ``item_embeddings`` adds intra-list
    diversity, ``item_popularity`` (training rating counts per item) adds novelty. ``groups``
    maps a name to a boolean mask over all members; each group's metrics, over the members
    of ``users`` in it, are under ``result["groups"][name]``. Keys are like ``"ndcg@10"``;
    ``"members"`` is how many were evaluated.
    """
    users = np.asarray(users, dtype=np.int64)
    test = sp.csr_matrix(test)
    if isinstance(recommender_or_recs, Recommender):
        recs = recommender_or_recs.recommend(users, k)[0]
    else:
        recs = np.asarray(recommender_or_recs, dtype=np.int64)[:, :k]
    if recs.shape[0] != len(users):
        raise ValueError(f"{recs.shape[0]} lists for {len(users)} users")
    extras = {"item_embeddings": item_embeddings, "item_popularity": item_popularity}
    result = _metrics(recs, test[users], k, n_members=test.shape[0], **extras)
    result["groups"] = {
        name: _metrics(recs[mask[users]], test[users[mask[users]]], k, test.shape[0], **extras)
        for name, mask in (groups or {}).items()
    }
    return result


def _metrics(
    recs: np.ndarray,
    relevant: sp.csr_matrix,
    k: int,
    n_members: int,
    item_embeddings: np.ndarray | None,
    item_popularity: np.ndarray | None,
) -> dict:
    out: dict = {"members": len(recs)}
    if len(recs) == 0:
        return out
    out.update(summarise(recs, relevant))
    out[f"coverage@{k}"] = catalogue_coverage(recs, relevant.shape[1])
    if item_embeddings is not None:
        out[f"diversity@{k}"] = _nanmean(intra_list_diversity(recs, item_embeddings))
    if item_popularity is not None:
        out[f"novelty@{k}"] = _nanmean(novelty(recs, item_popularity, n_members))
    return out


def _nanmean(values: np.ndarray) -> float:
    """Mean over defined values; NaN (without a warning) when there are none, e.g. k = 1."""
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if len(defined) else float("nan")


def format_table(results: dict[str, dict], *, digits: int = 4) -> str:
    """A plain-text table: one row per model, one column per scalar metric (first seen order).

    Nested entries such as ``"groups"`` are left out; pass ``result["groups"]`` to print them.
    """
    columns: list[str] = []
    for metrics in results.values():
        columns += [c for c, v in metrics.items() if _is_scalar(v) and c not in columns]
    rows = [["model", *columns]]
    for name, metrics in results.items():
        rows.append([name, *(_cell(metrics.get(c), digits) for c in columns)])
    widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))]
    lines = ["  ".join(_align(row, widths)) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def _align(row: list[str], widths: list[int]) -> list[str]:
    """Model names left-aligned, numbers right-aligned."""
    return [row[0].ljust(widths[0])] + [
        c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
    ]


def _is_scalar(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating)


def _cell(value: object, digits: int) -> str:
    if value is None:
        return "-"
    if isinstance(value, int | np.integer):
        return str(value)
    return f"{value:.{digits}f}"
