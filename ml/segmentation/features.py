"""Member feature blocks: rating-weighted history embeddings, latent factors, demographics,
and a fuser that puts blocks of different widths on one scale."""

from __future__ import annotations

# scikit-learn is imported inside the functions that use it: the admin, pages and API import
# this module for its names, and starting Django must stay fast.
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

SECONDS_PER_DAY = 86_400.0
FEATURE_BLOCKS = ("history", "profile", "behaviour", "demographics")
# Chosen for stable segments on ML-100K (k=8 stability 0.80 against 0.42 with all blocks at
# weight 1 or 0.5): taste factors lead, liked-item text and the profile sentence refine, and
# demographics enter through the profile text; explanations still report their lifts.
DEFAULT_FEATURE_WEIGHTS = {"history": 0.5, "profile": 0.25, "behaviour": 1.0, "demographics": 0.0}
# A member whose ratings are all equal still likes what they rated; this weight keeps their
# row non-zero (its size is irrelevant once history embeddings are L2-normalised).
FLAT_MEMBER_WEIGHT = 0.1


def rating_weights(
    users: np.ndarray,
    items: np.ndarray,
    values: np.ndarray,
    timestamps: np.ndarray | None,
    n_users: int,
    n_items: int,
    *,
    centred: bool = True,
    half_life_days: float | None = 365.0,
) -> sp.csr_matrix:
    """How much each rating says about a member's taste, as a (n_users, n_items) CSR matrix.

    With ``centred`` a rating weighs ``value - member's mean``: liked items pull, disliked ones
    push; a member whose ratings are all equal gets ``FLAT_MEMBER_WEIGHT`` on each. Weights are
    multiplied by ``0.5 ** (age / half_life)``, age being the time from the rating to the
    member's latest rating, so recent taste counts more (``half_life_days=None``: no decay).
    Repeated (user, item) pairs are summed.
    """
    users, items = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    _check_ratings(users, items, values, n_users, n_items)
    weights = _centred(users, values, n_users) if centred else values.copy()
    if half_life_days is not None:
        if not half_life_days > 0:
            raise ValueError(f"half_life_days: expected a positive number, got {half_life_days!r}")
        if timestamps is None:
            raise ValueError("timestamps: required when half_life_days is set")
        weights *= _decay(users, np.asarray(timestamps, dtype=np.float64), n_users, half_life_days)
    matrix = sp.coo_matrix((weights, (users, items)), shape=(n_users, n_items))
    return matrix.tocsr()


def history_embeddings(weights: sp.spmatrix, item_embeddings: np.ndarray) -> np.ndarray:
    """``weights @ item_embeddings`` with rows L2-normalised; members with no weight stay 0."""
    item_embeddings = np.asarray(item_embeddings, dtype=np.float32)
    if weights.shape[1] != item_embeddings.shape[0]:
        raise ValueError(
            f"item_embeddings: expected {weights.shape[1]} rows (one per item column of "
            f"weights), got {item_embeddings.shape[0]}"
        )
    profile = np.asarray(sp.csr_matrix(weights, dtype=np.float32) @ item_embeddings)
    return _normalise_rows(profile)


def behaviour_factors(
    ratings: sp.spmatrix,
    n_components: int = 32,
    random_state: int | None = 0,
    *,
    normalise: bool = True,
) -> np.ndarray:
    """Latent taste factors from a truncated SVD of the member x item matrix.

    ``n_components`` is clipped to ``min(ratings.shape) - 1`` (at least 1) so small matrices
    work; the result has shape (n_members, clipped n_components), float32. With ``normalise``
    rows are scaled to unit length so the direction of a member's taste, not how much they
    rated, places them: on ML-100K a member with 636 ratings sat 8 times farther out than the
    median and k-means gave him a segment of his own.
    """
    from sklearn.decomposition import TruncatedSVD

    if not isinstance(n_components, int) or n_components < 1:
        raise ValueError(f"n_components: expected a positive integer, got {n_components!r}")
    n_eff = max(1, min(n_components, min(ratings.shape) - 1))
    svd = TruncatedSVD(n_components=n_eff, random_state=random_state)
    factors = svd.fit_transform(sp.csr_matrix(ratings, dtype=np.float64)).astype(np.float32)
    return _normalise_rows(factors) if normalise else factors


