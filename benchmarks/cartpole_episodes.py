"""What both sides of the DQN benchmark share: its settings, a play loop and the solve criterion.

Imports only numpy and gymnasium, so that reinforced-lib's side (``rlib_dqn_side.py``, in its own
virtual environment) uses the very same loop and criterion as agentax's.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

ENV_ID = "CartPole-v1"
SOLVED, WINDOW = 475.0, 10
HIDDEN = (64, 64)
# The hyperparameters both DQNs have, set alike (each library keeps its own for the rest).
SHARED_HYPERPARAMETERS = dict(
    experience_replay_buffer_size=10_000,
    experience_replay_batch_size=64,
    experience_replay_steps=1,
    discount=0.99,
    epsilon=1.0,
    epsilon_decay=0.999,
    epsilon_min=0.01,
)
LEARNING_RATE = 1e-3  # Adam, both sides


@dataclasses.dataclass
class Episodes:
    """Finished episodes (lengths and returns), all steps taken, and the wall time."""

    lengths: list[int] = dataclasses.field(default_factory=list)
    returns: list[float] = dataclasses.field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0


def steps_to_solve(lengths, returns, window: int = WINDOW, threshold: float = SOLVED) -> int | None:
    """Environment steps up to the end of the first episode at which the mean return of the last
    ``window`` episodes reaches ``threshold`` (``None``: never)."""
    returns = np.asarray(returns, float)
    if len(returns) < window:
        return None
    means = np.convolve(returns, np.ones(window) / window, mode="valid")
    reached = np.flatnonzero(means >= threshold)
    return int(np.cumsum(lengths)[reached[0] + window - 1]) if reached.size else None


def play(
    env,
    act: Callable,
    n_steps: int,
    seed: int | None,
    first_action: Callable,
    stop_when_solved: bool = False,
) -> Episodes:
    """Step ``env`` ``n_steps`` times; ``act(obs, reward, terminal, truncated, info)`` picks each next
    action, ``first_action(obs, info)`` the first of every episode (the library's documented usage)."""
    episodes, episode_return, episode_length = Episodes(), 0.0, 0
    started = time.perf_counter()
    action = first_action(*env.reset(seed=seed))
    while episodes.steps < n_steps:
        observation, reward, terminal, truncated, info = env.step(int(action))
        episodes.steps, episode_return, episode_length = (
            episodes.steps + 1,
            episode_return + reward,
            episode_length + 1,
        )
        action = act(observation, reward, terminal, truncated, info)
        if terminal or truncated:
            episodes.lengths.append(episode_length)
            episodes.returns.append(episode_return)
            episode_return, episode_length = 0.0, 0
            if stop_when_solved and steps_to_solve(
                episodes.lengths[-WINDOW:], episodes.returns[-WINDOW:]
            ):
                break
            action = first_action(*env.reset())
    episodes.seconds = time.perf_counter() - started
    return episodes
