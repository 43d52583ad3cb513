"""Say what sets each segment apart: genres, demographics and items it over-represents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

_GENDER_WORDS = {"M": "men", "F": "women"}


def explain_segments(
    labels: np.ndarray | Sequence[int],
    *,
    ratings: sp.spmatrix,
    item_genres: Sequence[Sequence[str]],
    demographics: Mapping[str, Sequence[str]],
    like_threshold: float = 4.0,
    top: int = 3,
    min_support: int = 5,
) -> list[dict[str, Any]]:
    """One dict per segment number 0..max(labels), each trait ranked by lift (> 1 only).

    - genre lift: share of the segment's liked ratings (value >= ``like_threshold``) whose item
      has the genre, over the same share among everyone's liked ratings;
    - demographic lift: share of the segment's members with the value, over the population's;
      missing values (None, "") are not counted as a value;
    - item lift: share of the segment's members who liked the item, over the population's.

    A trait needs ``min_support`` cases in the segment (liked ratings in the genre, members
    with the value, members who liked the item): on ML-100K a single healthcare worker
    otherwise made "healthcare x58.9" the headline of a segment.

    Members with a negative label count in the population but in no segment. Ties in lift
    are broken by name (or item index), so the output is deterministic.
    """
    labels = np.asarray(labels, dtype=np.int64)
    ratings = sp.csr_matrix(ratings)
    _check(labels, ratings, item_genres, demographics)
    n_segments = int(labels.max()) + 1 if len(labels) else 0
    onehot = _segment_matrix(labels, n_segments)
    sizes = np.asarray(onehot.sum(axis=1)).ravel()
    liked = (ratings >= like_threshold).astype(np.float64).tocsr()
    likes = np.asarray((onehot @ liked).todense())  # segments x items: members who liked it
    everyone = np.asarray(liked.sum(axis=0)).ravel()
    genres = _genre_traits(likes, everyone, item_genres, min_support)
    people = _demographic_traits(onehot, sizes, len(labels), demographics, min_support)
    items = _item_traits(likes, everyone, sizes, len(labels), min_support)
    out = []
    for s in range(n_segments):
        entry = {
            "segment": s,
            "size": int(sizes[s]),
            "share": float(sizes[s] / max(len(labels), 1)),
            "genres": genres[s][:top],
            "demographics": people[s][:top],
            "items": items[s][:top],
        }
        entry["label"] = _label(entry)
        entry["description"] = _description(entry)
        out.append(entry)
    return out


def _check(
    labels: np.ndarray,
    ratings: sp.csr_matrix,
    item_genres: Sequence[Sequence[str]],
    demographics: Mapping[str, Sequence[str]],
) -> None:
    if ratings.shape[0] != len(labels):
        raise ValueError(
            f"ratings: expected {len(labels)} rows (one per label), got {ratings.shape[0]}"
        )
    if len(item_genres) != ratings.shape[1]:
        raise ValueError(
            f"item_genres: expected {ratings.shape[1]} entries, got {len(item_genres)}"
        )
    for field, values in demographics.items():
        if len(values) != len(labels):
            raise ValueError(
                f"demographics[{field!r}]: expected {len(labels)} values, got {len(values)}"
            )


def _segment_matrix(labels: np.ndarray, n_segments: int) -> sp.csr_matrix:
    members = np.flatnonzero(labels >= 0)
    data = np.ones(len(members))
    return sp.csr_matrix((data, (labels[members], members)), shape=(n_segments, len(labels)))


def _genre_traits(
    likes: np.ndarray, everyone: np.ndarray, item_genres: Sequence[Sequence[str]], min_support: int
) -> list[list[dict[str, Any]]]:
    names, genre_matrix = _indicator(item_genres)
    in_genre = likes @ genre_matrix  # segments x genres: liked ratings in the genre
    share = _ratio(in_genre, likes.sum(axis=1, keepdims=True))
    population = _ratio(everyone @ genre_matrix, everyone.sum())
    rows = []
    for s in range(len(likes)):
        found: list[dict[str, Any]] = [
            {
                "name": name,
                "lift": lift,
                "share": float(share[s, g]),
                "population_share": float(population[g]),
            }
            for g, name in enumerate(names)
            if in_genre[s, g] >= min_support and (lift := _lift(share[s, g], population[g])) > 1
        ]
        rows.append(sorted(found, key=lambda row: (-row["lift"], row["name"])))
    return rows


def _demographic_traits(
    onehot: sp.csr_matrix,
    sizes: np.ndarray,
    n: int,
    demographics: Mapping[str, Sequence[str]],
    min_support: int,
) -> list[list[dict[str, Any]]]:
    rows: list[list[dict[str, Any]]] = [[] for _ in range(onehot.shape[0])]
    for field, values in demographics.items():
        names, member_matrix = _indicator([[v] if v not in (None, "") else [] for v in values])
        counts = (
            np.asarray((onehot @ member_matrix).todense())
            if len(names)
            else np.zeros((len(rows), 0))
        )
        share = _ratio(counts, sizes[:, None])
        population = _ratio(np.asarray(member_matrix.sum(axis=0)).ravel(), n)
        for s, row in enumerate(rows):
            row.extend(
                {
                    "field": field,
                    "value": name,
                    "lift": lift,
                    "share": float(share[s, v]),
                    "population_share": float(population[v]),
                }
                for v, name in enumerate(names)
                if counts[s, v] >= min_support and (lift := _lift(share[s, v], population[v])) > 1
            )
    return [sorted(row, key=lambda r: (-r["lift"], r["field"], r["value"])) for row in rows]


def _item_traits(
    likes: np.ndarray, everyone: np.ndarray, sizes: np.ndarray, n: int, min_support: int
) -> list[list[dict[str, Any]]]:
    share = _ratio(likes, sizes[:, None])
    population = _ratio(everyone, n)
    rows = []
    for s in range(len(likes)):
        candidates = np.flatnonzero(likes[s] >= max(min_support, 1))
        found = [
            {
                "index": int(i),
                "lift": lift,
                "share": float(share[s, i]),
                "population_share": float(population[i]),
                "support": int(likes[s, i]),
            }
            for i in candidates
            if (lift := _lift(share[s, i], population[i])) > 1
        ]
        rows.append(sorted(found, key=lambda row: (-row["lift"], row["index"])))
    return rows


def _indicator(lists: Sequence[Sequence[str]]) -> tuple[list[str], sp.csr_matrix]:
    """Sorted distinct names and a rows x names 0/1 matrix."""
    names = sorted({name for names in lists for name in names})
    index = {name: i for i, name in enumerate(names)}
    rows = np.repeat(np.arange(len(lists)), [len(set(names)) for names in lists])
    cols = np.array([index[name] for names in lists for name in sorted(set(names))], dtype=np.int64)
    matrix = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(lists), len(names)))
    return names, matrix


def _ratio(numerator: np.ndarray, denominator: np.ndarray | float) -> np.ndarray:
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.broadcast_to(np.asarray(denominator, dtype=np.float64), numerator.shape)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def _lift(share: float, population: float) -> float:
    return float(share / population) if population > 0 else 0.0


def _trait_name(row: dict[str, Any]) -> str:
    if "name" in row:
        return str(row["name"])
    field, value = row["field"], str(row["value"])
    if field == "age":
        return f"ages {value}"
    if field == "gender":
        return _GENDER_WORDS.get(value, value)
    if field == "occupation":
        return value
    return f"{field} {value}"


def _label(entry: dict[str, Any]) -> str:
    traits = entry["genres"][:2] + entry["demographics"][:2]
    if not traits:
        return f"Segment {entry['segment']}"
    return " · ".join(f"{_trait_name(row)} x{row['lift']:.1f}" for row in traits)


def _description(entry: dict[str, Any]) -> str:
    text = f"Segment {entry['segment']} has {entry['size']} members ({entry['share']:.1%} of all)."
    if entry["genres"]:
        text += " Their liked ratings lean to " + _join(entry["genres"]) + "."
    if entry["demographics"]:
        text += " Over-represented among its members: " + _join(entry["demographics"]) + "."
    if not entry["genres"] and not entry["demographics"]:
        text += " No genre or demographic stands out."
    return text


def _join(rows: list[dict[str, Any]]) -> str:
    parts = [
        f"{_trait_name(r)} ({_percent(r['share'])} vs {_percent(r['population_share'])}, "
        f"x{r['lift']:.1f})"
        for r in rows
    ]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _percent(share: float) -> str:
    # one decimal below 10% so small shares do not all read "1% vs 1%"
    return f"{share:.1%}" if share < 0.1 else f"{share:.0%}"
