"""The logger interface: sources, blocks of logged rows, and :class:`BaseLogger`.

A *source* names what to log: a raw observation given to :meth:`agentax.RLib.sample`, a field
of the agent's state, or a metric the facade computes (``action``, ``reward``, ``cumulative``,
``propensity``).
The facade buffers what each step produced in NumPy and hands it to every logger in blocks
(:class:`LogBlock`): row ``r`` of a block is instance ``agent_id[r]`` at its step ``step[r]``.
The per-value methods (``log_scalar``, ``log_array``, ``log_dict``, ``log_other``) are
reinforced-lib's, so a logger written for reinforced-lib works unchanged.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentax.errors import UnsupportedLogTypeError

__all__ = ["SourceType", "Source", "LogBlock", "BaseLogger"]


class SourceType(enum.Enum):
    """Where a source's values come from."""

    OBSERVATION = 0  #: a raw observation given to ``RLib.sample``
    STATE = 1  #: a field of the agent's state after the step
    METRIC = 2  #: ``action``, ``reward``, ``cumulative`` (the reward summed per instance) or ``propensity``


Source = tuple[str, SourceType] | str | None
"""A source name (looked up among observations, then state fields, then metrics) or a
``(name, SourceType)`` pair; ``None`` for a custom value logged with ``RLib.log``."""


@dataclass(slots=True)
class LogBlock:
    """Rows logged together: row ``r`` is instance ``agent_id[r]`` after its ``step[r]``-th step.

    Attributes:
      agent_id: shape ``(R,)``, the instance of each row (integers, or names such as agent types).
      step: shape ``(R,)``, the instance's step count when the row was logged (1 after its first
        ``sample``).
      values: for each source, an array of shape ``(R, ...)`` (``(R,)`` for a scalar source, ``(R,
        n)`` for a per-arm value). A source missing from a block was not available at those steps.
    """

    agent_id: np.ndarray
    step: np.ndarray
    values: Mapping[Source, np.ndarray]

    def __len__(self) -> int:
        return len(self.step)


class BaseLogger:
    """Base class of loggers: override the methods for the kinds of values the logger writes.

    The facade builds one object of each logger type with all of ``logger_params`` as keyword
    arguments (so a logger ignores the ones it does not know, through ``**kwargs``), calls
    :meth:`init` with the sources once, :meth:`log_block` with the rows of many steps, the
    ``log_*`` methods with custom values (``custom=True``), and :meth:`finish` once at the end.

    A logger written for reinforced-lib overrides only the ``log_*`` methods: the default
    :meth:`log_block` calls them row by row (``custom=False``). Loggers that keep up with many
    instances override :meth:`log_block` and work on whole columns.
    """

    def __init__(self, **kwargs: Any) -> None:
        del kwargs  # parameters of other loggers

    def init(self, sources: list[Source]) -> None:
        """Prepare for logging ``sources``; called once before the first value."""

    def finish(self) -> None:
        """Write what is left and release files; called once at the end."""

    def log_block(self, block: LogBlock) -> None:
        """Log rows of values of many instances and steps (by default through the ``log_*`` methods)."""
        for row in range(len(block)):
            for source, column in block.values.items():
                value = column[row]
                if value.ndim == 0:
                    self.log_scalar(source, value.item(), False)
                else:
                    self.log_array(source, value, False)

    def log_scalar(self, source: Source, value: float, custom: bool) -> None:
        """Log one number."""
        raise UnsupportedLogTypeError(type(self), type(value))

    def log_array(self, source: Source, value: np.ndarray, custom: bool) -> None:
        """Log an array (for example a per-arm value)."""
        raise UnsupportedLogTypeError(type(self), type(value))

    def log_dict(self, source: Source, value: dict, custom: bool) -> None:
        """Log a dictionary."""
        raise UnsupportedLogTypeError(type(self), type(value))

    def log_other(self, source: Source, value: Any, custom: bool) -> None:
        """Log any other value."""
        raise UnsupportedLogTypeError(type(self), type(value))

    @staticmethod
    def source_to_name(source: Source) -> str:
        """``"name"`` for a plain source, ``"name-kind"`` for ``(name, SourceType.KIND)``."""
        if isinstance(source, tuple):
            return f"{source[0]}-{source[1].name.lower()}"
        return source
