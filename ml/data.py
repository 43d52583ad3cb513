"""The one container the numeric core reads: ratings as parallel arrays plus what is known
of each member and item. Services build it from the database, benchmarks from files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp


def _no_vectors() -> np.ndarray:
    return np.zeros((0, 0), dtype=np.float32)


@dataclass
class MemberData:
    """Ratings (``users[j]`` rated ``items[j]`` ``values[j]`` at ``timestamps[j]``, Unix
    seconds), member demographics, item genres and text embeddings, all indexed 0..n-1.

    ``item_embeddings`` has one row per item once texts are embedded (empty before);
    ``profile_embeddings`` one row per member, or None without profiles.
    """

    users: np.ndarray
    items: np.ndarray
    values: np.ndarray
    timestamps: np.ndarray
    n_members: int
    n_items: int
    ages: Sequence[int | None]
    genders: Sequence[str]
    occupations: Sequence[str]
    item_genres: Sequence[Sequence[str]]
    item_embeddings: np.ndarray = field(default_factory=_no_vectors)
    profile_embeddings: np.ndarray | None = None

    def ratings(self) -> sp.csr_matrix:
        return self._matrix(self.values, np.float32)

    def timestamps_matrix(self) -> sp.csr_matrix:
        """Timestamps with the stored pattern of :meth:`ratings` (float64: Unix seconds
        lose about a minute in float32)."""
        return self._matrix(self.timestamps, np.float64)

    def demographics(self) -> dict[str, Sequence[Any]]:
        return {"age": self.ages, "gender": self.genders, "occupation": self.occupations}

    def with_ratings(self, X: sp.csr_matrix, timestamps: sp.csr_matrix) -> MemberData:
        """The same members and items with the ratings of ``X`` (and their ``timestamps``)."""
        coo, ts = X.tocoo(), timestamps.tocoo()
        return replace(
            self,
            users=coo.row.astype(np.int64),
            items=coo.col.astype(np.int64),
            values=coo.data.astype(np.float32),
            timestamps=ts.data.astype(np.float64),
        )

    def with_members(self, rows: np.ndarray) -> MemberData:
        """Only the members ``rows`` (sorted indices), renumbered 0..len-1 in that order,
        with their ratings; items stay as they are."""
        rows = np.asarray(rows, dtype=np.int64)
        position = np.full(self.n_members, -1, dtype=np.int64)
        position[rows] = np.arange(len(rows))
        keep = position[self.users] >= 0
        profiles = self.profile_embeddings
        picked = rows.tolist()
        return replace(
            self,
            users=position[self.users[keep]],
            items=self.items[keep],
            values=self.values[keep],
            timestamps=self.timestamps[keep],
            n_members=len(rows),
            ages=[self.ages[i] for i in picked],
            genders=[self.genders[i] for i in picked],
            occupations=[self.occupations[i] for i in picked],
            profile_embeddings=None if profiles is None else profiles[rows],
        )

    def with_items(self, columns: np.ndarray) -> MemberData:
        """The same members with only the items ``columns`` (sorted indices), renumbered
        0..len-1 in that order; ratings of other items are dropped."""
        columns = np.asarray(columns, dtype=np.int64)
        position = np.full(self.n_items, -1, dtype=np.int64)
        position[columns] = np.arange(len(columns))
        keep = position[self.items] >= 0
        embeddings = self.item_embeddings
        return replace(
            self,
            users=self.users[keep],
            items=position[self.items[keep]],
            values=self.values[keep],
            timestamps=self.timestamps[keep],
            n_items=len(columns),
            item_genres=[self.item_genres[i] for i in columns.tolist()],
            item_embeddings=embeddings[columns] if len(embeddings) else embeddings,
        )

    def _matrix(self, data: np.ndarray, dtype: type) -> sp.csr_matrix:
        return sp.csr_matrix(
            (data, (self.users, self.items)), shape=(self.n_members, self.n_items), dtype=dtype
        )
