from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from segments.services.sweep import segmentation_runs_sweep


class Command(BaseCommand):
    help = (
        "Queue again (or fail, after their last attempt) runs whose worker died, and send "
        "queued runs no worker has claimed. Workers do this themselves; this is for cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--resend-all", action="store_true", help="send every queued run, not only stale ones"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = segmentation_runs_sweep(resend_all=options["resend_all"])
        for name in ("requeued", "failed", "sent", "unsent"):
            runs = getattr(report, name)
            self.stdout.write(f"{name}: {', '.join(map(str, runs)) or '-'}")