def _check_ratings(
    users: np.ndarray, items: np.ndarray, values: np.ndarray, n_users: int, n_items: int
) -> None:
    if not len(users) == len(items) == len(values):
        raise ValueError(
            f"users, items, values: expected equal lengths, got {len(users)}, {len(items)}, "
            f"{len(values)}"
        )
    if len(users) and (users.min() < 0 or users.max() >= n_users):
        raise ValueError(
            f"users: expected indices in [0, {n_users}), got {users.min()}..{users.max()}"
        )
    if len(items) and (items.min() < 0 or items.max() >= n_items):
        raise ValueError(
            f"items: expected indices in [0, {n_items}), got {items.min()}..{items.max()}"
        )


def _centred(users: np.ndarray, values: np.ndarray, n_users: int) -> np.ndarray:
    counts = np.bincount(users, minlength=n_users)
    means = np.bincount(users, weights=values, minlength=n_users) / np.maximum(counts, 1)
    deviations = values - means[users]
    spread = np.bincount(users, weights=np.abs(deviations), minlength=n_users)
    flat = spread[users] <= 1e-9 * counts[users]
    return np.where(flat, FLAT_MEMBER_WEIGHT, deviations)


def _decay(
    users: np.ndarray, timestamps: np.ndarray, n_users: int, half_life_days: float
) -> np.ndarray:
    if len(timestamps) != len(users):
        raise ValueError(f"timestamps: expected {len(users)} values, got {len(timestamps)}")
    latest = np.full(n_users, -np.inf)
    np.maximum.at(latest, users, timestamps)
    age_days = (latest[users] - timestamps) / SECONDS_PER_DAY
    return 0.5 ** (age_days / half_life_days)


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


class DemographicEncoder:
    """One-hot age bucket, standardised age, one-hot gender and one-hot occupation.

    Parameters
    ----------
    age_bins : sequence of int
        Increasing lower edges of the age buckets after "under <first>"; the default gives
        under 18, 18-24, 25-34, 35-44, 45-55, 56+ (MovieLens's own buckets).

    Attributes
    ----------
    genders_, occupations_ : list of str
        Categories seen in fit, sorted; unknown ones ('' or new) encode as all zeros.
    age_mean_, age_std_ : float
        Used to standardise age; a missing age encodes as 0 (the mean).
    feature_names_ : list of str
        One name per output column.
    """

    def __init__(self, age_bins: Sequence[int] = (18, 25, 35, 45, 56)) -> None:
        self.age_bins = age_bins

    def fit(self, records: dict[str, Sequence]) -> DemographicEncoder:
        bins = np.asarray(self.age_bins, dtype=np.float64)
        if bins.ndim != 1 or len(bins) == 0 or np.any(np.diff(bins) <= 0):
            raise ValueError(f"age_bins: expected increasing numbers, got {self.age_bins!r}")
        ages, genders, occupations = _columns(records)
        known = ages[~np.isnan(ages)]
        self.age_mean_ = float(known.mean()) if len(known) else 0.0
        self.age_std_ = float(known.std()) if len(known) and known.std() > 0 else 1.0
        self.genders_ = sorted({g for g in genders if g})
        self.occupations_ = sorted({o for o in occupations if o})
        buckets = [f"age={self.age_bucket_label(edge)}" for edge in [bins[0] - 1, *bins]]
        self.feature_names_ = [
            *buckets,
            "age_scaled",
            *(f"gender={g}" for g in self.genders_),
            *(f"occupation={o}" for o in self.occupations_),
        ]
        return self

    def transform(self, records: dict[str, Sequence]) -> np.ndarray:
        if not hasattr(self, "feature_names_"):
            raise RuntimeError("DemographicEncoder: call fit before transform")
        ages, genders, occupations = _columns(records)
        known = ~np.isnan(ages)
        bucket = np.zeros((len(ages), len(self.age_bins) + 1), dtype=np.float32)
        rows = np.flatnonzero(known)
        bucket[rows, np.searchsorted(self.age_bins, ages[known], side="right")] = 1.0
        scaled = np.where(known, (ages - self.age_mean_) / self.age_std_, 0.0)[:, None]
        blocks = [
            bucket,
            scaled,
            _one_hot(genders, self.genders_),
            _one_hot(occupations, self.occupations_),
        ]
        return np.hstack(blocks).astype(np.float32)

    def fit_transform(self, records: dict[str, Sequence]) -> np.ndarray:
        return self.fit(records).transform(records)

    def age_bucket_label(self, age: float | None) -> str:
        """The bucket of ``age`` as text: "under 18", "18-24", "56+"; "unknown" when missing."""
        if age is None or age != age:
            return "unknown"
        edges = list(self.age_bins)
        index = int(np.searchsorted(edges, age, side="right"))
        if index == 0:
            return f"under {edges[0]}"
        if index == len(edges):
            return f"{edges[-1]}+"
        return f"{edges[index - 1]}-{edges[index] - 1}"


