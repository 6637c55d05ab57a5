"""Observation inference: how the facade fills in the observations an agent needs.

For each observation the agent's ``update`` or ``sample`` space names, in this order:

1. a value given under that name (``rl.sample(reward=1.0)``, or in ``update_observations`` /
   ``sample_observations``);
2. the extension's ``@observation`` method of that name, with its parameters filled by name
   from the given values and the last action;
3. ``action`` (``actions`` for agents over vector environments): the last action the instance took;
4. a value found under that name inside a given nested Dict or Tuple observation;
5. for a Dict the agent needs, each of its entries by the same rules.

An observation whose parameter in the agent's method has a default is optional: when none of
the above supplies it, the default applies. Anything else is an error that names the observation. The plan is worked out in Python once per
set of given names; the returned ``build`` function runs inside the compiled step.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import gymnasium as gym
import numpy as np

from agentax.errors import IncompatibleSpacesError, MissingObservationError, ObservationError
from agentax.extensions.base import provided_space
from agentax.spaces import compatible, converter

__all__ = ["ObservationPlan", "plan_observations", "make_converter"]

Source = Callable[[Mapping[str, Any], Any], Any]


class ObservationPlan:
    """Where each observation of one agent method comes from.

    Attributes:
      raw_spaces: the given values the plan reads, by name, with the space each must belong to
        (``None``: any numeric array).
      build: ``build(raw, last_action) -> dict`` of the agent method's keyword arguments; pure, so
        it can run under :func:`jax.jit` and :func:`jax.vmap`.
    """

    def __init__(self, raw_spaces: dict[str, gym.spaces.Space | None], build: Callable) -> None:
        self.raw_spaces = raw_spaces
        self.build = build


def make_converter(name: str, space: gym.spaces.Space | None, batch: int | None) -> Callable[[Any], Any]:
    """A function that checks and converts one given value (a tree for Dict/Tuple spaces).

    Leaves go through :func:`agentax.spaces.converter`; ``space=None`` accepts any numeric array
    (float64 becomes float32).
    """
    if isinstance(space, gym.spaces.Dict):
        children = {key: make_converter(f"{name}.{key}", sub, batch) for key, sub in space.spaces.items()}

        def convert_dict(value):
            if not isinstance(value, Mapping):
                raise ObservationError(name, f"is a {type(value).__name__}", f"a dict for {space}")
            missing = [key for key in children if key not in value]
            if missing:
                raise ObservationError(name, f"lacks the entries {missing}", f"a dict for {space}")
            return {key: child(value[key]) for key, child in children.items()}

        return convert_dict
    if isinstance(space, gym.spaces.Tuple):
        items = [make_converter(f"{name}[{i}]", sub, batch) for i, sub in enumerate(space.spaces)]

        def convert_tuple(value):
            if not isinstance(value, (tuple, list)) or len(value) != len(items):
                raise ObservationError(name, f"is {type(value).__name__} {value!r:.60}", f"a tuple for {space}")
            return tuple(item(v) for item, v in zip(items, value))

        return convert_tuple
    if space is None:
        return partial(_any_numeric, name)
    return converter(name, space, batch)


def _any_numeric(name: str, value: Any) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise ObservationError(name, f"is not numeric (got {type(value).__name__})", "a number or an array")
    return array.astype(np.float32) if array.dtype == np.float64 else array


def _find_path(space: gym.spaces.Space, name: str, path: tuple = ()) -> list[tuple]:
    """Every path to an entry called ``name`` inside nested Dict/Tuple ``space``."""
    found = []
    children = space.spaces.items() if isinstance(space, gym.spaces.Dict) else (
        enumerate(space.spaces) if isinstance(space, gym.spaces.Tuple) else ()
    )
    for key, sub in children:
        if key == name and path:
            found.append((*path, key))
        found.extend(_find_path(sub, name, (*path, key)))
    return found


class _Planner:
    """Builds the sources of one agent method's observations."""

    def __init__(self, ext, given: Mapping[str, gym.spaces.Space | None], where: str, optional=frozenset()) -> None:
        self.functions = ext.observation_functions if ext is not None else {}
        self.optional = optional
        self.ext_name = type(ext).__name__ if ext is not None else "no extension"
        self.given = given
        self.where = where
        self.raw_spaces: dict[str, gym.spaces.Space | None] = {}

    def read(self, name: str, space: gym.spaces.Space | None) -> Source:
        if space is not None or name not in self.raw_spaces:
            self.raw_spaces[name] = space
        return lambda raw, action: raw[name]

    def source(self, name: str, expected: gym.spaces.Space | None) -> Source:
        if name in self.given:
            provided = self.given[name]
            if not compatible(provided, expected):
                raise IncompatibleSpacesError(f"observation {name!r} for {self.where}", provided, expected)
            return self.read(name, provided if provided is not None else expected)
        if name in self.functions:
            return self.function_source(name, expected)
        if name in ("action", "actions"):
            return lambda raw, action: action
        nested = [(top, path) for top, space in self.given.items() if space is not None
                  for path in _find_path(space, name, (top,))]
        if len(nested) == 1:
            return self.nested_source(*nested[0], expected)
        if isinstance(expected, gym.spaces.Dict):
            children = {key: self.source(key, sub) for key, sub in expected.spaces.items()}
            return lambda raw, action: {key: child(raw, action) for key, child in children.items()}
        if name in self.optional:
            return None
        raise MissingObservationError(name, self.where, self.missing_hint(nested))

    def missing_hint(self, nested: list) -> str:
        if nested:
            return f"{len(nested)} given observations contain it ({[p for _, p in nested]}); pass it by name"
        hint = f"pass it by name; given: {sorted(self.given) or 'nothing'}"
        if self.functions:
            hint += f"; {self.ext_name} computes: {sorted(self.functions)}"
        return hint

    def nested_source(self, top: str, path: tuple, expected) -> Source:
        provided = self.given[top]
        for key in path[1:]:
            provided = provided[key]
        if not compatible(provided, expected):
            raise IncompatibleSpacesError(f"observation {path} for {self.where}", provided, expected)
        read = self.read(top, self.given[top])

        def extract(raw, action):
            value = read(raw, action)
            for key in path[1:]:
                value = value[key]
            return value

        return extract

    def function_source(self, name: str, expected) -> Source:
        function = self.functions[name]
        provided = provided_space(function)
        if not compatible(provided, expected):
            raise IncompatibleSpacesError(f"{self.ext_name}.{name} for {self.where}", provided, expected)
        arguments = {}
        takes_all = False
        for param in inspect.signature(function).parameters.values():
            if param.kind is param.VAR_KEYWORD:
                takes_all = True
            elif param.kind is not param.VAR_POSITIONAL:
                if param.name in self.given:
                    arguments[param.name] = self.read(param.name, self.given[param.name])
                elif param.name == "action":
                    arguments[param.name] = lambda raw, action: action
                elif param.default is param.empty:
                    raise MissingObservationError(
                        param.name, f"{self.ext_name}.{name} (to compute {name!r} for {self.where})",
                        f"given: {sorted(self.given) or 'nothing'}",
                    )
        if takes_all:
            for other, space in self.given.items():
                arguments.setdefault(other, self.read(other, space))
        return lambda raw, action: function(**{key: get(raw, action) for key, get in arguments.items()})


