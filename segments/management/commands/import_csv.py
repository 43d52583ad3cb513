from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from segments.importers import ImportDataError
from segments.importers.progress import ProgressBars
from segments.services.imports import DEFAULT_RATING_SCALE, csv_import


class Command(BaseCommand):
    help = (
        "Import UTF-8 CSV files with a header row. members: member_id, age, gender, "
        "occupation, location, profile; items: item_id, title, year, genres (|-separated), "
        "description; ratings: member_id, item_id, rating, timestamp (Unix seconds or ISO "
        "8601). Only the id columns (and title, rating) are required."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--members", type=Path, metavar="FILE")
        parser.add_argument("--items", type=Path, metavar="FILE")
        parser.add_argument("--ratings", type=Path, metavar="FILE")
        parser.add_argument(
            "--rating-scale",
            nargs=2,
            type=float,
            metavar=("MIN", "MAX"),
            default=DEFAULT_RATING_SCALE,
            help="accepted rating range, inclusive (default: 0 5)",
        )

    def handle(self, *args: Any, rating_scale: list[float], **options: Any) -> None:
        # The raw stream: Django's stderr wrapper would end every redraw with a newline.
        bars = ProgressBars(sys.stderr, enabled=self.stdout.isatty())
        try:
            report = csv_import(
                members=options["members"],
                items=options["items"],
                ratings=options["ratings"],
                progress=bars,
                rating_scale=(rating_scale[0], rating_scale[1]),
            )
        except ImportDataError as error:
            raise CommandError(str(error)) from error
        finally:
            bars.close()
        self.stdout.write(f"Imported {', '.join(report.sources)} in {report.seconds:.1f} s")
        for line in report.lines():
            self.stdout.write(line)
