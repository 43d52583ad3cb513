"""The admin's "Run a segmentation" form; RunParams stays the one place that checks ranges."""

from __future__ import annotations

from typing import Any

from django import forms

from segments.params import (
    ALGORITHMS,
    FEATURE_BLOCKS,
    RECOMMENDERS,
    InvalidParams,
    RunParams,
)
from segments.services.audiences import AudienceError, AudienceQuery

_DEFAULTS = RunParams()
WEIGHT_PREFIX = "weight_"


class RunParamsForm(forms.Form):
    k = forms.CharField(
        initial=_DEFAULTS.k, max_length=8, help_text="Number of segments, or 'auto'."
    )
    algorithm = forms.ChoiceField(
        choices=[(name, name) for name in ALGORITHMS], initial=_DEFAULTS.algorithm
    )
    recommender = forms.ChoiceField(
        choices=[(name, name) for name in RECOMMENDERS], initial=_DEFAULTS.recommender
    )
    top_k = forms.IntegerField(initial=_DEFAULTS.top_k, help_text="Recommendations per member.")
    seed = forms.IntegerField(initial=_DEFAULTS.seed)
    min_ratings = forms.IntegerField(
        initial=_DEFAULTS.min_ratings,
        help_text="Members with fewer ratings are classified into a segment, not clustered.",
    )
    k_min = forms.IntegerField(initial=_DEFAULTS.k_min, help_text="Smallest k tried by 'auto'.")
    k_max = forms.IntegerField(initial=_DEFAULTS.k_max, help_text="Largest k tried by 'auto'.")
    serve = forms.ChoiceField(
        choices=[
            ("auto", "auto: if not worse than the served run on validation, else wait for review"),
            ("always", "always: serve it as soon as it succeeds"),
            ("review", "review: wait for Promote"),
        ],
        initial=_DEFAULTS.serve,
        required=False,
        help_text="What happens when the run succeeds.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for block in FEATURE_BLOCKS:
            self.fields[WEIGHT_PREFIX + block] = forms.FloatField(
                label=f"Weight of {block} features",
                initial=_DEFAULTS.feature_weights.get(block, 1.0),
            )

    def clean_k(self) -> int | str:
        value = self.cleaned_data["k"].strip().lower()
        if value == "auto":
            return value
        try:
            return int(value)
        except ValueError:
            raise forms.ValidationError("k: enter a whole number or 'auto'.") from None

    def clean_serve(self) -> str:
        return str(self.cleaned_data.get("serve") or _DEFAULTS.serve)

    def to_params(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        weights = {block: data.pop(WEIGHT_PREFIX + block) for block in FEATURE_BLOCKS}
        return {**data, "feature_weights": weights}

    def add_params_error(self, exc: InvalidParams) -> None:
        """Attach the service's message to the field it names ("top_k: ..." -> top_k)."""
        name = str(exc).split(":", 1)[0].strip()
        if name == "feature_weights":  # about the weights together: shown on each
            for block in FEATURE_BLOCKS:
                self.add_error(WEIGHT_PREFIX + block, str(exc))
            return
        if name.startswith("feature_weights."):
            name = WEIGHT_PREFIX + name.removeprefix("feature_weights.")
        self.add_error(name if name in self.fields else None, str(exc))


class AudienceForm(forms.Form):
    """Which items an audience is for: an item id, and/or filters that all must hold."""

    item = forms.CharField(required=False, max_length=64, help_text="An item id.")
    genre = forms.CharField(required=False, max_length=64)
    year_from = forms.IntegerField(required=False, min_value=1, max_value=9999)
    year_to = forms.IntegerField(required=False, min_value=1, max_value=9999)
    text = forms.CharField(
        required=False, max_length=200, help_text="Words in the title or description."
    )
    size = forms.IntegerField(initial=100, min_value=1, max_value=10_000, required=False)

    def to_query(self) -> AudienceQuery:
        data = self.cleaned_data
        return AudienceQuery(
            item=data["item"].strip(),
            genre=data["genre"].strip(),
            year_from=data["year_from"],
            year_to=data["year_to"],
            text=data["text"].strip(),
            size=data["size"] or 100,
        )

    def add_query_error(self, exc: AudienceError) -> None:
        name = str(exc).split(":", 1)[0].strip()
        self.add_error(name if name in self.fields else None, str(exc))
