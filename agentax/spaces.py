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
    "converter",
    "example",
    "value_bounds",
    "out_of_bounds_message",
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
            and all(compatible(p, e) for p, e in zip(provided.spaces, expected.spaces, strict=True))
        )
    if type(provided) is not type(expected) or array_shape(provided) != array_shape(expected):
        return False
    if isinstance(expected, gym.spaces.Discrete):
        return (
            provided.start >= expected.start
            and provided.start + provided.n <= expected.start + expected.n
        )
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


def converter(
    name: str, space: gym.spaces.Space, batch: int | None = None
) -> Callable[[Any], np.ndarray]:
    """The function that checks one observation against its space and returns it as an array.

    The space's properties are worked out once: the facade builds one converter per observation
    and calls it at every step; a Python number (or bool, for a flag) for a scalar space takes a short path.

    Args:
      name: the observation's name, for error messages.
      space: the leaf space it must belong to.
      batch: ``None`` for one instance; ``K`` when ``K`` instances are stepped together, in which
        case the value has a leading axis of ``K`` or is one value shared by all.

    Returns:
      A function of what the user gave (a number, a sequence, a NumPy or JAX array) to a NumPy
      array of shape ``array_shape(space)`` (with ``(K,)`` in front when batched) and dtype
      ``array_dtype(space)``.

    Raises:
      ObservationError: (from the returned function) the value is not numeric, has the wrong
        shape, is fractional where an integer is expected, or lies outside the space's bounds (NaN
        included).
    """
    shape, dtype = array_shape(space), array_dtype(space)
    low, high = value_bounds(space)
    scalar_fast = batch is None and shape == () and dtype.kind in "fi"
    scalar_low, scalar_high = (low.item(), high.item()) if scalar_fast else (None, None)
    python_type = float if dtype.kind == "f" else int
    numpy_type = dtype.type
    flag_fast = (
        batch is None and shape == () and dtype.kind == "b"
    )  # a Python bool for a flag: nothing to check

    def fail(problem: str, expected: object) -> None:
        raise ObservationError(name, problem, expected)

    def convert(value: Any) -> np.ndarray:
        if scalar_fast and (type(value) is python_type or type(value) is int):
            if not scalar_low <= value <= scalar_high:
                fail(*out_of_bounds_message(value, low, high, space))
            return numpy_type(value)
        if flag_fast and type(value) is bool:
            return np.bool_(value)
        try:
            array = np.asarray(value)
        except Exception as error:  # objects NumPy cannot read, e.g. ragged lists
            fail(f"cannot be read as an array ({error})", space)
        if (
            array.dtype.kind == "O"
            and array.size
            and all(isinstance(item, int) for item in array.flat)
        ):
            fail(
                *out_of_bounds_message(max(array.flat, key=abs), low, high, space)
            )  # beyond 64 bits
        if array.dtype.kind not in "biuf":
            fail(f"is not numeric (got {type(value).__name__} {value!r:.60})", space)
        array = _fit_shape(name, array, space, shape, batch)
        if array.dtype.kind == "f" and dtype.kind in "iub" and not np.all(np.mod(array, 1) == 0):
            fail(f"is fractional ({value!r:.60})", f"an integer in {space}")
        within = (array >= low) & (array <= high)
        if not np.all(within):
            fail(
                *out_of_bounds_message(
                    array[~within].flat[0], *_first_bound(low, high, within), space
                )
            )
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
        name,
        f"has shape {array.shape}",
        f"shape {(batch, *shape)} for {batch} instances (or {shape}, shared)",
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
        value = rng.integers(
            np.ceil(low).astype(np.int64), np.floor(high).astype(np.int64) + 1, size=shape
        )
    return converter("example", space)(value)


def value_bounds(space: gym.spaces.Space) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest value an agent may receive for a leaf ``space``, as arrays.

    The space's bounds, narrowed to what its array dtype (:func:`array_dtype`) holds: a float
    must be finite in float32 (so ``1e300``, which would become ``inf``, is out of bounds), an
    integer must fit int32 (so ``2**31`` cannot wrap around to a negative count), a flag is 0 or 1.
    Both arrays have the space's shape (:func:`array_shape`) and ``float64`` or ``int64`` dtype.
    """
    dtype, shape = array_dtype(space), array_shape(space)
    if dtype.kind == "b":
        return np.zeros(shape, np.int64), np.ones(shape, np.int64)
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    work = np.float64 if dtype.kind == "f" else np.int64
    low, high = _bounds(space)
    low = np.maximum(np.asarray(low, np.float64), float(info.min))
    high = np.minimum(np.asarray(high, np.float64), float(info.max))
    if dtype.kind != "f":
        low, high = np.ceil(low), np.floor(high)
    return np.broadcast_to(low, shape).astype(work), np.broadcast_to(high, shape).astype(work)


def out_of_bounds_message(
    value: Any, low: Any, high: Any, space: gym.spaces.Space
) -> tuple[str, str]:
    """``(problem, expected)`` of the :class:`ObservationError` for one value outside ``[low, high]``."""
    value = value.item() if isinstance(value, np.generic) else value
    kind = (
        "is out of bounds or NaN"
        if isinstance(value, float) and np.isnan(value)
        else "is out of bounds"
    )
    low, high = _number(np.min(low).item()), _number(np.max(high).item())
    return (
        f"{kind} ({value!r:.60})",
        f"a value in [{low}, {high}] ({space} as {array_dtype(space)})",
    )


def _number(x: float | int) -> str:
    return repr(x) if isinstance(x, int) else f"{x:.8g}"


def _first_bound(low: np.ndarray, high: np.ndarray, within: np.ndarray) -> tuple[Any, Any]:
    """The bounds of the first element that is not ``within`` them (broadcast over a batch)."""
    index = np.unravel_index(np.argmin(within), within.shape)[-low.ndim :] if low.ndim else ()
    return low[index], high[index]
