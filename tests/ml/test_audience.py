"""Ranking members for an item: co-ratings point at it, text stands in for unrated items."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ml.recommenders.audience import rank_audience

# Items 0-1 are rated together (one taste), 2-3 together (another); item 4 nobody rated.
RATINGS = np.array(
    [
        [5, 4, 0, 0, 0],  # member 0 rated the target 0: left out
        [0, 5, 0, 0, 0],  # rated item 1 only: the best audience for item 0
        [0, 4, 0, 3, 0],  # item 1 and the other taste
        [0, 0, 5, 4, 0],  # the other taste only
        [4, 5, 0, 0, 0],
        [0, 0, 0, 0, 0],  # nothing rated
    ]
)


def test_members_whose_history_points_at_the_item_come_first_and_raters_are_left_out() -> None:
    audience = rank_audience(sp.csr_matrix(RATINGS), np.array([0]))

    assert audience.members[:2].tolist() == [1, 2]
    assert 0 not in audience.members and 4 not in audience.members
    assert audience.already_rated == 2 and audience.basis == "co-ratings"
    assert np.all(np.diff(audience.scores) <= 0)


def test_an_item_nobody_rated_is_matched_by_its_text() -> None:
    embeddings = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [0.1, 1.0]])  # item 4 reads like 2-3

    audience = rank_audience(sp.csr_matrix(RATINGS), np.array([4]), item_embeddings=embeddings)

    assert audience.members[0] == 3 and audience.basis == "text"


def test_size_keeps_the_best_and_bad_targets_are_refused() -> None:
    assert len(rank_audience(sp.csr_matrix(RATINGS), np.array([0]), size=2).members) == 2
    with pytest.raises(ValueError, match="targets: item indices must lie in 0..4"):
        rank_audience(sp.csr_matrix(RATINGS), np.array([9]))
