"""New items reach lists: items without ratings, scored from their text against each member.

A history model never recommends an item nobody has rated: its row of links is empty. Its
text still says what it resembles. Each new item is linked to the rated items whose texts
are closest to it (cosine of embeddings centred on the catalogue's mean, so what every text
shares, such as the sentence frame, does not count), and a member's score for it is their
affinity to those neighbours, weighted by closeness: 1 for a neighbour they liked, 0 for
one they rated and did not like, and their model's normalised score for the rest (from
their history, or for a member without ratings from their profile: the cold-start model).
On the text-rich benchmark this found a member's own group for the first new item far more
often than the cosine of the member's taste vector to the item. A share of each list goes
to the best matches; the share is chosen on validation by hiding rated items as if new
(:func:`share_scores`).
"""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp

from ml.evaluation.metrics import ndcg_at_k, recall_at_k
from ml.recommenders._sparse import (
    argmax_per_group,
    check_interactions,
    keep_columns,
    liked_matrix,
    member_of,
    row_entries,
    row_ids,
    values_at,
)
from ml.recommenders.base import Recommender, top_k
from ml.recommenders.blend import normalise_scores
from ml.recommenders.content import _unit_rows

SHARE_GRID = (0.0, 0.1, 0.2, 0.3)
DEFAULT_SHARE = 0.1
# Where validation has no new items of its own, lists explore with at most this share.
MAX_EXPLORATION = 0.2
# New items the validation part needs (rated only in its held-out part) to choose a share.
MIN_VALIDATION_NEW = 10
# Rated items each new item is linked to.
N_NEIGHBOURS = 100
# The most of their NDCG on rated items that lists may give up for new items (validation).
MAX_WARM_LOSS = 0.05
# Hidden items in validation: as many as the catalogue has new, within these bounds.
MIN_HIDDEN, MAX_HIDDEN_SHARE = 10, 0.1
_BLOCK = 2_048


