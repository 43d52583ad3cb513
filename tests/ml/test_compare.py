"""Comparing two segmentations of the same members."""

from __future__ import annotations

import pytest

from ml.segmentation.compare import compare_labelings


def test_identical_up_to_renaming_scores_one() -> None:
    result = compare_labelings([0, 0, 1, 1, 2], [5, 5, 3, 3, 4])
    assert result["ari"] == pytest.approx(1.0)
    assert result["rows"] == [0, 1, 2] and result["cols"] == [3, 4, 5]
    assert result["matrix"] == [[0, 0, 2], [2, 0, 0], [0, 1, 0]]


def test_migration_counts_only_members_in_both() -> None:
    result = compare_labelings([0, 0, 1, -1, None], [0, 1, 1, 0, 1])
    assert result["n_common"] == 3
    assert result["matrix"] == [[1, 1], [0, 1]]
    assert result["ari"] < 1


def test_mappings_align_on_member_ids() -> None:
    result = compare_labelings({"a": 0, "b": 1, "c": 1}, {"c": 2, "b": 2, "z": 0})
    assert result["n_common"] == 2 and result["matrix"] == [[2]]


def test_nothing_in_common_gives_zero_and_an_empty_matrix() -> None:
    result = compare_labelings([-1, 0], [1, -1])
    assert result == {"ari": 0.0, "n_common": 0, "rows": [], "cols": [], "matrix": []}
