"""The parameters of a segmentation run: one place that validates them for admin, API and CLI."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ml.recommenders.tuning import RECOMMENDERS
from ml.segmentation.clustering import ALGORITHMS
from ml.segmentation.features import DEFAULT_FEATURE_WEIGHTS, FEATURE_BLOCKS
from ml.segmentation.recipe import SegmentationRecipe

# Names and defaults live with the code that uses them; these are re-exported for the forms.
__all__ = [
    "ALGORITHMS",
    "FEATURE_BLOCKS",
    "PARAM_RANGES",
    "RECOMMENDERS",
    "SERVE_CHOICES",
    "InvalidParams",
    "RunParams",
]
_RECIPE = SegmentationRecipe()
# Inclusive bounds of the integer parameters (k also takes "auto"); the API schema reads them.
PARAM_RANGES = {
    "k": (2, 1000),
    "top_k": (1, 500),
    "seed": (0, 2**31 - 1),
    "min_ratings": (0, 10_000),
    "k_min": (2, 1000),
    "k_max": (2, 1000),
}
# When a succeeded run is served: "auto" if it is not worse than the active run on its own
# validation metrics (segments.services.serving), "always", or "review" (waits for Promote).
SERVE_CHOICES = ("auto", "always", "review")


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
    serve: str = "auto"

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
        low, high = PARAM_RANGES["k"]
        if self.k != "auto" and not (
            isinstance(self.k, int) and not isinstance(self.k, bool) and low <= self.k <= high
        ):
            raise InvalidParams(
                f"k: expected 'auto' or an integer from {low} to {high} (one segment is no "
                f"segmentation), got {self.k!r}"
            )
        if self.algorithm not in ALGORITHMS:
            raise InvalidParams(
                f"algorithm: expected one of {', '.join(ALGORITHMS)}, got {self.algorithm!r}"
            )
        if self.recommender not in RECOMMENDERS:
            raise InvalidParams(
                f"recommender: expected one of {', '.join(RECOMMENDERS)}, got {self.recommender!r}"
            )
        if self.serve not in SERVE_CHOICES:
            raise InvalidParams(
                f"serve: expected one of {', '.join(SERVE_CHOICES)}, got {self.serve!r}"
            )
        for name in ("top_k", "seed", "min_ratings", "k_min", "k_max"):
            _check_int(name, getattr(self, name), *PARAM_RANGES[name])
        if self.k_max < self.k_min:
            raise InvalidParams(f"k_max: must be at least k_min ({self.k_min}), got {self.k_max}")
        self._validate_weights()

    def _validate_weights(self) -> None:
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
        if not any(weight > 0 for weight in self.feature_weights.values()):
            raise InvalidParams(
                "feature_weights: every block has weight 0, so there is nothing to cluster "
                "on; give at least one block a weight above 0"
            )


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidParams(f"{name}: expected an integer from {low} to {high}, got {value!r}")
