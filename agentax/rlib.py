"""The facade: runs the interaction loop for many instances of one agent.

``RLib`` owns the instances' states and keys, fills in the observations the agent needs through
an extension, and steps one or many instances in one compiled call. Algorithms never know
about it: it only calls the agent's jitted ``init``, ``update`` and ``sample``.

Instances live stacked along a leading axis (capacity doubles as instances are added one by
one; ``init(seed=[...])`` adds many in one call). A step is one compiled program with the stack's
buffers donated: one instance's row is read and written in place, every instance is stepped
without indexing, any other ``K`` of them by gather and scatter. Each instance keeps the key its
seed gave it; a step's keys are one hash of that key and the instance's step count.
With ``RLib(mesh=...)`` the stack is split along the instance axis over several devices, and a
step of every instance runs on each device's own rows (docs/scaling.rst).

A failed step changes nothing. Converters, eager observation methods and tracing all run before
the stack is handed over. Only a program that calls back to Python (``jax.pure_callback`` and
the like) can fail while running, so such a step is split in two: the new rows are computed and
waited for, and only then scattered into the stack by a second, donating call.
"""

from __future__ import annotations

import collections
import contextlib
import difflib
import functools
import inspect
import numbers
import os
import threading
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
from jax.extend.random import threefry_2x32

from agentax import _guards, _propensity, checkpoint, sharding
from agentax._threefry import unrolled_threefry
from agentax.agents.base import BaseAgent
from agentax.errors import (
    AgentaxError,
    AgentTypeError,
    CheckpointMismatchError,
    CorruptCheckpointError,
    EagerObservationWarning,
    ExtensionMethodError,
    ExtensionTypeError,
    ForbiddenAgentChangeError,
    NoAgentError,
    NonFiniteStateError,
    ObservationError,
    StepRuntimeError,
    UnknownInstanceError,
    UnknownParameterError,
    UnknownTicketError,
)
from agentax.extensions.base import BaseExt, compose_agent_params
from agentax.extensions.observations import (
    NotTraceableError,
    make_converter,
    plan_observations,
    positional_key,
)
from agentax.loggers.observer import LogsObserver
from agentax.spaces import example, out_of_bounds_message, value_bounds

__all__ = ["RLib"]

_DECIDED = (
    "\0decided action"  # the raw input holding, in a learning step, the actions decided earlier
)
_NOTHING = gym.spaces.Dict({})  # the observations of the half of a step that does not run


