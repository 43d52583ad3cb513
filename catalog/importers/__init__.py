"""Streaming readers for MovieLens (GroupLens and RecBole layouts) and generic CSV files.

Each reader yields typed rows (``MemberRow``, ``ItemRow``, ``RatingRow``) that remember
their file and line; bad input raises ``ImportDataError`` naming file, line and field.
Writing the rows is ``catalog.services.imports.dataset_import``.
"""

from catalog.importers.csv_files import items_csv_read, members_csv_read, ratings_csv_read
from catalog.importers.errors import ImportDataError
from catalog.importers.movielens import MovieLensFiles, movielens_files_find
from catalog.importers.rows import ItemRow, MemberRow, RatingRow

__all__ = [
    "ImportDataError",
    "ItemRow",
    "MemberRow",
    "MovieLensFiles",
    "RatingRow",
    "items_csv_read",
    "members_csv_read",
    "movielens_files_find",
    "ratings_csv_read",
]
