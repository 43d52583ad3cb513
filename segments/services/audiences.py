"""Audiences: for an item, a genre or any item attribute, the members most likely to like
it, ranked, with how they spread over the served run's segments (ml.recommenders.audience
does the ranking)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from catalog.models import Item
from ml.recommenders.audience import rank_audience
from ml.text.texts import item_text
from segments.models import Membership, SegmentationRun
from segments.services.dataset import dataset_load
from segments.services.embeddings import shared_text_encoder, texts_embed

MAX_SIZE = 10_000


class AudienceError(ValueError):
    """The query is wrong or matches nothing; the message names the field."""


@dataclass(frozen=True)
class AudienceQuery:
    """Which items: one item id, and/or filters that all must hold (genre, years, text)."""

    item: str = ""
    genre: str = ""
    year_from: int | None = None
    year_to: int | None = None
    text: str = ""
    size: int = 100

    def describe(self) -> str:
        parts = [f"item {self.item}" if self.item else ""]
        parts.append(f"genre {self.genre}" if self.genre else "")
        if self.year_from is not None or self.year_to is not None:
            parts.append(f"years {self.year_from or '…'}-{self.year_to or '…'}")
        parts.append(f"text “{self.text}”" if self.text else "")
        return ", ".join(p for p in parts if p)


@dataclass
class AudienceMember:
    rank: int
    member_id: str
    score: float
    segment_number: int | None
    segment_label: str


@dataclass
class AudienceReport:
    query: AudienceQuery
    items: list[str]  # the matched items' display titles (the first 20)
    n_items: int
    basis: str
    already_rated: int
    members: list[AudienceMember]
    run_id: int | None
    segments: list[dict[str, Any]] = field(default_factory=list)


def audience_build(query: AudienceQuery) -> AudienceReport:
    _check(query)
    dataset = dataset_load()
    targets = _target_indices(query, dataset.item_pks)
    needs_text = bool(
        np.any(np.bincount(dataset.data.items, minlength=dataset.n_items)[targets] == 0)
    )
    embeddings = _item_embeddings(dataset) if needs_text else None
    audience = rank_audience(
        dataset.data.ratings(), targets, item_embeddings=embeddings, size=query.size
    )
    run = SegmentationRun.objects.filter(is_active=True).only("pk").first()
    segment_of = _segments(run, dataset.member_pks[audience.members])
    titles = dataset.item_titles()
    members = [
        AudienceMember(
            rank=rank,
            member_id=str(dataset.member_fields["external_id"][row]),
            score=round(float(score), 4),
            segment_number=segment_of.get(int(dataset.member_pks[row]), (None, ""))[0],
            segment_label=segment_of.get(int(dataset.member_pks[row]), (None, ""))[1],
        )
        for rank, (row, score) in enumerate(zip(audience.members, audience.scores, strict=True), 1)
    ]
    return AudienceReport(
        query=query,
        items=[titles[i] for i in targets[:20]],
        n_items=len(targets),
        basis=audience.basis,
        already_rated=audience.already_rated,
        members=members,
        run_id=run.pk if run else None,
        segments=_breakdown(run, members),
    )


def _check(query: AudienceQuery) -> None:
    if not (query.item or query.genre or query.text or query.year_from or query.year_to):
        raise AudienceError("item: give an item id, or a genre, years or text to match items")
    if not 1 <= query.size <= MAX_SIZE:
        raise AudienceError(f"size: expected 1 to {MAX_SIZE}, got {query.size}")
    if query.year_from and query.year_to and query.year_from > query.year_to:
        raise AudienceError(f"year_to: {query.year_to} is before year_from {query.year_from}")


def _target_indices(query: AudienceQuery, item_pks: np.ndarray) -> np.ndarray:
    items = Item.objects.all()
    if query.item:
        items = items.filter(external_id=query.item)
    if query.genre:
        items = items.filter(genres__icontains=query.genre)
    if query.year_from:
        items = items.filter(year__gte=query.year_from)
    if query.year_to:
        items = items.filter(year__lte=query.year_to)
    if query.text:
        items = items.filter(title__icontains=query.text) | items.filter(
            description__icontains=query.text
        )
    pks = np.fromiter(items.values_list("pk", flat=True), dtype=np.int64)
    if query.genre:  # icontains on JSON text also matches inside other names: check exactly
        wanted = query.genre.casefold()
        exact = Item.objects.filter(pk__in=pks.tolist()).values_list("pk", "genres")
        pks = np.array(
            [pk for pk, genres in exact if wanted in {g.casefold() for g in genres}], dtype=np.int64
        )
    if pks.size == 0:
        field_name = "item" if query.item else "genre" if query.genre else "text"
        raise AudienceError(f"{field_name}: no item matches {query.describe()}")
    return np.searchsorted(item_pks, np.sort(pks))


def _item_embeddings(dataset: Any) -> np.ndarray:
    f = dataset.item_fields
    texts = [
        item_text(t, y, g, d)
        for t, y, g, d in zip(f["title"], f["year"], f["genres"], f["description"], strict=True)
    ]
    vectors, _ = texts_embed(texts=texts, encoder=shared_text_encoder())
    return vectors


def _segments(run: SegmentationRun | None, member_pks: np.ndarray) -> dict[int, tuple[int, str]]:
    if run is None:
        return {}
    rows = Membership.objects.filter(run=run, member_id__in=member_pks.tolist()).values_list(
        "member_id", "segment__number", "segment__label"
    )
    return {member: (number, label) for member, number, label in rows}


def _breakdown(run: SegmentationRun | None, members: list[AudienceMember]) -> list[dict[str, Any]]:
    """Per segment of the served run: audience members in it, its share of the audience, and
    how over-represented the segment is in the audience against its share of all members."""
    if run is None or not members:
        return []
    sizes = dict(run.segments.values_list("number", "size"))
    labels = dict(run.segments.values_list("number", "label"))
    total = sum(sizes.values()) or 1
    counts: dict[int, int] = {}
    for member in members:
        if member.segment_number is not None:
            counts[member.segment_number] = counts.get(member.segment_number, 0) + 1
    rows = []
    for number, count in sorted(counts.items(), key=lambda kv: -kv[1]):
        share = count / len(members)
        population = sizes.get(number, 0) / total
        rows.append(
            {
                "number": number,
                "label": labels.get(number, ""),
                "members": count,
                "share": round(share, 4),
                "segment_share": round(population, 4),
                "lift": round(share / population, 2) if population else None,
            }
        )
    return rows
