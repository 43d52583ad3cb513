"""Every clustering algorithm on the same member features: quality, stability, time per stage."""

from __future__ import annotations

import time

from ml.data import MemberData
from ml.segmentation.clustering import ALGORITHMS
from ml.segmentation.features import DEFAULT_FEATURE_WEIGHTS
from ml.segmentation.recipe import SegmentationRecipe

WEIGHTS = DEFAULT_FEATURE_WEIGHTS
COLUMNS = (
    "n_segments",
    "silhouette",
    "davies_bouldin",
    "calinski_harabasz",
    "stability",
    "classifier_cv_accuracy",
    "n_noise",
)


def segmentation_table(data: MemberData) -> list[str]:
    lines = [
        "## Segmentation: every algorithm on ML-100K",
        "",
        "Same fused features for all (weights "
        + ", ".join(f"{k} {v}" for k, v in WEIGHTS.items())
        + "); k = 8 except `kmeans, k=auto`. Stability is the mean adjusted Rand index between "
        "fits on sub-samples with other seeds; silhouette is on the fused features.",
        "",
        "| algorithm | " + " | ".join(COLUMNS) + " | seconds per stage |",
        "|---" * (len(COLUMNS) + 2) + "|",
    ]
    labels_seen = {}
    for algorithm, k in [("kmeans", "auto"), *((a, 8) for a in ALGORITHMS)]:
        row, labels = _one(data, algorithm, k)
        lines.append(row)
        labels_seen[f"{algorithm}, k={k}"] = labels
    lines += ["", "Segment labels found:", ""]
    for name, labels in labels_seen.items():
        lines.append(f"- **{name}**: " + "; ".join(labels))
    return lines + [""]


def _one(data: MemberData, algorithm: str, k: int | str) -> tuple[str, list[str]]:
    timings: dict[str, float] = {}
    clock = {"stage": None, "t": time.perf_counter()}

    def step(name: str) -> None:
        now = time.perf_counter()
        if clock["stage"]:
            timings[clock["stage"]] = now - clock["t"]
        clock.update(stage=name, t=now)

    result = SegmentationRecipe(k=k, algorithm=algorithm).fit(data, step=step)
    step("done")
    m = result.metrics
    values = {**m, "stability": (m.get("stability_ari") or {}).get("mean")}
    cells = [_fmt(values.get(c)) for c in COLUMNS]
    stages = ", ".join(f"{s} {t:.1f}" for s, t in timings.items())
    return f"| {algorithm}, k={k} | " + " | ".join(cells) + f" | {stages} |", [
        e["label"] for e in result.explanations
    ]


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value)
