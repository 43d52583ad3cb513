"""The interface every recommender shares: fit on a sparse member x item matrix, score rows.

No dense members x items matrix is ever built: scores are computed for a batch of members at
a time, so memory is batch x items.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp

from ml.recommenders._sparse import row_of


class Recommender:
    """Base class: subclasses implement ``fit`` and ``_score_batch``.

    ``fit(X, *, timestamps, segments, features)`` takes a CSR matrix of shape (n_members, n_items) whose stored values
    are ratings (or 1 for implicit feedback) and stores it as ``X_``; context such as segment
    labels or timestamps is keyword-only. ``score(users)`` returns dense float32 scores of shape
    (len(users), n_items) for those rows of ``X_``; higher is better.
    """

    X_: sp.csr_matrix
    # What a reason may say of this model's picks: "liked" (the liked seen item that led to
    # it, from ``explain``), "next" (a liked item the member rated recently), "segment" (what
    # the member's segment likes), "popular" (members overall) or "trending" (lately).
    cites = "liked"

    def fit(
        self,
        X: sp.spmatrix,
        *,
        timestamps: sp.spmatrix | None = None,
        segments: np.ndarray | None = None,
        features: np.ndarray | None = None,
    ) -> Self:  # pragma: no cover
        """Learn from ``X``; each model reads the inputs it needs (recency models the
        timestamps, segment models one label per member, cold-start models one feature row
        per member) and refuses to fit without them. One contract, so a registry can fit any
        model the same way."""
        raise NotImplementedError

    def _score_batch(self, users: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def score(self, users: np.ndarray) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        return np.asarray(self._score_batch(users), dtype=np.float32)

    def explain(self, user: int, item: int, only: np.ndarray | None = None) -> int:
        """The seen item that did most to put ``item`` in ``user``'s list, or -1 when none did.

        ``only`` (item indices) limits the answer to those seen items: reasons pass the
        member's likes so a list never says "because of" something they disliked. The base
        has no such item (e.g. popularity); recommenders whose scores are built from the
        member's history override this to give reasons like "because you liked Alien".
        """
        return -1

    def explain_many(
        self, users: np.ndarray, items: np.ndarray, only: sp.csr_matrix | None = None
    ) -> np.ndarray:
        """:meth:`explain` of each pick (``users[p]``, ``items[p]``), ``only`` a matrix whose
        row of each member holds the seen items allowed. Models with a fast batch answer
        override this."""
        return np.array(
            [
                self.explain(int(u), int(i), None if only is None else row_of(only, u).indices)
                for u, i in zip(users, items, strict=True)
            ],
            dtype=np.int64,
        )

    def parts(
        self, users: np.ndarray, items: np.ndarray
    ) -> tuple[np.ndarray, dict[str, Recommender]]:
        """Which model put each of ``items`` (shape (len(users), k)) in the lists, by name,
        and the models by name: a single model answers for all of its picks."""
        return np.full(np.shape(items), "self", dtype=object), {"self": self}

    def recommend(
        self, users: np.ndarray, k: int, *, exclude_seen: bool = True, batch_size: int = 512
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k unseen items per member: (items, scores), each of shape (len(users), k).

        Rows with fewer than k candidate items are padded with item -1 and score -inf.
        """
        users = np.asarray(users, dtype=np.int64)
        out_items = np.full((len(users), k), -1, dtype=np.int64)
        out_scores = np.full((len(users), k), -np.inf, dtype=np.float32)
        for start in range(0, len(users), batch_size):
            batch = users[start : start + batch_size]
            scores = self.score(batch)
            if exclude_seen:
                seen = self.X_[batch]
                scores[
                    np.repeat(np.arange(len(batch)), np.diff(seen.indptr)), seen.indices
                ] = -np.inf
            items, top = top_k(scores, k)
            out_items[start : start + len(batch)] = items
            out_scores[start : start + len(batch)] = top
        return out_items, out_scores


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the k largest finite scores per row, best first (-1 pads)."""
    k_eff = min(k, scores.shape[1])
    part = np.argpartition(-scores, k_eff - 1, axis=1)[:, :k_eff]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    items = np.take_along_axis(part, order, axis=1)
    values = np.take_along_axis(part_scores, order, axis=1)
    items = np.where(np.isfinite(values), items, -1)
    if k_eff < k:
        pad = k - k_eff
        items = np.pad(items, ((0, 0), (0, pad)), constant_values=-1)
        values = np.pad(values, ((0, 0), (0, pad)), constant_values=-np.inf)
    return items, values
