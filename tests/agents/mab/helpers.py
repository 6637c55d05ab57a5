"""Shared pieces of the bandit tests: hand-driven updates, many samples, compiled runs over seeds, the facade."""

from functools import partial

import chex
import jax
import numpy as np

from agentax import RLib
from agentax.envs import BanditProblem
from agentax.extensions import BasicMab
from agentax.simulate import Trajectory, simulate

# A stationary problem every learning agent must solve: Bernoulli arms 0.2 apart, the last one best.
FOUR_ARMS = BanditProblem.stationary([0.1, 0.3, 0.5, 0.7])

KEY = jax.random.PRNGKey(0)


def updated(agent, steps):
    """The state after ``(action, reward)`` updates, checking dtypes stay put at every step."""
    state = agent.init(KEY)
    for action, reward in steps:
        new = agent.update(state, KEY, action=action, reward=reward)
        chex.assert_trees_all_equal_shapes_and_dtypes(new, state)
        state = new
    return state


def sample_many(agent, state, n: int = 4000) -> np.ndarray:
    """``n`` actions sampled from one state with independent keys."""
    return np.asarray(
        jax.vmap(lambda k: agent.sample(state, k))(jax.random.split(jax.random.PRNGKey(2), n))
    )


def run_seeds(
    agent, problem: BanditProblem, n_steps: int, n_seeds: int = 8, seed: int = 0
) -> Trajectory:
    """``n_seeds`` independent runs of ``simulate``, vmapped and jitted as one program."""
    runs = jax.jit(jax.vmap(partial(simulate, agent, problem, n_steps)))
    return jax.tree.map(np.asarray, runs(jax.random.split(jax.random.PRNGKey(seed), n_seeds)))


def optimal_share(trajectory: Trajectory, start: int, stop: int | None = None) -> np.ndarray:
    """Per run, the share of steps in ``[start, stop)`` on which a best arm was picked."""
    return trajectory.optimal[:, start:stop].mean(axis=1)


def drive_facade(agent_type, agent_params: dict, means, n_steps: int, seed: int = 0) -> np.ndarray:
    """Run ``agent_type`` through ``RLib`` + ``BasicMab`` on Bernoulli arms, rewards from NumPy.

    Returns the ``n_steps`` actions the facade returned after the first (reward-less) call.
    """
    means = np.asarray(means)
    rl = RLib(
        agent_type=agent_type,
        agent_params=agent_params,
        ext_type=BasicMab,
        ext_params={"n_arms": len(means)},
    )
    rng = np.random.default_rng(seed)
    action = rl.sample(reward=0.0)
    actions = []
    for _ in range(n_steps):
        action = rl.sample(reward=float(rng.random() < means[action]))
        actions.append(int(action))
    return np.array(actions)
