from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from catalog.management.import_command import ImportCommand
from catalog.services.imports import csv_import


class Command(ImportCommand):
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
        self.add_rating_scale(parser)

    def handle(self, *args: Any, rating_scale: list[float], **options: Any) -> None:
        self.run_import(
            csv_import,
            members=options["members"],
            items=options["items"],
            ratings=options["ratings"],
            rating_scale=(rating_scale[0], rating_scale[1]),
        )
