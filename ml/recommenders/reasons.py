"""The sentences a member reads beside an item: what drove each pick, said once, truly.

A reason cites only an item the member liked (:func:`liked_matrix`), the segment or group
whose ratings drove the pick, the text match, or that the item is new.
"""

from __future__ import annotations

import numpy as np

from ml.recommenders._sparse import liked_matrix, row_of, values_at
from ml.recommenders.base import Recommender
from ml.recommenders.cold_start import MIN_LIFT, SegmentColdStart
from ml.recommenders.new_items import NewItems


def segment_sentence(label: str, share: float, lift: float, *, placed_by: str = "") -> str:
    """ "liked by 34% of segment 'Sci-Fi x1.3' (x3.2 the average)", and, for a member placed
    rather than clustered, what placed them there."""
    sentence = f"liked by {share:.0%} of segment '{label}' (x{lift:.1f} the average)"
    return f"{sentence}, where {placed_by} places you" if placed_by else sentence


def _readable(feature: str) -> str:
    """'gender=F' -> 'women', 'age=18-24' -> 'members aged 18-24', and so on."""
    field, _, value = feature.partition("=")
    if field == "gender":
        return {"F": "women", "M": "men"}.get(value, f"members of gender {value}")
    if field == "age":
        return f"members aged {value}"
    if field == "occupation":
        return f"members who are {value}s" if value not in {"other", "none"} else "members"
    return f"members with {feature}"


