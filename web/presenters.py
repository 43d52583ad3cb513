"""A run's metrics shaped for display: quality figures, the k-sweep chart, evaluation tables.

Pure functions over the JSON a run stores, shared by the pages and the admin; templates only
lay out what these return. Metrics come from older runs too, so every key may be missing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, TypeGuard

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
HELP = {
    "silhouette": "-1 to 1; higher means better separated segments",
    "stability": "agreement (ARI) of re-fits on resamples; 1 = always the same segments",
    "classifier": "how often members are placed right from demographics and first ratings",
}
# Below these a page warns. Silhouette: Kaufman & Rousseeuw's rule of thumb, under 0.25 "no
# substantial structure"; stability: the ARI model selection calls stable; classifier: a
# member with few ratings is placed wrong more often than right.
WEAK_SILHOUETTE = 0.25
WEAK_CLASSIFIER_ACCURACY = 0.5
THRESHOLDS = {
    "silhouette": WEAK_SILHOUETTE,
    "stability": STABLE_ARI,
    "classifier": WEAK_CLASSIFIER_ACCURACY,
}
WARNINGS = {
    "silhouette": (
        "Silhouette {value:.3f} is below 0.25: the segments overlap, and members near a "
        "border could as well belong to the neighbouring segment."
    ),
    "stability": (
        "Stability {value:.3f} is below 0.8: re-fits on resamples of the members disagree on "
        "who belongs where, so treat segment borders as soft."
    ),
    "classifier": (
        "Classifier accuracy {value:.0%} is below 50%: members with few ratings (classified, "
        "not clustered) are often placed in the wrong segment."
    ),
}
CONFIDENCE_HELP = (
    "Confidence says how clearly a member belongs to their segment, from 0 to 1. For a "
    "clustered member it is 1 − (distance to their segment's centre ÷ distance to the next "
    "nearest centre): near 0 the member sits on the border between two segments, near 1 "
    "close to their own centre (gmm: the posterior probability; hdbscan: the membership "
    "probability). For a member placed by the classifier it is the classifier's "
    "probability for that segment."
)
SWEEP_CAPTIONS = {
    "full": (
        "k was chosen automatically: each k was fitted on all members; the chosen k (large "
        "dots) is the best-separated (silhouette) among the stable ones (stability ≥ 0.8)."
    ),
    "light": (
        "k was fixed, so this is a light sweep: a few ks around it, fitted on a sample of at "
        "most 500 members with two re-fits each for stability; a check, not the choice."
    ),
}
BORDERLINE_CONFIDENCE = 0.1
CLEAR_CONFIDENCE = 0.3
SEGMENT_COLOURS = (
    "#2f6fba",
    "#d9822b",
    "#3a9e5c",
    "#c23b5a",
    "#7d5ba6",
    "#8c6d3f",
    "#d46fb0",
    "#6b7785",
    "#a8a832",
    "#2bb0c2",
)


def is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def display_number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def percent(fraction: float | None) -> str:
    return "-" if fraction is None else f"{fraction * 100:.1f}%"


def run_quality(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Silhouette, stability (mean ± std ARI) and classifier accuracy, those the run has;
    each with its meaning and whether it is below its threshold (``weak``)."""
    rows = []
    silhouette = metrics.get("silhouette")
    if is_number(silhouette):
        weak = silhouette < WEAK_SILHOUETTE
        rows.append(_quality("Silhouette", f"{silhouette:.3f}", HELP["silhouette"], weak))
    stability = metrics.get("stability_ari") or {}
    if is_number(stability.get("mean")):
        spread = f" ± {stability['std']:.3f}" if is_number(stability.get("std")) else ""
        value = f"{stability['mean']:.3f}{spread}"
        weak = stability["mean"] < STABLE_ARI
        rows.append(_quality("Stability (ARI)", value, HELP["stability"], weak))
    accuracy = metrics.get("classifier_cv_accuracy")
    if is_number(accuracy):
        weak = accuracy < WEAK_CLASSIFIER_ACCURACY
        rows.append(_quality("Classifier CV accuracy", percent(accuracy), HELP["classifier"], weak))
    return rows


def _quality(name: str, value: str, help_text: str, weak: bool) -> dict[str, Any]:
    return {"name": name, "value": value, "help": help_text, "weak": weak}


