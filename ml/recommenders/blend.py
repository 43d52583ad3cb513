"""Weighted blends of fitted recommenders, and choosing the weights on a validation part."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Self

import numpy as np
import scipy.sparse as sp

from ml.evaluation.metrics import ndcg_at_k
from ml.recommenders._sparse import check_interactions, row_ids
from ml.recommenders.base import Recommender, top_k
from ml.recommenders.buckets import history_buckets, rating_counts

_NORMALISERS = ("minmax", "rank")


class Blend(Recommender):
    """Weighted sum of several recommenders' scores, each normalised per member first.

    The components are fitted beforehand, each with the context it needs (timestamps,
    segments), on the same training matrix; ``fit`` fits nothing and only checks that. Scores
    are normalised per member over the items they have not seen, so a component's scale does
    not decide its influence; seen items get 0 (``recommend`` drops them anyway).

    Parameters
    ----------
    components : dict of str to Recommender
        Fitted recommenders by name.
    weights : dict of str to float
        Non-negative weight per component name (missing names weigh 0).
    normalise : {"minmax", "rank"}, default="minmax"
        "minmax" maps each member's unseen scores to [0, 1]; "rank" uses rank percentiles,
        which ignore how far ahead a component's favourites are.
    bucket_weights : dict of str to dict, optional
        Weights for members of a history-length bucket (see :mod:`.buckets`), replacing
        ``weights`` for them: a member with three ratings may lean on their segment where a
        member with three hundred leans on EASE.

    Attributes
    ----------
    names_ : list of str
        Component names in the order used by ``contributions``.
    X_ : csr_matrix
        The training matrix, for excluding seen items.
    """

    def __init__(
        self,
        components: dict[str, Recommender],
        weights: dict[str, float],
        normalise: str = "minmax",
        bucket_weights: dict[str, dict[str, float]] | None = None,
    ) -> None:
        self.components = components
        self.weights = weights
        self.normalise = normalise
        self.bucket_weights = bucket_weights
        self._last_parts: tuple[bytes, np.ndarray] | None = None

    def fit(
        self,
        X: sp.spmatrix,
        *,
        timestamps: sp.spmatrix | None = None,
        segments: np.ndarray | None = None,
        features: np.ndarray | None = None,
    ) -> Self:
        """Check the components were fitted on a matrix like ``X``; ``context`` is unused."""
        if self.normalise not in _NORMALISERS:
            raise ValueError(f"normalise must be one of {_NORMALISERS}, got {self.normalise!r}")
        for weights in [self.weights, *(self.bucket_weights or {}).values()]:
            unknown = set(weights) - set(self.components)
            if unknown or any(w < 0 for w in weights.values()):
                raise ValueError(
                    f"weights must be >= 0 and name components; bad: {sorted(unknown)}"
                )
        self.X_ = check_interactions(X)
        self._last_parts = None
        self.buckets_ = history_buckets(rating_counts(self.X_))
        for name, comp in self.components.items():
            fitted = getattr(comp, "X_", None)
            if fitted is None or fitted.shape != self.X_.shape or fitted.nnz != self.X_.nnz:
                raise ValueError(f"component {name!r} must be fitted on the same matrix first")
        self.names_ = list(self.components)
        return self

    def _parts(self, users: np.ndarray) -> np.ndarray:
        """Normalised, weighted scores: shape (n_components, len(users), n_items).

        The last batch's parts are kept: writing lists asks for a batch's picks and then for
        what drove them (:meth:`contributions`), and scoring every component twice doubled
        the cost of that stage."""
        key = np.asarray(users, dtype=np.int64).tobytes()
        if self._last_parts is not None and self._last_parts[0] == key:
            return self._last_parts[1]
        parts = self._computed_parts(users)
        self._last_parts = (key, parts)
        return parts

    def _computed_parts(self, users: np.ndarray) -> np.ndarray:
        seen = self.X_[users]
        weights = self.member_weights(users)
        parts = np.empty((len(self.names_), len(users), self.X_.shape[1]))
        for c, name in enumerate(self.names_):
            parts[c] = normalise_scores(self.components[name].score(users), seen, self.normalise)
            parts[c] *= weights[:, c, None]
        return parts

    def member_weights(self, users: np.ndarray) -> np.ndarray:
        """Each member's component weights, shape (len(users), n_components)."""
        default = np.array([self.weights.get(name, 0.0) for name in self.names_])
        out = np.tile(default, (len(users), 1))
        for bucket, weights in (self.bucket_weights or {}).items():
            rows = self.buckets_[users] == bucket
            out[rows] = [weights.get(name, 0.0) for name in self.names_]
        return out

    def _score_batch(self, users: np.ndarray) -> np.ndarray:
        return self._parts(users).sum(axis=0)

    def contributions(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Name of the component that added most to each (member, item); "" for item -1.

        ``items`` has shape (len(users), k), as returned by ``recommend``.
        """
        users = np.asarray(users, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        parts = self._parts(users)
        picked = np.take_along_axis(parts, np.maximum(items, 0)[None], axis=2)
        best = np.asarray(self.names_, dtype=object)[np.argmax(picked, axis=0)]
        return np.where(items >= 0, best, "").astype(str)

    def parts(
        self, users: np.ndarray, items: np.ndarray
    ) -> tuple[np.ndarray, dict[str, Recommender]]:
        """The component that added most to each pick (see :meth:`contributions`)."""
        return self.contributions(users, items), self.components

    def explain(self, user: int, item: int, only: np.ndarray | None = None) -> int:
        """The seen item named by the component that contributed most to ``item``."""
        name = self.contributions(np.array([user]), np.array([[item]]))[0, 0]
        return self.components[name].explain(user, item, only) if name else -1


def normalise_scores(scores: np.ndarray, seen: sp.csr_matrix, how: str) -> np.ndarray:
    """Per row, scores rescaled over the unseen items to [0, 1]; seen items get 0.

    Non-finite scores count as the lowest or highest (a row holding one normalises to 0).
    """
    seen_at = (row_ids(seen), seen.indices)
    out = np.array(scores, dtype=np.float64)
    if how == "rank":
        return _rank_normalised(out, seen_at)
    if not np.isfinite(out).all():
        return _masked_minmax(out, seen_at)
    # Min-max in a few in-place passes: it runs once per component for every batch of
    # every list (a million members x 6,000 items per component), where masked copies and
    # nanmin/nanmax cost about half of scoring.
    out[seen_at] = np.inf
    lo = out.min(axis=1, keepdims=True)
    out[seen_at] = -np.inf
    hi = out.max(axis=1, keepdims=True)
    out -= lo
    with np.errstate(invalid="ignore"):
        out /= np.where(hi > lo, hi - lo, np.inf)
    out[seen_at] = 0.0
    return out


def _masked_minmax(scores: np.ndarray, seen_at: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    mask = np.zeros(scores.shape, dtype=bool)
    mask[seen_at] = True
    scores[mask] = np.nan
    with np.errstate(all="ignore"):
        lo = np.nanmin(np.where(mask, np.inf, scores), axis=1, keepdims=True)
        hi = np.nanmax(np.where(mask, -np.inf, scores), axis=1, keepdims=True)
        out = (scores - lo) / np.where(hi > lo, hi - lo, np.inf)
    return np.where(mask, 0.0, np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0))


def _rank_normalised(scores: np.ndarray, seen_at: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    mask = np.zeros(scores.shape, dtype=bool)
    mask[seen_at] = True
    ranks = np.argsort(np.argsort(np.where(mask, -np.inf, scores), axis=1), axis=1)
    n_seen = mask.sum(axis=1, keepdims=True)
    n_unseen = scores.shape[1] - n_seen
    out = (ranks - n_seen) / np.maximum(n_unseen - 1, 1)
    return np.where(mask, 0.0, out)


def tune_weights(
    components: dict[str, Recommender],
    X_train: sp.spmatrix,
    X_valid: sp.spmatrix,
    k: int,
    grid: Mapping[str, Sequence[float]],
    *,
    normalise: str = "minmax",
    batch_size: int = 512,
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Pick blend weights by mean NDCG@k on a validation part.

    ``components`` must already be fitted on ``X_train``; ``X_valid`` holds the held-out
    items of the same members (e.g. from ``validation_split``), and members with any are
    evaluated. ``grid`` maps each name to candidate weights; every combination except the
    all-zero one is tried. Returns the best weights and one row per combination (the
    weights plus ``"ndcg"``), best first.
    """
    combos = combinations(grid)
    _, ndcg = member_ndcg(
        components, X_train, X_valid, k, combos, normalise=normalise, batch_size=batch_size
    )
    totals = ndcg.sum(axis=1)
    n_users = max(ndcg.shape[1], 1)
    table = [{**c, "ndcg": float(t / n_users)} for c, t in zip(combos, totals, strict=True)]
    table.sort(key=lambda row: -row["ndcg"])
    best = {name: table[0].get(name, 0.0) for name in components}
    return best, table


def member_ndcg(
    components: dict[str, Recommender],
    X_train: sp.spmatrix,
    X_valid: sp.spmatrix,
    k: int,
    combos: list[dict[str, float]],
    *,
    normalise: str = "minmax",
    batch_size: int = 512,
) -> tuple[np.ndarray, np.ndarray]:
    """NDCG@k of every weight combination for every validation member.

    Returns the members (those with held-out items in ``X_valid``) and an array of shape
    (len(combos), len(members)); component scores are computed once per member batch.
    """
    blend = Blend(components, dict.fromkeys(components, 1.0), normalise).fit(X_train)
    valid = sp.csr_matrix(X_valid)
    users = np.flatnonzero(np.diff(valid.indptr) > 0)
    out = np.zeros((len(combos), len(users)))
    for start in range(0, len(users), batch_size):
        batch = users[start : start + batch_size]
        out[:, start : start + len(batch)] = _batch_ndcg(blend, batch, valid, combos, k)
    return users, out


def combinations(grid: Mapping[str, Sequence[float]]) -> list[dict[str, float]]:
    """Every weight combination of ``grid`` but the all-zero one."""
    names = list(grid)
    combos = [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]
    combos = [c for c in combos if any(w > 0 for w in c.values())]
    if not combos:
        raise ValueError("grid must contain at least one combination with a positive weight")
    return combos


def _batch_ndcg(
    blend: Blend,
    users: np.ndarray,
    valid: sp.csr_matrix,
    combos: list[dict[str, float]],
    k: int,
) -> np.ndarray:
    """NDCG@k of ``users`` for every weight combination (scores computed once): shape
    (len(combos), len(users))."""
    # Weights are all 1 here: plain normalised scores. float32 halves the memory traffic of
    # the combinations' sums and top-k, which are most of tuning's time.
    parts = blend._parts(users).astype(np.float32)
    seen = blend.X_[users]
    seen_mask = (row_ids(seen), seen.indices)
    relevant = valid[users]
    out = np.empty((len(combos), len(users)))
    for c, weights in enumerate(combos):
        w = np.array([weights.get(name, 0.0) for name in blend.names_], dtype=np.float32)
        scores = np.tensordot(w, parts, axes=1)
        scores[seen_mask] = -np.inf
        out[c] = ndcg_at_k(top_k(scores, k)[0], relevant)
    return out
