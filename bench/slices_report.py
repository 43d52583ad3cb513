"""The slice-by-slice table of `evaluate_slices`, as Markdown for bench/RESULTS.md."""

from __future__ import annotations

import math
from typing import Any

COLUMNS = ("warm", "bucket 1-5", "bucket 6-20", "bucket 21+", "cold members", "new items")


def slices_table(result: dict[str, Any]) -> list[str]:
    """One row per model: NDCG@k per slice (members in brackets), recall@k on new items."""
    k = result["k"]
    models = result["models"]
    first = next(iter(models.values()))["slices"]
    heads = [f"{c} ({first[c]['members']})" for c in COLUMNS]
    accuracy = any("cold_segment_accuracy" in m for m in models.values())
    head = ["model", *heads] + (["cold members' segment accuracy"] if accuracy else [])
    lines = [
        f"NDCG@{k} per slice (members evaluated in brackets); new items: recall@{k} of their "
        "held-out ratings.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for name, entry in models.items():
        cells = [_cell(entry["slices"][c], k) for c in COLUMNS]
        if accuracy:
            cells.append(_number(entry.get("cold_segment_accuracy")))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines + [""]


def metric(result: dict[str, Any], model: str, column: str) -> float:
    """The number in ``column`` for ``model`` (NDCG, or recall for new items)."""
    k = result["k"]
    cell = result["models"][model]["slices"][column]
    return cell.get(f"recall@{k}", cell.get(f"ndcg@{k}", math.nan))


def tuning_lines(result: dict[str, Any]) -> list[str]:
    """What validation chose for each variant of ours: blend weights per bucket, cold
    features, new-item share."""
    lines = []
    for name, entry in result["models"].items():
        tuning = entry.get("tuning")
        if not tuning:
            continue
        new = tuning.get("new_items", {})
        buckets = "; ".join(
            f"{b}: {r['weights']} (val {r['validation_ndcg']}, best without segments "
            f"{r['best_without_segments_ndcg']}, EASE alone {r['ease_only_ndcg']}, "
            f"{r['members']} members{'' if r['own_weights'] else ', too few for own weights'})"
            for b, r in tuning.get("buckets", {}).items()
        )
        lines.append(
            f"- **{name}**: weights {tuning.get('weights')}; per bucket: {buckets}; "
            f"cold members served from {tuning.get('cold_features')} "
            f"(validation NDCG {tuning.get('cold_validation_ndcg')}); new-item share "
            f"{new.get('share')} (validation {new.get('validation', 'none: no new items')})"
        )
    return lines + [""]


def _cell(cell: dict[str, float], k: int) -> str:
    value = cell.get(f"recall@{k}", cell.get(f"ndcg@{k}"))
    return _number(value)


def _number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.4f}"
