"""Segment explanations: lifts equal the hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ml.segmentation.explain import explain_segments

# members 0,1 in segment 0; members 2,3 in segment 1. Liked = rating >= 4.
RATINGS = sp.csr_matrix(
    np.array(
        [
            [5.0, 2.0, 4.0],  # likes items 0 and 2
            [4.0, 0.0, 0.0],  # likes item 0
            [1.0, 5.0, 0.0],  # likes item 1
            [0.0, 4.0, 5.0],  # likes items 1 and 2
        ]
    )
)
ITEM_GENRES = [["Sci-Fi"], ["Romance"], ["Sci-Fi", "Action"]]
DEMOGRAPHICS = {"gender": ["F", "M", "F", "F"], "age": ["18-24", "18-24", "", "25-34"]}


@pytest.fixture(scope="module")
def explained() -> list[dict]:
    return explain_segments(
        [0, 0, 1, 1],
        ratings=RATINGS,
        item_genres=ITEM_GENRES,
        demographics=DEMOGRAPHICS,
        min_support=1,
    )


def test_genre_lifts_match_hand_computation(explained) -> None:
    # segment 0 liked 3 ratings, all Sci-Fi (3/3); everyone liked 6, 4 Sci-Fi -> lift 1.5.
    # Action is 1/3 in both -> lift 1.0, not kept.
    assert explained[0]["genres"] == [
        {"name": "Sci-Fi", "lift": 1.5, "share": 1.0, "population_share": pytest.approx(4 / 6)}
    ]
    # segment 1: Romance 2/3 vs 2/6 -> lift 2.0
    assert [(g["name"], g["lift"]) for g in explained[1]["genres"]] == [("Romance", 2.0)]


def test_demographic_lifts_match_hand_computation(explained) -> None:
    first = explained[0]["demographics"]
    # 18-24: 2/2 vs 2/4 -> 2.0; M: 1/2 vs 1/4 -> 2.0; ties sorted by field then value.
    assert [(d["field"], d["value"], d["lift"]) for d in first] == [
        ("age", "18-24", 2.0),
        ("gender", "M", 2.0),
    ]
    second = {(d["field"], d["value"]): d["lift"] for d in explained[1]["demographics"]}
    # 25-34: 1/2 vs 1/4 -> 2.0 (the missing age is no value); F: 2/2 vs 3/4 -> 4/3
    assert second == {("age", "25-34"): 2.0, ("gender", "F"): pytest.approx(4 / 3)}


def test_item_lifts_match_hand_computation(explained) -> None:
    # item 0: both members of segment 0 liked it (2/2) vs 2 of 4 overall -> lift 2.0
    assert explained[0]["items"] == [
        {"index": 0, "lift": 2.0, "share": 1.0, "population_share": 0.5, "support": 2}
    ]


def test_traits_need_min_support_cases_in_the_segment() -> None:
    strict = explain_segments(
        [0, 0, 1, 1],
        ratings=RATINGS,
        item_genres=ITEM_GENRES,
        demographics=DEMOGRAPHICS,
        min_support=3,
    )
    # only segment 0's Sci-Fi has 3 cases (liked ratings); no value covers 3 members
    assert [g["name"] for g in strict[0]["genres"]] == ["Sci-Fi"]
    assert strict[1]["genres"] == [] and strict[0]["demographics"] == []
    assert strict[0]["items"] == [] and strict[1]["items"] == []
    assert strict[1]["label"] == "Segment 1"


def test_labels_and_descriptions_carry_the_numbers(explained) -> None:
    assert explained[0]["label"] == "Sci-Fi x1.5 · ages 18-24 x2.0 · men x2.0"
    assert explained[1]["label"] == "Romance x2.0 · ages 25-34 x2.0 · women x1.3"
    assert explained[0]["size"] == 2 and explained[0]["share"] == 0.5
    assert "2 members (50.0% of all)" in explained[0]["description"]
    assert "Sci-Fi (100% vs 67%, x1.5)" in explained[0]["description"]


def test_explanations_are_deterministic_and_skip_unlabelled_members(explained) -> None:
    again = explain_segments(
        [0, 0, 1, 1],
        ratings=RATINGS,
        item_genres=ITEM_GENRES,
        demographics=DEMOGRAPHICS,
        min_support=1,
    )
    assert again == explained
    partial = explain_segments(
        [0, -1, 1, 1], ratings=RATINGS, item_genres=ITEM_GENRES, demographics={}, min_support=1
    )
    assert partial[0]["size"] == 1 and partial[0]["share"] == 0.25


def test_mismatched_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="item_genres"):
        explain_segments([0, 0, 1, 1], ratings=RATINGS, item_genres=[["A"]], demographics={})