def _columns(records: dict[str, Sequence]) -> tuple[np.ndarray, list[str], list[str]]:
    missing = [key for key in ("age", "gender", "occupation") if key not in records]
    if missing:
        raise ValueError(f"records: missing key(s) {', '.join(missing)}")
    ages = np.array([np.nan if a is None else float(a) for a in records["age"]], dtype=np.float64)
    genders = [str(g or "") for g in records["gender"]]
    occupations = [str(o or "") for o in records["occupation"]]
    if not len(ages) == len(genders) == len(occupations):
        raise ValueError("records: age, gender and occupation must have the same length")
    return ages, genders, occupations


def _one_hot(values: list[str], categories: list[str]) -> np.ndarray:
    index = {category: i for i, category in enumerate(categories)}
    out = np.zeros((len(values), len(categories)), dtype=np.float32)
    codes = np.array([index.get(value, -1) for value in values], dtype=np.int64)
    rows = np.flatnonzero(codes >= 0)
    out[rows, codes[rows]] = 1.0
    return out


def first_item_embeddings(
    users: np.ndarray,
    items: np.ndarray,
    timestamps: np.ndarray,
    n_users: int,
    item_embeddings: np.ndarray,
    n_first: int = 5,
) -> np.ndarray:
    """Mean embedding of each member's first ``n_first`` rated items (by time; ties by order).

    Returns float32 (n_users, dim); members with no ratings get a row of zeros. This is what a
    new member has after a few ratings, so it feeds :func:`classifier.cheap_features`.
    """
    picks = first_item_picks(users, items, timestamps, n_users, len(item_embeddings), n_first)
    return np.asarray(picks @ np.asarray(item_embeddings, dtype=np.float64), dtype=np.float32)


def first_item_picks(
    users: np.ndarray,
    items: np.ndarray,
    timestamps: np.ndarray,
    n_users: int,
    n_items: int,
    n_first: int = 5,
) -> sp.csr_matrix:
    """(n_users, n_items) weights averaging each member's first ``n_first`` items: times the
    item embeddings, :func:`first_item_embeddings` of any rows, without the dense matrix of
    every member (1.5 GB at a million members)."""
    users, items = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
    if n_first < 1:
        raise ValueError(f"n_first: expected a positive integer, got {n_first!r}")
    _check_ratings(users, items, np.zeros(len(users)), n_users, n_items)
    order = np.lexsort((np.arange(len(users)), np.asarray(timestamps, dtype=np.float64), users))
    sorted_users = users[order]
    starts = np.searchsorted(sorted_users, sorted_users, side="left")
    keep = order[np.arange(len(order)) - starts < n_first]
    counts = np.bincount(users[keep], minlength=n_users)
    weights = 1.0 / counts[users[keep]]
    return sp.csr_matrix((weights, (users[keep], items[keep])), shape=(n_users, n_items))