class NewItems(Recommender):
    """``base``'s lists with ``share`` of their slots given to new items matched by text.

    Parameters
    ----------
    base : Recommender
        Fitted on the same matrix; fills the other slots (new items are dropped from them)
        and scores the rated items a new item is linked to.
    item_embeddings : ndarray of shape (n_items, dim)
        Text embeddings of every item, new ones included.
    profile_embeddings : ndarray of shape (n_members, dim) or None
        The members' profile embeddings, when ``base`` serves members without ratings from
        them (kept so reasons can say so).
    share : float, default=0.1
        Share of each list for new items, in [0, 1]; rounded to whole slots.
    max_ratings : int, default=0
        Items with at most this many ratings count as new.
    candidates : ndarray of bool, shape (n_items,), optional
        Limits the new items to these (validation passes the items it hid, so items that
        are really new, and have no held-out ratings, do not take their places).
    n_neighbours : int, default=100
        Rated items each new item is linked to.

    Attributes
    ----------
    new_ : ndarray of bool, shape (n_items,)
        The new items.
    links_ : csr_matrix of shape (n_items, n_items)
        Row j: the closeness weights (summing to 1) of new item j to its rated neighbours.
    """

    def __init__(
        self,
        base: Recommender,
        item_embeddings: np.ndarray,
        profile_embeddings: np.ndarray | None = None,
        share: float = DEFAULT_SHARE,
        max_ratings: int = 0,
        candidates: np.ndarray | None = None,
        n_neighbours: int = N_NEIGHBOURS,
    ) -> None:
        self.base = base
        self.item_embeddings = item_embeddings
        self.profile_embeddings = profile_embeddings
        self.share = share
        self.max_ratings = max_ratings
        self.candidates = candidates
        self.n_neighbours = n_neighbours

    def fit(
        self,
        X: sp.spmatrix,
        *,
        timestamps: sp.spmatrix | None = None,
        segments: np.ndarray | None = None,
        features: np.ndarray | None = None,
    ) -> Self:
        if not 0.0 <= self.share <= 1.0:
            raise ValueError(f"share must lie in [0, 1], got {self.share!r}")
        self.X_ = check_interactions(X)
        emb = np.asarray(self.item_embeddings, dtype=np.float32)
        if emb.ndim != 2 or emb.shape[0] != self.X_.shape[1]:
            raise ValueError(f"item_embeddings must have shape ({self.X_.shape[1]}, dim)")
        counts = np.bincount(self.X_.indices, minlength=self.X_.shape[1])
        self.new_ = counts <= self.max_ratings
        if self.candidates is not None:
            self.new_ = np.asarray(self.candidates, dtype=bool) & self.new_
        old = counts > 0
        centred = emb - emb[old].mean(axis=0) if old.any() else emb
        self.item_vectors_ = _unit_rows(centred)
        self.links_ = _links(self.item_vectors_, self.new_, old, self.n_neighbours)
        self.liked_ = liked_matrix(self.X_)
        return self

    def slots(self, k: int) -> int:
        """How many of ``k`` places go to new items."""
        return min(int(round(self.share * k)), int(self.new_.sum()), k)

    def _score_batch(self, users: np.ndarray) -> np.ndarray:
        return self.base.score(users)

    def text_scores(self, users: np.ndarray, base_scores: np.ndarray | None = None) -> np.ndarray:
        """Each member's score for each new item (-inf for the other items): their affinity
        to the item's neighbours (see the module), weighted by closeness."""
        unit = self.text_affinities(users, base_scores)
        scores = np.asarray(self.links_ @ unit.T).T
        return np.where(self.new_[None, :], scores, -np.inf).astype(np.float32)

    def recommend(
        self, users: np.ndarray, k: int, *, exclude_seen: bool = True, batch_size: int = 512
    ) -> tuple[np.ndarray, np.ndarray]:
        """``base``'s top items, then the best new items in the last places (scores: base's,
        or the linked score for new items)."""
        users = np.asarray(users, dtype=np.int64)
        n_new = self.slots(k)
        places = _places(k, n_new)
        rest = np.setdiff1d(np.arange(k), places)
        out_items = np.full((len(users), k), -1, dtype=np.int64)
        out_scores = np.full((len(users), k), -np.inf, dtype=np.float32)
        for start in range(0, len(users), batch_size):
            batch = users[start : start + batch_size]
            rows = slice(start, start + len(batch))
            scores = self.base.score(batch)
            if n_new:
                new_items, new_scores = top_k(self.text_scores(batch, scores), n_new)
                out_items[rows, places], out_scores[rows, places] = new_items, new_scores
            if exclude_seen:
                seen = self.X_[batch]
                scores[row_ids(seen), seen.indices] = -np.inf
            scores[:, self.new_] = -np.inf
            old_items, old_scores = top_k(scores, len(rest))
            out_items[rows, rest], out_scores[rows, rest] = old_items, old_scores
        return out_items, out_scores

    def neighbour(
        self,
        user: int,
        item: int,
        exclude: np.ndarray | None = None,
        affinity: np.ndarray | None = None,
    ) -> int:
        """The rated item that did most to score new ``item`` for ``user`` (never one of
        ``exclude``, e.g. what they disliked); -1 when none did. ``affinity`` is the
        member's :meth:`text_affinity`, when the caller already has it."""
        link = self.links_[item]
        if link.nnz == 0:
            return -1
        if affinity is None:
            affinity = self.text_affinity(user)
        contribution = link.data * np.maximum(affinity[link.indices], 1e-9)
        if exclude is not None:
            contribution = np.where(member_of(link.indices, exclude), -np.inf, contribution)
        best = int(np.argmax(contribution))
        return int(link.indices[best]) if np.isfinite(contribution[best]) else -1

    def text_affinities(
        self, users: np.ndarray, base_scores: np.ndarray | None = None
    ) -> np.ndarray:
        """Each member's affinity to every item, as :meth:`text_scores` weighs neighbours:
        1 for an item they liked, 0 for one they rated and did not like, ``base``'s
        normalised score (``base_scores`` when the caller has them) for the rest."""
        users = np.asarray(users, dtype=np.int64)
        if base_scores is None:
            base_scores = self.base.score(users)
        unit = normalise_scores(base_scores, self.X_[users], "minmax")  # seen items get 0
        liked = self.liked_[users]
        unit[row_ids(liked), liked.indices] = 1.0
        return unit

    def neighbours(self, users: np.ndarray, items: np.ndarray, affinity: np.ndarray) -> np.ndarray:
        """:meth:`neighbour` of each pick (``users[p]``, new ``items[p]``), never an item the
        member rated and did not like; ``affinity[p]`` is the member's :meth:`text_affinity`
        row. One numpy pass over the picks' links instead of a call per pick."""
        users = np.asarray(users, dtype=np.int64)
        pick, flat = row_entries(self.links_, np.asarray(items, dtype=np.int64))
        linked = self.links_.indices[flat].astype(np.int64)
        who = users[pick]
        contribution = self.links_.data[flat] * np.maximum(affinity[pick, linked], 1e-9)
        rated = ~np.isnan(values_at(self.X_, who, linked, default=np.nan))
        disliked = rated & (values_at(self.liked_, who, linked) == 0)
        contribution = np.where(disliked, -np.inf, contribution)
        at = argmax_per_group(pick, contribution, len(users))
        found = at >= 0
        found[found] = np.isfinite(contribution[at[found]])
        best = np.full(len(users), -1, dtype=np.int64)
        best[found] = linked[at[found]]
        return best

    def text_affinity(self, user: int) -> np.ndarray:
        """:meth:`text_affinities` of one member."""
        return self.text_affinities(np.array([user]))[0]

    def explain(self, user: int, item: int, only: np.ndarray | None = None) -> int:
        """``base``'s answer for an item that is not new; for a new one, see :meth:`neighbour`."""
        if self.new_[item]:
            return -1
        return self.base.explain(user, item, only)


