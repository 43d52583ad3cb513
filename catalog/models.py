"""Members, items and ratings: what a shop, a streaming service or a news site loads."""

from __future__ import annotations

from typing import Any

from django.db import models

from ml.text.texts import display_title


class Member(models.Model):
    """A person recommendations are made for (not an admin login)."""

    external_id = models.CharField(max_length=64, unique=True)
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    gender = models.CharField(max_length=32, blank=True)
    occupation = models.CharField(max_length=64, blank=True)
    location = models.CharField(max_length=64, blank=True)
    profile = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "segments_member"  # the table predates the catalog app
        ordering = ["id"]

    def __str__(self) -> str:
        return f"member {self.external_id}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "member_id": self.external_id,
            "age": self.age,
            "gender": self.gender,
            "occupation": self.occupation,
            "location": self.location,
            "profile": self.profile,
        }


class Item(models.Model):
    external_id = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=300)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    genres = models.JSONField(default=list, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        db_table = "segments_item"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        return display_title(self.title, self.year)

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.external_id,
            "title": self.title,
            "year": self.year,
            "genres": self.genres,
            "description": self.description,
        }


class Rating(models.Model):
    # No index of its own: the unique (member, item) index leads with it and serves every
    # lookup by member, and every index costs a large import time to maintain.
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="ratings", db_index=False
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="ratings")
    value = models.FloatField()
    rated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "segments_rating"
        constraints = [
            models.UniqueConstraint(fields=["member", "item"], name="one_rating_per_member_item")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} -> {self.item_id}: {self.value}"
