"""Segment explanations: lifts equal the hand-computed values; traits need support and a test."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ml.segmentation.explain import explain_segments, wilson_interval

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
        z=0.0,  # four members: no interval would clear; z=0 tests the lifts alone
    )


def test_genre_lifts_match_hand_computation(explained) -> None:
    # segment 0 liked 3 ratings, all Sci-Fi (3/3); everyone liked 6, 4 Sci-Fi -> lift 1.5.
    # Action is 1/3 in both -> lift 1.0, not kept.
    assert explained[0]["genres"] == [
        {
            "name": "Sci-Fi",
            "lift": 1.5,
            "share": 1.0,
            "population_share": pytest.approx(4 / 6),
            "support": 3,
            "n": 3,
            "ci_low": 1.0,
            "ci_high": 1.0,
            "basis": "clustered",
        }
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
        {
            "index": 0,
            "lift": 2.0,
            "share": 1.0,
            "population_share": 0.5,
            "support": 2,
            "n": 2,
            "ci_low": 1.0,
            "ci_high": 1.0,
            "basis": "clustered",
        }
    ]


def test_traits_need_min_support_cases_in_the_segment() -> None:
    strict = explain_segments(
        [0, 0, 1, 1],
        ratings=RATINGS,
        item_genres=ITEM_GENRES,
        demographics=DEMOGRAPHICS,
        min_support=3,
        z=0.0,
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
        z=0.0,
    )
    assert again == explained
    partial = explain_segments(
        [0, -1, 1, 1], ratings=RATINGS, item_genres=ITEM_GENRES, demographics={}, min_support=1
    )
    assert partial[0]["size"] == 1 and partial[0]["share"] == 0.25


def test_mismatched_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="item_genres"):
        explain_segments([0, 0, 1, 1], ratings=RATINGS, item_genres=[["A"]], demographics={})


def test_wilson_interval_matches_the_textbook_values() -> None:
    low, high = wilson_interval(np.array([8.0, 0.0]), np.array([10.0, 0.0]))
    assert low[0] == pytest.approx(0.4902, abs=1e-4) and high[0] == pytest.approx(0.9433, abs=1e-4)
    assert (low[1], high[1]) == (0.0, 1.0)  # no cases: nothing known


# 1,000 members in ten segments of 100; "x" is 50% of segment 1, 24% of segment 0 and 15%
# of each other segment: 19.4% of everyone.
BIG_LABELS = np.repeat(np.arange(10), 100)
X_COUNTS = [24, 50] + [15] * 8
OCCUPATION = [
    "x" if i % 100 < X_COUNTS[i // 100] else f"other{i % 7}" for i in range(len(BIG_LABELS))
]
BIG_RATINGS = sp.csr_matrix((len(BIG_LABELS), 1))


def big(**options) -> list[dict]:
    return explain_segments(
        BIG_LABELS,
        ratings=BIG_RATINGS,
        item_genres=[["A"]],
        demographics={"occupation": OCCUPATION},
        **options,
    )


def test_a_trait_is_kept_only_when_its_interval_clears_the_population_share() -> None:
    explained = big(clustered_blocks=["demographics"])
    strong = [d for d in explained[1]["demographics"] if d["value"] == "x"]
    assert strong and strong[0]["support"] == 50 and strong[0]["n"] == 100
    assert strong[0]["ci_low"] > strong[0]["population_share"] == pytest.approx(0.194)
    # 24% vs 19.4% is lift 1.24 on 24 members, but its interval reaches down to 16.7%
    assert wilson_interval(24.0, 100.0)[0] < 0.194
    assert not [d for d in explained[0]["demographics"] if d["value"] == "x"]
    assert explained[1]["label"] == "x x2.6"
    assert explained[1]["rules"] == {
        "min_support": 20,
        "min_lift": 1.2,
        "z": pytest.approx(1.96, abs=1e-3),
        "interval": "Wilson score",
    }


def test_a_trait_needs_the_minimum_count_and_lift() -> None:
    assert not [d for d in big(min_support=51)[1]["demographics"] if d["value"] == "x"]
    assert not [d for d in big(min_lift=3.0)[1]["demographics"] if d["value"] == "x"]


def test_traits_outside_the_clustering_are_only_over_represented() -> None:
    explained = big(clustered_blocks=["history", "behaviour"])
    trait = explained[1]["demographics"][0]
    assert trait["value"] == "x" and trait["basis"] == "over-represented"
    assert explained[1]["label"] == "Segment 1"  # labels name clustered traits only
    assert explained[1]["clustered_blocks"] == ["behaviour", "history"]
    assert (
        "Over-represented but not used to form segments: x (50% vs 19%"
        in (explained[1]["description"])
    )


def test_a_rare_trait_does_not_headline_the_label() -> None:
    # 30 of 1000 members are "rare": all in segment 0 (30%), none elsewhere; then make the
    # segment large so the same 30 cover under 5% of it.
    labels = np.r_[np.zeros(700, dtype=int), np.ones(300, dtype=int)]
    values = ["rare" if i < 30 else "common" for i in range(1000)]
    explained = explain_segments(
        labels,
        ratings=sp.csr_matrix((1000, 1)),
        item_genres=[["A"]],
        demographics={"job": values},
    )
    trait = explained[0]["demographics"][0]
    assert trait["value"] == "rare" and trait["share"] < 0.05
    assert explained[0]["label"] == "Segment 0" and explained[0]["headline"] == []
