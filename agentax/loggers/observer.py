"""The facade's logging layer: which values each source names, buffered, handed out in blocks.

:class:`LogsObserver` owns one logger object per type. After each facade step it takes the
step's rows (one per stepped instance) as NumPy columns and buffers them; every few thousand
rows (or once a second) it merges consecutive steps into one :class:`~agentax.loggers.LogBlock`
per run of steps with the same columns and hands it to every logger. So stepping ``K``
instances at once costs a few array copies per step, not a Python loop over instances.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping
from itertools import groupby
from typing import Any

import numpy as np

from agentax.errors import LoggersFinishedError, LoggerTypeError, LogSourceError
from agentax.loggers.base import BaseLogger, LogBlock, Source, SourceType

__all__ = ["LogsObserver", "METRICS"]

METRICS = ("action", "reward", "cumulative", "propensity")
"""Metrics the facade computes: the new action, the ``reward`` observation, the sum of an
instance's rewards so far, and the probability the agent's policy gave the action (with
``RLib(record_propensity=True)``; a ``learn`` row has its decision's)."""

_FLUSH_ROWS = 4096
_FLUSH_SECONDS = 1.0


def _as_list(value: Any) -> list:
    """reinforced-lib's broadcasting: ``None`` is nothing, a list is many, anything else is one."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _check_source(source: Any) -> Source:
    if isinstance(source, str):
        return source
    if (
        isinstance(source, tuple)
        and len(source) == 2
        and isinstance(source[0], str)
        and isinstance(source[1], SourceType)
    ):
        return source
    raise LogSourceError(source, "is not a source", "a name or a (name, SourceType) pair")


class LogsObserver:
    """Builds the loggers, resolves the sources on the first step, buffers rows, flushes blocks.

    Args:
      logger_types: a :class:`~agentax.loggers.BaseLogger` subclass or a list of them (one
        object of each type is made, whatever the number of sources).
      logger_sources: a source or a list of sources, logged by every logger.
      logger_params: keyword arguments given to every logger's constructor.
    """

    def __init__(
        self, logger_types: Any, logger_sources: Any = None, logger_params: Mapping | None = None
    ) -> None:
        types = list(dict.fromkeys(_as_list(logger_types)))
        for logger_type in types:
            if not (inspect.isclass(logger_type) and issubclass(logger_type, BaseLogger)):
                raise LoggerTypeError(logger_type)
        self.sources: list[Source] = list(
            dict.fromkeys(_check_source(s) for s in _as_list(logger_sources))
        )
        self.loggers: list[BaseLogger] = [
            logger_type(**dict(logger_params or {})) for logger_type in types
        ]
        self._plan: list[tuple[Source, SourceType, str]] | None = None
        self._pending: list[LogBlock] = []
        self._pending_rows = 0
        self._flushed_at = time.monotonic()
        self._cumulative = np.zeros(0)
        self._started = self._finished = False

    # -- the facade's hook -------------------------------------------------------------

    def after_step(
        self,
        given: Mapping[str, Any],
        action: Any,
        agent_id: int | np.ndarray,
        steps: np.ndarray,
        read_state: Callable[[], Any],
        propensity: Any = None,
    ) -> None:
        """Buffer the rows of one facade step.

        Args:
          given: the raw observations given to ``sample``, by name.
          action: the actions returned (one, or stacked along the first axis for ``K`` ids).
          agent_id: the stepped instance (an ``int``), or a NumPy array of ``K`` of them.
          steps: every instance's step count, already counting this step.
          read_state: returns the stacked state of all instances; called only for STATE sources.
          propensity: the actions' propensities, or ``None`` when the facade does not record them.
        """
        if self._finished:
            return
        batched = isinstance(agent_id, np.ndarray)
        ids = agent_id.copy() if batched else np.array([agent_id])
        if self._plan is None:
            self._plan = self._resolve(given, read_state, propensity is not None)
            self._start()
        n_rows = len(ids)
        reward = _rows("reward", given["reward"], n_rows, batched) if "reward" in given else None
        state = cumulative = None
        values = {}
        for source, kind, name in self._plan:
            if kind is SourceType.STATE:
                state = read_state() if state is None else state
                values[source] = np.asarray(getattr(state, name)[ids])
            elif kind is SourceType.OBSERVATION:
                if name in given:
                    values[source] = _rows(name, given[name], n_rows, batched)
            elif name == "action":
                values[source] = _rows(name, action, n_rows, batched)
            elif name == "propensity" and propensity is not None:
                values[source] = _rows(name, propensity, n_rows, batched)
            elif reward is not None and name == "reward":
                values[source] = reward
            elif reward is not None:
                cumulative = self._accumulate(ids, reward) if cumulative is None else cumulative
                values[source] = cumulative
        self._pending.append(LogBlock(ids, steps[ids].reshape(-1), values))
        self._pending_rows += len(ids)
        if (
            self._pending_rows >= _FLUSH_ROWS
            or time.monotonic() - self._flushed_at >= _FLUSH_SECONDS
        ):
            self.flush()

    def _accumulate(self, ids: np.ndarray, reward: np.ndarray) -> np.ndarray:
        """Add each instance's reward to its running sum; return the sums of ``ids``."""
        if len(ids) == 1:  # one instance: scalar arithmetic is cheaper than fancy indexing
            index = int(ids[0])
            self._grow(index)
            self._cumulative[index] += reward.sum()
            return np.array([self._cumulative[index]])
        self._grow(int(ids.max()))
        self._cumulative[ids] += (
            reward if reward.ndim == 1 else reward.reshape(len(ids), -1).sum(axis=1)
        )
        return self._cumulative[ids]

    def _grow(self, index: int) -> None:
        if index >= len(self._cumulative):
            self._cumulative = np.concatenate(
                [self._cumulative, np.zeros(2 * index + 1 - len(self._cumulative))]
            )

    def _resolve(
        self, given: Mapping[str, Any], read_state: Callable[[], Any], propensity: bool
    ) -> list:
        """``(source, kind, name)`` per source: a plain name is an observation, a state field or a metric."""
        fields = set(read_state().keys())
        plan = []
        for source in self.sources:
            name, kind = (source, None) if isinstance(source, str) else source
            if kind is None:
                found = [
                    k
                    for k, known in (
                        (SourceType.OBSERVATION, given),
                        (SourceType.STATE, fields),
                        (SourceType.METRIC, METRICS),
                    )
                    if name in known
                ]
                if not found:
                    raise LogSourceError(
                        source,
                        "names no observation, state field or metric",
                        f"one of the given observations {sorted(given)}, the state fields {sorted(fields)} "
                        f"or the metrics {list(METRICS)}",
                    )
                kind = found[0]
            elif kind is SourceType.STATE and name not in fields:
                raise LogSourceError(
                    source, "is not a field of the agent's state", f"one of {sorted(fields)}"
                )
            elif kind is SourceType.METRIC and name not in METRICS:
                raise LogSourceError(source, "is not a metric", f"one of {list(METRICS)}")
            if kind is SourceType.METRIC and name == "propensity" and not propensity:
                raise LogSourceError(
                    source, "is not recorded by this facade", "RLib(..., record_propensity=True)"
                )
            plan.append((source, kind, name))
        return plan

    # -- custom values, flushing, the end ----------------------------------------------

    def log(self, name: str, value: Any) -> None:
        """Log a custom value with every logger (after the rows buffered so far)."""
        if self._finished:
            raise LoggersFinishedError()
        if not isinstance(name, str):
            raise LogSourceError(name, "is not a name", "a string naming the custom value")
        self._start()
        self.flush()
        for logger in self.loggers:
            _dispatch(logger, name, value)

    def flush(self) -> None:
        """Hand the buffered rows to the loggers, merged into as few blocks as possible."""
        pending, self._pending, self._pending_rows = self._pending, [], 0
        self._flushed_at = time.monotonic()
        for _, run in groupby(pending, key=_columns_key):
            block = _merge(list(run))
            for logger in self.loggers:
                logger.log_block(block)

    def finish(self) -> None:
        """Flush and finish every logger; later calls do nothing."""
        if self._finished:
            return
        self._start()
        self.flush()
        self._finished = True
        for logger in self.loggers:
            logger.finish()

    def _start(self) -> None:
        if not self._started:
            self._started = True
            for logger in self.loggers:
                logger.init(list(self.sources))


def _rows(name: str, value: Any, n_rows: int, batched: bool) -> np.ndarray:
    """``value`` as ``n_rows`` rows: per-instance values as given, a shared one repeated."""
    array = np.array(value)
    if array.dtype.kind not in "biuf":
        raise LogSourceError(
            name,
            f"has a value of type {type(value).__name__} ({array.dtype})",
            "numbers or arrays of numbers",
        )
    if not batched:
        return array[None]
    if array.shape[:1] == (n_rows,):
        return array
    return np.broadcast_to(array, (n_rows, *array.shape))


def _columns_key(block: LogBlock) -> tuple:
    return block.agent_id.dtype, tuple((s, v.shape[1:], v.dtype) for s, v in block.values.items())


def _merge(blocks: list[LogBlock]) -> LogBlock:
    if len(blocks) == 1:
        return blocks[0]
    return LogBlock(
        np.concatenate([b.agent_id for b in blocks]),
        np.concatenate([b.step for b in blocks]),
        {source: np.concatenate([b.values[source] for b in blocks]) for source in blocks[0].values},
    )


def _dispatch(logger: BaseLogger, name: str, value: Any) -> None:
    """Call the ``log_*`` method that fits ``value`` (reinforced-lib's rule), with ``custom=True``."""
    if isinstance(value, Mapping):
        logger.log_dict(name, dict(value), True)
        return
    array = np.asarray(value) if not isinstance(value, str) else None
    if array is not None and array.dtype.kind in "biuf":
        if array.ndim == 0:
            logger.log_scalar(name, array.item(), True)
        else:
            logger.log_array(name, array, True)
    else:
        logger.log_other(name, value, True)
