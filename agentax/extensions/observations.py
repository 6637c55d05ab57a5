"""How the facade works out the observations an agent needs from what it is given and the extension.

For each observation the agent's ``update`` or ``sample`` space names, in this order:

1. a value given under that name (``rl.sample(reward=1.0)``, or in ``update_observations`` /
   ``sample_observations``);
2. the extension's ``@observation`` method of that name, with its parameters filled by name
   from the given values and the last action, and positionally from the positional values the
   extension does not name (in order, as many as it takes; all of them with ``*args``);
3. ``action`` (``actions`` for agents over vector environments): the last action the instance took;
4. a value found under that name inside a given nested Dict or Tuple observation;
5. for a Dict the agent needs, each of its entries by the same rules.

An observation whose parameter in the agent's method has a default is optional: when none of
the above supplies it, the default applies. Anything else is an error that names the
observation. The plan is worked out in Python once per set of given names; the returned
``build`` function runs inside the compiled step.

An observation method that is *eager* (declared with ``@observation(eager=True)``, or found
untraceable at the first call) does not run inside ``build``: the plan lists it in ``eager``, the
facade calls it on host values before the compiled step and passes its result in under the
method's name. A traced method that raises is reported as an
:class:`~agentax.errors.ExtensionMethodError` naming it; one that JAX cannot trace as a
:class:`NotTraceableError`, which the facade answers by switching it to eager.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Collection, Mapping
from functools import partial
from typing import Any

import gymnasium as gym
import jax
import numpy as np

from agentax.errors import (
    AgentaxError,
    ExtensionMethodError,
    IncompatibleSpacesError,
    MissingObservationError,
    ObservationError,
)
from agentax.extensions.base import provided_space
from agentax.spaces import compatible, converter

__all__ = [
    "ObservationPlan",
    "EagerCall",
    "NotTraceableError",
    "plan_observations",
    "make_converter",
    "positional_key",
]

Source = Callable[[Mapping[str, Any], Any], Any]

_POSITIONAL = "args["
# What JAX raises when Python needs a concrete value from a traced one: float(x), int(x),
# np.asarray(x), `if x:`.
_UNTRACEABLE = (
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerBoolConversionError,
    jax.errors.TracerIntegerConversionError,
    jax.errors.TracerArrayConversionError,
)


def positional_key(index: int) -> str:
    """The name under which the ``index``-th positional raw observation is given to a plan."""
    return f"{_POSITIONAL}{index}]"


def _is_positional(name: str) -> bool:
    return name.startswith(_POSITIONAL)


class NotTraceableError(ExtensionMethodError):
    """JAX cannot trace an observation method (it needs concrete values): run it eagerly instead."""

    def __init__(self, observation: str, method: str, error: BaseException) -> None:
        super().__init__(method, error)
        self.observation = observation


@dataclasses.dataclass(frozen=True)
class EagerCall:
    """An observation method that runs in plain Python, before the compiled step.

    Attributes:
      method: ``"Extension.method"``, the key of its result among the step's raw inputs.
      run: ``run(raw, last_action) -> value``, on host values of one instance; raises
        :class:`~agentax.errors.ExtensionMethodError` when the method raises.
      space: the space its result is checked against (``None``: any numeric array).
      needs_action: whether ``run`` reads the last action.
    """

    method: str
    run: Callable[[Mapping[str, Any], Any], Any]
    space: gym.spaces.Space | None
    needs_action: bool


class ObservationPlan:
    """Where each observation of one agent method comes from.

    Attributes:
      raw_spaces: the given values the plan reads, by name, with the space each must belong to
        (``None``: any numeric array).
      build: ``build(raw, last_action) -> dict`` of the agent method's keyword arguments; pure, so
        it can run under :func:`jax.jit` and :func:`jax.vmap`.
      eager: the eager observation methods ``build`` reads the results of (under their
        ``EagerCall.method`` key in ``raw``).
      positional_taken: how many of the positional values some observation method takes.
    """

    def __init__(
        self,
        raw_spaces: dict[str, gym.spaces.Space | None],
        build: Callable,
        eager: dict[str, EagerCall] | None = None,
        positional_taken: int = 0,
    ) -> None:
        self.raw_spaces = raw_spaces
        self.build = build
        self.eager = eager or {}
        self.positional_taken = positional_taken


def make_converter(
    name: str, space: gym.spaces.Space | None, batch: int | None
) -> Callable[[Any], Any]:
    """A function that checks and converts one given value (a tree for Dict/Tuple spaces).

    Leaves go through :func:`agentax.spaces.converter`; ``space=None`` accepts any numeric array
    (float64 becomes float32).
    """
    if isinstance(space, gym.spaces.Dict):
        children = {
            key: make_converter(f"{name}.{key}", sub, batch) for key, sub in space.spaces.items()
        }

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
                raise ObservationError(
                    name, f"is {type(value).__name__} {value!r:.60}", f"a tuple for {space}"
                )
            return tuple(item(v) for item, v in zip(items, value, strict=True))

        return convert_tuple
    if space is None:
        return partial(_any_numeric, name)
    return converter(name, space, batch)


def _any_numeric(name: str, value: Any) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise ObservationError(
            name, f"is not numeric (got {type(value).__name__})", "a number or an array"
        )
    return array.astype(np.float32) if array.dtype == np.float64 else array


def _find_path(space: gym.spaces.Space, name: str, path: tuple = ()) -> list[tuple]:
    """Every path to an entry called ``name`` inside nested Dict/Tuple ``space``."""
    found = []
    children = (
        space.spaces.items()
        if isinstance(space, gym.spaces.Dict)
        else (enumerate(space.spaces) if isinstance(space, gym.spaces.Tuple) else ())
    )
    for key, sub in children:
        if key == name and path:
            found.append((*path, key))
        found.extend(_find_path(sub, name, (*path, key)))
    return found


class _Planner:
    """Builds the sources of one agent method's observations."""

    def __init__(
        self,
        ext,
        given: Mapping[str, gym.spaces.Space | None],
        where: str,
        optional=frozenset(),
        eager=None,
    ) -> None:
        self.functions = ext.observation_functions if ext is not None else {}
        self.optional = optional
        self.ext_name = type(ext).__name__ if ext is not None else "no extension"
        self.given = {name: space for name, space in given.items() if not _is_positional(name)}
        self.n_positional = len(given) - len(self.given)
        self.positional_taken = 0
        self.where = where
        self.eager_names = eager
        self.eager: dict[str, EagerCall] = {}
        self.raw_spaces: dict[str, gym.spaces.Space | None] = {}

    def read(self, name: str, space: gym.spaces.Space | None) -> Source:
        if space is not None or name not in self.raw_spaces:
            self.raw_spaces[name] = space
        return lambda raw, action: raw[name]

    def source(self, name: str, expected: gym.spaces.Space | None) -> Source:
        if name in self.given:
            provided = self.given[name]
            if not compatible(provided, expected):
                raise IncompatibleSpacesError(
                    f"observation {name!r} for {self.where}", provided, expected
                )
            return self.read(name, provided if provided is not None else expected)
        if name in self.functions:
            return self.function_source(name, expected)
        if name in ("action", "actions"):
            return lambda raw, action: action
        nested = [
            (top, path)
            for top, space in self.given.items()
            if space is not None
            for path in _find_path(space, name, (top,))
        ]
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
            raise IncompatibleSpacesError(
                f"observation {path} for {self.where}", provided, expected
            )
        read = self.read(top, self.given[top])

        def extract(raw, action):
            value = read(raw, action)
            for key in path[1:]:
                value = value[key]
            return value

        return extract

    def function_source(self, name: str, expected) -> Source:
        function = self.functions[name]
        method = f"{self.ext_name}.{function.__name__}"
        provided = provided_space(function)
        if not compatible(provided, expected):
            raise IncompatibleSpacesError(
                f"{self.ext_name}.{name} for {self.where}", provided, expected
            )
        call, needs_action = self.function_call(function, name, method)
        if function.observation_info.eager or name in (self.eager_names or ()):
            if self.eager_names is None:
                raise AgentaxError(
                    f"{method} is an eager (plain-Python) observation method, which cannot run inside a "
                    f"compiled program; write it with jax.numpy to use it here"
                )
            self.eager[method] = EagerCall(
                method, _reported(call, method), _first(provided, expected), needs_action
            )
            return lambda raw, action: raw[method]
        return _traced(call, name, method)

    def function_call(self, function: Callable, name: str, method: str) -> tuple[Source, bool]:
        """``call(raw, action)`` running ``function`` on its arguments, and whether it reads the action."""
        parameters = list(inspect.signature(function).parameters.values())
        by_position = [
            p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        takes_rest = any(p.kind is p.VAR_POSITIONAL for p in parameters)
        n_taken = self.n_positional if takes_rest else min(self.n_positional, len(by_position))
        self.positional_taken = max(self.positional_taken, n_taken)
        positional = [self.read(positional_key(i), None) for i in range(n_taken)]
        bound = {p.name for p in by_position[:n_taken]}
        twice = sorted(bound & set(self.given))
        if twice:
            raise ObservationError(
                twice[0], f"is given both by position and by name to {method}", "each value once"
            )
        arguments = {}
        takes_all = False
        for param in parameters:
            if param.kind is param.VAR_KEYWORD:
                takes_all = True
            elif param.kind is not param.VAR_POSITIONAL and param.name not in bound:
                if param.name in self.given:
                    arguments[param.name] = self.read(param.name, self.given[param.name])
                elif param.name == "action":
                    arguments[param.name] = lambda raw, action: action
                elif param.default is param.empty:
                    raise MissingObservationError(
                        param.name,
                        f"{self.ext_name}.{name} (to compute {name!r} for {self.where})",
                        f"given: {sorted(self.given) or 'nothing'}",
                    )
        if takes_all:
            for other, space in self.given.items():
                arguments.setdefault(other, self.read(other, space))

        def call(raw, action):
            values = (get(raw, action) for get in positional)
            return function(*values, **{key: get(raw, action) for key, get in arguments.items()})

        return call, "action" in arguments and "action" not in self.given


def _first(*spaces):
    return next((space for space in spaces if space is not None), None)


def _reported(call: Source, method: str) -> Source:
    """``call`` with any exception it raises reported as an ExtensionMethodError naming ``method``."""

    def run(raw, action):
        try:
            return call(raw, action)
        except Exception as error:
            raise ExtensionMethodError(method, error) from error

    return run


def _traced(call: Source, name: str, method: str) -> Source:
    """``call`` for tracing: an untraceable method raises NotTraceableError, any other error is reported."""

    def run(raw, action):
        try:
            return call(raw, action)
        except _UNTRACEABLE as error:
            raise NotTraceableError(name, method, error) from error
        except Exception as error:
            raise ExtensionMethodError(method, error) from error

    return run


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
    eager: Collection[str] | None = None,
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
      eager: names of observations whose methods run eagerly besides those declared
        ``eager=True``; ``None`` when the caller cannot run eager methods (a fully compiled
        program), which makes a declared eager method an error. Positional raw observations are
        given under :func:`positional_key` names.

    Raises:
      MissingObservationError, IncompatibleSpacesError: at planning time, naming the observation.
    """
    planner = _Planner(ext, given, where, optional_observations(agent_function), eager)
    if agent_space is None:
        sources = {name: planner.read(name, space) for name, space in planner.given.items()}
    elif isinstance(agent_space, gym.spaces.Dict):
        sources = {name: planner.source(name, sub) for name, sub in agent_space.spaces.items()}
        sources = {name: source for name, source in sources.items() if source is not None}
    else:
        raise IncompatibleSpacesError(
            where, agent_space, "a gymnasium.spaces.Dict of named observations"
        )

    def build(raw: Mapping[str, Any], action: Any) -> dict[str, Any]:
        return {name: source(raw, action) for name, source in sources.items()}

    return ObservationPlan(planner.raw_spaces, build, planner.eager, planner.positional_taken)
