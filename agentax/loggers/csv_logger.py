"""A logger that writes a CSV file: one row per instance and step, one column per source."""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from itertools import chain
from pathlib import Path
from typing import Any

from agentax.loggers._text import csv_quote, format_rows, scalar_text, to_json, write_atomically
from agentax.loggers.base import BaseLogger, LogBlock, Source

__all__ = ["CsvLogger"]

_CHUNK = 1 << 20


class CsvLogger(BaseLogger):
    """Writes the logged rows to a CSV file when the experiment finishes.

    The columns are ``agent_id``, ``step``, one per source (named by
    :meth:`~agentax.loggers.BaseLogger.source_to_name`), then one per custom value name in the
    order they were first logged. A row holds one instance after one step; a source that was not
    available at that step is left empty. A custom value (``rl.log(name, value)``) gets a row of
    its own, with an empty ``agent_id`` and ``step`` counting that name's values from 1. Arrays
    and dictionaries are written as JSON in a quoted field.

    Rows are spooled to a temporary file as they come (memory stays bounded); at :meth:`finish`
    the header and the rows are written to ``csv_path`` atomically (a temporary file, synced, then
    renamed), so the file is either absent or complete.

    Args:
      csv_path: where to write, by default ``agentax-logs-<date>-<time>.csv`` in the current
        directory.
    """

    def __init__(self, csv_path: str | Path | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = Path(
            csv_path
            if csv_path is not None
            else f"agentax-logs-{time.strftime('%Y%m%d-%H%M%S')}.csv"
        )
        self._spool = None

    def init(self, sources: list[Source]) -> None:
        self._columns = [(source, self.source_to_name(source)) for source in sources]
        self._custom: dict[str, int] = {}
        self._custom_steps: Counter[str] = Counter()
        self._spool = tempfile.TemporaryFile(dir=self.path.parent)  # noqa: SIM115 (closed by close())

    def log_block(self, block: LogBlock) -> None:
        self._spool.write(format_rows(block, self._columns, lambda label: "", ",", quote=True))

    def log_scalar(self, source: Source, value: float, custom: bool) -> None:
        self._write_custom(source, scalar_text(value))

    def log_array(self, source: Source, value: Any, custom: bool) -> None:
        self._write_custom(source, csv_quote(to_json(value)))

    def log_dict(self, source: Source, value: dict, custom: bool) -> None:
        self._write_custom(source, csv_quote(to_json(value)))

    def log_other(self, source: Source, value: Any, custom: bool) -> None:
        self._write_custom(source, csv_quote(to_json(value)))

    def _write_custom(self, source: Source, cell: str) -> None:
        name = self.source_to_name(source)
        column = self._custom.setdefault(name, len(self._custom))
        self._custom_steps[name] += 1
        empty = [""] * (len(self._columns) + column)
        self._spool.write(
            (",".join(["", str(self._custom_steps[name]), *empty, cell]) + "\n").encode()
        )

    def finish(self) -> None:
        """Write the CSV file (once; later calls do nothing)."""
        if self._spool is None:
            return
        spool, self._spool = self._spool, None
        with spool:
            names = ["agent_id", "step", *(label for _, label in self._columns), *self._custom]
            header = (",".join(map(csv_quote, names)) + "\n").encode()
            spool.seek(0)
            write_atomically(self.path, chain([header], iter(lambda: spool.read(_CHUNK), b"")))
