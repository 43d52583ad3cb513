"""Whether a run that just succeeded is served at once or waits for review.

A run asks for it in its ``serve`` parameter: "always", "review" (waits for Promote) or
"auto", the default: served only if it is not worse than the active run on its own
validation metrics. Pure functions of the two runs' metrics; the life cycle applies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# "Not worse": the blend's validation NDCG may be at most this much lower (relative; the
# standard error of a 1,000-member validation NDCG is about 1.5%), and the segments'
# stability (mean ARI over resamples) at most this much lower (absolute).
NDCG_TOLERANCE = 0.02
STABILITY_TOLERANCE = 0.10


@dataclass(frozen=True)
class ServingDecision:
    serve: bool
    reason: str

    def to_dict(self, *, compared_with: int | None) -> dict[str, Any]:
        return {"served": self.serve, "reason": self.reason, "compared_with": compared_with}


def serving_decision(
    candidate: dict[str, Any], active: dict[str, Any] | None, *, mode: str
) -> ServingDecision:
    """Decide for a run whose metrics are ``candidate`` against the active run's (or None)."""
    if mode == "always":
        return ServingDecision(True, "served at once: the run asked for it (serve=always)")
    if mode == "review":
        return ServingDecision(False, "waiting for review (serve=review): Promote serves it")
    if active is None:
        return ServingDecision(True, "served at once: no run was active")
    worse: list[str] = []
    held: list[str] = []
    for name, new, old, tolerance, relative in (
        (
            "validation NDCG",
            validation_ndcg(candidate),
            validation_ndcg(active),
            NDCG_TOLERANCE,
            True,
        ),
        ("stability (ARI)", stability(candidate), stability(active), STABILITY_TOLERANCE, False),
    ):
        if new is None or old is None:
            continue
        floor = old * (1 - tolerance) if relative else old - tolerance
        (worse if new < floor else held).append(f"{name} {new:.3f} against {old:.3f}")
    if worse:
        return ServingDecision(
            False, "waiting for review: worse than the active run on " + "; ".join(worse)
        )
    if not held:
        return ServingDecision(
            True, "served at once: no validation metric in common with the active run"
        )
    return ServingDecision(
        True, "served at once: not worse than the active run on " + "; ".join(held)
    )


def validation_ndcg(metrics: dict[str, Any]) -> float | None:
    tuning = (metrics.get("recommendations") or {}).get("tuning") or {}
    value = tuning.get("blend_validation_ndcg")
    return float(value) if isinstance(value, int | float) else None


def stability(metrics: dict[str, Any]) -> float | None:
    value = (metrics.get("stability_ari") or {}).get("mean")
    return float(value) if isinstance(value, int | float) else None
