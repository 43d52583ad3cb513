"""A run's metrics shaped for display: quality figures, the k-sweep chart, evaluation tables.

Pure functions over the JSON a run stores, shared by the pages and the admin; templates only
lay out what these return. Metrics come from older runs too, so every key may be missing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from ml.segmentation.model_selection import STABLE_ARI

# Evaluation columns in reading order; a metric key "ndcg@10" matches the prefix "ndcg@".
METRIC_PREFIXES = (
    "ndcg@",
    "precision@",
    "recall@",
    "map@",
    "mrr@",
    "hit@",
    "coverage@",
    "diversity@",
    "novelty@",
)
CHART = {"width": 560, "height": 260, "left": 48, "right": 150, "top": 16, "bottom": 40}
SERIES = (("silhouette", "#2f6fba"), ("stability", "#d9822b"))
HELP = {
    "silhouette": "-1 to 1; higher means better separated segments",
    "stability": "agreement (ARI) of re-fits on resamples; 1 = always the same segments",
    "classifier": "how often members are placed right from demographics and first ratings",
}


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def display_number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def percent(fraction: float | None) -> str:
    return "-" if fraction is None else f"{fraction * 100:.1f}%"


def run_quality(metrics: dict[str, Any]) -> list[dict[str, str]]:
    """Silhouette, stability (mean ± std ARI) and classifier accuracy, those the run has."""
    rows = []
    silhouette = metrics.get("silhouette")
    if is_number(silhouette):
        rows.append(_quality("Silhouette", f"{silhouette:.3f}", HELP["silhouette"]))
    stability = metrics.get("stability_ari") or {}
    if is_number(stability.get("mean")):
        spread = f" ± {stability['std']:.3f}" if is_number(stability.get("std")) else ""
        value = f"{stability['mean']:.3f}{spread}"
        rows.append(_quality("Stability (ARI)", value, HELP["stability"]))
    accuracy = metrics.get("classifier_cv_accuracy")
    if is_number(accuracy):
        rows.append(_quality("Classifier CV accuracy", percent(accuracy), HELP["classifier"]))
    return rows


def _quality(name: str, value: str, help_text: str) -> dict[str, str]:
    return {"name": name, "value": value, "help": help_text}


def k_sweep_chart(metrics: dict[str, Any]) -> dict[str, Any] | None:
    """Geometry of an SVG line chart of silhouette and stability against k; None without a sweep."""
    sweep = [row for row in metrics.get("k_sweep") or [] if is_number(row.get("k"))]
    if not sweep:
        return None
    ks = [row["k"] for row in sweep]
    values = [row.get(name) for row in sweep for name, _ in SERIES]
    # Both scores are at most 1; the axis starts at 0, or lower on a quarter for negatives.
    low = math.floor(min([0.0, *(v for v in values if is_number(v))]) * 4) / 4
    x, y = _scale(min(ks), max(ks), "x"), _scale(low, 1.0, "y")
    chosen = metrics.get("n_segments")
    plot_bottom = CHART["height"] - CHART["bottom"]
    return {
        **CHART,
        "plot_right": CHART["width"] - CHART["right"],
        "plot_bottom": plot_bottom,
        "x_mid": round((CHART["left"] + CHART["width"] - CHART["right"]) / 2),
        "legend_x": CHART["width"] - CHART["right"] + 16,
        "series": [
            # The legend sits bottom right, clear of the "stable" mark near the top.
            {**_series(sweep, name, color, x, y), "legend_y": plot_bottom - 8 - 20 * i}
            for i, (name, color) in enumerate(SERIES)
        ],
        "x_ticks": [{"at": x(k), "label": k} for k in ks],
        "y_ticks": [{"at": y(v), "label": f"{v:g}"} for v in _y_tick_values(low)],
        "chosen": (
            {"at": x(chosen), "label": f"chosen k = {chosen}"}
            if chosen is not None and chosen in ks
            else None
        ),
        "stable": {"at": y(STABLE_ARI), "label": f"stable ≥ {STABLE_ARI:g}"},
    }


def _scale(low: float, high: float, axis: str) -> Callable[[float], float]:
    """Data value -> pixel along the plot area (y grows downwards in SVG)."""
    span = (high - low) or 1.0
    if axis == "x":
        start, length = CHART["left"], CHART["width"] - CHART["left"] - CHART["right"]
        return lambda v: round(start + (v - low) / span * length, 1)
    bottom = CHART["height"] - CHART["bottom"]
    length = bottom - CHART["top"]
    return lambda v: round(bottom - (v - low) / span * length, 1)


def _series(
    sweep: list[dict[str, Any]],
    name: str,
    color: str,
    x: Callable[[float], float],
    y: Callable[[float], float],
) -> dict[str, Any]:
    dots = [
        {"x": x(row["k"]), "y": y(row[name]), "title": f"k={row['k']}: {name} {row[name]:.3f}"}
        for row in sweep
        if is_number(row.get(name))
    ]
    return {
        "name": name,
        "color": color,
        "points": " ".join(f"{d['x']},{d['y']}" for d in dots),
        "dots": dots,
    }


def _y_tick_values(low: float) -> list[float]:
    return [low + i * 0.25 for i in range(int(round((1.0 - low) * 4)) + 1)]


def evaluation_tables(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """One table per evaluated split: models as rows, metrics as columns, groups below."""
    evaluation = metrics.get("evaluation")
    if not isinstance(evaluation, dict):
        return []
    tables = []
    for split, result in evaluation.items():
        models = result.get("models") if isinstance(result, dict) else None
        if isinstance(models, dict) and models:
            tables.append(_evaluation_table(split, result, models))
    return tables


def _evaluation_table(split: str, result: dict[str, Any], models: dict[str, Any]) -> dict[str, Any]:
    columns = _metric_columns(models.values())
    groups: dict[str, dict[str, Any]] = {}
    for name, scores in models.items():
        for group, group_scores in (scores.get("groups") or {}).items():
            groups.setdefault(group, {})[name] = group_scores
    return {
        "split": split,
        "facts": {key: result[key] for key in ("k", "members", "segments") if key in result},
        "columns": columns,
        "rows": _metric_rows(models, columns),
        "groups": [
            {"name": group, "rows": _metric_rows(by_model, columns)}
            for group, by_model in groups.items()
        ],
    }


def _metric_columns(scores: Iterable[dict[str, Any]]) -> list[str]:
    keys = {key for row in scores for key in row}
    return [key for prefix in METRIC_PREFIXES for key in sorted(keys) if key.startswith(prefix)]


def _metric_rows(models: dict[str, Any], columns: list[str]) -> list[dict[str, Any]]:
    """Formatted cells; the best model in each column is flagged (every metric: higher is better)."""
    best = {
        column: max((s[column] for s in models.values() if is_number(s.get(column))), default=None)
        for column in columns
    }
    return [
        {
            "model": name,
            "members": scores.get("members", ""),
            "cells": [
                {
                    "value": _cell(scores.get(c)),
                    "best": best[c] is not None and scores.get(c) == best[c],
                }
                for c in columns
            ],
        }
        for name, scores in models.items()
    ]


def _cell(value: Any) -> str:
    return f"{value:.4f}" if is_number(value) else "-"


def migration_table(comparison: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the migration matrix with each cell's share of its row, for shading."""
    table = []
    for segment, counts in zip(comparison["rows"], comparison["matrix"], strict=True):
        total = sum(counts) or 1
        # Shade at most 60% opaque so the count stays readable on the darkest cell.
        cells = [
            {"count": n, "share": n / total, "shade": round(0.6 * n / total, 3)} for n in counts
        ]
        table.append({"segment": segment, "total": sum(counts), "cells": cells})
    return table