def quality_warnings(metrics: dict[str, Any]) -> list[str]:
    """One sentence per quality figure below its threshold (see THRESHOLDS)."""
    warnings = []
    silhouette = metrics.get("silhouette")
    if is_number(silhouette) and silhouette < WEAK_SILHOUETTE:
        warnings.append(WARNINGS["silhouette"].format(value=silhouette))
    stability = (metrics.get("stability_ari") or {}).get("mean")
    if is_number(stability) and stability < STABLE_ARI:
        warnings.append(WARNINGS["stability"].format(value=stability))
    accuracy = metrics.get("classifier_cv_accuracy")
    if is_number(accuracy) and accuracy < WEAK_CLASSIFIER_ACCURACY:
        warnings.append(WARNINGS["classifier"].format(value=accuracy))
    return warnings


def confidence_words(confidence: float | None) -> str:
    """A membership's confidence in words (see CONFIDENCE_HELP)."""
    if not is_number(confidence):
        return "unknown"
    if confidence < BORDERLINE_CONFIDENCE:
        return "on the border with another segment"
    return "leaning to this segment" if confidence < CLEAR_CONFIDENCE else "clearly in this segment"


def colour(number: int) -> str:
    return SEGMENT_COLOURS[number % len(SEGMENT_COLOURS)]


def k_sweep_chart(metrics: dict[str, Any]) -> dict[str, Any] | None:
    """Silhouette and stability against k for a line chart; None without a sweep.

    ``kind`` is "full" (k auto: every k fitted on all members) or "light" (k fixed: a few
    ks around it on a sample); ``chosen`` is the run's k.
    """
    sweep = [row for row in metrics.get("k_sweep") or [] if is_number(row.get("k"))]
    if not sweep:
        return None
    kind = metrics.get("k_sweep_kind") or "full"
    return {
        "k": [row["k"] for row in sweep],
        "silhouette": [_or_none(row.get("silhouette")) for row in sweep],
        "stability": [_or_none(row.get("stability")) for row in sweep],
        "chosen": metrics.get("n_segments"),
        "stable": STABLE_ARI,
        "kind": kind,
        "caption": SWEEP_CAPTIONS.get(kind, SWEEP_CAPTIONS["full"]),
    }


def _or_none(value: Any) -> float | None:
    return float(value) if is_number(value) else None


def segment_sizes_chart(segments: Iterable[Any]) -> dict[str, Any]:
    """Members per segment, for a bar chart; ``total`` is their sum."""
    rows = list(segments)
    return {
        "labels": [f"{s.number}: {s.label}" for s in rows],
        "values": [int(s.size) for s in rows],
        "colours": [colour(s.number) for s in rows],
        "total": sum(int(s.size) for s in rows),
    }


def member_map_chart(metrics: dict[str, Any], segments: Iterable[Any]) -> dict[str, Any] | None:
    """The run's sampled 2-D projection, one scatter series per segment; None without one."""
    projection = metrics.get("projection")
    if not isinstance(projection, dict) or not projection.get("x"):
        return None
    names = {s.number: s.label for s in segments}
    n_points = int(projection.get("n_points", len(projection["x"])))
    n_members = int(projection.get("n_members") or n_points)
    explained = [float(v) for v in projection.get("explained_variance_ratio") or []]
    series: dict[int, list[list[float]]] = {}
    for x, y, number in zip(projection["x"], projection["y"], projection["segment"], strict=True):
        series.setdefault(int(number), []).append([x, y])
    return {
        "series": [
            {"label": f"{n}: {names.get(n, f'segment {n}')}", "colour": colour(n), "points": pts}
            for n, pts in sorted(series.items())
        ],
        "n_points": n_points,
        "n_members": n_members,
        "explained": explained,
        "caption": (
            f"{n_points:,} of {n_members:,} clustered members, placed by a PCA of the features "
            f"the segments were formed on; the two axes keep {sum(explained):.0%} of their "
            "variance, so segments that overlap here may still be apart in the other axes."
        ),
    }


