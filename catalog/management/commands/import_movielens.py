from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from catalog.management.import_command import ImportCommand
from catalog.services.imports import movielens_import


class Command(ImportCommand):
    help = (
        "Import MovieLens from DIR: GroupLens layout (u.data, u.item, u.user) or RecBole "
        "layout (NAME.inter, NAME.item, NAME.user). Re-importing the same files changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        self.add_rating_scale(parser)

    def handle(
        self, *args: Any, directory: Path, rating_scale: list[float], **options: Any
    ) -> None:
        self.run_import(
            movielens_import, directory=directory, rating_scale=(rating_scale[0], rating_scale[1])
        )