def optional_observations(function: Callable | None) -> frozenset[str]:
    """Names of ``function``'s parameters that have a default: observations that may be absent."""
    if function is None:
        return frozenset()
    parameters = inspect.signature(function).parameters.values()
    return frozenset(p.name for p in parameters if p.default is not p.empty)


def plan_observations(
    agent_space: gym.spaces.Space | None,
    ext,
    given: Mapping[str, gym.spaces.Space | None],
    where: str,
    agent_function: Callable | None = None,
) -> ObservationPlan:
    """Work out where each observation in ``agent_space`` comes from.

    Args:
      agent_space: the agent's ``update_observation_space`` or ``sample_observation_space``
        (a Dict; ``None`` passes every given value through by name).
      ext: the extension, or ``None``.
      given: the names of the values given at the call, with their spaces (``None``: unknown).
      where: what needs the observations, for error messages (e.g. ``"UCB.update"``).
      agent_function: the agent method the observations are for; an observation whose parameter
        has a default there is optional: when nothing supplies it, it is left out.

    Raises:
      MissingObservationError, IncompatibleSpacesError: at planning time, naming the observation.
    """
    planner = _Planner(ext, given, where, optional_observations(agent_function))
    if agent_space is None:
        sources = {name: planner.read(name, space) for name, space in given.items()}
    elif isinstance(agent_space, gym.spaces.Dict):
        sources = {name: planner.source(name, sub) for name, sub in agent_space.spaces.items()}
        sources = {name: source for name, source in sources.items() if source is not None}
    else:
        raise IncompatibleSpacesError(where, agent_space, "a gymnasium.spaces.Dict of named observations")

    def build(raw: Mapping[str, Any], action: Any) -> dict[str, Any]:
        return {name: source(raw, action) for name, source in sources.items()}

    return ObservationPlan(planner.raw_spaces, build)
