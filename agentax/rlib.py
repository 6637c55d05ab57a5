"""The facade: runs the interaction loop for many instances of one agent.

``RLib`` owns the instances' states and keys, fills in the observations the agent needs through
an extension, and steps one or many instances in one compiled call. Algorithms never know
about it: it only calls the agent's jitted ``init``, ``update`` and ``sample``.

Instances live stacked along a leading axis (capacity doubles as instances are added), so one
instance or ``K`` of them are stepped by the same compiled program: gather, update, sample,
scatter, with the stack's buffers donated so the scatter happens in place.
"""

from __future__ import annotations

import inspect
import numbers
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

from agentax.agents.base import BaseAgent
from agentax.errors import (
    AgentaxError,
    AgentTypeError,
    ExtensionTypeError,
    ForbiddenAgentChangeError,
    NoAgentError,
    ObservationError,
    UnknownInstanceError,
    UnknownParameterError,
)
from agentax.extensions.base import BaseExt, compose_agent_params
from agentax.extensions.inference import make_converter, plan_observations
from agentax.loggers.observer import LogsObserver
from agentax.spaces import example

__all__ = ["RLib"]


class _Stepper:
    """The compiled step for one set of given observation names."""

    def __init__(
        self,
        agent: BaseAgent,
        ext: BaseExt | None,
        given: Mapping[str, gym.spaces.Space | None],
        state_def,
        greedy: bool,
    ) -> None:
        name = type(agent).__name__
        if greedy and agent.sample_greedy is None:
            raise AgentaxError(f"{name} has no greedy policy (no sample_greedy); call sample() without greedy=True")
        sample = agent.sample_greedy if greedy else agent.sample
        update_plan = plan_observations(agent.update_observation_space, ext, given, f"{name}.update", agent.update)
        sample_plan = plan_observations(agent.sample_observation_space, ext, given, f"{name}.sample", sample)
        self.raw_spaces = dict(sample_plan.raw_spaces)
        for key, space in update_plan.raw_spaces.items():
            if space is not None or key not in self.raw_spaces:
                self.raw_spaces[key] = space
        self._converters: dict[int | None, tuple] = {}

        def instance_step(leaves, key, last_action, do_update, raw):
            state = jax.tree.unflatten(state_def, leaves)
            key, update_key, sample_key = jax.random.split(key, 3)
            state = jax.lax.cond(
                do_update,
                lambda s: agent.update(s, update_key, **update_plan.build(raw, last_action)),
                lambda s: s,
                state,
            )
            action = sample(state, sample_key, **sample_plan.build(raw, last_action))
            return tuple(jax.tree.leaves(state)), key, action

        def step(stack, ids, do_update, raw, batched):
            rows = jax.tree.map(lambda x: x[ids], stack)
            run = jax.vmap(instance_step, in_axes=(0, 0, 0, 0, 0)) if batched else instance_step
            new_rows = run(*rows, do_update, raw)
            stack = jax.tree.map(lambda x, row: x.at[ids].set(row), stack, new_rows)
            return stack, new_rows[2]

        self.step = jax.jit(step, static_argnums=4, donate_argnums=0)

    def converters(self, batch: int | None) -> tuple:
        """``(name, convert)`` for each given value the step reads, for one batch size."""
        found = self._converters.get(batch)
        if found is None:
            found = self._converters[batch] = tuple(
                (name, make_converter(name, space, batch)) for name, space in self.raw_spaces.items()
            )
        return found