def _links(
    vectors: np.ndarray, new: np.ndarray, old: np.ndarray, n_neighbours: int
) -> sp.csr_matrix:
    """Row per new item: its ``n_neighbours`` closest old items with positive cosine,
    weights summing to 1."""
    n_items = len(vectors)
    new_ids, old_ids = np.flatnonzero(new), np.flatnonzero(old)
    n_keep = min(n_neighbours, len(old_ids))
    rows, cols, vals = [], [], []
    for start in range(0, len(new_ids), _BLOCK) if n_keep else ():
        block = new_ids[start : start + _BLOCK]
        sims = vectors[block] @ vectors[old_ids].T
        top = np.argpartition(-sims, n_keep - 1, axis=1)[:, :n_keep]
        weights = np.maximum(np.take_along_axis(sims, top, axis=1), 0.0)
        rows.append(np.repeat(block, n_keep))
        cols.append(old_ids[top].ravel())
        vals.append(weights.ravel())
    if not rows:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    links = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_items, n_items),
        dtype=np.float32,
    )
    links.eliminate_zeros()
    sums = np.asarray(links.sum(axis=1)).ravel()
    return sp.csr_matrix(sp.diags(1.0 / np.where(sums > 0, sums, 1.0)) @ links)


def _places(k: int, n_new: int) -> np.ndarray:
    """The list positions of new items: the last ``n_new`` of ``k``. Their linked scores
    are averages over a hundred neighbours, below what the member's own top items score, and
    at the foot of the list they cost the proven items least."""
    return np.arange(k - n_new, k, dtype=np.int64)


def hide_items(
    train: sp.csr_matrix,
    train_timestamps: sp.csr_matrix,
    test: sp.csr_matrix,
    n_hidden: int,
    random_state: int = 0,
) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    """Make ``n_hidden`` rated items of ``train`` new: their ratings move to ``test``.

    Returns the new train matrix, its timestamps, the new test matrix and a boolean mask of
    the hidden items.
    """
    rated = np.flatnonzero(np.bincount(train.indices, minlength=train.shape[1]))
    rng = np.random.default_rng(random_state)
    hidden = np.zeros(train.shape[1], dtype=bool)
    hidden[rng.choice(rated, size=min(n_hidden, len(rated)), replace=False)] = True
    moved = keep_columns(train, hidden)
    return (
        keep_columns(train, ~hidden),
        keep_columns(train_timestamps, ~hidden),
        test + moved,
        hidden,
    )


def n_to_hide(X: sp.csr_matrix, max_ratings: int = 0) -> int:
    """How many items validation hides: as many as are new now, within bounds; 0 if none."""
    counts = np.bincount(sp.csr_matrix(X).indices, minlength=X.shape[1])
    n_new = int((counts <= max_ratings).sum())
    if n_new == 0:
        return 0
    return int(np.clip(n_new, MIN_HIDDEN, MAX_HIDDEN_SHARE * X.shape[1]))


def share_scores(
    base: Recommender,
    train: sp.csr_matrix,
    test: sp.csr_matrix,
    hidden: np.ndarray,
    item_embeddings: np.ndarray,
    profile_embeddings: np.ndarray | None,
    *,
    k: int,
    grid: tuple[float, ...] = SHARE_GRID,
) -> dict[float, dict[str, float]]:
    """For each share, over members with test ratings: mean NDCG@k on ``test``, on its
    ratings of items that were not hidden ("warm_ndcg"), and recall@k of its ratings on
    ``hidden`` items; ``base`` is fitted on ``train``."""
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    on_hidden = keep_columns(test, hidden)
    on_rated = keep_columns(test, ~hidden)
    with_rated = users[np.diff(on_rated.indptr)[users] > 0]
    with_new = users[np.diff(on_hidden.indptr)[users] > 0]
    out = {}
    for share in grid:
        model = NewItems(base, item_embeddings, profile_embeddings, share, candidates=hidden).fit(
            train
        )
        recs = model.recommend(users, k)[0]
        recall = recall_at_k(recs[np.isin(users, with_new)], on_hidden[with_new])
        warm = ndcg_at_k(recs[np.isin(users, with_rated)], on_rated[with_rated])
        out[share] = {
            "ndcg": float(ndcg_at_k(recs, test[users]).mean()),
            "warm_ndcg": float(warm.mean()) if len(warm) else float("nan"),
            "new_item_recall": float(recall.mean()) if len(recall) else float("nan"),
        }
    return out


def best_share(scores: dict[float, dict[str, float]]) -> float:
    """The share with the best validation NDCG among those that keep at least
    1 - MAX_WARM_LOSS of the NDCG on rated items that lists without new items get (the
    smaller share on a tie)."""
    return max(_affordable(scores), key=lambda share: scores[share]["ndcg"])


def exploration_share(scores: dict[float, dict[str, float]]) -> float:
    """The largest share up to MAX_EXPLORATION that keeps at least 1 - MAX_WARM_LOSS of the
    NDCG on rated items (with rated items hidden as if new, how much hits on new items are
    worth cannot be known, but what they cost the rest of the list can)."""
    return max(s for s in _affordable(scores) if s <= MAX_EXPLORATION)


def _affordable(scores: dict[float, dict[str, float]]) -> list[float]:
    floor = (1 - MAX_WARM_LOSS) * scores[0.0]["warm_ndcg"]
    return [s for s in sorted(scores) if s == 0.0 or scores[s]["warm_ndcg"] >= floor]
