"""Typed rows the readers yield, each remembering the file and line it came from.

``provided`` names the fields the source file has a column for: an import only writes
those, so a file without a ``profile`` column leaves the profiles already stored alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

MEMBER_FIELDS = frozenset({"age", "gender", "occupation", "location", "profile"})
ITEM_FIELDS = frozenset({"title", "year", "genres", "description"})
RATING_FIELDS = frozenset({"value", "rated_at"})


@dataclass(frozen=True, slots=True)
class MemberRow:
    external_id: str
    source: str
    line: int
    age: int | None = None
    gender: str = ""
    occupation: str = ""
    location: str = ""
    profile: str = ""
    provided: frozenset[str] = MEMBER_FIELDS
    id_column: str = "member_id"


@dataclass(frozen=True, slots=True)
class ItemRow:
    external_id: str
    source: str
    line: int
    title: str
    year: int | None = None
    genres: list[str] = field(default_factory=list)
    description: str = ""
    provided: frozenset[str] = ITEM_FIELDS
    id_column: str = "item_id"


@dataclass(frozen=True, slots=True)
class RatingRow:
    member_id: str
    item_id: str
    value: float
    source: str
    line: int
    rated_at: datetime | None = None
    provided: frozenset[str] = RATING_FIELDS
    # The source's names for (member, item, rating), so errors speak the file's language.
    columns: tuple[str, str, str] = ("member_id", "item_id", "rating")


# Bounds the database enforces (or that a real person or film respects), checked while
# reading so the error names the line instead of surfacing as a database error later.
AGE_RANGE = (0, 150)
YEAR_RANGE = (1, 9999)
ID_MAX = 64
TITLE_MAX = 300
GENDER_MAX = 32
OCCUPATION_MAX = 64
LOCATION_MAX = 64