class ReasonWriter:
    """Turns what put each item in a list into a sentence that is true of the data.

    A reason cites only an item the member liked (:func:`liked_matrix`), the segment or
    group whose ratings drove the pick, the text match, or that the item is new.
    """

    def __init__(
        self,
        model: NewItems,
        titles: list[str],
        labels: np.ndarray,
        segment_labels: list[str],
        feature_names: list[str],
    ) -> None:
        self.model = model
        # What fit_for_serving serves: new items mixed into a cold-start router.
        assert isinstance(model.base, SegmentColdStart), "reasons need a SegmentColdStart base"
        self.served: SegmentColdStart = model.base
        self.feature_names = feature_names
        self.titles = titles
        self.labels = labels
        self.segment_labels = segment_labels
        self.ratings = model.X_
        self.liked = liked_matrix(model.X_)
        n_members = max(model.X_.shape[0], 1)
        self.rated_share = np.bincount(model.X_.indices, minlength=model.X_.shape[1]) / n_members

    def explain(self, users: np.ndarray, items: np.ndarray) -> list[list[str]]:
        users = np.asarray(users, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        new = (items >= 0) & self.model.new_[np.maximum(items, 0)]
        matches = self._new_item_matches(users, items, new)
        cold = self.served.cold_[users]
        warm = np.flatnonzero(~cold)
        why_warm = self._explain(
            self.served.warm, users[warm], items[warm], new[warm], matches[warm]
        )
        out: list[list[str]] = [[] for _ in users]
        for row, why in zip(warm, why_warm, strict=True):
            out[row] = why
        for row in np.flatnonzero(cold):
            out[row] = [
                self._new_reason(int(users[row]), int(matches[row, c]))
                if new[row, c]
                else self._cold_reason(int(users[row]), int(i))
                for c, i in enumerate(items[row])
            ]
        return out

    def _new_item_matches(
        self, users: np.ndarray, items: np.ndarray, new: np.ndarray
    ) -> np.ndarray:
        """Per pick of a new item (``new``), the rated item its text is linked through that
        counted most for the member (:meth:`NewItems.neighbours`); -1 elsewhere."""
        matches = np.full(items.shape, -1, dtype=np.int64)
        rows, cols = np.nonzero(new)
        if len(rows) == 0:
            return matches
        members = np.unique(rows)
        affinity = self.model.text_affinities(users[members])  # one scoring per batch
        per_pick = affinity[np.searchsorted(members, rows)]
        matches[rows, cols] = self.model.neighbours(users[rows], items[rows, cols], per_pick)
        return matches

    def _new_reason(self, user: int, match: int) -> str:
        """New items are scored through the rated items their text is closest to: name the
        one that counted most (never one the member disliked)."""
        if match < 0:
            return "new, not rated yet"
        close = f"new, not rated yet: its description is close to {self.titles[match]}"
        liked, rated = row_of(self.liked, user), row_of(self.ratings, user)
        if liked.value(match):
            return f"{close}, which you liked"
        if rated.nnz:
            return f"{close}, which your ratings point to"
        who = "your profile" if self.model.profile_embeddings is not None else "your details"
        return f"{close}, which members with {who} rate"

    def _cold_reason(self, user: int, item: int) -> str:
        """Why a rated ``item`` suits a member without ratings ("" for padding)."""
        if item < 0:
            return ""
        why = self.served.cold_reason(user, item)
        if why.kind == "segment":
            placed_by = "your profile" if self.model.profile_embeddings is not None else ""
            return segment_sentence(
                self.segment_labels[why.index], why.share, why.lift, placed_by=placed_by
            )
        if why.kind == "feature":
            who = _readable(self.feature_names[why.index])
            return f"rated by {why.share:.0%} of {who} (x{why.lift:.1f} the average)"
        return self._popular_sentence(item)

    def _popular_sentence(self, item: int) -> str:
        return f"popular with members overall: rated by {self.rated_share[item]:.0%} of them"

    def _explain(
        self,
        model: Recommender,
        users: np.ndarray,
        items: np.ndarray,
        new: np.ndarray,
        matches: np.ndarray,
    ) -> list[list[str]]:
        names, models = model.parts(users, items)
        seen, stars = self._seen_items(models, names, users, items, ~new & (items >= 0))
        return [
            [
                self._new_reason(int(u), int(matches[r, c]))
                if new[r, c]
                else self._reason(
                    models, names[r, c], int(u), int(items[r, c]), seen[r, c], stars[r, c]
                )
                for c in range(items.shape[1])
            ]
            for r, u in enumerate(users)
        ]

    def _seen_items(
        self,
        models: dict[str, Recommender],
        names: np.ndarray,
        users: np.ndarray,
        items: np.ndarray,
        rated: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per pick of a rated item (``rated``), the liked item its model cites (-1 for
        none) and the member's rating of it: one batch call per model, not one per pick."""
        seen = np.full(items.shape, -1, dtype=np.int64)
        for name, part in models.items():
            if part.cites not in ("liked", "next"):
                continue
            rows, cols = np.nonzero(rated & (names == name))
            if len(rows):
                seen[rows, cols] = part.explain_many(users[rows], items[rows, cols], self.liked)
        stars = np.zeros(items.shape)
        rows, cols = np.nonzero(seen >= 0)
        stars[rows, cols] = values_at(self.ratings, users[rows], seen[rows, cols])
        return seen, stars

    def _reason(
        self,
        models: dict[str, Recommender],
        name: str,
        user: int,
        item: int,
        seen: int,
        stars: float,
    ) -> str:
        if item < 0 or not name:
            return ""
        model = models[name]
        if model.cites == "segment":
            return self._segment_reason(user, item)
        if model.cites == "trending":
            return "new and rising: rated a lot lately"
        if model.cites == "popular":
            return self._popular_sentence(item)
        if seen < 0:
            return self._group_reason(user, item)
        title = self.titles[seen]
        if model.cites == "next":
            return f"often rated next after {title}, which you liked recently ({stars:g}★)"
        return f"because you liked {title} ({stars:g}★)"

    def _segment_reason(self, user: int, item: int) -> str:
        seg = self.served.segment_model
        segment = int(self.labels[user])
        share, lift = float(seg.rates_[segment, item]), float(seg.lift_[segment, item])
        return segment_sentence(self.segment_labels[segment], share, lift)

    def _group_reason(self, user: int, item: int) -> str:
        """No liked item led to it: the member's segment if it likes the item distinctly,
        else what members overall do."""
        seg = self.served.segment_model
        if float(seg.lift_[int(self.labels[user]), item]) >= MIN_LIFT:
            return self._segment_reason(user, item)
        return self._popular_sentence(item)
