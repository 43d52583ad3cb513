"""The one error an import raises for bad input, located down to file, line and field."""

from __future__ import annotations


class ImportDataError(ValueError):
    """Bad input data; the message reads like ``ratings.csv line 9, field item_id: ...``."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = message
        self.source = source
        self.line = line
        self.field = field
        super().__init__(self._located(message))

    def _located(self, message: str) -> str:
        where = self.source or ""
        if self.line is not None:
            where = f"{where} line {self.line}".strip()
        if self.field:
            where = f"{where}, field {self.field}" if where else f"field {self.field}"
        return f"{where}: {message}" if where else message
