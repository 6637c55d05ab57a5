"""Blocks of logged rows as lines of text, and files written atomically.

A block's columns become Python lists once, and each line is one ``%``-format of a template
built for the block's columns: no per-value Python code besides the formatting itself.
Numbers keep their precision: integers exactly, ``float64`` through ``repr`` (the shortest
string that reads back to the same value), ``float32`` with 8 significant digits. Array values
are written as JSON lists.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from agentax.loggers.base import LogBlock, Source


def _directive(column: np.ndarray) -> str:
    kind = column.dtype.kind
    if kind in "iub":
        return "%d"
    if kind == "f":
        return "%r" if column.dtype.itemsize >= 8 else "%.8g"
    return "%s"


def _json_rows(column: np.ndarray) -> list[str]:
    """Each row of ``column`` as a JSON list, its numbers written as :func:`_directive` says."""
    if column.ndim > 2 or column.dtype.kind not in "iubf":
        return [json.dumps(row) for row in column.tolist()]
    number = _directive(column).__mod__
    return ["[" + ", ".join(map(number, row)) + "]" for row in column.tolist()]


def csv_quote(text: str) -> str:
    """``text`` as one CSV field (quoted when it holds a comma, a quote or a line break)."""
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _cells(column: np.ndarray, quote: bool) -> tuple[str, list]:
    """The format directive of a column and its values as Python objects."""
    if column.ndim > 1:
        cells = _json_rows(column)
        return "%s", [csv_quote(cell) for cell in cells] if quote else cells
    if column.dtype.kind in "US" and quote:
        return "%s", [csv_quote(str(cell)) for cell in column.tolist()]
    if column.dtype.kind == "f" and _all_whole(column):  # e.g. 0/1 rewards: integers format faster
        return "%d.0", column.astype(np.int64).tolist()
    return _directive(column), column.tolist()


def _all_whole(column: np.ndarray) -> bool:
    """Whether every value is a whole number that ``float`` and ``int`` hold exactly."""
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.abs(column) < 2**53) and np.all(column == np.trunc(column)) and not np.signbit(column[column == 0]).any())


def format_rows(
    block: LogBlock,
    columns: Sequence[tuple[Source, str]],
    field: Callable[[str, str], str],
    separator: str,
    quote: bool,
) -> list[str]:
    """One line per row of ``block``: ``agent_id``, ``step``, then each ``(source, label)`` column.

    ``field(label, directive)`` writes one field of the template; a source missing from the block
    leaves its field empty.
    """
    template, lists = [], []
    for label, column in (("agent_id", block.agent_id), ("step", block.step)):
        directive, cells = _cells(column, quote)
        template.append(field(label, directive))
        lists.append(cells)
    for source, label in columns:
        column = block.values.get(source)
        if column is None:
            template.append("")
            continue
        directive, cells = _cells(column, quote)
        template.append(field(label.replace("%", "%%"), directive))
        lists.append(cells)
    return list(map(separator.join(template).__mod__, zip(*lists)))


def scalar_text(value: object) -> str:
    """A number as text: ``repr`` of the Python ``int``, ``float`` or ``bool`` it holds."""
    return repr(np.asarray(value).item())


def to_json(value: object) -> str:
    """``value`` as JSON: arrays and NumPy numbers as numbers, other objects as their ``str``."""
    return json.dumps(value, default=_jsonable)


def _jsonable(value: object) -> object:
    array = np.asarray(value) if not isinstance(value, (str, bytes)) else None
    return array.tolist() if array is not None and array.dtype.kind in "biuf" else str(value)


def write_atomically(path: Path, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` to ``path`` through a temporary file that is synced, then renamed."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            for chunk in chunks:
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def scalar_items(name: str, block: LogBlock, column: np.ndarray) -> Iterator[tuple[str, float, int]]:
    """``(tag, value, step)`` per number of a source's column: tag ``name/<agent_id>`` for a
    scalar source, ``name/<agent_id>/<i>`` for element ``i`` of an array-valued one."""
    agents = [str(agent) for agent in block.agent_id.tolist()]
    steps = block.step.tolist()
    if column.ndim == 1:
        for agent, value, step in zip(agents, column.tolist(), steps):
            yield f"{name}/{agent}", value, step
        return
    for agent, row, step in zip(agents, column.reshape(len(column), -1).tolist(), steps):
        for index, value in enumerate(row):
            yield f"{name}/{agent}/{index}", value, step
