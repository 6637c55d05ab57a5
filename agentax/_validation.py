"""Hyperparameter validation: the ``check_*`` functions and the declarative parameter tables.

An agent declares its hyperparameters once, in a table of :class:`Int`, :class:`Real`,
:class:`Flag`, :class:`ArrayShape` and :class:`Reals` entries (``PARAMETERS``). The table is the one
source of its :meth:`~agentax.agents.BaseAgent.parameter_space` (:func:`parameter_space`) and of
the checks of its constructor (:func:`validate`), so the two cannot drift apart. A bound may be
closed or open, and may name another parameter of the table (``Real(0.0, "e")``: at most ``e``).

Every check raises :class:`ValueError` that names the parameter, its value and what was expected,
at construction time and in Python, never as an ``assert`` that ``python -O`` would drop.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

__all__ = [
    "Flag",
    "Int",
    "Real",
    "Reals",
    "ArrayShape",
    "check_module",
    "check_positive_int",
    "check_range",
    "check_shape",
    "declared",
    "parameter_space",
    "validate",
]

Bound = float | str  # a number, or the name of another parameter whose value is the bound


def check_positive_int(name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` if it is a whole number ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_range(
    name: str,
    value: object,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a ``float`` if it lies in the interval from ``low`` to ``high``.

    ``low_open``/``high_open`` exclude the bound. NaN is always rejected.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if math.isnan(value) or too_low or too_high:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return value


def check_shape(name: str, value: object, minimum: int = 0) -> tuple[int, ...]:
    """Return ``value`` as a tuple of ``int`` if it is a sequence of integers ``>= minimum``."""
    dims = (
        list(value)
        if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str)
        else None
    )
    if dims is None or not all(
        isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= minimum for d in dims
    ):
        raise ValueError(f"{name} must be a sequence of integers >= {minimum}, got {value!r}")
    return tuple(int(d) for d in dims)


def check_module(name: str, value: object) -> None:
    """Raise ``ValueError`` unless ``value`` is a :class:`flax.linen.Module` object (a network)."""
    from flax import linen as nn

    if not isinstance(value, nn.Module):
        raise ValueError(
            f"{name} must be a flax.linen.Module object (e.g. MyNetwork()), got {value!r}"
        )


@dataclasses.dataclass(frozen=True)
class Real:
    """A real hyperparameter in the interval from ``low`` to ``high``, each end closed unless
    ``low_open``/``high_open``. An infinite end is always open: the value must be finite.

    A bound given as a string is the value of that (earlier validated) parameter.
    """

    low: Bound = -math.inf
    high: Bound = math.inf
    low_open: bool = False
    high_open: bool = False

    def check(self, name: str, value: object, values: Mapping[str, Any]) -> float:
        low, high = _resolve(self.low, values), _resolve(self.high, values)
        return check_range(
            name,
            value,
            low,
            high,
            low_open=self.low_open or low == -math.inf,
            high_open=self.high_open or high == math.inf,
        )

    def space(self, table: Mapping[str, Any]) -> gym.spaces.Box:
        low, high = _space_bound(self.low, table, "low"), _space_bound(self.high, table, "high")
        return gym.spaces.Box(low, high, (1,), float)


@dataclasses.dataclass(frozen=True)
class Int:
    """An integer hyperparameter ``>= low``, and ``<= high`` (``< high`` if ``high_open``) when
    ``high`` is given."""

    low: Bound = 1
    high: Bound | None = None
    high_open: bool = False

    def check(self, name: str, value: object, values: Mapping[str, Any]) -> int:
        low = _resolve(self.low, values)
        value = check_positive_int(name, value, low)
        high = None if self.high is None else _resolve(self.high, values)
        if high is not None and (value >= high if self.high_open else value > high):
            limit = f"{self.high}={high}" if isinstance(self.high, str) else high
            raise ValueError(
                f"{name} must be {'below' if self.high_open else 'at most'} {limit}, got {value!r}"
            )
        return value

    def space(self, table: Mapping[str, Any]) -> gym.spaces.Box:
        return gym.spaces.Box(_space_bound(self.low, table, "low"), math.inf, (1,), int)


@dataclasses.dataclass(frozen=True)
class Flag:
    """A boolean hyperparameter (``True``/``False``, or the integers 0 and 1)."""

    def check(self, name: str, value: object, values: Mapping[str, Any]) -> bool:
        flag = isinstance(value, (bool, np.bool_))
        if not flag and not (isinstance(value, numbers.Integral) and value in (0, 1)):
            raise ValueError(f"{name} must be True or False, got {value!r}")
        return bool(value)

    def space(self, table: Mapping[str, Any]) -> gym.spaces.MultiBinary:
        return gym.spaces.MultiBinary(1)


@dataclasses.dataclass(frozen=True)
class ArrayShape:
    """An array shape: a sequence of integers ``>= 1``; an integer ``n`` means ``(n,)`` (as in
    reinforced-lib)."""

    def check(self, name: str, value: object, values: Mapping[str, Any]) -> tuple[int, ...]:
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            value = (value,)
        return check_shape(name, value, minimum=1)

    def space(self, table: Mapping[str, Any]) -> gym.spaces.Sequence:
        return gym.spaces.Sequence(gym.spaces.Box(1, math.inf, (1,), int))


@dataclasses.dataclass(frozen=True)
class Reals:
    """A number or an array of numbers (per-dimension action bounds), checked where it is used."""

    def check(self, name: str, value: object, values: Mapping[str, Any]) -> object:
        return value

    def space(self, table: Mapping[str, Any]) -> gym.spaces.Sequence:
        return gym.spaces.Sequence(gym.spaces.Box(-math.inf, math.inf, (1,), float))


Parameter = Real | Int | Flag | ArrayShape | Reals


def parameter_space(table: Mapping[str, Parameter]) -> gym.spaces.Dict:
    """The :class:`gymnasium.spaces.Dict` of a parameter table (a bound naming another parameter
    becomes that parameter's own bound on the same side)."""
    return gym.spaces.Dict({name: entry.space(table) for name, entry in table.items()})


def validate(table: Mapping[str, Parameter], **values: object) -> dict[str, Any]:
    """Check constructor arguments against ``table`` and return them converted, in the order given.

    They are checked in ``table``'s order, so a bound naming another parameter sees its checked
    value.

    Raises:
      ValueError: an argument lies outside its range (the message names it and the range), or
        is not in ``table``.
    """
    unknown = set(values) - set(table)
    if unknown:
        raise ValueError(f"no range declared for {sorted(unknown)}; declared: {list(table)}")
    checked: dict[str, Any] = {}
    for name, entry in table.items():
        if name in values:
            checked[name] = entry.check(name, values[name], checked)
    return {name: checked[name] for name in values}


def declared(
    table: Mapping[str, Parameter], arguments: Mapping[str, Any], *, skip: Sequence[str] = ()
) -> dict[str, Any]:
    """The ``arguments`` of a constructor (its ``locals()``) that ``table`` declares, but those in
    ``skip``, to give to :func:`validate`."""
    return {name: arguments[name] for name in table if name in arguments and name not in skip}


def _resolve(bound: Bound, values: Mapping[str, Any]) -> float:
    return values[bound] if isinstance(bound, str) else bound


def _space_bound(bound: Bound, table: Mapping[str, Parameter], side: str) -> float:
    return getattr(table[bound], side) if isinstance(bound, str) else bound
