from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ml.evaluation.harness import SPLITS
from ml.evaluation.report import format_table
from ml.evaluation.slices import slice_rows
from segments.models import SegmentationRun
from segments.services.evaluation import evaluation_run


class Command(BaseCommand):
    help = (
        "Hold out part of the ratings, fit popularity, item-kNN, EASE and our pipeline on the "
        "rest, and print their metrics side by side; stored on the active (or given) run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--split", choices=SPLITS, default="temporal")
        parser.add_argument("--holdout", type=float, default=0.2)
        parser.add_argument("--k", type=int, default=10)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--run", type=int, default=None, help="store on this run id")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["holdout"] < 1:
            raise CommandError("--holdout: expected a fraction between 0 and 1")
        if options["k"] < 1:
            raise CommandError("--k: expected a positive integer")
        run = _run(options["run"])
        try:
            result = evaluation_run(
                split=options["split"],
                holdout=options["holdout"],
                k=options["k"],
                seed=options["seed"],
                run=run,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if result["split"] == "slices":
            self._write_slices(result)
        else:
            self._write_split(result)
        if run is not None:
            self.stdout.write(f"stored on run {run.pk}")

    def _write_slices(self, result: dict[str, Any]) -> None:
        self.stdout.write(
            f"slices, k={result['k']}: {result['members']} members evaluated, "
            f"{result['cold_members']} held out whole (cold), {result['new_items']} items "
            f"without training ratings (new); NDCG@{result['k']} per slice, recall@"
            f"{result['k']} for new items"
        )
        header, rows = slice_rows({"k": result["k"], "models": result["slices"]})
        widths = [max(len(r[j]) for r in [header, *rows]) for j in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        for name, entry in result["slices"].items():
            if entry.get("tuning"):
                self.stdout.write(f"{name}, chosen on validation: {entry['tuning']}")

    def _write_split(self, result: dict[str, Any]) -> None:
        self.stdout.write(
            f"split {result['split']}, k={result['k']}, {result['members']} members evaluated, "
            f"{result['segments']} segments fitted on the training part"
        )
        self.stdout.write(format_table(result["models"]))
        if result["tuning"]:
            self.stdout.write(f"ours, chosen on validation: {result['tuning']}")
        ours = result["models"]["ours"]
        key = f"ndcg@{result['k']}"
        for name in ("popularity", "ease"):
            base = result["models"][name][key]
            if base:
                self.stdout.write(f"{key} ours / {name}: {ours[key] / base:.2f}x")


def _run(run_id: int | None) -> SegmentationRun | None:
    if run_id is None:
        return SegmentationRun.objects.filter(is_active=True).first()
    run = SegmentationRun.objects.filter(pk=run_id).first()
    if run is None:
        raise CommandError(f"--run: there is no run {run_id}")
    return run
