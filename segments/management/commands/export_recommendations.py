from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from segments.selectors import NoRunError, run_or_active
from segments.services.exports import recommendations_export_csv


class Command(BaseCommand):
    help = "Write the active (or given) run's recommendation lists as CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path, help="CSV file to write ('-' for standard output)")
        parser.add_argument("--k", type=int, default=10, help="items per member (default 10)")
        parser.add_argument(
            "--run", type=int, default=None, help="run id (default: the active run)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["k"] < 1:
            raise CommandError("--k: expected a positive integer")
        try:
            run = run_or_active(run_id=options["run"])
        except NoRunError as exc:
            raise CommandError(str(exc)) from exc
        if str(options["out"]) == "-":
            rows = recommendations_export_csv(run=run, out=self.stdout, k=options["k"])
            return
        with options["out"].open("w", encoding="utf-8", newline="") as out:
            rows = recommendations_export_csv(run=run, out=out, k=options["k"])
        self.stdout.write(f"wrote {rows} rows of run {run.pk} to {options['out']}")
