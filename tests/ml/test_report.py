"""The report's pictures from the numeric core: a sampled 2-D map and a light k sweep."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_blobs

from ml.data import MemberData
from ml.segmentation.recipe import SegmentationRecipe
from ml.segmentation.report import light_sweep, project_members
from tests.support.planted import PlantedData, make_planted


def test_map_samples_members_and_keeps_their_segments() -> None:
    X, labels = make_blobs(n_samples=500, centers=3, n_features=6, random_state=0)
    projection = project_members(X, labels, max_points=200, random_state=0)
    assert projection["n_points"] == 200 and projection["n_members"] == 500
    assert len(projection["x"]) == len(projection["y"]) == len(projection["segment"]) == 200
    assert set(projection["segment"]) == {0, 1, 2}
    # three well-apart blobs: the first two axes carry most of the variance
    assert sum(projection["explained_variance_ratio"]) > 0.8
    assert projection == project_members(X, labels, max_points=200, random_state=0)


def test_map_of_one_dimensional_features_has_a_flat_second_axis() -> None:
    projection = project_members(np.arange(10.0)[:, None], np.zeros(10, dtype=int))
    assert projection["y"] == [0.0] * 10


def test_light_sweep_fits_a_few_ks_around_the_fixed_one_on_a_sample() -> None:
    X, _ = make_blobs(n_samples=400, centers=4, n_features=5, random_state=1)
    sweep = light_sweep(X, 4, algorithm="kmeans", sample=150)
    assert sweep is not None and [row["k"] for row in sweep] == [2, 3, 4, 5, 6]
    assert light_sweep(X, 2, algorithm="kmeans", sample=150)[0]["k"] == 2  # no k below 2
    assert light_sweep(X, 4, algorithm="hdbscan") is None


def planted_data(n_segments: int) -> tuple[MemberData, PlantedData]:
    data = make_planted(n_members=400, n_items=120, n_segments=n_segments, random_state=1)
    users, items, values, timestamps = data.arrays()
    genres = sorted({g for item in data.items for g in item["genres"]})
    embeddings = np.array(
        [[g in item["genres"] for g in genres] for item in data.items], dtype=np.float32
    )
    member_data = MemberData(
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
    return member_data, data


def test_a_fixed_k_run_stores_a_map_a_light_sweep_and_true_labels() -> None:
    data, planted = planted_data(3)
    result = SegmentationRecipe(k=3).fit(data)  # demographics weigh 0 by default
    metrics = result.metrics
    assert metrics["k_sweep_kind"] == "light"
    assert [row["k"] for row in result.sweep or []] == [2, 3, 4, 5]  # k + 2 = 5 at most
    projection = metrics["projection"]
    assert projection["n_points"] == projection["n_members"] == metrics["n_clustered"]
    assert set(projection["segment"]) == {0, 1, 2}
    favourites = {g for genres in planted.favourite_genres for g in genres}
    for entry in result.explanations:
        assert entry["clustered_blocks"] == ["behaviour", "history"]
        assert all(row["basis"] == "over-represented" for row in entry["demographics"])
        assert all(
            row["support"] >= 20 and row["ci_low"] > row["population_share"]
            for row in entry["genres"] + entry["demographics"] + entry["items"]
        )
        named = [h["name"] for h in entry["headline"]]
        assert named and set(named) <= favourites  # labels name planted genres only
