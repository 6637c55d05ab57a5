"""Blocks of logged rows as lines of text, and files written atomically.

A block becomes text column by column, without Python code per row: each column is turned into a
matrix of character codes (one row per logged row, 0 where a shorter value leaves room; bytes
for ASCII text, Unicode code points otherwise),
integers (and floats holding whole numbers, such as 0/1 rewards) by digit arithmetic in NumPy,
other values through one ``%``-format each. The matrices of all fields, separators and line ends
are laid side by side, and the non-zero code points, read row by row, are the text.
Numbers keep their precision: integers exactly, ``float64`` through ``repr`` (the shortest
string that reads back to the same value), ``float32`` with 8 significant digits. Array values
are written as JSON lists.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from agentax._files import atomic_file
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


def _cells(column: np.ndarray, quote: bool, dtype: type) -> np.ndarray:
    """A column's values as a matrix of character codes, one row per value."""
    if column.ndim > 1:
        cells = _json_rows(column)
        return _chars([csv_quote(cell) for cell in cells] if quote else cells, dtype)
    if column.dtype.kind in "iub":
        return _integer_chars(column, dtype)
    if column.dtype.kind == "f" and _all_whole(column):
        return np.concatenate(
            [_integer_chars(column, dtype), _constant(".0", len(column), dtype)], axis=1
        )
    if column.dtype.kind in "US":
        cells = [str(cell) for cell in column.tolist()]
        return _chars([csv_quote(cell) for cell in cells] if quote else cells, dtype)
    return _chars(list(map(_directive(column).__mod__, column.tolist())), dtype)


def _all_whole(column: np.ndarray) -> bool:
    """Whether every value is a whole number that ``float`` and ``int`` hold exactly (not -0.0)."""
    with np.errstate(invalid="ignore"):
        whole = np.all(np.abs(column) < 2**53) and np.all(column == np.trunc(column))
    return bool(whole and not np.signbit(column[column == 0]).any())


def _chars(texts: list[str], dtype: type) -> np.ndarray:
    """Strings as rows of codes: bytes for ``uint8`` (ASCII only, else ``UnicodeEncodeError``),
    code points for ``uint32``; 0 past each string's end."""
    array = np.array(texts, dtype="S" if dtype is np.uint8 else str)
    return array.view(dtype).reshape(len(texts), -1)


def _constant(text: str, n_rows: int, dtype: type) -> np.ndarray:
    codes = list(text.encode("ascii")) if dtype is np.uint8 else [ord(c) for c in text]
    return np.broadcast_to(np.array(codes, dtype), (n_rows, len(codes)))


def _integer_chars(column: np.ndarray, dtype: type) -> np.ndarray:
    """Integers in decimal: a sign column, then the digits right-aligned (0 before the first)."""
    values = column.astype(np.int64)
    magnitude = np.abs(values)
    width = len(str(int(magnitude.max()))) if len(values) else 1
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    shown = (magnitude[:, None] >= powers) | (powers == 1)
    digits = np.where(shown, magnitude[:, None] // powers % 10 + ord("0"), 0).astype(dtype)
    sign = np.where(values < 0, ord("-"), 0).astype(dtype)[:, None]
    return np.concatenate([sign, digits], axis=1)


def format_rows(
    block: LogBlock,
    columns: Sequence[tuple[Source, str]],
    prefix: Callable[[str], str],
    separator: str,
    quote: bool,
) -> bytes:
    """One UTF-8 line per row of ``block``: ``agent_id``, ``step``, then each ``(source, label)``.

    Each field is ``prefix(label)`` and the value; a source missing from the block leaves its
    field empty. Lines end with a line break. ASCII text (the usual case) is built one byte per
    character; any other character makes the block go through code points.
    """
    try:
        return _format(block, columns, prefix, separator, quote, np.uint8).tobytes()
    except UnicodeEncodeError:
        codes = _format(block, columns, prefix, separator, quote, np.uint32)
        return codes.tobytes().decode("utf-32-le" if np.little_endian else "utf-32-be").encode()


def _format(block, columns, prefix, separator, quote, dtype) -> np.ndarray:
    n_rows = len(block)
    parts = []
    labelled = [("agent_id", block.agent_id), ("step", block.step)]
    labelled += [(label, block.values.get(source)) for source, label in columns]
    for index, (label, column) in enumerate(labelled):
        if index:
            parts.append(_constant(separator, n_rows, dtype))
        if column is not None:
            parts += [_constant(prefix(label), n_rows, dtype), _cells(column, quote, dtype)]
    parts.append(_constant("\n", n_rows, dtype))
    matrix = np.concatenate(parts, axis=1)
    return matrix[matrix != 0]


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
    """Write ``chunks`` to ``path`` atomically (see :func:`agentax._files.atomic_file`)."""
    with atomic_file(path) as file:
        for chunk in chunks:
            file.write(chunk)


def scalar_items(
    name: str, block: LogBlock, column: np.ndarray
) -> Iterator[tuple[str, float, int]]:
    """``(tag, value, step)`` per number of a source's column: tag ``name/<agent_id>`` for a
    scalar source, ``name/<agent_id>/<i>`` for element ``i`` of an array-valued one."""
    agents = [str(agent) for agent in block.agent_id.tolist()]
    steps = block.step.tolist()
    if column.ndim == 1:
        for agent, value, step in zip(agents, column.tolist(), steps, strict=True):
            yield f"{name}/{agent}", value, step
        return
    for agent, row, step in zip(
        agents, column.reshape(len(column), -1).tolist(), steps, strict=True
    ):
        for index, value in enumerate(row):
            yield f"{name}/{agent}/{index}", value, step
