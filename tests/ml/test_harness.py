"""The side-by-side evaluation: held-out ratings stay out of everything that is fitted."""

from __future__ import annotations

import numpy as np
import pytest

from ml.data import MemberData
from ml.evaluation.harness import evaluate_split, make_split
from ml.segmentation.recipe import SegmentationRecipe
from tests.support.planted import make_planted

WEIGHTS = {"history": 1.0, "behaviour": 1.0, "demographics": 0.5}
RECIPE = SegmentationRecipe(
    k=3, feature_weights={**SegmentationRecipe().feature_weights, **WEIGHTS}
)


@pytest.fixture(scope="module")
def planted() -> MemberData:
    data = make_planted(n_members=160, n_items=80, n_segments=3, random_state=3)
    users, items, values, timestamps = data.arrays()
    genres = sorted({g for item in data.items for g in item["genres"]})
    # Genre one-hot rows stand in for text embeddings: known without any rating.
    embeddings = np.array(
        [[g in item["genres"] for g in genres] for item in data.items], dtype=np.float32
    )
    return MemberData(
        users=users,
        items=items,
        values=values.astype(np.float32),
        timestamps=timestamps,
        n_members=len(data.members),
        n_items=len(data.items),
        ages=[m["age"] for m in data.members],
        genders=[m["gender"] for m in data.members],
        occupations=[m["occupation"] for m in data.members],
        item_genres=[item["genres"] for item in data.items],
        item_embeddings=embeddings,
    )


def test_the_training_part_holds_no_held_out_rating(planted: MemberData) -> None:
    split = make_split(planted, "temporal", holdout=0.2, seed=0)
    train = planted.with_ratings(split.train, split.train_timestamps)

    pairs = set(zip(train.users.tolist(), train.items.tolist(), strict=True))
    held_out = split.test.tocoo()
    assert len(train.users) == split.train.nnz
    assert not pairs & set(zip(held_out.row.tolist(), held_out.col.tolist(), strict=True))


def test_relabelling_depends_only_on_the_ratings_it_is_given(planted: MemberData) -> None:
    split = make_split(planted, "random", holdout=0.2, seed=0)
    first = RECIPE.relabeller(planted, 3)(split.train, split.train_timestamps)

    # The same members with every held-out rating flipped: segments fitted on the training
    # part alone cannot move.
    flipped = split.test.copy()
    flipped.data = 6.0 - flipped.data
    other = planted.with_ratings(
        split.train + flipped, split.train_timestamps + split.test_timestamps
    )
    again = RECIPE.relabeller(other, 3)(split.train, split.train_timestamps)
    assert np.array_equal(again, first)


@pytest.mark.parametrize("kind", ["temporal", "cold-members"])
def test_every_model_is_scored_and_ours_beats_popularity(planted: MemberData, kind: str) -> None:
    result = evaluate_split(planted, kind=kind, seed=0, segmentation=RECIPE)

    models = result["models"]
    assert set(models) == {"popularity", "item_knn", "ease", "ours"}
    assert all(0.0 <= m["ndcg@10"] <= 1.0 for m in models.values())
    assert models["ours"]["ndcg@10"] > models["popularity"]["ndcg@10"]
