"""Say what sets each segment apart: genres, demographics and items it over-represents.

A trait is kept only when it rests on enough cases and clears a test, so a label never
rests on five members or on a share that chance alone explains:

- ``support >= min_support`` cases in the segment (liked ratings in the genre, members with
  the value, members who liked the item);
- ``lift >= min_lift`` (segment share over population share);
- the 95% Wilson score interval of the segment's share lies wholly above the population
  share (``ci_low > population_share``).

Every kept trait says whether it entered the clustering (``basis == "clustered"``: its
feature block had weight > 0) or is only over-represented (``"over-represented"``).
Genres and items come from what members rated (the history and behaviour blocks);
demographics from the demographics block. Labels name clustered traits only.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

_GENDER_WORDS = {"M": "men", "F": "women"}
MIN_SUPPORT = 20
MIN_LIFT = 1.2
Z_95 = 1.959964
# A trait headlines the label only if it covers this share of the segment: "Documentary
# x1.3" at 1.2% against 0.9% may be real, but it does not describe the segment.
LABEL_MIN_SHARE = 0.05
# Which feature blocks carry each kind of trait into the clustering.
TRAIT_BLOCKS = {
    "genres": ("history", "behaviour"),
    "items": ("history", "behaviour"),
    "demographics": ("demographics",),
}
CLUSTERED, OVER_REPRESENTED = "clustered", "over-represented"


def explain_segments(
    labels: np.ndarray | Sequence[int],
    *,
    ratings: sp.spmatrix,
    item_genres: Sequence[Sequence[str]],
    demographics: Mapping[str, Sequence[str]],
    like_threshold: float = 4.0,
    top: int = 3,
    min_support: int = MIN_SUPPORT,
    min_lift: float = MIN_LIFT,
    z: float = Z_95,
    clustered_blocks: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """One dict per segment number 0..max(labels), each trait ranked by lift.

    - genre share: share of the segment's liked ratings (value >= ``like_threshold``) whose
      item has the genre, against the same share among everyone's liked ratings;
    - demographic share: share of the segment's members with the value, against the
      population's; missing values (None, "") are not counted as a value;
    - item share: share of the segment's members who liked the item, against the population's.

    Each trait row carries ``support`` (cases), ``n`` (the share's denominator), ``ci_low``
    and ``ci_high`` (Wilson interval at ``z``) and ``basis``. ``clustered_blocks`` names
    the feature blocks that entered the clustering; None means unknown, and every trait
    is then treated as clustered. Members with a negative label count in the population
    but in no segment. Ties in lift are broken by name (or item index).
    """
    labels = np.asarray(labels, dtype=np.int64)
    ratings = sp.csr_matrix(ratings)
    _check(labels, ratings, item_genres, demographics)
    rule = _Rule(min_support, min_lift, z)
    basis = _basis(clustered_blocks)
    n_segments = int(labels.max()) + 1 if len(labels) else 0
    onehot = _segment_matrix(labels, n_segments)
    sizes = np.asarray(onehot.sum(axis=1)).ravel()
    liked = (ratings >= like_threshold).astype(np.float64).tocsr()
    likes = np.asarray((onehot @ liked).todense())  # segments x items: members who liked it
    everyone = np.asarray(liked.sum(axis=0)).ravel()
    genres = _genre_traits(likes, everyone, item_genres, rule, basis["genres"])
    people = _demographic_traits(
        onehot, sizes, len(labels), demographics, rule, basis["demographics"]
    )
    items = _item_traits(likes, everyone, sizes, len(labels), rule, basis["items"])
    out = []
    for s in range(n_segments):
        entry: dict[str, Any] = {
            "segment": s,
            "size": int(sizes[s]),
            "share": float(sizes[s] / max(len(labels), 1)),
            "genres": genres[s][:top],
            "demographics": people[s][:top],
            "items": items[s][:top],
            "rules": rule.as_dict(),
            "clustered_blocks": None if clustered_blocks is None else sorted(clustered_blocks),
        }
        entry["headline"] = _headline(entry)
        entry["label"] = _label(entry)
        entry["description"] = _description(entry)
        out.append(entry)
    return out


class _Rule:
    """The support and test every trait must pass."""

    def __init__(self, min_support: int, min_lift: float, z: float) -> None:
        self.min_support, self.min_lift, self.z = min_support, min_lift, z

    def as_dict(self) -> dict[str, Any]:
        return {
            "min_support": self.min_support,
            "min_lift": self.min_lift,
            "z": self.z,
            "interval": "Wilson score",
        }

    def rows(
        self, support: np.ndarray, n: np.ndarray, population: np.ndarray
    ) -> list[dict[str, Any]]:
        """One row per column that passes, keyed by its column index ``"at"``."""
        support, n = np.asarray(support, dtype=np.float64), np.asarray(n, dtype=np.float64)
        share = _ratio(support, n)
        low, high = wilson_interval(support, n, z=self.z)
        lift = _ratio(share, population)
        keep = (support >= max(self.min_support, 1)) & (lift >= self.min_lift) & (low > population)
        keep &= lift > 1
        return [
            {
                "at": int(i),
                "lift": float(lift[i]),
                "share": float(share[i]),
                "population_share": float(population[i]),
                "support": int(support[i]),
                "n": int(n[i]),
                "ci_low": float(low[i]),
                "ci_high": float(high[i]),
            }
            for i in np.flatnonzero(keep)
        ]


def wilson_interval(
    successes: np.ndarray | float, n: np.ndarray | float, *, z: float = Z_95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion; (0, 1) where ``n`` is 0."""
    k = np.asarray(successes, dtype=np.float64)
    n = np.broadcast_to(np.asarray(n, dtype=np.float64), k.shape)
    p = _ratio(k, n)
    safe = np.where(n > 0, n, 1.0)
    denominator = 1 + z**2 / safe
    centre = (p + z**2 / (2 * safe)) / denominator
    half = z * np.sqrt(p * (1 - p) / safe + z**2 / (4 * safe**2)) / denominator
    low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), 0.0)
    high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), 1.0)
    return low, high


