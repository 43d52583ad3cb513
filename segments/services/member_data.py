"""The database's members, items and ratings plus their text embeddings, as the ML core's input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from segments.ml.segmentation import MemberData
from segments.ml.texts import item_text, member_profile_text
from segments.services.dataset import Dataset, dataset_load
from segments.services.embeddings import text_encoder_build, texts_embed


@dataclass
class LoadedData:
    dataset: Dataset
    data: MemberData
    stats: dict[str, Any] = field(default_factory=dict)


def member_data_load(
    *,
    with_profiles: bool = True,
    step: Callable[[str], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LoadedData:
    """Everything read and embedded; ``step`` hears "load", "embed_items", "embed_profiles"."""
    note = step or (lambda _name: None)
    note("load")
    dataset = dataset_load()
    _require_data(dataset)
    encoder = text_encoder_build()
    note("embed_items")
    item_embeddings, fresh_items = texts_embed(
        texts=_item_texts(dataset), encoder=encoder, progress=progress
    )
    profile_embeddings, fresh_profiles = None, 0
    if with_profiles:
        note("embed_profiles")
        profile_embeddings, fresh_profiles = texts_embed(
            texts=_profile_texts(dataset), encoder=encoder, progress=progress
        )
    stats = {
        "text_model": encoder.model_name,
        "device": getattr(encoder, "device_", "none needed: every text was cached"),
        "embedded_afresh": {"items": fresh_items, "profiles": fresh_profiles},
    }
    return LoadedData(dataset, _member_data(dataset, item_embeddings, profile_embeddings), stats)


def _require_data(dataset: Dataset) -> None:
    if dataset.n_members == 0 or dataset.n_items == 0 or len(dataset.values) == 0:
        raise ValueError(
            f"nothing to segment: {dataset.n_members} members, {dataset.n_items} items, "
            f"{len(dataset.values)} ratings; import data first (import_movielens or import_csv)"
        )


def _item_texts(dataset: Dataset) -> list[str]:
    f = dataset.item_fields
    return [
        item_text(title, year, genres, description)
        for title, year, genres, description in zip(
            f["title"], f["year"], f["genres"], f["description"], strict=True
        )
    ]


def _profile_texts(dataset: Dataset) -> list[str]:
    f = dataset.member_fields
    return [
        member_profile_text(age, gender, occupation, location, profile)
        for age, gender, occupation, location, profile in zip(
            f["age"], f["gender"], f["occupation"], f["location"], f["profile"], strict=True
        )
    ]


def _member_data(
    dataset: Dataset, item_embeddings: np.ndarray, profile_embeddings: np.ndarray | None
) -> MemberData:
    return MemberData(
        users=dataset.users,
        items=dataset.items,
        values=dataset.values,
        timestamps=dataset.timestamps,
        n_members=dataset.n_members,
        n_items=dataset.n_items,
        ages=dataset.member_fields["age"],
        genders=dataset.member_fields["gender"],
        occupations=dataset.member_fields["occupation"],
        item_genres=dataset.item_fields["genres"],
        item_embeddings=item_embeddings,
        profile_embeddings=profile_embeddings,
    )
