"""Planted data: members, items and ratings whose true segments are known, plus writers for
the two MovieLens layouts, so the whole pipeline can be tested against a right answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import numpy as np

# MovieLens-100K's genres in u.item's flag order; RecBole spells them the same way.
GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
OCCUPATIONS = (
    "administrator", "artist", "doctor", "educator", "engineer", "entertainment", "executive",
    "healthcare", "homemaker", "lawyer", "librarian", "marketing", "none", "other",
    "programmer", "retired", "salesman", "scientist", "student", "technician", "writer",
)  # fmt: skip
# Title words typical of each genre, so a text encoder sees the genre in the title too.
GENRE_WORDS = {
    "Action": ("Strike", "Fury", "Mission", "Rampage", "Bullet", "Showdown", "Vendetta"),
    "Adventure": ("Quest", "Treasure", "Journey", "Expedition", "Island", "Voyage", "Jungle"),
    "Animation": ("Cartoon", "Toon", "Doodle", "Balloon", "Sketchbook", "Critters"),
    "Children's": ("Puppy", "Kids", "Teddy", "Playground", "Birthday", "Pony", "Lullaby"),
    "Comedy": ("Wacky", "Prank", "Goofy", "Blunder", "Roommates", "Laughs", "Hijinks"),
    "Crime": ("Heist", "Mob", "Gangster", "Robbery", "Ransom", "Cartel", "Alibi"),
    "Documentary": ("Chronicle", "Portrait", "Truth", "Report", "Inside", "Archive"),
    "Drama": ("Tears", "Family", "Memory", "Silence", "Promise", "Letters", "Grief"),
    "Fantasy": ("Wizard", "Spell", "Kingdom", "Sorcerer", "Elf", "Enchanted", "Dragon"),
    "Film-Noir": ("Shadows", "Femme", "Fatale", "Smoke", "Midnight", "Dame", "Gumshoe"),
    "Horror": ("Blood", "Haunted", "Scream", "Zombie", "Curse", "Nightmare", "Demon"),
    "Musical": ("Song", "Dance", "Melody", "Broadway", "Rhythm", "Chorus", "Serenade"),
    "Mystery": ("Secret", "Clue", "Riddle", "Enigma", "Vanishing", "Puzzle", "Whisper"),
    "Romance": ("Love", "Kiss", "Heart", "Wedding", "Valentine", "Darling", "Passion"),
    "Sci-Fi": ("Galaxy", "Robot", "Alien", "Planet", "Starship", "Cyborg", "Android"),
    "Thriller": ("Hunted", "Pursuit", "Target", "Trap", "Hostage", "Deadline", "Conspiracy"),
    "War": ("Battalion", "Trenches", "Soldier", "Battle", "Platoon", "Sniper", "Invasion"),
    "Western": ("Sheriff", "Outlaw", "Saloon", "Frontier", "Cowboy", "Gunslinger", "Ranch"),
}
GENERIC_GENRES = ("Comedy", "Drama")


@dataclass(frozen=True)
class Archetype:
    genres: tuple[str, ...]
    ages: tuple[int, int]
    male_share: float
    occupations: tuple[str, ...]


ARCHETYPES = (
    Archetype(("Sci-Fi", "Action", "Adventure"), (18, 32), 0.8, ("student", "programmer", "engineer", "technician")),
    Archetype(("Romance", "Drama", "Musical"), (25, 50), 0.25, ("educator", "librarian", "writer", "healthcare")),
    Archetype(("Children's", "Animation", "Comedy"), (30, 45), 0.45, ("administrator", "marketing", "salesman", "homemaker")),
    Archetype(("Film-Noir", "Crime", "Mystery"), (45, 70), 0.6, ("retired", "lawyer", "executive", "doctor")),
    Archetype(("Horror", "Thriller"), (15, 25), 0.6, ("student", "artist", "entertainment", "none")),
    Archetype(("War", "Western", "Documentary"), (50, 73), 0.75, ("retired", "scientist", "engineer", "executive")),
    Archetype(("Fantasy", "Adventure", "Animation"), (12, 22), 0.55, ("student", "artist", "writer", "none")),
    Archetype(("Thriller", "Crime", "Action"), (30, 50), 0.65, ("executive", "lawyer", "marketing", "salesman")),
)  # fmt: skip
_START = 874_724_710  # 1997-09-20, when MovieLens-100K's ratings begin


@dataclass
class PlantedData:
    """Members, items and ratings with each member's true segment in ``segments``."""

    members: list[dict]
    items: list[dict]
    ratings: list[tuple[int, int, int, int]]
    segments: np.ndarray
    favourite_genres: list[tuple[str, ...]] = field(default_factory=list)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Ratings as (member index, item index, rating, timestamp) arrays, indices 0-based
        in the order of ``members`` and ``items``."""
        member_index = {m["member_id"]: i for i, m in enumerate(self.members)}
        item_index = {item["item_id"]: i for i, item in enumerate(self.items)}
        table = np.array(self.ratings, dtype=np.int64).reshape(-1, 4)
        users = np.array([member_index[u] for u in table[:, 0]], dtype=np.int64)
        items = np.array([item_index[i] for i in table[:, 1]], dtype=np.int64)
        return users, items, table[:, 2].astype(np.float64), table[:, 3].astype(np.float64)


def make_planted(
    n_members: int = 600,
    n_items: int = 300,
    n_segments: int = 4,
    ratings_per_member: tuple[int, int] = (20, 60),
    noise: float = 0.1,
    random_state: int | None = 0,
) -> PlantedData:
    """Generate members in ``n_segments`` planted segments (at most 8, sizes balanced).

    Each segment has favourite genres and leaning demographics (age range, gender mix,
    occupations: 75% from the segment's list). Item popularity follows a power law; titles
    are built from genre-typical words. Members mostly rate items in their favourite genres,
    4-5 for those and 1-3 for others; a ``noise`` share of ratings is uniform 1-5. Each
    member's timestamps increase.
    """
    _check_planted(n_members, n_items, n_segments, ratings_per_member, noise)
    rng = np.random.default_rng(random_state)
    archetypes = ARCHETYPES[:n_segments]
    segments = rng.permutation(np.arange(n_members) % n_segments)
    items = _make_items(rng, n_items, archetypes)
    members = [_make_member(rng, i + 1, archetypes[s], s) for i, s in enumerate(segments)]
    ratings = _make_ratings(rng, items, segments, archetypes, ratings_per_member, noise)
    favourites = [a.genres for a in archetypes]
    return PlantedData(members, items, ratings, segments, favourites)


def _check_planted(
    n_members: int, n_items: int, n_segments: int, per_member: tuple[int, int], noise: float
) -> None:
    if not 1 <= n_segments <= len(ARCHETYPES):
        raise ValueError(f"n_segments: expected 1 to {len(ARCHETYPES)}, got {n_segments!r}")
    if n_members < n_segments:
        raise ValueError(f"n_members: expected at least n_segments ({n_segments}), got {n_members}")
    if n_items < 1:
        raise ValueError(f"n_items: expected a positive integer, got {n_items!r}")
    low, high = per_member
    if not 1 <= low <= high:
        raise ValueError(
            f"ratings_per_member: expected (low, high) with 1 <= low <= high, got {per_member}"
        )
    if not 0 <= noise <= 1:
        raise ValueError(f"noise: expected a share from 0 to 1, got {noise!r}")


def _make_items(
    rng: np.random.Generator, n_items: int, archetypes: tuple[Archetype, ...]
) -> list[dict]:
    items, seen = [], set()
    for item_id in range(1, n_items + 1):
        favourites = archetypes[rng.integers(len(archetypes))].genres
        count = min(int(rng.integers(1, 3)), len(favourites))
        genres = [str(g) for g in rng.choice(favourites, size=count, replace=False)]
        extra = GENERIC_GENRES[rng.integers(2)]
        if rng.random() < 0.1 and extra not in genres:
            genres.append(extra)
        title = _unique(_title(rng, genres), seen)
        low = 1941 if "Film-Noir" in genres else 1960
        year = int(rng.integers(low, 1959 if low == 1941 else 1999))
        items.append({"item_id": item_id, "title": title, "year": year, "genres": genres})
    return items


def _title(rng: np.random.Generator, genres: list[str]) -> str:
    words = [str(rng.choice(GENRE_WORDS[g])) for g in genres]
    if len(words) == 1:
        words.append(str(rng.choice(GENRE_WORDS[genres[0]])))
    pattern = rng.integers(3)
    if pattern == 0:
        return f"The {words[0]} {words[1]}"
    if pattern == 1:
        return f"{words[0]} of the {words[1]}"
    return " ".join(words)


def _unique(title: str, seen: set[str]) -> str:
    candidate, number = title, 2
    while candidate in seen:
        candidate, number = f"{title} {number}", number + 1
    seen.add(candidate)
    return candidate


def _make_member(
    rng: np.random.Generator, member_id: int, archetype: Archetype, segment: int
) -> dict:
    low, high = archetype.ages
    pool = archetype.occupations if rng.random() < 0.75 else OCCUPATIONS
    first = segment % 10 if rng.random() < 0.6 else int(rng.integers(10))
    return {
        "member_id": member_id,
        "age": int(rng.integers(low, high + 1)),
        "gender": "M" if rng.random() < archetype.male_share else "F",
        "occupation": str(rng.choice(pool)),
        "zip": f"{first}{int(rng.integers(10_000)):04d}",
    }


def _make_ratings(
    rng: np.random.Generator,
    items: list[dict],
    segments: np.ndarray,
    archetypes: tuple[Archetype, ...],
    per_member: tuple[int, int],
    noise: float,
) -> list[tuple[int, int, int, int]]:
    popularity = (1.0 + rng.permutation(len(items))) ** -0.9
    fits = np.array(
        [[bool(set(a.genres) & set(item["genres"])) for item in items] for a in archetypes]
    )
    ratings = []
    for index, segment in enumerate(segments):
        weights = popularity * np.where(fits[segment], 5.0, 1.0)
        count = min(int(rng.integers(per_member[0], per_member[1] + 1)), len(items))
        chosen = rng.choice(len(items), size=count, replace=False, p=weights / weights.sum())
        liked = fits[segment, chosen]
        values = np.where(liked, rng.choice([4, 5], size=count, p=[0.45, 0.55]),
                          rng.choice([1, 2, 3], size=count, p=[0.25, 0.4, 0.35]))  # fmt: skip
        values = np.where(rng.random(count) < noise, rng.integers(1, 6, size=count), values)
        start = _START + int(rng.integers(0, 15_000_000))
        times = start + np.cumsum(rng.exponential(86_400.0, size=count).astype(np.int64) + 1)
        member_id = index + 1
        ratings.extend(
            (member_id, items[i]["item_id"], int(v), int(t))
            for i, v, t in zip(chosen, values, times, strict=True)
        )
    return ratings


def write_recbole(
    data: PlantedData, directory: str | Path, name: str = "ml-planted"
) -> dict[str, Path]:
    """Write ``name.inter``, ``name.item`` and ``name.user`` in RecBole's atomic layout
    (tab-separated, typed header line, UTF-8), as MovieLens-100K ships in RecBole."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "inter": (
            ("user_id:token", "item_id:token", "rating:float", "timestamp:float"),
            data.ratings,
        ),
        "item": (
            ("item_id:token", "movie_title:token_seq", "release_year:token", "class:token_seq"),
            [(i["item_id"], i["title"], i["year"], " ".join(i["genres"])) for i in data.items],
        ),
        "user": (
            ("user_id:token", "age:token", "gender:token", "occupation:token", "zip_code:token"),
            [
                (m["member_id"], m["age"], m["gender"], m["occupation"], m["zip"])
                for m in data.members
            ],
        ),
    }
    paths = {}
    for suffix, (header, rows) in tables.items():
        paths[suffix] = folder / f"{name}.{suffix}"
        _write(paths[suffix], "\t", [header, *rows], "utf-8")
    return paths


def write_grouplens(data: PlantedData, directory: str | Path) -> dict[str, Path]:
    """Write ``u.data``, ``u.item`` and ``u.user`` in the original GroupLens ML-100K layout."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"data": folder / "u.data", "item": folder / "u.item", "user": folder / "u.user"}
    _write(paths["data"], "\t", data.ratings, "latin-1")
    _write(paths["item"], "|", [_grouplens_item(item) for item in data.items], "latin-1")
    users = [
        (m["member_id"], m["age"], m["gender"], m["occupation"], m["zip"]) for m in data.members
    ]
    _write(paths["user"], "|", users, "latin-1")
    return paths


def _grouplens_item(item: dict) -> tuple:
    full_title = f"{item['title']} ({item['year']})"
    url = f"http://us.imdb.com/M/title-exact?{quote(full_title)}"
    flags = [int(genre in item["genres"]) for genre in GENRES]
    return (item["item_id"], full_title, f"01-Jan-{item['year']}", "", url, *flags)


def _write(path: Path, separator: str, rows: list, encoding: str) -> None:
    with open(path, "w", encoding=encoding, newline="\n") as handle:
        for row in rows:
            handle.write(separator.join(str(value) for value in row) + "\n")