class _Stepper:
    """The compiled step for one set of given observation names, and the eager methods it needs.

    :meth:`run` returns the new stack and the actions of the instances ``ids``.
    """

    def __init__(
        self,
        agent: BaseAgent,
        ext: BaseExt | None,
        given: Mapping[str, gym.spaces.Space | None],
        state_def,
        greedy: bool,
        eager: frozenset[str] = frozenset(),
        mode: str = "step",
        placement: jax.sharding.NamedSharding | None = None,
    ) -> None:
        name = type(agent).__name__
        if greedy and agent.sample_greedy is None:
            raise AgentaxError(
                f"{name} has no greedy policy (no sample_greedy); call sample() without greedy=True"
            )
        sample = agent.sample_greedy if greedy else agent.sample
        # mode "decide" only samples, "learn" only updates (with the decided action in raw[_DECIDED])
        update_space = _NOTHING if mode == "decide" else agent.update_observation_space
        sample_space = _NOTHING if mode == "learn" else agent.sample_observation_space
        update_plan = plan_observations(
            update_space, ext, given, f"{name}.update", agent.update, eager
        )
        sample_plan = plan_observations(sample_space, ext, given, f"{name}.sample", sample, eager)
        _check_positional_taken(
            given, ext, max(update_plan.positional_taken, sample_plan.positional_taken)
        )
        self.raw_spaces = dict(sample_plan.raw_spaces)
        for key, space in update_plan.raw_spaces.items():
            if space is not None or key not in self.raw_spaces:
                self.raw_spaces[key] = space
        self._converters: dict[int | None, tuple] = {}
        self.eager = tuple(
            (call, make_converter(call.method, call.space, None))
            for call in {**update_plan.eager, **sample_plan.eager}.values()
        )

        self._agent, self._state_def, self._sharding = agent, state_def, placement
        self.sample_build = (
            sample_plan.build
        )  # the sample's observations, for the propensity (agentax._propensity)
        self._sample_name = f"{name}.sample_greedy" if greedy else f"{name}.sample"

        def observations(raw, last_action):
            return update_plan.build(raw, raw.get(_DECIDED, last_action)), sample_plan.build(
                raw, last_action
            )

        def instance_step(leaves, key, last_action, count, do_update, raw):
            state = jax.tree.unflatten(state_def, leaves)
            update_key, sample_key = _step_keys(key, count, mode == "learn")
            update_values, sample_values = observations(raw, last_action)
            if mode != "decide":
                state = jax.lax.cond(
                    do_update,
                    lambda s: agent.update(s, update_key, **update_values),
                    lambda s: s,
                    state,
                )
            action = last_action if mode == "learn" else sample(state, sample_key, **sample_values)
            leaves = tuple(jax.tree.leaves(state))
            problem = _guards.first_problem(
                agent.update_observation_space,
                update_values,
                do_update,
                agent.sample_observation_space,
                sample_values,
                leaves,
            )
            return leaves, action, problem

        def compute(stack, ids, counts, do_update, raw, path):
            self.tracing = True  # Python runs this body only while JAX traces it
            run = instance_step if path == "one" else jax.vmap(instance_step)
            leaves, key, action = _take(stack, ids, path, len(counts))
            leaves, action, problems = run(leaves, key, action, counts, do_update, raw)
            self.tracing = False
            if path == "all":  # every new row stays on the device of its instance
                return _constrain((_Stack(leaves, None, action), problems), placement)
            return _Stack(leaves, None, action), problems

        def step(stack, ids, counts, do_update, raw, path):
            rows, problems = compute(stack, ids, counts, do_update, raw, path)
            return (
                _constrain(_commit_impl(stack, ids, rows, problems, path), placement),
                rows.actions,
                problems,
            )

        def observe(stack, ids, raw, batched):
            last_actions = jax.tree.map(lambda x: x[ids], stack.actions)
            return (jax.vmap(observations) if batched else observations)(raw, last_actions)

        def step_one(stack, words, raw):  # path "one", its id, count and flag in one array
            stack, action, problem = step(
                stack, words[0].astype(jnp.int32), words[1:3], words[3] != 0, raw, "one"
            )
            if isinstance(action, jax.Array) and action.shape == () and action.dtype == jnp.int32:
                return stack, jnp.stack([action, problem])  # one array to read back
            return stack, action, problem

        self._compute = jax.jit(compute, static_argnums=5)
        self._step = jax.jit(step, static_argnums=5, donate_argnums=0)
        self._step_one = jax.jit(step_one, donate_argnums=0)
        self._observe = jax.jit(observe, static_argnums=3)
        self.tracing = False
        self.calls_back: bool | None = None  # known once the step has been traced
        self._lowered: set[tuple] = set()  # the signatures lowered by _lower_unrolled

    def run(self, stack: _Stack, ids, counts, do_update, raw, path: str):
        """``(new stack, actions, problems)`` after stepping instances ``ids``, the last two on the host.

        ``path`` says how the rows are found (see :func:`_take`): ``"one"`` (``ids`` one index),
        ``"all"`` (every row, ``ids`` unused), ``"range"`` (``len(counts)`` rows from index
        ``ids``) or ``"some"`` (``ids`` distinct indices). ``counts``
        (one per instance) number the step in each instance's random stream (see :func:`_step_keys`).
        ``problems`` holds, per instance, the index of the first value
        :func:`agentax._guards.first_problem` refused (``-1``: none); when any instance has one,
        no row is written. ``stack`` is donated to one compiled call, unless the program calls back
        to Python: then the new rows are computed and waited for before a second call writes them,
        so that a failure while running leaves ``stack`` as it was. On a mesh, ``"all"`` computes
        the new rows without donating ``stack`` and the host keeps them unless a problem refuses
        the step: deciding that inside the program would be a reduction across the devices.

        Raises:
          StepRuntimeError: the step failed while running.
        """
        if self.calls_back is None:
            self.calls_back = _calls_back(
                self._compute.trace(stack, ids, counts, do_update, raw, path).jaxpr.jaxpr
            )
        apart = path == "all" and self._sharding is not None  # the rows are kept or not on the host
        if not (self.calls_back or apart):
            if path == "one":
                return self.run_one(stack, ids, counts, do_update, raw)
            self._lower_unrolled(
                self._step, (path, np.shape(counts)), stack, ids, counts, do_update, raw, path
            )
            stack, actions, problems = self._step(stack, ids, counts, do_update, raw, path)
            problems = np.asarray(problems)  # waits for the program; the actions are then ready
            return stack, _host(actions), problems
        self.tracing = False
        self._lower_unrolled(
            self._compute, (path, np.shape(counts)), stack, ids, counts, do_update, raw, path
        )
        try:
            rows, problems = jax.block_until_ready(
                self._compute(stack, ids, counts, do_update, raw, path)
            )
        except Exception as error:
            if self.tracing or isinstance(error, AgentaxError):  # failed while tracing: as it is
                raise
            raise StepRuntimeError(error) from error
        problems = np.asarray(problems)
        if not apart:
            stack = _placed(_commit(stack, ids, rows, problems, path), self._sharding)
        elif (problems < 0).all():
            stack = stack._replace(states=rows.states, actions=rows.actions)
        return stack, _host(rows.actions), problems

    def run_one(self, stack: _Stack, index: int, counts: np.ndarray, do_update, raw):
        """:meth:`run` of instance ``index`` in one donating call (only for a step that does not
        call back to Python, on one device); its index, step count (``counts``, two 32-bit words)
        and update flag go in as one ``uint32`` array.

        Threefry stays rolled here (not :meth:`_lower_unrolled`): XLA's CPU client runs a program
        it estimates at under 1,000 flops on the calling thread and hands any other to a worker
        thread, a handoff that costs more than a bandit's step; the unrolled rounds count as
        flops and pushed UCB's step over that line (71 to 225 µs a call, ``benchmarks/README.md``).
        """
        out = self._step_one(stack, np.array((index, *counts, do_update), np.uint32), raw)
        if len(out) == 2:  # an int32 action and the problem, in one array
            pair = np.asarray(out[1])
            return out[0], pair[0, ...], pair[1, ...]
        stack, action, problem = out
        problem = np.asarray(problem)  # waits for the program; the action is then ready
        return stack, _host(action), problem

    def _lower_unrolled(self, function: Callable, kind: tuple, stack: _Stack, *args) -> None:
        """Lower ``function`` for ``stack`` and ``args``, once per stack size and ``kind`` (the
        path and the shape of the step counts), with Threefry's rounds unrolled.

        JAX lowers the Threefry hash for a CPU as a rolled loop; unrolled (bit for bit the same
        words), XLA fuses the rounds with their neighbours: at 1,000 instances the step's key hash
        and the agent's draws cost about half as much (``benchmarks/README.md``). The call that
        follows finds this lowering in JAX's cache (same function and argument types).
        """
        signature = (function, len(stack.keys), kind)
        if signature not in self._lowered:
            with unrolled_threefry():
                function.lower(stack, *args)
            self._lowered.add(signature)

    def refusal(
        self, stack, ids, raw, batched: bool, problems: np.ndarray, agent_ids
    ) -> AgentaxError:
        """The error for a step :func:`agentax._guards.first_problem` refused (the first instance's problem)."""
        row = int(np.argmax(problems >= 0)) if batched else ()
        index = int(problems[row])
        update_values, sample_values = jax.tree.map(
            lambda x: np.asarray(x[row]), self._observe(stack, ids, raw, batched)
        )
        state = jax.tree.unflatten(
            self._state_def, [np.asarray(leaf[np.asarray(ids)[row]]) for leaf in stack.states]
        )
        kind, name, space, value = _guards.problem_names(
            self._agent.update_observation_space,
            update_values,
            self._agent.sample_observation_space,
            sample_values,
            state,
        )[index]
        instance = np.asarray(agent_ids)[row].item()
        agent = type(self._agent).__name__
        if kind == "state":
            return NonFiniteStateError(f"{agent}.update", name, instance)
        low, high = value_bounds(space)
        within = (value >= low) & (value <= high)
        problem, expected = out_of_bounds_message(
            np.asarray(value)[~within].flat[0], low, high, space
        )
        where = f"{agent}.update" if kind == "update" else self._sample_name
        return ObservationError(name, f"for {where} of instance {instance} {problem}", expected)

    def converters(self, batch: int | None) -> tuple:
        """``(name, convert)`` for each given value the step reads, for one batch size."""
        found = self._converters.get(batch)
        if found is None:
            found = self._converters[batch] = tuple(
                (name, make_converter(name, space, batch))
                for name, space in self.raw_spaces.items()
            )
        return found

    def raw_inputs(
        self, given: Mapping[str, Any], batch: int | None, last_actions: Callable, done: Mapping
    ) -> dict:
        """The step's inputs: given values checked and converted, and each eager method's results.

        An eager method runs once per instance (``batch`` times, on each instance's values, results
        stacked), reading the last actions (host values, from ``last_actions()``) only if it
        takes ``action``. Results already in ``done`` are reused, not computed again.
        """
        raw = {name: convert(given[name]) for name, convert in self.converters(batch)}
        for call, convert in self.eager:
            if call.method in done:
                raw[call.method] = done[call.method]
                continue
            action = last_actions() if call.needs_action else None
            if batch is None:
                raw[call.method] = convert(call.run(raw, action))
            else:
                results = [convert(call.run(_row(raw, i), _row(action, i))) for i in range(batch)]
                raw[call.method] = jax.tree.map(lambda *values: np.stack(values), *results)
        return raw


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
      auto_checkpoint: save the instances every ``auto_checkpoint`` of their steps (see
        :meth:`save`), keeping the last :attr:`AUTO_CHECKPOINTS_KEPT` files of each instance (or
        of each group of instances stepped together); ``None`` never saves on its own.
      auto_checkpoint_path: the directory of the automatic checkpoints (default: the home
        directory, as in reinforced-lib).
      logger_types: a :class:`agentax.loggers.BaseLogger` subclass or a list of them.
      logger_sources: a source (a name, or ``(name, SourceType)``) or a list of them; see
        :mod:`agentax.loggers`.
      logger_params: keyword arguments given to every logger.
      max_pending: how many decisions of one instance (:meth:`decide`) may wait for their
        feedback (:meth:`learn`); a new decision beyond that evicts the instance's oldest pending
        one, whose feedback is then refused.
      record_propensity: after each :meth:`sample` and :meth:`decide`, record the probability
        the agent's policy gave each chosen action (:attr:`propensity`, and the ``propensity``
        logger source), for off-policy evaluation (:mod:`agentax.ope`). The agent needs an
        ``action_probabilities``. Off by default, and then it costs nothing.
      mesh: place the instances on several devices: a :class:`jax.sharding.Mesh` of this
        process's devices with an :data:`agentax.sharding.INSTANCE_AXIS` axis, or ``True`` for
        :func:`agentax.sharding.population_mesh` over every local device. The stack of states,
        keys and last actions is split along the instance axis by
        :func:`agentax.sharding.population_sharding`, its capacity kept a multiple of the
        device count ``D``. A step of every instance, in order, runs on each device's own rows
        with no communication, when the instance count is a multiple of ``D``; otherwise, and for
        one id or any other list of ids, the step gathers and scatters rows, which may move them
        across devices (same results). ``None`` (default): one device.

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
        auto_checkpoint: int | None = None,
        auto_checkpoint_path: str | None = None,
        logger_types: type | list[type] | None = None,
        logger_sources: Any = None,
        logger_params: dict[str, Any] | None = None,
        max_pending: int = 1024,
        record_propensity: bool = False,
        mesh: Any = None,
    ) -> None:
        self._sharding = _instance_sharding(mesh)
        self._agent_type, self._agent_params = None, {}
        self._record_propensity = _flag("record_propensity", record_propensity)
        self._propensities: _propensity.PropensityRecorder | None = None
        self._propensity = None  # of the last sample or decide
        self._ticket_propensity: dict[int, Any] = {}  # pending ticket -> its decision's propensity
        self._max_pending = _check_max_pending(max_pending)
        self._pending: dict[
            int, collections.OrderedDict
        ] = {}  # instance -> {ticket: (action, observations)}
        self._ticket_owner: dict[int, int] = {}  # pending ticket -> its instance
        self._next_ticket = 0
        self._ext_type, self._ext_params = None, {}
        self._no_ext_mode = bool(no_ext_mode)
        self._lock = (
            threading.RLock()
        )  # one caller at a time configures, creates or steps instances
        self._auto_checkpoint = _check_auto_checkpoint(auto_checkpoint)
        self._auto_checkpoint_path = auto_checkpoint_path
        self._auto_checkpoints: dict[str, collections.deque] = {}
        self._agent: BaseAgent | None = None
        self._ext: BaseExt | None = None
        self._rows_agent: BaseAgent | None = None  # the agent self._fresh_rows was compiled for
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
        self._stack: _Stack | None = None
        self._state_def = None
        self._n_instances = 0
        self._steps = np.zeros(0, np.int64)
        self._steppers: dict[tuple, _Stepper] = {}
        self._eager_observations: frozenset[str] = frozenset()  # methods found untraceable

    def _forbid_change(self, what: str) -> None:
        if self._n_instances:
            raise ForbiddenAgentChangeError(what)

    def set_agent(self, agent_type: type, agent_params: dict[str, Any] | None = None) -> None:
        """Set the agent; only allowed before any instance exists.

        All or nothing: when it raises, the previous agent and its parameters stay in place.
        """
        with self._lock:
            self._forbid_change("agent")
            if not (inspect.isclass(agent_type) and issubclass(agent_type, BaseAgent)):
                raise AgentTypeError(agent_type)
            agent_params = dict(agent_params or {})
            agent = _build_agent(agent_type, agent_params, self._ext)
            if self._record_propensity:
                _propensity.check_agent(agent)
            self._agent_type, self._agent_params, self._agent = agent_type, agent_params, agent
            self._propensities = None
            self._steppers = {}
            self._eager_observations = frozenset()

    def set_ext(self, ext_type: type, ext_params: dict[str, Any] | None = None) -> None:
        """Set the extension (rebuilding the agent with its parameters); only before instances exist.

        All or nothing: when it raises, the previous extension, agent and parameters stay in place.
        """
        with self._lock:
            self._forbid_change("extension")
            if not (inspect.isclass(ext_type) and issubclass(ext_type, BaseExt)):
                raise ExtensionTypeError(ext_type)
            ext_params = dict(ext_params or {})
            _check_known(ext_type, ext_params)
            ext = ext_type(**ext_params)
            agent = (
                _build_agent(self._agent_type, self._agent_params, ext)
                if self._agent_type
                else None
            )
            self._ext_type, self._ext_params, self._ext, self._agent = (
                ext_type,
                ext_params,
                ext,
                agent,
            )
            self._propensities = None
            self._no_ext_mode = False
            self._steppers = {}
            self._eager_observations = frozenset()

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

    def init(self, seed: int | Sequence[int] = 42) -> int | list[int]:
        """Create a new agent instance whose randomness derives from ``seed`` only.

        Any Python (or NumPy) integer is a seed, used in full: different seeds, negative or
        beyond 64 bits included, give different random streams (seeds in ``[0, 2**32)`` give the
        key ``jax.random.PRNGKey(seed)``). A sequence of seeds creates one instance per seed in
        one compiled call, each the same as one created alone with its seed.

        Returns:
          The instance id to pass as ``agent_id``: 0 for the first, then 1, 2, ...; for a
          sequence of seeds, the list of their ids.
        """
        with self._lock:
            if isinstance(seed, (Sequence, np.ndarray)) and not isinstance(seed, str):
                return self._init_many(seed)
            return self._init(seed)

    def _init_many(self, seeds: Sequence[int]) -> list[int]:
        self._require_agent()
        array = np.asarray(seeds)
        if array.dtype.kind not in "iu" or any(
            type(seed) is bool for seed in seeds
        ):  # beyond 64 bits, or not integers
            array = np.asarray(
                [_check_seed(seed) for seed in np.asarray(seeds, object).ravel()], object
            )
        if array.size == 0:
            return []
        array = array.ravel()
        if (
            array.dtype.kind in "iu" and array.min() >= 0 and array.max() < 2**32
        ):  # PRNGKey(seed) is (0, seed)
            keys = np.stack([np.zeros(array.size, np.uint32), array.astype(np.uint32)], 1)
        else:
            keys = np.stack([np.asarray(_seed_key(int(seed))) for seed in array])
        if self._rows_agent is not self._agent:  # compiled once per agent (and number of seeds)
            self._rows_agent, self._fresh_rows = self._agent, jax.jit(jax.vmap(self._fresh_row))
        rows = self._fresh_rows(jnp.asarray(keys))
        first = self._n_instances
        if self._stack is None:
            self._state_def = jax.tree.structure(
                jax.eval_shape(self._agent.init, jax.random.PRNGKey(0))
            )
            self._stack, self._steps = rows, np.zeros(len(keys), np.int64)
        else:  # spare capacity is dropped: the stack holds exactly the instances
            self._stack = _append(self._stack, rows, first)
            self._steps = np.concatenate([self._steps[:first], np.zeros(len(keys), np.int64)])
        self._place_stack()
        self._n_instances += len(keys)
        return list(range(first, self._n_instances))

    def _init(self, seed: int) -> int:
        agent = self._require_agent()
        init_key, own_key = jax.random.split(_seed_key(_check_seed(seed)))
        state = agent.init(init_key)
        leaves, state_def = jax.tree.flatten(state)
        if self._stack is None:
            self._state_def = state_def
            first = _Stack(tuple(leaves), own_key, self._first_action(state, own_key))
            self._stack = jax.tree.map(lambda x: x[None], first)
            self._steps = np.zeros(1, np.int64)
        elif self._n_instances == len(self._steps):
            self._stack = _grow(self._stack)
            self._steps = np.concatenate([self._steps, np.zeros_like(self._steps)])
        self._stack = _put(self._stack, self._n_instances, (tuple(leaves), own_key))
        self._place_stack()
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
        with self._lock:
            index = self._instance_index(agent_id)
            return jax.tree.unflatten(self._state_def, [leaf[index] for leaf in self._stack.states])

    def _instance_index(self, agent_id: Any) -> int:
        if (
            isinstance(agent_id, (np.ndarray, jax.Array))
            and agent_id.ndim == 0
            and agent_id.dtype.kind in "iu"
        ):
            agent_id = agent_id.item()  # a NumPy or JAX integer scalar
        integral = isinstance(agent_id, numbers.Integral) and not isinstance(agent_id, bool)
        if integral and 0 <= agent_id < self._n_instances:
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
            Consecutive ids (e.g. ``range(a, b)``) are stepped as a slice of the stacked states,
            and all ids without indexing.
          is_training: whether to update the state before sampling.
          greedy: pick the best action without exploring (the agent's ``sample_greedy``), e.g. to
            evaluate a deep agent; usually with ``is_training=False``.
          update_observations, sample_observations: observations for the agent's ``update`` and
            ``sample``, by name, bypassing the extension.
          **kwargs: raw observations by name.

        Returns:
          The action (a NumPy scalar or array; with ``K`` ids, stacked along the first axis).

        Raises:
          ObservationError: a value is outside what the agent can take (see :doc:`/facade`); the
            call then changes nothing, as does any call that raises.
        """
        with self._lock:
            if (
                type(agent_id) is int
                and is_training is True
                and greedy is False
                and not (args or update_observations or sample_observations)
            ):
                fast = self._sample_one(agent_id, kwargs)
                if fast is not None:
                    return fast[0]
            return self._first_call(
                lambda: self._sample(
                    args,
                    agent_id,
                    is_training,
                    greedy,
                    update_observations,
                    sample_observations,
                    kwargs,
                )
            )

    def _sample(
        self, args, agent_id, is_training, greedy, update_observations, sample_observations, kwargs
    ):
        given = self._given(args, kwargs, update_observations, sample_observations)
        if type(is_training) is not bool or type(greedy) is not bool:
            is_training, greedy = _flag("is_training", is_training), _flag("greedy", greedy)
        if greedy and self._record_propensity:
            raise AgentaxError(
                "greedy=True steps have no propensity to record (record_propensity=True): "
                "they do not follow the agent's action_probabilities; sample without greedy"
            )
        ids, batch = self._ids(agent_id)
        do_update = is_training & ((self._steps[ids] > 0) | self._agent.update_on_first_step)
        action = self._run(given, ids, batch, do_update, greedy, agent_id)
        action = _host_action(action)
        self._after_step(given, action, ids)
        return action

    def _sample_one(self, index: int, given: dict[str, Any]) -> tuple[Any] | None:
        """``(action,)`` of a training step of instance ``index`` given ``given`` by name, by the
        shortest way: the same step as :meth:`_sample`, once a step with these names has been
        planned and traced (else ``None``, and nothing is done).

        The way is open to a step that runs on one device, records no propensity, runs no eager
        method and does not call back to Python.
        """
        stepper = self._steppers.get((tuple(given), False, False, "step"))
        if (
            stepper is None
            or stepper.calls_back is not False
            or stepper.eager
            or self._sharding is not None
            or self._record_propensity
            or not 0 <= index < self._n_instances
        ):
            return None
        count = int(self._steps[index])
        do_update = count > 0 or self._agent.update_on_first_step
        raw = stepper.raw_inputs(given, None, None, {})
        self._stack, action, problems = stepper.run_one(
            self._stack, index, _count_words(count), do_update, raw
        )
        if problems >= 0:
            raise stepper.refusal(self._stack, index, raw, False, problems, index)
        action = _host_action(action)
        self._after_step(given, action, index)
        return (action,)

    def _after_step(self, given: Mapping[str, Any], action: Any, ids: int | np.ndarray) -> None:
        """Count the step of instances ``ids``, then the automatic checkpoint and the loggers' hook."""
        self._steps[ids] += 1
        if self._auto_checkpoint is not None:
            self._auto_save(ids)
        if self._logs is not None:  # loggers hook: the one call after the step (agentax.loggers)
            self._logs.after_step(
                given, action, ids, self._steps, self._stacked_state, self._propensity
            )

    def _run(
        self, given, ids, batch, do_update, greedy, agent_id, mode="step", decided=None, counts=None
    ):
        """The actions of instances ``ids`` after one step; any error leaves ``self._stack`` valid.

        A method JAX cannot trace is switched to eager (with one warning) and the step planned
        again; there are finitely many methods, so this ends. A step whose values the guards
        refuse writes nothing and raises the error naming the first refused value. ``mode`` and
        ``decided`` (the actions a learning step updates with) are those of :class:`_Stepper`;
        ``counts`` number the step in each instance's random stream (default: its step count).
        """
        counts = _count_words(self._steps[ids] if counts is None else counts)
        done = {}
        last_actions = (
            (lambda: decided)
            if decided is not None
            else (lambda: _host_rows(self._stack.actions, ids))
        )
        path = self._path(ids, batch)
        while True:
            stepper = self._stepper(given, batch is not None, greedy, mode)
            done = stepper.raw_inputs(given, batch, last_actions, done)
            if decided is not None:
                done[_DECIDED] = decided
            if (
                path == "all" and self._sharding is not None
            ):  # each device reads its instances' rows
                done, counts, do_update = _placed((done, counts, do_update), self._sharding)
            recording = self._record_propensity and mode != "learn"
            prior = (
                _propensity.gather(self._stack.actions, ids) if recording else None
            )  # the stack is donated
            try:
                self._stack, action, problems = stepper.run(
                    self._stack, _path_ids(ids, path), counts, do_update, done, path
                )
            except NotTraceableError as error:
                self._run_eagerly(error)
            except (
                ExtensionMethodError
            ) as error:  # raised while tracing: report it without JAX's frames
                raise ExtensionMethodError(error.method, error.__cause__) from error.__cause__
            else:
                if (problems >= 0).any():
                    raise stepper.refusal(
                        self._stack, ids, done, batch is not None, problems, agent_id
                    )
                if recording:
                    self._record(stepper, ids, done, prior, action, batch is not None)
                return action

    def _record(self, stepper: _Stepper, ids, raw, last_actions, action, batched: bool) -> None:
        """Keep the propensity of the step's actions (see :mod:`agentax._propensity`)."""
        if self._propensities is None:
            self._propensities = _propensity.PropensityRecorder(self._agent)
        propensity = self._propensities(
            stepper.sample_build,
            self._state_def,
            self._stack,
            ids,
            self._steps[ids],
            raw,
            last_actions,
            action,
            batched,
        )
        self._propensity = propensity[()] if propensity.ndim == 0 else propensity

    @property
    def propensity(self) -> Any:
        """The probability the agent's policy gave the action(s) of the last :meth:`sample` or :meth:`decide`.

        A NumPy scalar, or an array of ``K`` for ``K`` instances stepped together; ``None`` before
        the first step. See ``record_propensity`` in :class:`RLib` and :mod:`agentax.ope`.
        """
        if not self._record_propensity:
            raise AgentaxError(
                "propensities are recorded only by RLib(..., record_propensity=True)"
            )
        return self._propensity

    def _path(self, ids, batch: int | None) -> str:
        """How a step finds its rows (see :func:`_take`); for ``"all"``, the stack is cut to the instances first.

        On a mesh, ``"all"`` needs an instance count that the devices split evenly (the stack's
        capacity stays a multiple of their count); other counts take the ``"some"`` path, as do
        other consecutive ids (``"range"`` off a mesh).
        """
        if batch is None:
            return "one"
        if not (ids[-1] - ids[0] == batch - 1 and (np.diff(ids) == 1).all()):
            return "some"
        if self._sharding is not None and (
            batch != self._n_instances or batch % _device_count(self._sharding)
        ):
            return "some"
        if batch != self._n_instances:
            return "range"
        if len(self._steps) != batch:  # spare capacity: cut once, so that every row is an instance
            self._stack = jax.tree.map(lambda x: x[:batch], self._stack)
            self._steps = self._steps[:batch]
            self._place_stack()
        return "all"

    def _place_stack(self) -> None:
        """On a mesh, pad the stack with zero rows (spare capacity) to a multiple of the device
        count and place it by the instance sharding; without one, nothing."""
        if self._sharding is None:
            return
        spare = -len(self._steps) % _device_count(self._sharding)
        if spare:
            self._stack = jax.tree.map(
                lambda x: jnp.concatenate([x, jnp.zeros((spare, *x.shape[1:]), x.dtype)]),
                self._stack,
            )
            self._steps = np.concatenate([self._steps, np.zeros(spare, np.int64)])
        self._stack = _placed(self._stack, self._sharding)

    def _run_eagerly(self, error: NotTraceableError) -> None:
        if error.observation in self._eager_observations:
            raise error
        self._eager_observations = self._eager_observations | {error.observation}
        self._steppers = {}
        warnings.warn(
            f"{error.method} cannot be traced by JAX ({type(error.__cause__).__name__}), so it now runs eagerly, "
            f"in plain Python before each compiled step. To keep it compiled, write it with jax.numpy and "
            f"without float()/int()/NumPy or Python branches on its arguments (jnp.where instead of if); "
            f"to silence this warning, declare it @observation(..., eager=True).",
            EagerObservationWarning,
            stacklevel=_outside_level(),  # the user's call of sample, decide or learn
        )

    def _given(self, args, kwargs, update_observations, sample_observations) -> dict[str, Any]:
        if not (args or update_observations or sample_observations):
            return kwargs
        names = self._ext.argument_names(len(args)) if self._ext is not None else ()
        if args and not names and self._ext is not None:
            names = tuple(
                positional_key(i) for i in range(len(args))
            )  # passed positionally to methods
        if len(args) > len(names):
            raise AgentaxError(
                f"got {len(args)} positional observations, but "
                f"{type(self._ext).__name__ if self._ext else 'no extension'} names only {len(names)}: {list(names)}; "
                f"pass observations by name"
            )
        given = dict(zip(names, args, strict=False))
        for extra in (kwargs, update_observations or {}, sample_observations or {}):
            for name, value in extra.items():
                if name in given and given[name] is not value:
                    raise ObservationError(name, "is given twice", "each observation once")
                given[name] = value
        return given

    def _stepper(
        self, given: Mapping[str, Any], batched: bool, greedy: bool, mode: str = "step"
    ) -> _Stepper:
        signature = (tuple(given), batched, greedy, mode)
        stepper = self._steppers.get(signature)
        if stepper is None:
            spaces = {name: self._raw_space(name) for name in given}
            stepper = _Stepper(
                self._agent,
                self._ext,
                spaces,
                self._state_def,
                greedy,
                self._eager_observations,
                mode,
                self._sharding,
            )
            self._check_names(given, stepper)
            self._steppers[signature] = stepper
        return stepper

    def _raw_space(self, name: str) -> gym.spaces.Space | None:
        """The space of the raw observation ``name`` in the extension's ``observation_space`` (``None``: unknown)."""
        raw_space = self._ext.observation_space if self._ext is not None else None
        return raw_space.spaces.get(name) if isinstance(raw_space, gym.spaces.Dict) else None

    def _check_names(self, given: Mapping[str, Any], stepper: _Stepper) -> None:
        """Refuse a given name that neither the extension nor the agent knows (a misspelling)."""
        known = set(stepper.raw_spaces)
        spaces = [self._agent.update_observation_space, self._agent.sample_observation_space]
        if self._ext is not None:
            spaces.append(self._ext.observation_space)
            known.update(self._ext.observation_functions)
            known.update(
                name for n in range(len(given) + 1) for name in self._ext.argument_names(n)
            )
            known.update(positional_key(i) for i in range(len(given)))
        for space in spaces:
            known.update(space.spaces if isinstance(space, gym.spaces.Dict) else ())
        for name in given:
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                hint = (
                    f"a known name (did you mean {close[0]!r}?)"
                    if close
                    else f"one of {sorted(known)}"
                )
                raise ObservationError(
                    name, "is not an observation the extension or the agent knows", hint
                )

    # -- late feedback -------------------------------------------------------------------

    def decide(
        self,
        *args: Any,
        agent_id: int | Sequence[int] = 0,
        sample_observations: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[Any, Any]:
        """Sample an action without learning, and keep it pending until :meth:`learn` gets its outcome.

        The observations given here (e.g. a context) are kept with the action: the update that
        :meth:`learn` makes later reads them, with the action decided here (not the instance's last
        action), so feedback may come after later decisions, in any order, or never. Each instance
        keeps at most ``max_pending`` decisions (see :class:`RLib`). Pending decisions are not saved
        by :meth:`save`. One compiled call, like :meth:`sample`; a refused call changes nothing.

        Args:
          *args: raw observations, as for :meth:`sample`.
          agent_id: one instance id, or a sequence of ``K`` distinct ids.
          sample_observations: observations for the agent's ``sample``, by name.
          **kwargs: raw observations by name; kept for the update :meth:`learn` makes.

        Returns:
          ``(action, ticket)``: the action as :meth:`sample` returns it, and an ``int`` naming the
          decision (with ``K`` ids, an int64 array of ``K`` tickets).
        """
        with self._lock:
            return self._first_call(
                lambda: self._decide(args, agent_id, sample_observations, kwargs)
            )

    def _decide(self, args, agent_id, sample_observations, kwargs):
        given = self._given(args, kwargs, None, sample_observations)
        ids, batch = self._ids(agent_id)
        kept = self._converted(given, batch)  # before the step: a bad value changes nothing
        do_update = False if batch is None else np.zeros(batch, bool)
        action = self._run(given, ids, batch, do_update, False, agent_id, mode="decide")
        action = jax.tree.map(_to_host, action)
        if batch is None:
            ticket = self._keep(ids, action, kept)
        else:
            ticket = np.array(
                [self._keep(i, _row(action, r), _row(kept, r)) for r, i in enumerate(ids)], np.int64
            )
        if self._record_propensity:
            self._ticket_propensity.update(
                zip(np.atleast_1d(ticket).tolist(), np.atleast_1d(self._propensity), strict=True)
            )
        self._after_step(given, action, ids)
        return action, ticket

    def learn(
        self,
        ticket: int | Sequence[int],
        *args: Any,
        update_observations: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Update the instance that made the decision ``ticket`` from its outcome (e.g. ``reward=1.0``).

        The update reads the decision's action and the observations given to :meth:`decide`, then
        those given here (which take precedence). Each ticket is learned from once.

        Args:
          ticket: a ticket from :meth:`decide`, or a sequence of ``K`` tickets of distinct
            instances, updated together in one compiled call; then observations have a leading
            axis of ``K`` (or are one value shared by all).
          *args: raw observations, as for :meth:`sample`.
          update_observations: observations for the agent's ``update``, by name.
          **kwargs: raw observations by name.

        Raises:
          UnknownTicketError: a ticket is not pending (never issued, already learned from,
            evicted, or issued before a :meth:`load`).
          ObservationError: a value is outside what the agent can take; the call changes nothing.
        """
        with self._lock:
            self._require_agent()
            batched = (
                isinstance(ticket, (Sequence, np.ndarray, jax.Array))
                and getattr(ticket, "ndim", 1) > 0
            )
            tickets = [self._pending_ticket(t) for t in (ticket if batched else [ticket])]
            owners = [self._ticket_owner[t] for t in tickets]
            if len(set(owners)) < len(owners):
                raise AgentaxError(
                    f"tickets {tickets} include two of one instance; learn from them in separate calls"
                )
            records = [self._pending[i][t] for i, t in zip(owners, tickets, strict=True)]
            decided, kept = records[0] if not batched else _stack_records(records, tickets)
            given = {**kept, **self._given(args, kwargs, update_observations, None)}
            ids = np.asarray(owners, np.int32) if batched else owners[0]
            batch = len(tickets) if batched else None
            do_update = np.ones(batch, bool) if batched else True
            counts = np.asarray(tickets) if batched else tickets[0]
            self._run(
                given,
                ids,
                batch,
                do_update,
                False,
                ids,
                mode="learn",
                decided=decided,
                counts=counts,
            )
            for owner, t in zip(owners, tickets, strict=True):
                del self._pending[owner][t], self._ticket_owner[t]
            propensity = None
            if self._record_propensity:  # the decisions' propensities, logged with their outcomes
                propensity = np.array([self._ticket_propensity.pop(t) for t in tickets])
                propensity = propensity if batched else propensity[0]
            if self._logs is not None:
                self._logs.after_step(
                    given, decided, ids, self._steps, self._stacked_state, propensity
                )

    def pending(self, agent_id: int = 0) -> list[int]:
        """The tickets of one instance's decisions still waiting for :meth:`learn`, oldest first."""
        with self._lock:
            return list(self._pending.get(self._instance_index(agent_id), ()))

    def _first_call(self, step: Callable[[], Any]) -> Any:
        """``step()``; the first call of a facade creates instance 0 first, and removes it if ``step`` fails."""
        if self._agent is None:
            raise NoAgentError()
        if self._n_instances:
            return step()
        self._init(42)
        try:
            return step()
        except BaseException:
            self._stack, self._state_def, self._n_instances, self._steps = (
                None,
                None,
                0,
                np.zeros(0, np.int64),
            )
            raise

    def _ids(self, agent_id) -> tuple[Any, int | None]:
        """``(instance index, None)`` for one id, ``(int32 indices, K)`` for a sequence of ``K``."""
        if (
            type(agent_id) is int and 0 <= agent_id < self._n_instances
        ):  # the common case, kept short
            return agent_id, None
        if (  # consecutive ids, checked without a list
            type(agent_id) is range
            and agent_id.step == 1
            and 0 <= agent_id.start < agent_id.stop <= self._n_instances
        ):
            return np.arange(agent_id.start, agent_id.stop, dtype=np.int32), len(agent_id)
        if (
            isinstance(agent_id, (Sequence, np.ndarray, jax.Array))
            and not isinstance(agent_id, str)
            and (getattr(agent_id, "ndim", 1))
        ):
            ids = self._instance_indices(agent_id)
            return ids, len(ids)
        return self._instance_index(agent_id), None

    def _converted(self, given: Mapping[str, Any], batch: int | None) -> dict[str, Any]:
        """The given values checked and converted to arrays (with a leading axis of ``batch``)."""
        converted = {
            name: make_converter(name, self._raw_space(name), batch)(value)
            for name, value in given.items()
        }
        if batch is None:
            return converted
        return jax.tree.map(lambda x: x if np.ndim(x) else np.broadcast_to(x, (batch,)), converted)

    def _keep(self, instance: int, action: Any, observations: dict[str, Any]) -> int:
        """Record one pending decision; returns its ticket."""
        ticket, self._next_ticket = self._next_ticket, self._next_ticket + 1
        kept = self._pending.setdefault(int(instance), collections.OrderedDict())
        kept[ticket] = (action, observations)
        self._ticket_owner[ticket] = int(instance)
        if len(kept) > self._max_pending:
            evicted = kept.popitem(last=False)[0]
            del self._ticket_owner[evicted]
            self._ticket_propensity.pop(evicted, None)
        return ticket

    def _pending_ticket(self, ticket: Any) -> int:
        if (
            isinstance(ticket, (np.ndarray, jax.Array))
            and ticket.ndim == 0
            and ticket.dtype.kind in "iu"
        ):
            ticket = ticket.item()
        if not isinstance(ticket, numbers.Integral) or isinstance(ticket, bool):
            raise UnknownTicketError(ticket, "is not a ticket (an integer decide() returned)")
        if int(ticket) not in self._ticket_owner:
            reason = (
                f"was never issued (decide() has issued tickets 0 to {self._next_ticket - 1})"
                if not 0 <= ticket < self._next_ticket
                else f"is not pending: it was already learned from, evicted by more than max_pending="
                f"{self._max_pending} newer decisions of its instance, or issued before the facade was loaded"
            )
            raise UnknownTicketError(ticket, reason)
        return int(ticket)

    # -- checkpoints ---------------------------------------------------------------------

    #: How many automatic checkpoints of each instance (or group of instances stepped together) are kept.
    AUTO_CHECKPOINTS_KEPT = 3

    def save(self, path: str | None = None, *, agent_ids: int | Sequence[int] | None = None) -> str:
        """Save the experiment (agent, extension, instances) to one file, atomically.

        The file holds each instance's state, random key, last action and step count, the agent's
        and extension's classes by import path, and their parameters as data. Parameters that are
        objects (a flax module, an optax optimizer, a function) are not stored: :meth:`load`
        needs them again. See :mod:`agentax.checkpoint` for the format.

        Args:
          path: the file; ``.npz`` is appended when missing. By default
            ``~/agentax-checkpoint-<date>-<time>.npz``.
          agent_ids: the instance(s) to save (default: all); they keep their ids when loaded.

        Returns:
          The path written.
        """
        with self._lock:
            return self._save(path, agent_ids)

    def _save(self, path: str | None, agent_ids: int | Sequence[int] | None) -> str:
        agent = self._require_agent()
        ids = (
            np.arange(self._n_instances)
            if agent_ids is None
            else self._instance_indices(np.atleast_1d(agent_ids))
        )
        if path is None:
            path = checkpoint.default_path()
        elif not os.fspath(path).endswith(checkpoint.SUFFIX):
            path = os.fspath(path) + checkpoint.SUFFIX
        leaves = jax.tree.leaves(self._stack) if self._stack is not None else []
        arrays = {f"stack/{i}": np.asarray(leaf)[ids] for i, leaf in enumerate(leaves)}
        arrays.update(ids=ids.astype(np.int64), steps=self._steps[ids])
        metadata = {
            "agent": self._params_metadata(type(agent), self._agent_params, "agent_params", arrays),
            "ext": self._params_metadata(self._ext_type, self._ext_params, "ext_params", arrays)
            if self._ext
            else None,
            "no_ext_mode": self._no_ext_mode,
            "n_leaves": len(leaves),
            "auto_checkpoint": self._auto_checkpoint,
            "auto_checkpoint_path": self._auto_checkpoint_path,
            "max_pending": self._max_pending,
            "record_propensity": self._record_propensity,
            "next_ticket": self._next_ticket,  # tickets issued after a load do not repeat earlier ones
        }
        checkpoint.write(path, metadata, arrays)
        return os.fspath(path)

    @staticmethod
    def _params_metadata(cls: type, params: Mapping[str, Any], prefix: str, arrays: dict) -> dict:
        stored, param_arrays, objects = checkpoint.encode_params(params, prefix)
        arrays.update(param_arrays)
        return {"type": checkpoint.class_path(cls), "params": stored, "objects": objects}

    @staticmethod
    def load(
        path: str,
        agent_params: dict[str, Any] | None = None,
        ext_params: dict[str, Any] | None = None,
        logger_types: Any = None,
        logger_sources: Any = None,
        logger_params: dict[str, Any] | None = None,
        *,
        agent_type: type | None = None,
        ext_type: type | None = None,
        mesh: Any = None,
    ) -> RLib:
        """Load an experiment saved by :meth:`save`; stepping it continues exactly where it stopped.

        Nothing in the file is executed or unpickled: the classes it names must be agentax's own,
        registered with :func:`agentax.checkpoint.register`, or given as ``agent_type`` /
        ``ext_type``; the file's bytes are checked against the SHA-256 it records.

        Args:
          path: the checkpoint file.
          agent_params, ext_params: parameters merged over the stored ones; they must include
            every parameter that was an object (a flax module, an optax optimizer, a function).
          logger_types, logger_sources, logger_params: loggers for the loaded facade (they are
            not stored in the checkpoint).
          agent_type, ext_type: the classes to use instead of those the file names (needed for a
            class that is neither agentax's own nor registered).
          mesh: where to place the instances, as for :class:`RLib` (not stored in the file: a
            checkpoint saved on one device loads on several, and back).

        Raises:
          CheckpointError: the file is missing, not a checkpoint, changed, truncated, of another
            format version, names a class not allowed, lacks object parameters, or its arrays do
            not fit the agent (the subclasses of :class:`agentax.errors.CheckpointError` say which).
        """
        path = os.fspath(path)
        metadata, arrays = checkpoint.read(path)
        checkpoint.check_facade_metadata(path, metadata)
        agent_meta, ext_meta = metadata["agent"], metadata["ext"]
        agent_cls = checkpoint.resolve_class(agent_meta["type"], BaseAgent, agent_type)
        options = {"agent_type": agent_cls, "no_ext_mode": metadata["no_ext_mode"]}
        options["agent_params"] = checkpoint.decode_params(
            path,
            agent_cls.__name__,
            "agent_params",
            agent_meta["params"],
            agent_meta["objects"],
            arrays,
            agent_params,
        )
        if ext_meta is not None:
            options["ext_type"] = ext_cls = checkpoint.resolve_class(
                ext_meta["type"], BaseExt, ext_type
            )
            options["ext_params"] = checkpoint.decode_params(
                path,
                ext_cls.__name__,
                "ext_params",
                ext_meta["params"],
                ext_meta["objects"],
                arrays,
                ext_params,
            )
        loggers = {
            "logger_types": logger_types,
            "logger_sources": logger_sources,
            "logger_params": logger_params,
        }
        options.update({name: value for name, value in loggers.items() if value is not None})
        rl = RLib(
            auto_checkpoint=metadata["auto_checkpoint"] or None,
            auto_checkpoint_path=metadata["auto_checkpoint_path"],
            max_pending=metadata.get("max_pending", 1024),
            record_propensity=metadata.get("record_propensity", False) is True,
            mesh=mesh,
            **options,
        )
        rl._next_ticket = int(metadata.get("next_ticket", 0))
        stacked = [arrays.get(f"stack/{i}") for i in range(metadata["n_leaves"])]
        rl._restore(path, arrays.get("ids"), arrays.get("steps"), stacked)
        return rl

    def _restore(self, path: str, ids, steps, stacked: list) -> None:
        """Put saved instances at their ids; ids in between that were not saved start afresh (seed 42)."""
        if ids is None or steps is None or any(array is None for array in stacked):
            raise CorruptCheckpointError(path, "its instance arrays are missing")
        if ids.size == 0:
            return
        if (
            ids.dtype != np.int64
            or ids.ndim != 1
            or steps.shape != ids.shape
            or steps.dtype != np.int64
        ):
            raise CorruptCheckpointError(
                path, "its instance ids or step counts are not int64 vectors of one length"
            )
        if ids.min() < 0 or len(np.unique(ids)) != ids.size:
            raise CorruptCheckpointError(
                path, "its instance ids are not distinct non-negative integers"
            )
        keys = jax.random.split(jax.random.PRNGKey(42))
        state, key, action = jax.eval_shape(
            self._fresh_instance, keys
        )  # traced, not compiled: loads stay fast
        shapes = _Stack(tuple(jax.tree.leaves(state)), key, action)
        named = jax.tree_util.tree_flatten_with_path(shapes)[0]
        if len(stacked) != len(named):
            raise CheckpointMismatchError("number of arrays per instance", len(stacked), len(named))
        for (name, leaf), saved in zip(named, stacked, strict=True):
            expected = ((ids.size, *leaf.shape), leaf.dtype)
            if (saved.shape, saved.dtype) != expected:
                raise CheckpointMismatchError(
                    f"array {jax.tree_util.keystr(name)} (shape, dtype)",
                    (saved.shape, saved.dtype),
                    expected,
                )
        n = int(ids.max()) + 1
        rows = [np.empty((n, *leaf.shape), leaf.dtype) for leaf in jax.tree.leaves(shapes)]
        if n > ids.size:
            state, key, action = self._fresh_instance(keys)
            for column, leaf in zip(
                rows,
                jax.tree.leaves(_Stack(tuple(jax.tree.leaves(state)), key, action)),
                strict=True,
            ):
                column[:] = leaf
        for column, saved in zip(rows, stacked, strict=True):
            column[ids] = saved
        self._stack = jax.tree.unflatten(
            jax.tree.structure(shapes), [jnp.asarray(column) for column in rows]
        )
        self._state_def = jax.tree.structure(state)
        self._steps = np.zeros(n, np.int64)
        self._steps[ids] = steps
        self._n_instances = n
        self._place_stack()

    def _fresh_instance(self, keys):
        """``(state, key, last action)`` of an instance as :meth:`init` makes it from ``keys``."""
        init_key, own_key = keys
        state = self._agent.init(init_key)
        return state, own_key, self._first_action(state, own_key)

    def _fresh_row(self, seed_key) -> _Stack:
        """The stack row of an instance made from ``seed_key`` (the key of its seed)."""
        state, key, action = self._fresh_instance(jax.random.split(seed_key))
        return _Stack(tuple(jax.tree.leaves(state)), key, action)

    def _auto_save(self, ids: int | np.ndarray) -> None:
        """Save the instances of this step whose step count reached a multiple of ``auto_checkpoint``."""
        ids = np.atleast_1d(ids)
        due = ids[self._steps[ids] % self._auto_checkpoint == 0]
        if due.size == 0:
            return
        label = f"agent-{due[0]}" if due.size == 1 else f"agents-{due[0]}-and-{due.size - 1}-more"
        name = f"agentax-checkpoint-{label}-step-{self._steps[due].max()}"
        try:
            path = self._save(checkpoint.default_path(self._auto_checkpoint_path, name), due)
        except OSError as error:  # the step itself succeeded: say so, and keep going
            warnings.warn(
                f"the automatic checkpoint {name} could not be written: {error}",
                RuntimeWarning,
                stacklevel=4,
            )
            return
        kept = self._auto_checkpoints.setdefault(label, collections.deque())
        if path not in kept:
            kept.append(path)
        while len(kept) > self.AUTO_CHECKPOINTS_KEPT:
            with contextlib.suppress(FileNotFoundError):
                os.remove(kept.popleft())

    # -- loggers -------------------------------------------------------------------------

    def set_loggers(
        self,
        logger_types: Any,
        logger_sources: Any = None,
        logger_params: dict[str, Any] | None = None,
    ) -> None:
        """Log ``logger_sources`` with one logger of each of ``logger_types`` (see :mod:`agentax.loggers`).

        Loggers set before are finished first. The loggers are finished by :meth:`finish`, on
        leaving a ``with`` block, when the facade is garbage-collected, or at interpreter exit.
        """
        logs = LogsObserver(logger_types, logger_sources, logger_params)
        with self._lock:
            self.finish()
            self._logs = logs
        weakref.finalize(self, logs.finish)  # holds the loggers, not the facade

    def log(self, name: str, value: Any) -> None:
        """Log a custom value (a number, an array, a dict or any object) with every logger."""
        if self._logs is None:
            raise AgentaxError(
                "no loggers are set: pass logger_types to RLib(...) or call set_loggers(...)"
            )
        with self._lock:
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
        return jax.tree.unflatten(self._state_def, self._stack.states)

    # -- native export -------------------------------------------------------------------

    def export(
        self,
        path: str,
        agent_id: int = 0,
        *,
        sample_only: bool = False,
        greedy: bool = False,
        **options,
    ) -> str:
        """Export the agent's functions with :func:`agentax.export.export` (StableHLO, IREE, a manifest).

        Args:
          path: the export directory.
          agent_id: with ``sample_only``, the instance whose trained state is baked into ``sample``.
          sample_only: export only ``sample`` (and ``split``), with that instance's state as constants;
            otherwise ``init``, ``update`` and ``sample`` of the agent, ``step_keys`` (the facade's
            keys of a step) and the instance (state, key, step count, last action) as ``.npy``
            files, from which a caller continues it (:func:`agentax.export.load_instance`).
          greedy: with ``sample_only``, export the agent's ``sample_greedy`` (as ``rl.sample(greedy=True)``).
          options: ``formats`` and ``iree_flags`` of :func:`agentax.export.export`.

        Returns:
          The directory written.
        """
        from agentax.export import Instance, export

        with self._lock:
            agent = self._require_agent()
            state = self.state(agent_id)
            instance = None
            if not sample_only:
                index = self._instance_index(agent_id)
                instance = Instance(
                    state,
                    self._stack.keys[index],
                    int(self._steps[index]),
                    _host_rows(self._stack.actions, index),
                    lambda key, count: _step_keys(key, count, learn=False),
                )
            return export(
                agent,
                path,
                state=state if sample_only else None,
                greedy=greedy,
                instance=instance,
                agent_params=self._agent_params,
                **options,
            )


def _instance_sharding(mesh: Any) -> jax.sharding.NamedSharding | None:
    """The placement of the instance stack for ``RLib(mesh=...)`` (``None``: no placement)."""
    if mesh is None:
        return None
    if mesh is True:
        mesh = sharding.population_mesh(jax.local_devices())
    if not isinstance(mesh, jax.sharding.Mesh) or sharding.INSTANCE_AXIS not in mesh.axis_names:
        raise AgentaxError(
            f"mesh must be a jax.sharding.Mesh with an axis named {sharding.INSTANCE_AXIS!r} "
            f"(see agentax.sharding.population_mesh), True or None, got {mesh!r}"
        )
    if mesh.is_multi_process:
        raise AgentaxError(
            "RLib(mesh=...) takes a mesh of this process's devices only (jax.local_devices())"
        )
    return sharding.population_sharding(mesh)


def _device_count(placement: jax.sharding.NamedSharding) -> int:
    """How many parts the instance axis is split into."""
    return placement.mesh.shape[sharding.INSTANCE_AXIS]


def _placed(tree, placement: jax.sharding.NamedSharding | None):
    """``tree`` with every leaf placed by ``placement`` (as it is without one)."""
    return tree if placement is None else jax.device_put(tree, placement)


def _constrain(tree, placement: jax.sharding.NamedSharding | None):
    """Inside a compiled step: ``tree`` kept split along its first axis by ``placement``."""
    return tree if placement is None else jax.lax.with_sharding_constraint(tree, placement)


def _check_auto_checkpoint(every: int | None) -> int | None:
    if every is None:
        return None
    if isinstance(every, bool) or not isinstance(every, numbers.Integral) or every < 1:
        raise ValueError(
            f"auto_checkpoint must be a positive integer (steps between checkpoints) or None, got {every!r}"
        )
    return int(every)


def _outside_level() -> int:
    """The ``stacklevel`` that makes a warning point at the first caller outside this module."""
    frame, level = inspect.currentframe().f_back, 1
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    return level


def _check_max_pending(count: int) -> int:
    if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 1:
        raise ValueError(
            f"max_pending must be a positive integer (decisions waiting per instance), got {count!r}"
        )
    return int(count)


def _stack_records(records: list, tickets: list[int]) -> tuple[Any, dict[str, Any]]:
    """The actions and kept observations of several pending decisions, stacked along a first axis."""
    names = [sorted(kept) for _, kept in records]
    if any(n != names[0] for n in names):
        raise AgentaxError(
            f"tickets {tickets} were decided with different observations ({names}); learn from them in separate calls"
        )
    return jax.tree.map(lambda *rows: np.stack(rows), *records)


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise AgentaxError(f"{name} must be True or False, got {value!r}")


def _check_seed(seed: Any) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise AgentaxError(f"seed must be an integer, got {seed!r}")
    return int(seed)


def _seed_key(seed: int) -> jax.Array:
    """A PRNG key from all of ``seed``: ``PRNGKey(seed)`` in ``[0, 2**32)``, else its 32-bit words folded in."""
    if 0 <= seed < 2**32:
        return jax.random.PRNGKey(seed)
    words = [
        (abs(seed) >> shift) & 0xFFFFFFFF for shift in range(0, abs(seed).bit_length(), 32)
    ] or [0]
    key = jax.random.PRNGKey(words[0])
    for word in words[1:]:
        key = jax.random.fold_in(key, word)
    return jax.random.fold_in(
        key, len(words) | (0x80000000 if seed < 0 else 0)
    )  # the length and the sign


def _host(tree):
    return np.asarray(tree) if isinstance(tree, jax.Array) else jax.tree.map(np.asarray, tree)


def _to_host(array: jax.Array) -> np.ndarray | np.generic:
    array = np.asarray(array)
    return array[()] if array.ndim == 0 else array


def _host_action(action: Any) -> Any:
    """A step's action(s) as NumPy: a scalar for a 0-d array, leaf by leaf for a tree."""
    return _to_host(action) if isinstance(action, np.ndarray) else jax.tree.map(_to_host, action)


def _build_agent(agent_type: type, agent_params: dict[str, Any], ext: BaseExt | None) -> BaseAgent:
    _check_known(agent_type, agent_params)
    return agent_type(
        **compose_agent_params(agent_type, agent_type.parameter_space(), agent_params, ext)
    )


def _check_known(owner: type, params: Mapping[str, Any]) -> None:
    signature = inspect.signature(owner.__init__).parameters
    if any(p.kind is p.VAR_KEYWORD for p in signature.values()):
        return
    unknown = [name for name in params if name not in signature or name == "self"]
    if unknown:
        raise UnknownParameterError(owner.__name__, unknown, [n for n in signature if n != "self"])


def _check_positional_taken(given: Mapping[str, Any], ext: BaseExt | None, taken: int) -> None:
    n_positional = sum(positional_key(i) in given for i in range(len(given)))
    if taken < n_positional:
        raise AgentaxError(
            f"got {n_positional} positional observations, but the observation methods of {type(ext).__name__} "
            f"that this agent needs take only {taken}; pass observations by name"
        )


def _calls_back(jaxpr) -> bool:
    """Whether ``jaxpr``, or one nested in it (cond branches, loops, inner jits), calls Python."""
    for equation in jaxpr.eqns:
        name = equation.primitive.name
        if "callback" in name or name.startswith("debug"):
            return True
        for param in equation.params.values():
            for inner in param if isinstance(param, (tuple, list)) else (param,):
                inner = getattr(inner, "jaxpr", inner)  # a ClosedJaxpr holds a Jaxpr
                if hasattr(inner, "eqns") and _calls_back(inner):
                    return True
    return False


def _row(tree, index: int):
    return None if tree is None else jax.tree.map(lambda x: x[index], tree)


def _host_rows(tree, ids):
    return jax.tree.map(lambda x: np.asarray(x[ids]), tree)


class _Stack(NamedTuple):
    """Every instance's arrays, stacked along a first axis (its length, the capacity, may exceed the instances)."""

    states: tuple  # the leaves of the agent's state
    keys: jax.Array  # each instance's PRNG key, fixed at init (see _step_keys)
    actions: Any  # the last action of each instance (zeros before the first)


def _step_keys(key: jax.Array, count, learn: bool) -> tuple[jax.Array, jax.Array]:
    """The update and sample keys of step ``count`` of the instance whose key is ``key``: one hash.

    Threefry-2x32 is a keyed pseudo-random function, so hashing distinct counter pairs under one
    key gives independent words (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
    SC 2011): here the pairs ``(count mod 2**32, 4 * (count // 2**32) + j)``, ``j`` 0 and 1 for a
    step's update and sample, 2 for :meth:`RLib.learn`, whose ``count`` is its ticket. The stored
    key never changes, so a refused step leaves nothing to undo, and a checkpoint (keys and step
    counts) resumes the same stream. ``count`` comes as its two 32-bit words (:func:`_count_words`).
    """
    low, high = count[0], count[1] * 4 + (2 if learn else 0)
    words = threefry_2x32(
        key, jnp.stack([low, low, high, high + 1])
    )  # pairs (low, high), (low, high + 1)
    return words[0::2], words[1::2]


def _count_words(counts) -> np.ndarray:
    """Non-negative counts as ``uint32`` pairs ``(count mod 2**32, count // 2**32)`` along a last axis."""
    if np.ndim(counts) == 0:  # one instance: kept short
        count = int(counts)
        return np.array((count & 0xFFFFFFFF, count >> 32), np.uint32)
    counts = np.asarray(counts, np.uint64)
    return np.stack([counts & 0xFFFFFFFF, counts >> 32], axis=-1).astype(np.uint32)


def _path_ids(ids, path: str):
    """What :meth:`_Stepper.run` is given as ``ids`` on ``path``: the first id of a range, no ids
    for every instance."""
    return None if path == "all" else ids[0] if path == "range" else ids


def _take(stack: _Stack, ids, path: str, size: int = 1) -> _Stack:
    """The rows a step reads: row ``ids`` (``"one"``), the ``size`` rows from row ``ids``
    (``"range"``, a slice), rows ``ids`` (``"some"``, a gather) or the whole stack (``"all"``)."""
    if path == "all":
        return stack
    if path == "one":
        return jax.tree.map(lambda x: jax.lax.dynamic_index_in_dim(x, ids, keepdims=False), stack)
    if path == "range":
        return jax.tree.map(lambda x: jax.lax.dynamic_slice_in_dim(x, ids, size), stack)
    return jax.tree.map(lambda x: x[ids], stack)


def _commit_impl(stack: _Stack, ids, rows: _Stack, problems, path: str) -> _Stack:
    """Write the states and actions of ``rows`` where :func:`_take` read them, unless a problem
    anywhere refuses the step.

    A refused ``"some"`` step sends its rows past the end (dropped); the others keep the old rows.
    With ``stack`` donated, ``"one"``, ``"range"`` and ``"all"`` update it in place, without a
    scatter.
    """
    ok = jnp.all(problems < 0)
    if path == "all":

        def put(x, row):
            return jnp.where(ok, row, x)
    elif path == "range":

        def put(x, rows):
            kept = jnp.where(ok, rows, jax.lax.dynamic_slice_in_dim(x, ids, len(rows)))
            return jax.lax.dynamic_update_slice_in_dim(x, kept, ids, 0)
    elif path == "one":

        def put(x, row):
            kept = jnp.where(ok, row, jax.lax.dynamic_index_in_dim(x, ids, keepdims=False))
            return jax.lax.dynamic_update_index_in_dim(x, kept, ids, 0)
    else:
        target = jnp.where(ok, ids, len(stack.keys))

        def put(x, row):
            return x.at[target].set(row, mode="drop")

    states, actions = jax.tree.map(put, (stack.states, stack.actions), (rows.states, rows.actions))
    return _Stack(
        states, stack.keys, actions
    )  # keys never change: a step's keys come from its count


_commit: Callable = jax.jit(_commit_impl, static_argnums=4, donate_argnums=0)


@functools.partial(jax.jit, static_argnums=2)
def _append(stack: _Stack, rows: _Stack, n: int) -> _Stack:
    """The first ``n`` rows of ``stack``, then ``rows``."""
    return jax.tree.map(lambda x, new: jnp.concatenate([x[:n], new]), stack, rows)


@jax.jit
def _grow(stack: _Stack) -> _Stack:
    return jax.tree.map(lambda x: jnp.concatenate([x, jnp.zeros_like(x)]), stack)


def _put_impl(stack: _Stack, index, item) -> _Stack:
    leaves, key = item
    states = tuple(x.at[index].set(v) for x, v in zip(stack.states, leaves, strict=True))
    return _Stack(states, stack.keys.at[index].set(key), stack.actions)


_put: Callable = jax.jit(_put_impl, donate_argnums=0)
