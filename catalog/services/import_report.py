"""What an import did: rows created, updated and left unchanged per entity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Progress = Callable[[str, int], None]


@dataclass
class EntityCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class ImportReport:
    members: EntityCounts = field(default_factory=EntityCounts)
    items: EntityCounts = field(default_factory=EntityCounts)
    ratings: EntityCounts = field(default_factory=EntityCounts)
    sources: tuple[str, ...] = ()
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        counts = {name: vars(getattr(self, name)) for name in ("members", "items", "ratings")}
        return {**counts, "sources": list(self.sources), "seconds": round(self.seconds, 3)}

    def lines(self) -> list[str]:
        return [
            f"{name}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
            for name, c in (
                ("members", self.members),
                ("items", self.items),
                ("ratings", self.ratings),
            )
        ]