class BlockFuser:
    """Concatenate feature blocks so each block's share is set by its weight, not its width.

    Each block's columns are standardised (mean and standard deviation learned in ``fit``;
    columns constant in fit always encode as 0), then multiplied by ``weight / sqrt(c)``, ``c`` being
    the block's number of non-constant columns. A block's total variance is then ``weight**2``
    and its share of the fused variance ``weight**2 / sum(weights**2)``.

    Parameters
    ----------
    weights : dict of str to float, optional
        Weight per block name; blocks not named weigh 1.0 and weight 0 drops a block.

    Attributes
    ----------
    blocks_ : list of str
        Blocks kept (weight > 0), in the order their columns appear in the output.
    recipe_ : dict
        ``{block: {"columns": int, "weight": float}}`` for every block seen in fit (dropped
        ones with weight 0.0): a JSON-able record of how features were made.
    """

    def __init__(self, weights: dict[str, float] | None = None) -> None:
        self.weights = weights

    def fit(self, blocks: dict[str, np.ndarray], rows: np.ndarray | None = None) -> BlockFuser:
        """Learn each block's scaling from its rows ``rows`` (all rows by default; an index
        array, so that fitting on most members of a million makes no copy of the blocks)."""
        arrays = _check_blocks(blocks)
        weights = dict(self.weights or {})
        for name, weight in weights.items():
            if not isinstance(weight, int | float) or not weight >= 0:
                raise ValueError(f"weights[{name!r}]: expected a number >= 0, got {weight!r}")
        self.recipe_ = {
            name: {"columns": int(a.shape[1]), "weight": float(weights.get(name, 1.0))}
            for name, a in arrays.items()
        }
        self.blocks_ = [name for name, entry in self.recipe_.items() if entry["weight"] > 0]
        if not self.blocks_:
            raise ValueError("weights: every block has weight 0; nothing to fuse")
        self.mean_, self.scale_ = {}, {}
        for name in self.blocks_:
            self.mean_[name], self.scale_[name] = _block_scaling(
                arrays[name], self.recipe_[name]["weight"], rows
            )
        return self

    def transform(
        self, blocks: dict[str, np.ndarray], rows: np.ndarray | None = None
    ) -> np.ndarray:
        """The fused rows ``rows`` of ``blocks`` (all rows by default), float32."""
        if not hasattr(self, "blocks_"):
            raise RuntimeError("BlockFuser: call fit before transform")
        arrays = _check_blocks({name: blocks[name] for name in self.blocks_ if name in blocks})
        missing = [name for name in self.blocks_ if name not in arrays]
        if missing:
            raise ValueError(f"blocks: missing block(s) {', '.join(missing)} seen in fit")
        n_rows = len(arrays[self.blocks_[0]]) if rows is None else len(rows)
        widths = [int(self.recipe_[name]["columns"]) for name in self.blocks_]
        for name, width in zip(self.blocks_, widths, strict=True):
            if arrays[name].shape[1] != width:
                raise ValueError(
                    f"blocks[{name!r}]: expected {width} columns, got {arrays[name].shape[1]}"
                )
        out = np.empty((n_rows, sum(widths)), dtype=np.float32)
        start = 0
        for name, width in zip(self.blocks_, widths, strict=True):
            mean, scale = self.mean_[name], self.scale_[name]
            # In row chunks straight into the output: a million members x 776 columns in
            # float64, with its temporaries, ran a 24 GB machine out of memory.
            for target, source in _row_chunks(n_rows, rows):
                out[target, start : start + width] = (arrays[name][source] - mean) * scale
            start += width
        return out

    def fit_transform(self, blocks: dict[str, np.ndarray]) -> np.ndarray:
        return self.fit(blocks).transform(blocks)


def _check_blocks(blocks: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    if not blocks:
        raise ValueError("blocks: expected at least one block")
    # Float blocks keep their precision (a million float32 embeddings are 1.5 GB, twice that
    # as float64); integers and booleans become float64.
    arrays = {name: _floating(block) for name, block in blocks.items()}
    rows = {a.shape[0] for a in arrays.values() if a.ndim == 2}
    for name, a in arrays.items():
        if a.ndim != 2:
            raise ValueError(f"blocks[{name!r}]: expected a 2-D array, got {a.ndim}-D")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"blocks[{name!r}]: contains NaN or infinity")
    if len(rows) > 1:
        raise ValueError(
            f"blocks: expected the same number of rows in every block, got {sorted(rows)}"
        )
    return arrays


ROW_CHUNK = 65_536


def _row_chunks(
    n_rows: int, rows: np.ndarray | None = None
) -> list[tuple[slice, slice | np.ndarray]]:
    """(output rows, source rows) per chunk: the same slice, or a slice of ``rows``."""
    chunks = [slice(start, start + ROW_CHUNK) for start in range(0, max(n_rows, 1), ROW_CHUNK)]
    return [(chunk, chunk if rows is None else rows[chunk]) for chunk in chunks]


def _floating(block: np.ndarray) -> np.ndarray:
    block = np.asarray(block)
    return block if np.issubdtype(block.dtype, np.floating) else block.astype(np.float64)


def _block_scaling(
    block: np.ndarray, weight: float, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per column of the rows ``rows``: the mean and ``weight / sqrt(c) / std`` (0 for
    constant columns), both accumulated in float64 over row chunks, so no float64 copy of
    the block is made."""
    n_rows = len(block) if rows is None else len(rows)
    n = max(n_rows, 1)
    total = np.zeros(block.shape[1])
    for _, source in _row_chunks(n_rows, rows):
        total += block[source].sum(axis=0, dtype=np.float64)
    mean = total / n
    squares = np.zeros(block.shape[1])
    for _, source in _row_chunks(n_rows, rows):
        squares += ((block[source] - mean) ** 2).sum(axis=0)
    std = np.sqrt(squares / n)
    varying = std > 1e-12
    scale = np.where(varying, 1.0 / np.where(varying, std, 1.0), 0.0)
    return mean, scale * weight / np.sqrt(max(int(varying.sum()), 1))
