"""Build members, items, ratings and a finished active run straight through the ORM.

The pipeline is not run: pages, admin and API only read what a run leaves behind, so tests
write those rows directly and stay fast.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser

from catalog.models import Item, Member, Rating
from ml.segmentation.classifier import SegmentClassifier, cheap_features
from ml.segmentation.features import DemographicEncoder
from ml.segmentation.placer import SegmentPlacer
from ml.text.encoder import text_hash
from ml.text.texts import item_text
from segments.models import (
    EmbeddingCache,
    Membership,
    RecommendationList,
    RunStatus,
    Segment,
    SegmentationRun,
)

GENRES = ("Sci-Fi", "Comedy", "Drama", "Horror")


@dataclass
class World:
    members: list[Member]
    items: list[Item]
    run: SegmentationRun
    segments: list[Segment] = field(default_factory=list)


def make_user(username: str = "analyst", *, staff: bool = False) -> AbstractUser:
    # No password: hashing one costs ~0.3 s a user, and tests log in with force_login.
    return get_user_model().objects.create_user(
        username=username, is_staff=staff, is_superuser=staff
    )


def make_members(n: int) -> list[Member]:
    return Member.objects.bulk_create(
        Member(
            external_id=f"m{i}",
            age=20 + i,
            gender="F" if i % 2 else "M",
            occupation="engineer" if i % 2 else "artist",
            location=f"city{i % 3}",
        )
        for i in range(n)
    )


def make_items(n: int) -> list[Item]:
    return Item.objects.bulk_create(
        Item(
            external_id=f"i{i}",
            title=f"Movie {i}",
            year=1980 + i,
            genres=[GENRES[i % len(GENRES)], GENRES[(i + 1) % len(GENRES)]],
        )
        for i in range(n)
    )


def make_ratings(members: list[Member], items: list[Item], *, per_member: int = 3) -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    Rating.objects.bulk_create(
        Rating(
            member=member,
            item=items[(m + j) % len(items)],
            value=float(1 + (m + j) % 5),
            rated_at=start + timedelta(days=m * per_member + j),
        )
        for m, member in enumerate(members)
        for j in range(per_member)
    )


def make_run(*, active: bool = True, status: str = RunStatus.SUCCEEDED) -> SegmentationRun:
    return SegmentationRun.objects.create(
        params={"k": 2, "algorithm": "kmeans", "recommender": "blend", "top_k": 5},
        status=status,
        stage="done",
        progress=1.0,
        timings={"load": 0.5, "cluster": 1.25},
        metrics={"silhouette": 0.3125, "n_segments": 2, "evaluation": {"ndcg@10": 0.125}},
        is_active=active,
    )


def segment_summary(number: int, items: list[Item]) -> dict:
    genre = GENRES[number]
    return {
        "description": f"Members who love {genre} films, 2.5x the average.",
        "share": 0.5,
        "genres": [{"name": genre, "lift": 2.5, "share": 0.6, "population_share": 0.24}],
        "demographics": [
            {"field": "age", "value": "25-34", "lift": 1.6, "share": 0.4, "population_share": 0.25}
        ],
        "items": [
            {
                "item_id": items[number].external_id,
                "title": items[number].display_title,
                "lift": 3.0,
                "share": 0.3,
                "population_share": 0.1,
            }
        ],
    }


def make_segments(run: SegmentationRun, members: list[Member], items: list[Item]) -> list[Segment]:
    """Two segments: even members in 0 ("Sci-Fi fans"), odd ones in 1 ("Comedy fans")."""
    segments = [
        Segment.objects.create(
            run=run,
            number=n,
            label=f"{GENRES[n]} fans",
            size=len(members[n::2]),
            summary=segment_summary(n, items),
        )
        for n in (0, 1)
    ]
    Membership.objects.bulk_create(
        Membership(
            run=run,
            member=member,
            segment=segments[i % 2],
            confidence=0.9 - i / 1000,
            source="classified" if i == 1 else "clustered",
        )
        for i, member in enumerate(members)
    )
    return segments


def make_lists(run: SegmentationRun, members: list[Member], items: list[Item]) -> None:
    RecommendationList.objects.bulk_create(
        RecommendationList(
            run=run,
            member=member,
            entries=[
                [item.pk, round(1.0 - rank / 10, 3), f"popular with {item.title} fans #{rank}"]
                for rank, item in enumerate(items[:5])
            ],
        )
        for member in members
    )


def make_world(*, n_members: int = 6, n_items: int = 8) -> World:
    """A complete succeeded active run: segments, memberships and recommendation lists."""
    members, items = make_members(n_members), make_items(n_items)
    make_ratings(members, items)
    run = make_run()
    segments = make_segments(run, members, items)
    make_lists(run, members, items)
    return World(members=members, items=items, run=run, segments=segments)


def make_placer(*, embedding_dim: int = 4) -> SegmentPlacer:
    """A placer fitted where gender alone decides: men go to segment 0, women to segment 1."""
    n = 40
    records = {
        "age": [20 + i for i in range(n)],
        "gender": ["F" if i % 2 else "M" for i in range(n)],
        "occupation": [("artist", "engineer", "doctor")[i % 3] for i in range(n)],
    }
    encoder = DemographicEncoder().fit(records)
    X = cheap_features(encoder.transform(records), np.zeros((n, embedding_dim)))
    classifier = SegmentClassifier("logistic", cv=2).fit(X, np.arange(n) % 2)
    return SegmentPlacer(
        demographic_encoder=encoder,
        classifier=classifier,
        fallback_segment=0,
        embedding_dim=embedding_dim,
    )


def make_placeable(world: World) -> None:
    """What a finished run keeps for newcomers: a pickled placer and each segment's liked items.

    Segment 0's popular items are the even-numbered items, segment 1's the odd ones.
    """
    for segment in world.segments:
        popular = world.items[segment.number :: 2]
        segment.summary = {
            **segment.summary,
            "popular": [[item.pk, round(0.5 - i / 20, 3), 2.0] for i, item in enumerate(popular)],
        }
        segment.save(update_fields=["summary"])
    world.run.placer = placer_pickle()
    world.run.save(update_fields=["placer"])


@cache
def placer_pickle() -> bytes:
    # Fitting costs ~0.2 s; tests only read the placer, so one fit serves them all.
    return pickle.dumps(make_placer())


def cache_item_embeddings(items: list[Item], *, dim: int = 4) -> None:
    """Store item vectors in the embedding cache, so placing a rater never loads the encoder."""
    EmbeddingCache.objects.bulk_create(
        EmbeddingCache(
            model_name=settings.SEGREC_TEXT_MODEL,
            text_hash=text_hash(item_text(i.title, i.year, i.genres, i.description)),
            vector=np.full(dim, 0.1, dtype=np.float32).tobytes(),
        )
        for i in items
    )
