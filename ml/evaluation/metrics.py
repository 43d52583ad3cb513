"""Top-k ranking metrics, vectorised over members.

Every accuracy metric takes ``recs``, an int array of shape (n, k) of recommended item
indices best first (-1 marks an empty slot), and ``relevant``, a sparse matrix of shape
(n, n_items) whose stored entries in row r are the held-out items of the member of row r.
Each returns one float per row. Rows without relevant items score 0: select the members to
evaluate (those with held-out items) before calling.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def hits_matrix(recs: np.ndarray, relevant: sp.spmatrix) -> np.ndarray:
    """Boolean (n, k): whether each recommended item is among that row's relevant items."""
    recs = np.asarray(recs, dtype=np.int64)
    rel = _canonical(relevant)
    if rel.shape[0] != recs.shape[0]:
        raise ValueError(f"recs has {recs.shape[0]} rows but relevant has {rel.shape[0]}")
    n_items = rel.shape[1]
    keys = np.repeat(np.arange(rel.shape[0]), np.diff(rel.indptr)) * n_items + rel.indices
    query = np.arange(recs.shape[0])[:, None] * n_items + recs
    pos = np.minimum(np.searchsorted(keys, query), max(len(keys) - 1, 0))
    found = keys[pos] == query if len(keys) else np.zeros(recs.shape, dtype=bool)
    return found & (recs >= 0)


def _canonical(relevant: sp.spmatrix) -> sp.csr_matrix:
    """CSR with sorted, unique indices (so row * n_items + item keys come out sorted)."""
    rel = sp.csr_matrix(relevant)
    if not rel.has_canonical_format:
        rel = rel.copy()  # never reorder the caller's matrix in place
        rel.sum_duplicates()
    return rel


def _n_relevant(relevant: sp.spmatrix) -> np.ndarray:
    return np.diff(_canonical(relevant).indptr)


def _discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2))


def precision_at_k(recs: np.ndarray, relevant: sp.spmatrix) -> np.ndarray:
    """Hits / k, with k the list length (empty slots count as misses)."""
    hits = hits_matrix(recs, relevant)
    return hits.sum(axis=1) / hits.shape[1]


def recall_at_k(recs: np.ndarray, relevant: sp.spmatrix) -> np.ndarray:
    """Hits / number of relevant items."""
    hits = hits_matrix(recs, relevant).sum(axis=1)
    return hits / np.maximum(_n_relevant(relevant), 1)


def ndcg_at_k(recs: np.ndarray, relevant: sp.spmatrix) -> np.ndarray:
    """DCG with binary gains and 1/log2(rank + 1) discount over the ideal DCG truncated at k."""
    hits = hits_matrix(recs, relevant)
    k = hits.shape[1]
    disc = _discounts(k)
    ideal_cum = np.concatenate([[0.0], np.cumsum(disc)])
    ideal = ideal_cum[np.minimum(_n_relevant(relevant), k)]
    return (hits @ disc) / np.where(ideal > 0, ideal, 1.0)


def hit_rate_at_k(recs: np.ndarray, relevant: sp.spmatrix) -> np.ndarray:
    """1 when at least one recommended item is relevant, else 0."""
    hit = hits_matrix(recs, relevant).any(axis=1)  # one bool per row (stubs also allow a scalar)
    return np.asarray(hit).astype(np.float64)


def map_at_k(recs: np.ndarray, relevant: sp.spmatrix) -> np.ndarray:
    """Average precision at k, normalised by min(k, number of relevant items)."""
    hits = hits_matrix(recs, relevant)
    k = hits.shape[1]
    prec_at_rank = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    denom = np.maximum(np.minimum(_n_relevant(relevant), k), 1)
    return (prec_at_rank * hits).sum(axis=1) / denom


def mrr_at_k(recs: np.ndarray, relevant: sp.spmatrix) -> np.ndarray:
    """1 / rank of the first relevant item, 0 when none is in the list."""
    hits = hits_matrix(recs, relevant)
    first = np.argmax(hits, axis=1)
    return np.where(hits.any(axis=1), 1.0 / (first + 1), 0.0)


ACCURACY_METRICS = {
    "precision": precision_at_k,
    "recall": recall_at_k,
    "ndcg": ndcg_at_k,
    "hit_rate": hit_rate_at_k,
    "map": map_at_k,
    "mrr": mrr_at_k,
}


def summarise(recs: np.ndarray, relevant: sp.spmatrix) -> dict[str, float]:
    """Mean of every accuracy metric, keyed like ``"ndcg@10"``."""
    k = np.asarray(recs).shape[1]
    return {
        f"{name}@{k}": float(np.mean(fn(recs, relevant))) for name, fn in ACCURACY_METRICS.items()
    }


def catalogue_coverage(recs: np.ndarray, n_items: int) -> float:
    """Share of the catalogue that appears in at least one list."""
    recs = np.asarray(recs)
    return len(np.unique(recs[recs >= 0])) / n_items


def intra_list_diversity(
    recs: np.ndarray, item_embeddings: np.ndarray, *, batch_size: int = 1024
) -> np.ndarray:
    """Per list, the mean over pairs of its items of 1 - cosine similarity (NaN if < 2 items)."""
    recs = np.asarray(recs, dtype=np.int64)
    emb = np.asarray(item_embeddings, dtype=np.float64)
    emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    out = np.empty(len(recs))
    for start in range(0, len(recs), batch_size):
        out[start : start + batch_size] = _ild_batch(recs[start : start + batch_size], emb)
    return out


def _ild_batch(recs: np.ndarray, emb: np.ndarray) -> np.ndarray:
    valid = recs >= 0
    vecs = emb[np.where(valid, recs, 0)] * valid[..., None]
    sims = np.einsum("nkd,njd->nkj", vecs, vecs)
    n_valid = valid.sum(axis=1)
    # Unit vectors: the diagonal holds 1 per valid item, removed from the pair sum.
    pair_sim = (sims.sum(axis=(1, 2)) - n_valid) / 2
    n_pairs = n_valid * (n_valid - 1) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_pairs > 0, 1.0 - pair_sim / n_pairs, np.nan)


def novelty(recs: np.ndarray, item_popularity_counts: np.ndarray, n_members: int) -> np.ndarray:
    """Per list, the mean of -log2 p(item), p = members who rated it / n_members.

    Counts are clipped at 1 so an item nobody rated in training scores as rare, not infinite.
    """
    recs = np.asarray(recs, dtype=np.int64)
    counts = np.maximum(np.asarray(item_popularity_counts, dtype=np.float64), 1.0)
    self_info = -np.log2(np.minimum(counts / n_members, 1.0))
    valid = recs >= 0
    total = np.where(valid, self_info[np.where(valid, recs, 0)], 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(valid.any(axis=1), total / valid.sum(axis=1), np.nan)
