"""Placing members who arrive between runs into the active segmentation, at once."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import F

from catalog.models import Item, Member, Rating
from ml.recommenders.reasons import segment_sentence
from ml.segmentation.placer import SegmentPlacer
from ml.segmentation.recipe import FIRST_ITEMS
from ml.text.texts import item_text, member_profile_text
from segments.models import Membership, RecommendationList, Segment, SegmentationRun
from segments.services.embeddings import (
    cached_vectors,
    shared_text_encoder,
    text_encoder_build,
    texts_embed,
)


class PlacementUnavailable(LookupError):
    """No active run, or a run that kept no placer."""


def member_place(*, member: Member, run: SegmentationRun | None = None) -> Membership:
    """Give ``member`` a segment of the run (default: the active one) and that segment's list."""
    run = run or SegmentationRun.objects.filter(is_active=True).first()
    if run is None or not run.placer:
        raise PlacementUnavailable("there is no active run to place members in: run one first")
    placer: SegmentPlacer = pickle.loads(bytes(run.placer))
    uses_profiles = getattr(placer, "uses_profiles", False)  # placers pickled before lack it
    numbers, confidence = placer.place(
        ages=[member.age],
        genders=[member.gender],
        occupations=[member.occupation],
        first_item_embeddings=_first_items(member, placer.embedding_dim),
        profile_embeddings=_profile(member) if uses_profiles else None,
    )
    segment = Segment.objects.get(run=run, number=int(numbers[0]))
    entries = _segment_list(run, segment, member, by_profile=uses_profiles)
    with transaction.atomic():
        membership, _ = Membership.objects.update_or_create(
            run=run,
            member=member,
            defaults={"segment": segment, "confidence": float(confidence[0]), "source": "placed"},
        )
        RecommendationList.objects.update_or_create(
            run=run, member=member, defaults={"entries": entries}
        )
    return membership


def _profile(member: Member) -> np.ndarray:
    """The embedding of the member's profile sentence and free text, as runs embed it.

    A text the cache lacks (a newcomer's own words) is embedded here, by a model loaded
    once per process, and cached for the next run.
    """
    text = member_profile_text(
        member.age, member.gender, member.occupation, member.location, member.profile
    )
    vectors, _ = texts_embed(texts=[text], encoder=shared_text_encoder())
    return vectors


def member_create_and_place(*, fields: dict[str, Any]) -> tuple[Member, Membership | None]:
    """Create a member from API fields and place them when a run is active.

    One transaction: a placement that fails for another reason leaves no member behind, so
    the caller can simply retry.
    """
    with transaction.atomic():
        member = Member.objects.create(**fields)
        try:
            with transaction.atomic():
                return member, member_place(member=member)
        except PlacementUnavailable:
            return member, None


def _first_items(member: Member, dim: int) -> np.ndarray:
    """Mean embedding of the member's first rated items (zeros without ratings), from the cache."""
    first = list(
        Rating.objects.filter(member=member)
        .order_by(F("rated_at").asc(nulls_first=True), "id")
        .values_list("item_id", flat=True)[:FIRST_ITEMS]
    )
    if not first:
        return np.zeros((1, dim), dtype=np.float32)
    items = Item.objects.in_bulk(first)
    texts = [item_text(i.title, i.year, i.genres, i.description) for i in items.values()]
    # Only what the last run embedded: a web request must not load the text model.
    vectors = cached_vectors(model_name=text_encoder_build().model_name, texts=texts)
    if not vectors:
        return np.zeros((1, dim), dtype=np.float32)
    return np.mean(vectors, axis=0, keepdims=True).astype(np.float32)


def _segment_list(
    run: SegmentationRun, segment: Segment, member: Member, *, by_profile: bool
) -> list[list[Any]]:
    seen = set(Rating.objects.filter(member=member).values_list("item_id", flat=True))
    top_k = int(run.params.get("top_k", 20))
    placed_by = "your profile" if by_profile else "your details"
    entries = []
    for item_pk, share, lift in segment.summary.get("popular", []):
        if item_pk in seen:
            continue
        reason = segment_sentence(segment.label, share, lift, placed_by=placed_by)
        entries.append([item_pk, share, reason])
        if len(entries) == top_k:
            break
    return entries
