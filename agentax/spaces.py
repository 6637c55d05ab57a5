"""Gymnasium spaces as agentax reads them: matching, conversion of observations, examples.

Conventions (shared with reinforced-lib, so its agents' spaces mean the same here):

* a :class:`~gymnasium.spaces.Box` of shape ``(1,)`` or a ``MultiBinary(1)`` describes a
  *scalar* (a number or a flag): a value of shape ``()`` or ``(1,)`` is accepted and the agent
  receives shape ``()``;
* floating Boxes become ``float32`` and integer spaces ``int32`` (JAX's default precision), so a
  Python float and a NumPy float64 give the same compiled program.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import jax
import numpy as np

from agentax.errors import ObservationError, UnsupportedSpaceError

__all__ = [
    "array_shape",
    "array_dtype",
    "compatible",
    "to_array",
    "converter",
    "example",
]

_LEAVES = (gym.spaces.Box, gym.spaces.Discrete, gym.spaces.MultiBinary, gym.spaces.MultiDiscrete)


def _is_scalar(space: gym.spaces.Space) -> bool:
    return isinstance(space, (gym.spaces.Box, gym.spaces.MultiBinary)) and space.shape == (1,)


def array_shape(space: gym.spaces.Space) -> tuple[int, ...]:
    """Shape of the array an agent receives for one value of ``space``."""
    if isinstance(space, gym.spaces.Discrete) or _is_scalar(space):
        return ()
    if isinstance(space, _LEAVES):
        return tuple(space.shape)
    raise UnsupportedSpaceError("an observation", space)


def array_dtype(space: gym.spaces.Space) -> np.dtype:
    """Dtype of the array an agent receives for ``space`` (JAX's canonical precision)."""
    if isinstance(space, gym.spaces.Box) and np.issubdtype(space.dtype, np.floating):
        return np.dtype(jax.dtypes.canonicalize_dtype(np.float64))
    if isinstance(space, gym.spaces.Box) and space.dtype == np.bool_:
        return np.dtype(np.bool_)
    if isinstance(space, _LEAVES):
        return np.dtype(jax.dtypes.canonicalize_dtype(np.int64))
    raise UnsupportedSpaceError("an observation", space)


def compatible(provided: gym.spaces.Space | None, expected: gym.spaces.Space | None) -> bool:
    """Whether values of ``provided`` can be given where ``expected`` is required.

    ``None`` on either side means "not described" and matches anything. Leaves match when they
    are of one kind and give arrays of one shape, and an integer value may feed a float Box;
    Dict and Tuple spaces match key by key (the provided Dict may have more keys).
    """
    if provided is None or expected is None:
        return True
    if isinstance(expected, gym.spaces.Dict):
        return isinstance(provided, gym.spaces.Dict) and all(
            name in provided.spaces and compatible(provided[name], sub)
            for name, sub in expected.spaces.items()
        )
    if isinstance(expected, gym.spaces.Tuple):
        return (
            isinstance(provided, gym.spaces.Tuple)
            and len(provided.spaces) == len(expected.spaces)
            and all(compatible(p, e) for p, e in zip(provided.spaces, expected.spaces))
        )
    if type(provided) is not type(expected) or array_shape(provided) != array_shape(expected):
        return False
    if isinstance(expected, gym.spaces.Discrete):
        return provided.start >= expected.start and provided.start + provided.n <= expected.start + expected.n
    if isinstance(expected, gym.spaces.Box):
        floating = np.issubdtype(expected.dtype, np.floating)
        return floating or not np.issubdtype(provided.dtype, np.floating)
    return True


def _bounds(space: gym.spaces.Space) -> tuple[Any, Any] | None:
    if isinstance(space, gym.spaces.Discrete):
        return space.start, space.start + space.n - 1
    if isinstance(space, gym.spaces.MultiBinary):
        return (0, 1)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return space.start, space.start + space.nvec - 1
    if isinstance(space, gym.spaces.Box):
        low, high = space.low, space.high
        return (low.reshape(()), high.reshape(())) if space.shape == (1,) else (low, high)
    return None


def to_array(name: str, value: Any, space: gym.spaces.Space, batch: int | None = None) -> np.ndarray:
    """Check one observation against its space and return it as an array for the agent.

    Args:
      name: the observation's name, for error messages.
      value: what the user gave (a number, a sequence, a NumPy or JAX array).
      space: the leaf space it must belong to.
      batch: ``None`` for one instance; ``K`` when ``K`` instances are stepped together, in which
        case ``value`` has a leading axis of ``K`` or is one value shared by all.

    Returns:
      A NumPy array of shape ``array_shape(space)`` (with ``(K,)`` in front when batched) and dtype
      ``array_dtype(space)``.

    Raises:
      ObservationError: the value is not numeric, has the wrong shape, is fractional where an
        integer is expected, or lies outside the space's bounds (NaN included).
    """
    return converter(name, space, batch)(value)


def converter(name: str, space: gym.spaces.Space, batch: int | None = None) -> Callable[[Any], np.ndarray]:
    """:func:`to_array` for one name and space, with the space's properties worked out once.

    The facade builds one per observation and calls it at every step; a Python number for a
    scalar space takes a short path.
    """
    shape, dtype, bounds = array_shape(space), array_dtype(space), _bounds(space)
    low, high = bounds if bounds is not None else (-np.inf, np.inf)
    scalar_fast = batch is None and shape == () and dtype.kind in "fi"
    scalar_low, scalar_high = (float(low), float(high)) if scalar_fast else (None, None)
    python_type = float if dtype.kind == "f" else int
    numpy_type = dtype.type

    def fail(problem: str, expected: object) -> None:
        raise ObservationError(name, problem, expected)

    def convert(value: Any) -> np.ndarray:
        if scalar_fast and (type(value) is python_type or type(value) is int):
            if not scalar_low <= value <= scalar_high:
                fail(f"is out of bounds or NaN ({value!r})", f"a value in {space}")
            return numpy_type(value)
        try:
            array = np.asarray(value)
        except Exception as error:  # objects NumPy cannot read, e.g. ragged lists
            fail(f"cannot be read as an array ({error})", space)
        if array.dtype.kind not in "biuf":
            fail(f"is not numeric (got {type(value).__name__} {value!r:.60})", space)
        array = _fit_shape(name, array, space, shape, batch)
        if array.dtype.kind == "f" and dtype.kind in "iu" and not np.all(np.mod(array, 1) == 0):
            fail(f"is fractional ({value!r:.60})", f"an integer in {space}")
        if bounds is not None and not np.all((array >= low) & (array <= high)):
            fail(f"is out of bounds or NaN ({value!r:.60})", f"a value in {space}")
        return array.astype(dtype, copy=False)

    return convert


def _fit_shape(name, array, space, shape, batch):
    scalar_box = _is_scalar(space)
    if batch is None:
        if array.shape == shape:
            return array
        if scalar_box and array.shape == (1,):
            return array.reshape(())
        raise ObservationError(name, f"has shape {array.shape}", f"shape {shape} for {space}")
    if array.shape == (batch, *shape):
        return array
    if scalar_box and array.shape == (batch, 1):
        return array.reshape(batch)
    if array.shape == shape or (scalar_box and array.shape == (1,)):
        return np.broadcast_to(array.reshape(shape), (batch, *shape))
    raise ObservationError(
        name, f"has shape {array.shape}", f"shape {(batch, *shape)} for {batch} instances (or {shape}, shared)"
    )


def example(space: gym.spaces.Space, seed: int = 0) -> Any:
    """A valid value of ``space``, converted as the facade would pass it to an agent.

    Dict and Tuple spaces give dicts and tuples. Useful to build test inputs for an agent.
    """
    rng = np.random.default_rng(seed)
    if isinstance(space, gym.spaces.Dict):
        return {name: example(sub, seed + i) for i, (name, sub) in enumerate(space.spaces.items())}
    if isinstance(space, gym.spaces.Tuple):
        return tuple(example(sub, seed + i) for i, sub in enumerate(space.spaces))
    low, high = _bounds(space)
    shape = array_shape(space)
    low = np.broadcast_to(np.maximum(low, -10.0), shape)
    high = np.broadcast_to(np.minimum(high, 10.0), shape)
    value = rng.uniform(low, np.maximum(high, low), size=shape)
    if array_dtype(space).kind in "iub":
        value = rng.integers(np.ceil(low).astype(np.int64), np.floor(high).astype(np.int64) + 1, size=shape)
    return to_array("example", value, space)
