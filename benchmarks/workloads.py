"""The benchmark workloads, written once and run by both sides with their own library's classes.

Both agentax and reinforced-lib expose the same shapes: an ``RLib`` facade with
``sample(**observations, agent_id=...)`` and agents with jitted ``init`` / ``update`` /
``sample`` over the same observation names. So each workload here takes a :class:`Library`
(which classes to use, and how that library is driven) and returns one figure. This module
imports only the standard library, NumPy and JAX, which both virtual environments have.

The bandit every workload plays: ``N_ARMS`` Bernoulli arms, arm ``a`` pays 1 with probability
``ARM_PROBS[a]``. A loop converts each action to a Python ``int`` (or a NumPy array for many
instances), as a loop that hands it to an environment does.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

N_ARMS = 10
ARM_PROBS = tuple((arm + 1) / (N_ARMS + 1) for arm in range(N_ARMS))
AGENT_PARAMS: dict[str, dict[str, float]] = {
    "EGreedy": {"e": 0.1},
    "UCB": {"c": 1.0},
    "ThompsonSampling": {},
}
WORKLOADS = ("facade", "batched", "pure")
UNITS = {"facade": "us/call", "batched": "us/step", "pure": "ns/agent-step"}
CLOCKS: dict[str, Callable[[], float]] = {
    "wall": time.perf_counter,
    "cpu": time.process_time,  # CPU time of every thread of the process: less sensitive to other load
}


@dataclass(frozen=True)
class Sizes:
    """How much work one measurement does, and which clock times it.

    Attributes:
      calls: timed facade calls of one instance (workload ``facade``).
      agents: instances stepped together (``batched``) or agents under ``vmap`` (``pure``).
      batch_steps: timed steps of all instances in ``batched`` (each is ``agents`` calls for a
        library that steps one instance per call).
      scan_steps: steps of the ``lax.scan`` in ``pure``.
    """

    calls: int = 2000
    agents: int = 1000
    batch_steps: int = 3
    scan_steps: int = 1000
    clock: str = "wall"


@dataclass(frozen=True)
class Library:
    """One library's classes and the way its facade is driven.

    Attributes:
      rlib_type: the facade class.
      ext_type: its ``BasicMab`` extension.
      agents: agent classes by name.
      steps_many_at_once: the facade steps ``K`` instances in one call (else one call each).
      beyond_ext: agents this library's ``BasicMab`` cannot drive; the facade runs them with
        ``no_ext_mode=True`` and the loop passes every observation (the last action too) by name.
    """

    rlib_type: type
    ext_type: type
    agents: Mapping[str, type]
    steps_many_at_once: bool
    beyond_ext: frozenset[str] = frozenset()


def bandit_observations(reward: Any, n_arms: int = N_ARMS) -> dict[str, Any]:
    """Every observation a bandit agent may need, derived from a 0/1 reward as ``BasicMab`` does."""
    success = (reward > 0) * 1
    return {
        "reward": reward,
        "n_successful": success,
        "n_failed": 1 - success,
        "delta_time": 1.0,
        "context": np.ones(n_arms, np.float32),
    }


def _space_names(space) -> tuple[str, ...]:
    return tuple(name for name in getattr(space, "spaces", {}) if name != "action")


def dispatch_synchronously() -> None:
    """Run each compiled CPU call on the calling thread (``jax_cpu_enable_async_dispatch=False``).

    By default JAX hands a CPU program that is not trivially cheap to another thread and returns at
    once; for a step of a few microseconds that handoff is a large part of a blocking call. It is a
    process-wide choice, so the library leaves it to the user; the benchmark can measure both.
    Must run before JAX's CPU client is created (before the first computation).
    """
    jax.config.update("jax_cpu_enable_async_dispatch", False)


class Bench:
    """Measures the workloads for one library, keeping compiled programs between repeats."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self._pure_runs: dict[tuple, Callable] = {}

    def measure(self, workload: str, agent_name: str, sizes: Sizes) -> float:
        """One figure of ``workload`` for ``agent_name``, in ``UNITS[workload]``."""
        if workload not in WORKLOADS:
            raise ValueError(f"unknown workload {workload!r}, expected one of {WORKLOADS}")
        return getattr(self, f"_{workload}")(agent_name, sizes)

    # -- facade --------------------------------------------------------------------------

    def _make_rlib(self, agent_name: str):
        """The facade over ``BasicMab``, or in ``no_ext_mode`` for an agent beyond it."""
        lib = self.library
        agent_params = dict(AGENT_PARAMS[agent_name])
        if agent_name in lib.beyond_ext:
            agent_params["n_arms"] = N_ARMS
            return lib.rlib_type(
                agent_type=lib.agents[agent_name], agent_params=agent_params, no_ext_mode=True
            )
        return lib.rlib_type(
            agent_type=lib.agents[agent_name],
            agent_params=agent_params,
            ext_type=lib.ext_type,
            ext_params={"n_arms": N_ARMS},
        )

    def _agent(self, agent_name: str):
        return self.library.agents[agent_name](n_arms=N_ARMS, **AGENT_PARAMS[agent_name])

    def _observe(self, agent_name: str) -> Callable[..., dict[str, Any]]:
        """``observe(reward, last_action)``: the keyword arguments of ``rl.sample`` for a reward."""
        if agent_name not in self.library.beyond_ext:
            return lambda reward, last_action: {"reward": reward}
        agent = self._agent(agent_name)
        update_names = _space_names(agent.update_observation_space)
        sample_names = _space_names(agent.sample_observation_space)

        def observe(reward, last_action):
            observations = bandit_observations(reward)
            return {
                "update_observations": {
                    "action": last_action,
                    **{k: observations[k] for k in update_names},
                },
                "sample_observations": {k: observations[k] for k in sample_names},
            }

        return observe

    def _facade(self, agent_name: str, sizes: Sizes) -> float:
        rl = self._make_rlib(agent_name)
        observe = self._observe(agent_name)
        rng = random.Random(0)

        def play(calls: int, action: int) -> int:
            for _ in range(calls):
                reward = 1.0 if rng.random() < ARM_PROBS[action] else 0.0
                action = int(rl.sample(**observe(reward, action)))
            return action

        action = play(max(50, sizes.calls // 20), 0)
        clock = CLOCKS[sizes.clock]
        start = clock()
        play(sizes.calls, action)
        return (clock() - start) / sizes.calls * 1e6

    # -- many instances ------------------------------------------------------------------

    def _batched(self, agent_name: str, sizes: Sizes) -> float:
        rl = self._make_rlib(agent_name)
        for seed in range(sizes.agents):
            rl.init(seed)
        observe = self._observe(agent_name)
        step = self._step_many if self.library.steps_many_at_once else self._step_each
        probs = np.asarray(ARM_PROBS, np.float32)
        uniforms = np.random.default_rng(0).random(
            (2 + sizes.batch_steps, sizes.agents), dtype=np.float32
        )
        actions = np.zeros(sizes.agents, np.int64)
        for t in range(2):  # the first call of each instance only samples; the second also updates
            actions = step(rl, observe, (uniforms[t] < probs[actions]).astype(np.float32), actions)
        clock = CLOCKS[sizes.clock]
        start = clock()
        for t in range(2, 2 + sizes.batch_steps):
            actions = step(rl, observe, (uniforms[t] < probs[actions]).astype(np.float32), actions)
        return (clock() - start) / sizes.batch_steps * 1e6

    @staticmethod
    def _step_many(rl, observe, rewards: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """All instances in one call: ``rl.sample(reward=rewards, agent_id=ids)``."""
        return np.asarray(rl.sample(**observe(rewards, actions), agent_id=np.arange(rewards.size)))

    @staticmethod
    def _step_each(rl, observe, rewards: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """One call per instance: ``rl.sample(reward=rewards[i], agent_id=i)``."""
        return np.array(
            [
                int(rl.sample(**observe(float(reward), int(action)), agent_id=i))
                for i, (reward, action) in enumerate(zip(rewards, actions, strict=True))
            ]
        )

    # -- floors (agentax only) -----------------------------------------------------------

    def floor(self, workload: str, agent_name: str, sizes: Sizes) -> float:
        """What ``workload`` would cost if the agent did nothing, in ``UNITS[workload]``.

        ``facade`` and ``batched``: an empty compiled call given the arguments the facade's step
        is given (its stack, ids, step counts, flags and observations): JAX's dispatch floor.
        ``pure``: a no-op agent (state unchanged, action from its sample key) under the same
        harness, which still splits keys and draws rewards.
        """
        if workload == "pure":
            return self._pure(agent_name, sizes, noop=True)
        rl = self._make_rlib(agent_name)
        batch = None if workload == "facade" else sizes.agents
        rl.init(seed=list(range(batch or 1)))
        arguments = _step_arguments(rl, batch)
        empty = jax.jit(lambda *args: None)
        calls = sizes.calls if batch is None else sizes.batch_steps
        for _ in range(50):
            empty(*arguments())
        clock = CLOCKS[sizes.clock]
        start = clock()
        for _ in range(calls):
            empty(*arguments())
        return (clock() - start) / calls * 1e6

    # -- pure functions ------------------------------------------------------------------

    def _pure(self, agent_name: str, sizes: Sizes, noop: bool = False) -> float:
        signature = (agent_name, sizes.agents, sizes.scan_steps, noop)
        if signature not in self._pure_runs:
            self._pure_runs[signature] = self._compile_pure(agent_name, sizes, noop)
        run = self._pure_runs[signature]
        clock = CLOCKS[sizes.clock]
        start = clock()
        run()
        return (clock() - start) / (sizes.agents * sizes.scan_steps) * 1e9

    def _compile_pure(self, agent_name: str, sizes: Sizes, noop: bool = False) -> Callable[[], Any]:
        """A ready-to-time run of ``agents`` agents under ``vmap`` for ``scan_steps`` steps.

        With ``noop``, the agent's update and sample do nothing but turn the sample key into an
        action: what remains is the harness.
        """
        agent = _NoOp(self._agent(agent_name)) if noop else self._agent(agent_name)
        update_names = _space_names(agent.update_observation_space)
        sample_names = _space_names(agent.sample_observation_space)
        probs = jnp.asarray(ARM_PROBS, jnp.float32)

        def agent_step(carry, uniform):
            state, key, action = carry
            key, update_key, sample_key = jax.random.split(key, 3)
            reward = (uniform < probs[action]).astype(jnp.float32)
            observations = bandit_observations(reward)
            state = agent.update(
                state, update_key, action=action, **{k: observations[k] for k in update_names}
            )
            action = agent.sample(state, sample_key, **{k: observations[k] for k in sample_names})
            return (state, key, action.astype(jnp.int32)), None

        @jax.jit
        def run(carry, uniforms):
            return jax.lax.scan(jax.vmap(agent_step), carry, uniforms)[0]

        init_keys, keys = jnp.split(jax.random.split(jax.random.PRNGKey(0), 2 * sizes.agents), 2)
        carry = (jax.vmap(agent.init)(init_keys), keys, jnp.zeros(sizes.agents, jnp.int32))
        uniforms = jax.random.uniform(jax.random.PRNGKey(1), (sizes.scan_steps, sizes.agents))
        jax.block_until_ready(run(carry, uniforms))
        return lambda: jax.block_until_ready(run(carry, uniforms))


class _NoOp:
    """An agent with another's spaces and state whose update keeps the state and whose sample reads only its key."""

    def __init__(self, agent) -> None:
        self.init = agent.init
        self.update_observation_space = agent.update_observation_space
        self.sample_observation_space = agent.sample_observation_space

    @staticmethod
    def update(state, key, **observations):
        return state

    @staticmethod
    def sample(state, key, **observations):
        return key[0] % N_ARMS


def _step_arguments(rl, batch: int | None) -> Callable[[], tuple]:
    """``() -> args``: the arguments agentax's facade passes its compiled step, built as it builds them.

    Reads private fields of ``agentax.RLib`` (this floor is agentax's own): the stack, the step
    counts as 32-bit word pairs, the update flags and the converted reward; for one instance, its
    index, step count and flag packed in one ``uint32`` array, as ``RLib._sample_one`` packs them.
    """
    from agentax import rlib

    steps = rl._steps
    if batch is None:
        return lambda: (
            rl._stack,
            np.array((0, steps[0] & 0xFFFFFFFF, steps[0] >> 32, steps[0] > 0), np.uint32),
            {"reward": np.float32(1.0)},
        )
    rewards = np.ones(batch, np.float32)
    ids = np.arange(batch)
    return lambda: (
        rl._stack,
        None,
        rlib._count_words(steps[ids]),
        steps[ids] > 0,
        {"reward": np.asarray(rewards)},
    )
