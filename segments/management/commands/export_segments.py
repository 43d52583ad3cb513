from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from segments.selectors import NoRunError, run_or_active
from segments.services.exports import segments_export_csv


class Command(BaseCommand):
    help = "Write each member's segment in the active (or given) run as CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path, help="CSV file to write ('-' for standard output)")
        parser.add_argument(
            "--run", type=int, default=None, help="run id (default: the active run)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run = run_or_active(run_id=options["run"])
        except NoRunError as exc:
            raise CommandError(str(exc)) from exc
        if str(options["out"]) == "-":
            segments_export_csv(run=run, out=self.stdout)
            return
        with options["out"].open("w", encoding="utf-8", newline="") as out:
            rows = segments_export_csv(run=run, out=out)
        self.stdout.write(f"wrote {rows} members of run {run.pk} to {options['out']}")