def lift_chart(rows: list[dict[str, Any]], name: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
    """Lift bars with the interval of the lift (the share's interval over the population
    share) where the row has one."""

    def interval(row: dict[str, Any]) -> list[float] | None:
        base = row.get("population_share")
        if not (is_number(row.get("ci_low")) and is_number(base) and base > 0):
            return None
        return [round(row["ci_low"] / base, 4), round(row["ci_high"] / base, 4)]

    return {
        "labels": [name(row) for row in rows],
        "lift": [_or_none(row.get("lift")) for row in rows],
        "interval": [interval(row) for row in rows],
        "support": [row.get("support") for row in rows],
    }


def migration_chart(comparison: dict[str, Any]) -> dict[str, Any]:
    """Who moved where between two runs: one stacked bar per segment of run A, split by the
    run B segment its members are in."""
    return {
        "labels": [f"{row['number']}: {row['label']}" for row in comparison["rows"]],
        "series": [
            {
                "label": f"{col['number']}: {col['label']}",
                "colour": colour(col["number"]),
                "values": [counts[j] for counts in comparison["matrix"]],
            }
            for j, col in enumerate(comparison["cols"])
        ],
        "run_a": comparison.get("run_a"),
        "run_b": comparison.get("run_b"),
        "caption": (
            f"Each bar is a segment of run {comparison.get('run_a')}, split by the segment of "
            f"run {comparison.get('run_b')} its members are in now."
        ),
    }


def evaluation_charts(
    tables: list[dict[str, Any]], metrics: dict[str, Any]
) -> list[dict[str, Any]]:
    """Per evaluated split, each model's scores as grouped bars (from the raw numbers)."""
    charts = []
    for table in tables:
        models = metrics["evaluation"][table["split"]]["models"]
        charts.append(
            {
                "split": table["split"],
                "id": f"chart-evaluation-{table['split']}",
                "labels": table["columns"],
                "series": [
                    {
                        "label": model,
                        "colour": colour(i),
                        "values": [_or_none(scores.get(c)) for c in table["columns"]],
                    }
                    for i, (model, scores) in enumerate(models.items())
                ],
            }
        )
    return charts


def run_changes(run: Any, previous: Any | None) -> list[dict[str, str]]:
    """What changed since the previous finished run: its figures side by side."""
    if previous is None:
        return []
    rows = []
    for name, read in CHANGE_FIGURES:
        now, before = read(run), read(previous)
        if now is None and before is None:
            continue
        rows.append(
            {
                "name": name,
                "now": _figure(now),
                "before": _figure(before),
                "delta": _delta(now, before),
            }
        )
    return rows


def _stability(run: Any) -> Any:
    return (run.metrics.get("stability_ari") or {}).get("mean")


CHANGE_FIGURES: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("Segments", lambda run: run.metrics.get("n_segments")),
    ("Members clustered", lambda run: run.metrics.get("n_clustered")),
    ("Members classified", lambda run: run.metrics.get("n_classified")),
    ("Silhouette", lambda run: run.metrics.get("silhouette")),
    ("Stability (ARI)", _stability),
    ("Classifier CV accuracy", lambda run: run.metrics.get("classifier_cv_accuracy")),
)


def _figure(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{value:.3f}" if is_number(value) else "-"


def _delta(now: Any, before: Any) -> str:
    if not (is_number(now) and is_number(before)):
        return ""
    change = now - before
    if isinstance(change, int):
        return f"{change:+,}"
    return f"{change:+.3f}"


def run_counts(run: Any) -> list[dict[str, str]]:
    """How many members the run segmented and how: clustered, classified, outliers."""
    metrics = run.metrics
    names = (
        ("n_clustered", "Clustered", "enough ratings: grouped by taste"),
        ("n_classified", "Classified", "few or no ratings: placed by a classifier"),
        ("n_noise", "Outliers", "fit no segment well: attached to the nearest"),
    )
    return [
        {"name": label, "value": f"{metrics[key]:,}", "help": help_text}
        for key, label, help_text in names
        if isinstance(metrics.get(key), int)
    ]


def run_report_context(run: Any, segments: Iterable[Any]) -> dict[str, Any]:
    """Everything a run's report shows, for the home page and the admin run page."""
    rows = list(segments)
    evaluations = evaluation_tables(run.metrics)
    return {
        "run_segments": rows,
        "counts": run_counts(run),
        "quality": run_quality(run.metrics),
        "quality_warnings": quality_warnings(run.metrics),
        "thresholds": THRESHOLDS,
        "k_sweep": k_sweep_chart(run.metrics),
        "sizes_chart": segment_sizes_chart(rows),
        "map_chart": member_map_chart(run.metrics, rows),
        "evaluations": evaluations,
        "evaluation_charts": evaluation_charts(evaluations, run.metrics),
    }


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
