"""What the import commands share: the rating range option, progress bars, the report."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.importers import ImportDataError
from catalog.importers.progress import ProgressBars
from catalog.services.imports import DEFAULT_RATING_SCALE, ImportReport


class ImportCommand(BaseCommand):
    def add_rating_scale(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rating-scale",
            nargs=2,
            type=float,
            metavar=("MIN", "MAX"),
            default=DEFAULT_RATING_SCALE,
            help="accepted rating range, inclusive (default: 0 5)",
        )

    def run_import(self, do_import: Callable[..., ImportReport], **kwargs: Any) -> None:
        """Call ``do_import(progress=..., **kwargs)``; print its report or raise CommandError."""
        # The raw stream: Django's stderr wrapper would end every redraw with a newline.
        bars = ProgressBars(sys.stderr, enabled=self.stdout.isatty())
        try:
            report = do_import(progress=bars, **kwargs)
        except ImportDataError as error:
            raise CommandError(str(error)) from error
        finally:
            bars.close()
        self.stdout.write(f"Imported {', '.join(report.sources)} in {report.seconds:.1f} s")
        for line in report.lines():
            self.stdout.write(line)