def _basis(clustered_blocks: Collection[str] | None) -> dict[str, str]:
    if clustered_blocks is None:
        return dict.fromkeys(TRAIT_BLOCKS, CLUSTERED)
    return {
        kind: CLUSTERED if set(blocks) & set(clustered_blocks) else OVER_REPRESENTED
        for kind, blocks in TRAIT_BLOCKS.items()
    }


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
    likes: np.ndarray,
    everyone: np.ndarray,
    item_genres: Sequence[Sequence[str]],
    rule: _Rule,
    basis: str,
) -> list[list[dict[str, Any]]]:
    names, genre_matrix = _indicator(item_genres)
    in_genre = likes @ genre_matrix  # segments x genres: liked ratings in the genre
    population = _ratio(everyone @ genre_matrix, everyone.sum())
    rows = []
    for s in range(len(likes)):
        n = np.full(len(names), likes[s].sum())
        found = [
            {"name": names[row.pop("at")], **row, "basis": basis}
            for row in rule.rows(in_genre[s], n, population)
        ]
        rows.append(sorted(found, key=lambda row: (-row["lift"], row["name"])))
    return rows


def _demographic_traits(
    onehot: sp.csr_matrix,
    sizes: np.ndarray,
    n: int,
    demographics: Mapping[str, Sequence[str]],
    rule: _Rule,
    basis: str,
) -> list[list[dict[str, Any]]]:
    rows: list[list[dict[str, Any]]] = [[] for _ in range(onehot.shape[0])]
    for field, values in demographics.items():
        names, member_matrix = _indicator([[v] if v not in (None, "") else [] for v in values])
        if not names:
            continue
        counts = np.asarray((onehot @ member_matrix).todense())
        population = _ratio(np.asarray(member_matrix.sum(axis=0)).ravel(), n)
        for s, row in enumerate(rows):
            row.extend(
                {"field": field, "value": names[found.pop("at")], **found, "basis": basis}
                for found in rule.rows(counts[s], np.full(len(names), sizes[s]), population)
            )
    return [sorted(row, key=lambda r: (-r["lift"], r["field"], r["value"])) for row in rows]


def _item_traits(
    likes: np.ndarray, everyone: np.ndarray, sizes: np.ndarray, n: int, rule: _Rule, basis: str
) -> list[list[dict[str, Any]]]:
    population = _ratio(everyone, n)
    rows = []
    for s in range(len(likes)):
        found = [
            {"index": row.pop("at"), **row, "basis": basis}
            for row in rule.rows(likes[s], np.full(likes.shape[1], sizes[s]), population)
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


def trait_name(row: Mapping[str, Any]) -> str:
    """How a genre or demographic row reads in a label: "Sci-Fi", "ages 25-34", "women"."""
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


def _headline(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The traits a label names: clustered, covering LABEL_MIN_SHARE of the segment."""

    def usable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in rows if r["basis"] == CLUSTERED and r["share"] >= LABEL_MIN_SHARE][:2]

    traits = usable(entry["genres"]) + usable(entry["demographics"])
    return [{"name": trait_name(row), "lift": row["lift"]} for row in traits]


def _label(entry: dict[str, Any]) -> str:
    if not entry["headline"]:
        return f"Segment {entry['segment']}"
    return " · ".join(f"{row['name']} x{row['lift']:.1f}" for row in entry["headline"])


def _description(entry: dict[str, Any]) -> str:
    text = f"Segment {entry['segment']} has {entry['size']} members ({entry['share']:.1%} of all)."
    traits = entry["genres"] + entry["demographics"]
    clustered = [r for r in traits if r["basis"] == CLUSTERED]
    only_over = [r for r in traits if r["basis"] == OVER_REPRESENTED]
    if entry["genres"] and entry["genres"][0]["basis"] == CLUSTERED:
        text += " Their liked ratings lean to " + _join(entry["genres"]) + "."
    clustered_people = [r for r in clustered if "field" in r]
    if clustered_people:
        text += " Over-represented among its members: " + _join(clustered_people) + "."
    if only_over:
        text += " Over-represented but not used to form segments: " + _join(only_over) + "."
    if not traits:
        text += " No genre or demographic stands out with enough support."
    return text


def _join(rows: list[dict[str, Any]]) -> str:
    parts = [
        f"{trait_name(r)} ({_percent(r['share'])} vs {_percent(r['population_share'])}, "
        f"x{r['lift']:.1f})"
        for r in rows
    ]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _percent(share: float) -> str:
    # one decimal below 10% so small shares do not all read "1% vs 1%"
    return f"{share:.1%}" if share < 0.1 else f"{share:.0%}"
