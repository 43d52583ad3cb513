"""The parameters of a segmentation run: one place that validates them for admin, API and CLI."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ml.recommenders.tuning import RECOMMENDERS
from ml.segmentation.clustering import ALGORITHMS
from ml.segmentation.features import DEFAULT_FEATURE_WEIGHTS, FEATURE_BLOCKS
from ml.segmentation.recipe import SegmentationRecipe

# Names and defaults live with the code that uses them; these are re-exported for the forms.
__all__ = ["ALGORITHMS", "FEATURE_BLOCKS", "RECOMMENDERS", "InvalidParams", "RunParams"]
_RECIPE = SegmentationRecipe()


class InvalidParams(ValueError):
    """A run parameter has a wrong value; the message names the field."""


@dataclass(frozen=True)
class RunParams:
    """A run's parameters; the segmentation defaults are :class:`SegmentationRecipe`'s."""

    k: int | str = _RECIPE.k
    algorithm: str = _RECIPE.algorithm
    top_k: int = 20
    seed: int = _RECIPE.seed
    recommender: str = "blend"
    min_ratings: int = _RECIPE.min_ratings
    feature_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_FEATURE_WEIGHTS))
    k_min: int = _RECIPE.k_range[0]
    k_max: int = _RECIPE.k_range[1]

    def recipe(self, *, k: int | str | None = None) -> SegmentationRecipe:
        """The segmentation these parameters ask for (``k`` overrides theirs)."""
        return SegmentationRecipe(
            k=self.k if k is None else k,
            algorithm=self.algorithm,
            feature_weights=dict(self.feature_weights),
            min_ratings=self.min_ratings,
            seed=self.seed,
            k_range=(self.k_min, self.k_max),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> RunParams:
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidParams(f"unknown parameter(s): {', '.join(unknown)}")
        if isinstance(data.get("feature_weights"), dict):
            # Blocks a caller leaves out keep their default weight.
            data["feature_weights"] = {**DEFAULT_FEATURE_WEIGHTS, **data["feature_weights"]}
        params = cls(**{key: value for key, value in data.items() if value is not None})
        params.validate()
        return params

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def validate(self) -> None:
        if self.k != "auto" and not (
            isinstance(self.k, int) and not isinstance(self.k, bool) and 1 <= self.k <= 1000
        ):
            raise InvalidParams(f"k: expected 'auto' or an integer from 1 to 1000, got {self.k!r}")
        if self.algorithm not in ALGORITHMS:
            raise InvalidParams(
                f"algorithm: expected one of {', '.join(ALGORITHMS)}, got {self.algorithm!r}"
            )
        if self.recommender not in RECOMMENDERS:
            raise InvalidParams(
                f"recommender: expected one of {', '.join(RECOMMENDERS)}, got {self.recommender!r}"
            )
        _check_int("top_k", self.top_k, 1, 500)
        _check_int("seed", self.seed, 0, 2**31 - 1)
        _check_int("min_ratings", self.min_ratings, 0, 10_000)
        _check_int("k_min", self.k_min, 2, 1000)
        _check_int("k_max", self.k_max, self.k_min, 1000)
        if not isinstance(self.feature_weights, dict):
            raise InvalidParams(
                f"feature_weights: expected an object of block -> weight, got {self.feature_weights!r}"
            )
        for name, weight in self.feature_weights.items():
            if name not in FEATURE_BLOCKS:
                raise InvalidParams(f"feature_weights: unknown block {name!r}")
            if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
                raise InvalidParams(
                    f"feature_weights.{name}: expected a number >= 0, got {weight!r}"
                )


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidParams(f"{name}: expected an integer from {low} to {high}, got {value!r}")
