"""A tqdm bar per entity for the import commands, shown only on a terminal."""

from __future__ import annotations

from typing import Any, TextIO

from tqdm import tqdm


class ProgressBars:
    """Callable as ``progress(entity, rows_done)``; counts rows since the file sizes are unknown."""

    def __init__(self, stream: TextIO, *, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.bars: dict[str, Any] = {}

    def __call__(self, entity: str, rows: int) -> None:
        if not self.enabled:
            return
        if entity not in self.bars:
            self.close()  # entities come one after the other: one bar a line
            self.bars[entity] = tqdm(desc=entity, unit=" rows", file=self.stream)
        self.bars[entity].update(rows)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
