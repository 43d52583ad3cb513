from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.services.fetch import DemoDataError, movielens_100k_fetch


class Command(BaseCommand):
    help = (
        "Fetch MovieLens-100K into DEST/ml-100k (default: SEGREC_DATA_DIR), from GroupLens "
        "or else from the recbole wheel on PyPI; a second run reuses the files."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dest", type=Path, default=None, metavar="DIR")
        parser.add_argument(
            "--wheel", type=Path, default=None, help="a local recbole wheel to extract instead"
        )
        parser.add_argument(
            "--print-dir",
            action="store_true",
            help="print only the folder on stdout (messages go to stderr), for scripts",
        )

    def handle(
        self, *args: Any, dest: Path | None, wheel: Path | None, print_dir: bool, **options: Any
    ) -> None:
        echo = self._note if print_dir else self.stdout.write
        try:
            folder = movielens_100k_fetch(
                dest=dest or settings.SEGREC_DATA_DIR, wheel=wheel, echo=echo
            )
        except DemoDataError as error:
            raise CommandError(str(error)) from error
        if print_dir:
            self.stdout.write(str(folder))
        else:
            self.stdout.write(f"Import it with: python manage.py import_movielens {folder}")

    def _note(self, message: str) -> None:
        # Plain text: stderr's default style is the red of an error.
        self.stderr.write(message, style_func=str)