class RLib:
    """Runs an agent for many independent instances, inferring observations through an extension.

    Args:
      agent_type: a subclass of :class:`agentax.agents.BaseAgent`.
      agent_params: constructor arguments of the agent. Missing ones come from the extension's
        ``@parameter`` methods, then the constructor's defaults.
      ext_type: a subclass of :class:`agentax.extensions.BaseExt`, or ``None`` to pass
        observations to the agent by name.
      ext_params: constructor arguments of the extension.
      no_ext_mode: ignore ``ext_type``; observations are given by name (as keyword arguments or
        in ``update_observations`` / ``sample_observations``).
      logger_types: a :class:`agentax.loggers.BaseLogger` subclass or a list of them.
      logger_sources: a source (a name, or ``(name, SourceType)``) or a list of them; see
        :mod:`agentax.loggers`.
      logger_params: keyword arguments given to every logger.

    Example::

        rl = RLib(agent_type=UCB, agent_params={"c": 1.0}, ext_type=BasicMab, ext_params={"n_arms": 4})
        action = rl.sample(reward=0.0)          # first call of an instance: sample only
        action = rl.sample(reward=1.0)          # then: update with the reward, sample the next arm
    """

    def __init__(
        self,
        *,
        agent_type: type | None = None,
        agent_params: dict[str, Any] | None = None,
        ext_type: type | None = None,
        ext_params: dict[str, Any] | None = None,
        no_ext_mode: bool = False,
        logger_types: type | list[type] | None = None,
        logger_sources: Any = None,
        logger_params: dict[str, Any] | None = None,
    ) -> None:
        self._agent_type, self._agent_params = None, {}
        self._ext_type, self._ext_params = None, {}
        self._no_ext_mode = bool(no_ext_mode)
        self._agent: BaseAgent | None = None
        self._ext: BaseExt | None = None
        self._reset_instances()
        if ext_type is not None and not self._no_ext_mode:
            self.set_ext(ext_type, ext_params)
        if agent_type is not None:
            self.set_agent(agent_type, agent_params)
        self._logs: LogsObserver | None = None
        if logger_types is not None:
            self.set_loggers(logger_types, logger_sources, logger_params)

    # -- configuration -------------------------------------------------------------------

    def _reset_instances(self) -> None:
        self._stack = None  # (state leaves, keys, last actions), stacked along the instance axis
        self._state_def = None
        self._n_instances = 0
        self._steps = np.zeros(0, np.int64)
        self._steppers: dict[tuple, _Stepper] = {}

    def _forbid_change(self, what: str) -> None:
        if self._n_instances:
            raise ForbiddenAgentChangeError(what)

    def set_agent(self, agent_type: type, agent_params: dict[str, Any] | None = None) -> None:
        """Set the agent; only allowed before any instance exists."""
        self._forbid_change("agent")
        if not (inspect.isclass(agent_type) and issubclass(agent_type, BaseAgent)):
            raise AgentTypeError(agent_type)
        self._agent_type, self._agent_params = agent_type, dict(agent_params or {})
        self._build_agent()

    def set_ext(self, ext_type: type, ext_params: dict[str, Any] | None = None) -> None:
        """Set the extension (rebuilding the agent with its parameters); only before instances exist."""
        self._forbid_change("extension")
        if not (inspect.isclass(ext_type) and issubclass(ext_type, BaseExt)):
            raise ExtensionTypeError(ext_type)
        ext_params = dict(ext_params or {})
        _check_known(ext_type, ext_params)
        self._ext_type, self._ext_params = ext_type, ext_params
        self._ext = ext_type(**ext_params)
        self._no_ext_mode = False
        if self._agent_type is not None:
            self._build_agent()

    def _build_agent(self) -> None:
        _check_known(self._agent_type, self._agent_params)
        params = compose_agent_params(
            self._agent_type, self._agent_type.parameter_space(), self._agent_params, self._ext
        )
        self._agent = self._agent_type(**params)
        self._steppers = {}

    @property
    def agent(self) -> BaseAgent | None:
        """The agent object (its jitted ``init``, ``update`` and ``sample``)."""
        return self._agent

    @property
    def observation_space(self) -> gym.spaces.Space:
        """What :meth:`sample` accepts: the extension's raw observations, or the agent's own."""
        if self._ext is not None:
            return self._ext.observation_space
        self._require_agent()
        spaces = {}
        for space in (self._agent.update_observation_space, self._agent.sample_observation_space):
            spaces.update(space.spaces if isinstance(space, gym.spaces.Dict) else {})
        return gym.spaces.Dict(spaces)

    @property
    def action_space(self) -> gym.spaces.Space | None:
        """The agent's action space."""
        return self._require_agent().action_space

    def _require_agent(self) -> BaseAgent:
        if self._agent is None:
            raise NoAgentError()
        return self._agent

    # -- instances -----------------------------------------------------------------------

    @property
    def n_instances(self) -> int:
        """How many instances :meth:`init` has created."""
        return self._n_instances

    def init(self, seed: int = 42) -> int:
        """Create a new agent instance whose randomness derives from ``seed`` only.

        Returns:
          The instance id to pass as ``agent_id``: 0 for the first, then 1, 2, ...
        """
        agent = self._require_agent()
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise AgentaxError(f"seed must be an integer, got {seed!r}")
        init_key, own_key = jax.random.split(jax.random.PRNGKey(seed))
        state = agent.init(init_key)
        leaves, state_def = jax.tree.flatten(state)
        if self._stack is None:
            self._state_def = state_def
            first = (tuple(leaves), own_key, self._first_action(state, own_key))
            self._stack = jax.tree.map(lambda x: x[None], first)
            self._steps = np.zeros(1, np.int64)
        elif self._n_instances == len(self._steps):
            self._stack = _grow(self._stack)
            self._steps = np.concatenate([self._steps, np.zeros_like(self._steps)])
        self._stack = _put(self._stack, self._n_instances, (tuple(leaves), own_key))
        self._n_instances += 1
        return self._n_instances - 1

    def _first_action(self, state, key):
        """A zero action with the structure ``sample`` returns (the "last action" before any)."""
        agent = self._agent
        space = agent.sample_observation_space
        observations = example(space) if isinstance(space, gym.spaces.Dict) else {}
        if "action" in observations:
            observations["action"] = jnp.zeros_like(observations["action"])
        shape = jax.eval_shape(lambda s, k: agent.sample(s, k, **observations), state, key)
        return jax.tree.map(lambda leaf: jnp.zeros(leaf.shape, leaf.dtype), shape)

    def state(self, agent_id: int = 0):
        """The current state of one instance (a copy)."""
        index = self._instance_index(agent_id)
        return jax.tree.unflatten(self._state_def, [leaf[index] for leaf in self._stack[0]])

    def _instance_index(self, agent_id: Any) -> int:
        if isinstance(agent_id, numbers.Integral) and not isinstance(agent_id, bool):
            if 0 <= agent_id < self._n_instances:
                return int(agent_id)
        raise UnknownInstanceError(agent_id, self._n_instances)

    def _instance_indices(self, agent_id: Sequence[int] | np.ndarray) -> np.ndarray:
        ids = np.asarray(agent_id)
        if ids.ndim != 1 or ids.size == 0 or ids.dtype.kind not in "iu":
            raise UnknownInstanceError(agent_id, self._n_instances)
        if ids.min() < 0 or ids.max() >= self._n_instances:
            bad = ids[(ids < 0) | (ids >= self._n_instances)]
            raise UnknownInstanceError(bad[0].item(), self._n_instances)
        listed = np.zeros(self._n_instances, bool)
        listed[ids] = True
        if np.count_nonzero(listed) != ids.size:
            raise AgentaxError(f"agent_id lists an instance more than once: {ids.tolist()}")
        return ids.astype(np.int32, copy=False)

    # -- stepping ------------------------------------------------------------------------

    def sample(
        self,
        *args: Any,
        agent_id: int | Sequence[int] = 0,
        is_training: bool = True,
        greedy: bool = False,
        update_observations: Mapping[str, Any] | None = None,
        sample_observations: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Update an instance with the observations and return its next action.

        The first call of an instance only samples (there is nothing to learn from yet). Later
        calls update the state with the observations, then sample; ``is_training=False`` only
        samples. The whole step is one compiled call.

        Args:
          *args: raw observations in the order of the extension's ``argument_names()``.
          agent_id: one instance id, or a sequence of ``K`` distinct ids to step together; then
            every observation has a leading axis of ``K`` (or is one value shared by all).
          is_training: whether to update the state before sampling.
          greedy: pick the best action without exploring (the agent's ``sample_greedy``), e.g. to
            evaluate a deep agent; usually with ``is_training=False``.
          update_observations, sample_observations: observations for the agent's ``update`` and
            ``sample``, by name, bypassing the extension.
          **kwargs: raw observations by name.

        Returns:
          The action (a NumPy scalar or array; with ``K`` ids, stacked along the first axis).
        """
        if self._agent is None:
            raise NoAgentError()
        if self._n_instances == 0:
            self.init()
        given = self._given(args, kwargs, update_observations, sample_observations)
        if type(agent_id) is int and 0 <= agent_id < self._n_instances:  # the common case, kept short
            ids, batch = agent_id, None
            do_update = is_training and (self._steps[agent_id] > 0 or self._agent.update_on_first_step)
        elif isinstance(agent_id, (Sequence, np.ndarray)) and not isinstance(agent_id, str):
            ids = self._instance_indices(agent_id)
            batch = len(ids)
            do_update = is_training & ((self._steps[ids] > 0) | self._agent.update_on_first_step)
        else:
            ids, batch = self._instance_index(agent_id), None
            do_update = is_training and (self._steps[ids] > 0 or self._agent.update_on_first_step)
        stepper = self._stepper(given, batch is not None, greedy)
        raw = {name: convert(given[name]) for name, convert in stepper.converters(batch)}
        self._stack, action = stepper.step(self._stack, ids, do_update, raw, batch is not None)
        self._steps[ids] += 1
        action = _to_host(action) if isinstance(action, jax.Array) else jax.tree.map(_to_host, action)
        if self._logs is not None:  # loggers hook: the one call after the step (agentax.loggers)
            self._logs.after_step(given, action, ids, self._steps, self._stacked_state)
        return action

    def _given(self, args, kwargs, update_observations, sample_observations) -> dict[str, Any]:
        if not (args or update_observations or sample_observations):
            return kwargs
        names = self._ext.argument_names(len(args)) if self._ext is not None else ()
        if len(args) > len(names):
            raise AgentaxError(
                f"got {len(args)} positional observations, but "
                f"{type(self._ext).__name__ if self._ext else 'no extension'} names only {len(names)}: {list(names)}; "
                f"pass observations by name"
            )
        given = dict(zip(names, args))
        for extra in (kwargs, update_observations or {}, sample_observations or {}):
            for name, value in extra.items():
                if name in given and given[name] is not value:
                    raise ObservationError(name, "is given twice", "each observation once")
                given[name] = value
        return given

    def _stepper(self, given: Mapping[str, Any], batched: bool, greedy: bool) -> _Stepper:
        signature = (tuple(given), batched, greedy)
        stepper = self._steppers.get(signature)
        if stepper is None:
            raw_space = self._ext.observation_space if self._ext is not None else None
            spaces = {
                name: raw_space[name] if isinstance(raw_space, gym.spaces.Dict) and name in raw_space.spaces else None
                for name in given
            }
            stepper = self._steppers[signature] = _Stepper(self._agent, self._ext, spaces, self._state_def, greedy)
        return stepper

    # -- loggers -------------------------------------------------------------------------

    def set_loggers(self, logger_types: Any, logger_sources: Any = None, logger_params: dict[str, Any] | None = None) -> None:
        """Log ``logger_sources`` with one logger of each of ``logger_types`` (see :mod:`agentax.loggers`).

        Loggers set before are finished first. The loggers are finished by :meth:`finish`, on
        leaving a ``with`` block, when the facade is garbage-collected, or at interpreter exit.
        """
        logs = LogsObserver(logger_types, logger_sources, logger_params)
        self.finish()
        self._logs = logs
        weakref.finalize(self, logs.finish)  # holds the loggers, not the facade

    def log(self, name: str, value: Any) -> None:
        """Log a custom value (a number, an array, a dict or any object) with every logger."""
        if self._logs is None:
            raise AgentaxError("no loggers are set: pass logger_types to RLib(...) or call set_loggers(...)")
        self._logs.log(name, value)

    def finish(self) -> None:
        """Write what the loggers hold and close them; calling it again does nothing."""
        if getattr(self, "_logs", None) is not None:
            self._logs.finish()

    def __enter__(self) -> RLib:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.finish()

    def _stacked_state(self):
        """Every instance's state, stacked along the first axis (for STATE logger sources)."""
        return jax.tree.unflatten(self._state_def, self._stack[0])


def _to_host(array: jax.Array) -> np.ndarray | np.generic:
    array = np.asarray(array)
    return array[()] if array.ndim == 0 else array


def _check_known(owner: type, params: Mapping[str, Any]) -> None:
    signature = inspect.signature(owner.__init__).parameters
    if any(p.kind is p.VAR_KEYWORD for p in signature.values()):
        return
    unknown = [name for name in params if name not in signature or name == "self"]
    if unknown:
        raise UnknownParameterError(owner.__name__, unknown, [n for n in signature if n != "self"])


@jax.jit
def _grow(stack):
    return jax.tree.map(lambda x: jnp.concatenate([x, jnp.zeros_like(x)]), stack)


def _put_impl(stack, index, item):
    leaves, key = item
    states, keys, actions = stack
    states = tuple(x.at[index].set(v) for x, v in zip(states, leaves))
    return states, keys.at[index].set(key), actions


_put: Callable = jax.jit(_put_impl, donate_argnums=0)
