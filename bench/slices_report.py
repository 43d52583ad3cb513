"""The slice-by-slice table of `evaluate_slices`, as Markdown for bench/RESULTS.md."""

from __future__ import annotations

from typing import Any

from ml.evaluation.slices import slice_rows, slice_value


def slices_table(result: dict[str, Any]) -> list[str]:
    header, rows = slice_rows(result)
    k = result["k"]
    return [
        f"NDCG@{k} per slice (members evaluated in brackets); new items: recall@{k} of their "
        "held-out ratings.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]


def metric(result: dict[str, Any], model: str, column: str) -> float:
    """The number in ``column`` for ``model`` (NDCG, or recall for new items)."""
    return slice_value(result["models"][model]["slices"][column], result["k"])


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
            f"{b}: {r['weights']} (validation NDCG {r['validation_ndcg']}, best without "
            f"segments {r['best_without_segments_ndcg']}, EASE alone {r['ease_only_ndcg']}, "
            f"{r['members']} members, own choice {r['own_gain']:+.4f} over the overall one "
            f"against a noise bar of {r['two_standard_errors']:.4f}"
            f"{'' if r['own_weights'] else ': overall weights kept'})"
            for b, r in tuning.get("buckets", {}).items()
        )
        lines.append(
            f"- **{name}**: blend {tuning.get('weights')}; per bucket: {buckets}. Cold members "
            f"served from {tuning.get('cold_features')} (validation NDCG "
            f"{tuning.get('cold_validation_ndcg')}). New-item share {new.get('share')} "
            f"(validation: {new.get('validation', 'none, no new items')})."
        )
    return lines + [""]
