"""A logger that prints each row to the standard output."""

from __future__ import annotations

import sys
from typing import Any

from agentax.loggers._text import format_rows, scalar_text, to_json
from agentax.loggers.base import BaseLogger, LogBlock, Source

__all__ = ["StdoutLogger"]


class StdoutLogger(BaseLogger):
    """Prints one line per instance and step, ``name: value`` fields separated by tabs.

    A row reads ``agent_id: 0``, ``step: 12``, ``action: 3``, ``reward: 1.0`` (tab-separated);
    array values are printed as JSON lists. A custom value (``rl.log(name, value)``) is printed on its own line,
    ``name: value``. Rows reach the screen in blocks (at least once a second while stepping).
    """

    def init(self, sources: list[Source]) -> None:
        self._columns = [(source, self.source_to_name(source)) for source in sources]

    def log_block(self, block: LogBlock) -> None:
        present = [column for column in self._columns if column[0] in block.values]
        sys.stdout.write(
            format_rows(block, present, lambda label: f"{label}: ", "\t", quote=False).decode()
        )

    def log_scalar(self, source: Source, value: float, custom: bool) -> None:
        self._print(source, scalar_text(value))

    def log_array(self, source: Source, value: Any, custom: bool) -> None:
        self._print(source, to_json(value))

    def log_dict(self, source: Source, value: dict, custom: bool) -> None:
        self._print(source, to_json(value))

    def log_other(self, source: Source, value: Any, custom: bool) -> None:
        self._print(source, to_json(value))

    def _print(self, source: Source, text: Any) -> None:
        print(f"{self.source_to_name(source)}: {text}")
