"""Telling the two MovieLens layouts apart by the files a folder holds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from catalog.importers import grouplens, recbole
from catalog.importers.errors import ImportDataError
from catalog.importers.rows import ItemRow, MemberRow, RatingRow

GROUPLENS_FILES = ("u.user", "u.item", "u.data")
EXPECTED = (
    "expected u.data, u.item and u.user (GroupLens layout) "
    "or NAME.inter, NAME.item and NAME.user (RecBole layout)"
)
READERS = {
    "grouplens": (
        grouplens.grouplens_members_read,
        grouplens.grouplens_items_read,
        grouplens.grouplens_ratings_read,
    ),
    "recbole": (
        recbole.recbole_members_read,
        recbole.recbole_items_read,
        recbole.recbole_ratings_read,
    ),
}


@dataclass(frozen=True)
class MovieLensFiles:
    layout: str  # "grouplens" or "recbole"
    members: Path
    items: Path
    ratings: Path

    def rows(self) -> tuple[Iterator[MemberRow], Iterator[ItemRow], Iterator[RatingRow]]:
        members_read, items_read, ratings_read = READERS[self.layout]
        return members_read(self.members), items_read(self.items), ratings_read(self.ratings)

    @property
    def names(self) -> tuple[str, str, str]:
        return (self.members.name, self.items.name, self.ratings.name)


def movielens_files_find(directory: Path) -> MovieLensFiles:
    """The MovieLens files in ``directory``, GroupLens layout first if both are there."""
    if not directory.is_dir():
        raise ImportDataError(f"not a folder ({EXPECTED})", source=str(directory))
    if any((directory / name).exists() for name in GROUPLENS_FILES):
        return _complete(directory, "grouplens", [directory / name for name in GROUPLENS_FILES])
    inters = sorted(directory.glob("*.inter"))
    if len(inters) > 1:
        names = ", ".join(path.name for path in inters)
        raise ImportDataError(
            f"several RecBole data sets ({names}); keep one", source=str(directory)
        )
    if not inters:
        raise ImportDataError(f"no MovieLens files found: {EXPECTED}", source=str(directory))
    stem = inters[0].with_suffix("")
    paths = [stem.with_suffix(".user"), stem.with_suffix(".item"), inters[0]]
    return _complete(directory, "recbole", paths)


def _complete(directory: Path, layout: str, paths: list[Path]) -> MovieLensFiles:
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        label = "GroupLens" if layout == "grouplens" else "RecBole"
        raise ImportDataError(
            f"{label} layout is missing {', '.join(missing)} ({EXPECTED})", source=str(directory)
        )
    return MovieLensFiles(layout, *paths)
