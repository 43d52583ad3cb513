from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from segments.services.lifecycle import segmentation_runs_prune


class Command(BaseCommand):
    help = "Delete old finished runs (never the active one) with their segments and lists."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--keep", type=int, default=5, help="inactive runs to keep (5)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["keep"] < 0:
            raise CommandError("--keep: expected 0 or more")
        deleted = segmentation_runs_prune(keep=options["keep"])
        self.stdout.write(f"deleted {deleted} run(s)")
