from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from segments.services.lifecycle import segmentation_runs_prune
from segments.services.sweep import segmentation_runs_sweep


class Command(BaseCommand):
    help = (
        "Delete old finished runs (never the active one) with their segments and lists, "
        "after sweeping runs whose worker died."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--keep", type=int, default=5, help="inactive runs to keep (5)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["keep"] < 0:
            raise CommandError("--keep: expected 0 or more")
        # Runs whose worker died are failed (or queued again) first, so they can be pruned.
        segmentation_runs_sweep()
        deleted = segmentation_runs_prune(keep=options["keep"])
        self.stdout.write(f"deleted {deleted} run(s)")
