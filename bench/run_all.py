"""`make bench`: recommenders side by side on three splits, what the text model adds slice
by slice (MovieLens-100K and the text-rich benchmark), and every clustering algorithm;
writes bench/RESULTS.md.

    .venv/bin/python bench/run_all.py [--data DIR] [--k 10] [--skip-segments] [--skip-text-rich]
        [--skip-services]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from audience_bench import audience_section
from encoder_bench import encoder_section
from host import cpu_description
from movielens_data import DEFAULT_DATA, load_movielens
from segmentation_bench import segmentation_table
from slices_report import metric, slices_table, tuning_lines
from text_rich_bench import text_rich_section

from ml.evaluation.harness import evaluate_slices, evaluate_split
from ml.evaluation.report import format_table

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SHOWN = (
    "precision@10",
    "recall@10",
    "ndcg@10",
    "hit_rate@10",
    "map@10",
    "mrr@10",
    "coverage@10",
    "diversity@10",
    "novelty@10",
    "fit_seconds",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--skip-segments", action="store_true")
    parser.add_argument("--skip-text-rich", action="store_true")
    parser.add_argument(
        "--skip-services",
        action="store_true",
        help="leave out the imports, list writes, list API and fan-out benchmarks",
    )
    args = parser.parse_args()
    data, info = load_movielens(args.data)
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (bench/run_all.py) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{cpu_description()}, data {args.data.name}: "
        f"{data.n_members} members, {data.n_items} items, {len(data.values)} ratings. "
        f"Embedding item and profile texts took {info['embed_seconds']:.1f} s (0 when cached).",
        "",
    ]
    lines += recommender_section(data, args.k)
    lines += movielens_slices_section(data, args.k)
    if not args.skip_text_rich:
        lines += text_rich_section()
    if not args.skip_segments:
        lines += segmentation_table(data)
    lines += encoder_section()
    lines += audience_section()
    if not args.skip_services:
        # These set Django up on scratch PostgreSQL databases (and Redis, gunicorn, wrk) of
        # their own, so each runs in its own process; each prints its Markdown section.
        for script in ("import_bench.py", "write_bench.py", "api_bench.py", "fanout_bench.py"):
            lines += service_section(script)
    lines += scale_section()
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten to {RESULTS}")


def scale_section() -> list[str]:
    """The last 1M-member end-to-end run: too long for every `make bench` (about an hour and
    a half with the import), so bench/scale_e2e.py writes bench/SCALE.md and this copies it."""
    path = Path(__file__).resolve().parent / "SCALE.md"
    head = ["## 1M members end to end (bench/scale_e2e.py, copied, not rerun by make bench)", ""]
    if not path.exists():
        return [*head, "Not measured yet: run bench/scale_data.py, then bench/scale_e2e.py.", ""]
    return [*head, *path.read_text().splitlines(), ""]


def service_section(script: str) -> list[str]:
    path = Path(__file__).resolve().parent / script
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        return [f"## {script}: failed", "", "```", done.stderr[-3000:], "```", ""]
    out = done.stdout.splitlines()
    start = next((i for i, line in enumerate(out) if line.startswith("## ")), 0)
    return [*out[start:], ""]


def recommender_section(data, k: int) -> list[str]:
    lines = ["## Recommendations: side by side, fitted on the training part only", ""]
    checks = []
    for kind in ("temporal", "random", "cold-members"):
        started = time.perf_counter()
        result = evaluate_split(data, kind=kind, k=k, seed=0)
        models = result["models"]
        lines += [
            f"### {kind} split ({result['members']} members evaluated, "
            f"{time.perf_counter() - started:.0f} s)",
            "",
            "```",
            format_table(
                {
                    n: {m: v.get(m) for m in SHOWN if m.replace("@10", f"@{k}") in v}
                    for n, v in models.items()
                }
            ),
            "```",
            "",
            f"ours, chosen on validation: `{result['tuning']}`",
            "",
        ]
        checks += _targets(kind, models, k)
    lines += ["## Targets", "", "| split | target | measured | met |", "|---|---|---|---|"]
    lines += checks + [""]
    return lines


def movielens_slices_section(data, k: int) -> list[str]:
    """What the text model and the segments add on bare ratings, slice by slice."""
    started = time.perf_counter()
    result = evaluate_slices(data, k=k, seed=0)
    ours, off = (metric(result, m, "warm") for m in ("ours", "ours, no text"))
    return [
        "## MovieLens-100K slice by slice: what the text model adds on bare ratings",
        "",
        f"One split: {result['cold_members']} members held out whole (cold), 5% of the rated "
        f"items held out whole ({result['new_items']} items without training ratings), every "
        f"other member's latest 20%. Item texts are titles, years and genres; profiles are "
        f"the demographic sentence. {time.perf_counter() - started:.0f} s.",
        "",
        *slices_table(result),
        f"Warm NDCG@{k} with the text model / without: {ours / off:.3f} x.",
        "",
        "Chosen on validation:",
        "",
        *tuning_lines(result),
    ]


def _targets(kind: str, models: dict, k: int) -> list[str]:
    ndcg, cov = f"ndcg@{k}", f"coverage@{k}"
    ours = models["ours"]
    rows = []
    if kind == "temporal":
        ratio = ours[ndcg] / models["ease"][ndcg]
        rows.append(
            f"| temporal | NDCG@{k} >= 1.30 x EASE | {ratio:.2f} x | {_yes(ratio >= 1.30)} |"
        )
    if kind == "random":
        ratio = ours[ndcg] / models["ease"][ndcg]
        rows.append(f"| random | NDCG@{k} >= EASE | {ratio:.2f} x | {_yes(ratio >= 1.0)} |")
    if kind == "cold-members":
        ratio = ours[ndcg] / models["popularity"][ndcg]
        rows.append(
            f"| cold members | NDCG@{k} >= 1.10 x popularity | {ratio:.2f} x | {_yes(ratio >= 1.10)} |"
        )
        # What the landed code measured before the text model entered cold start.
        rows.append(
            f"| cold members | no lower than before (1.05 x) | {ratio:.2f} x | {_yes(ratio >= 1.05)} |"
        )
    if kind in ("temporal", "random"):
        ok = ours[cov] >= models["ease"][cov]
        rows.append(
            f"| {kind} | coverage >= EASE | {ours[cov]:.3f} vs {models['ease'][cov]:.3f} | {_yes(ok)} |"
        )
    return rows


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


if __name__ == "__main__":
    main()
