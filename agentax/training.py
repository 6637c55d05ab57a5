"""The common loop: run a Gymnasium environment (single or vector) against an ``RLib`` facade.

:func:`train` steps the environment ``n_env_steps`` times, feeding every transition to the agent
(``rl.sample(*env.step(action))``) through the :class:`~agentax.extensions.Gymnasium` or
:class:`~agentax.extensions.GymnasiumVectorized` extension, and returns episode statistics;
:func:`evaluate` plays whole episodes with greedy actions and no learning.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

from agentax._validation import check_positive_int
from agentax.rlib import RLib

__all__ = ["EpisodeStats", "train", "evaluate"]


@dataclasses.dataclass
class EpisodeStats:
    """Finished episodes of a run, in the order they ended.

    Attributes:
      returns: undiscounted return of each episode.
      lengths: number of steps of each episode.
      env_steps: environment steps taken (each copy of a vector environment counts).
      seconds: wall time of the run.
    """

    returns: list[float] = dataclasses.field(default_factory=list)
    lengths: list[int] = dataclasses.field(default_factory=list)
    env_steps: int = 0
    seconds: float = 0.0

    @property
    def steps_per_second(self) -> float:
        """Environment steps per second of wall time."""
        return self.env_steps / self.seconds if self.seconds else float("nan")

    def mean_return(self, last: int | None = None) -> float:
        """Mean return of all episodes, or of the ``last`` ones (NaN if there are none)."""
        returns = self.returns[-last:] if last else self.returns
        return float(np.mean(returns)) if returns else float("nan")


class _Episodes:
    """Running returns and lengths of ``n`` environment copies."""

    def __init__(self, n: int, stats: EpisodeStats) -> None:
        self.returns, self.lengths, self.stats = np.zeros(n), np.zeros(n, np.int64), stats

    def record_one(self, reward, done: bool) -> None:
        """:meth:`record` for a single environment, in plain Python (no arrays on the per-step path)."""
        self.returns[0] += float(reward)
        self.lengths[0] += 1
        self.stats.env_steps += 1
        if done:
            self.record(np.zeros(1), np.ones(1, bool), np.zeros(1, bool))

    def record(self, rewards, done, counted) -> None:
        self.returns += np.where(counted, rewards, 0.0)
        self.lengths += counted
        self.stats.env_steps += int(np.sum(counted))
        for i in np.flatnonzero(done):
            self.stats.returns.append(float(self.returns[i]))
            self.stats.lengths.append(int(self.lengths[i]))
        self.returns[done], self.lengths[done] = 0.0, 0


def _is_vector(env) -> bool:
    return isinstance(env, gym.vector.VectorEnv)


def _run(
    rl,
    env,
    agent_id,
    seed,
    greedy,
    is_training,
    keep_going: Callable[[EpisodeStats], bool],
    on_step,
):
    stats, vector = EpisodeStats(), _is_vector(env)
    episodes = _Episodes(env.num_envs if vector else 1, stats)
    act = lambda *obs: rl.sample(*obs, agent_id=agent_id, is_training=is_training, greedy=greedy)  # noqa: E731
    start = time.perf_counter()
    observation, info = env.reset(seed=seed)
    action = act(observation, info)
    # A vector env resets a finished copy on its next step (gymnasium's default autoreset): that
    # step's reward belongs to no episode.
    autoreset = np.zeros(env.num_envs if vector else 1, bool)
    while keep_going(stats):
        observation, reward, terminal, truncated, info = env.step(action)
        if vector:
            done = np.logical_or(terminal, truncated)
            episodes.record(reward, done & ~autoreset, ~autoreset)
        else:
            episodes.record_one(reward, bool(terminal or truncated))
        action = act(observation, reward, terminal, truncated, info)
        if vector:
            autoreset = done
        elif terminal or truncated:
            observation, info = env.reset()
            action = act(observation, info)
        on_step(stats)
    stats.seconds = time.perf_counter() - start
    return stats


def train(
    rl: RLib,
    env: gym.Env | gym.vector.VectorEnv,
    n_env_steps: int,
    *,
    agent_id: int = 0,
    seed: int | None = None,
    progress: bool = True,
) -> EpisodeStats:
    """Let the agent learn from ``n_env_steps`` steps of ``env``.

    Args:
      rl: a facade whose extension is ``Gymnasium`` (single env) or ``GymnasiumVectorized``
        (vector env) for this environment.
      env: the environment, already made; it is reset at the start (with ``seed``).
      n_env_steps: environment steps to take (a vector env takes ``num_envs`` per call).
      agent_id: the instance that learns.
      seed: seed of the first ``env.reset``.
      progress: show a progress bar with the mean return of the last 20 episodes.

    Returns:
      The statistics of the episodes that finished.
    """
    n_env_steps = check_positive_int("n_env_steps", n_env_steps)
    with tqdm(total=n_env_steps, disable=not progress, unit="step", desc="train") as bar:

        def on_step(stats: EpisodeStats) -> None:
            bar.update(stats.env_steps - bar.n)
            if stats.returns and stats.env_steps % 500 < (env.num_envs if _is_vector(env) else 1):
                bar.set_postfix(
                    episodes=len(stats.returns), mean_return=f"{stats.mean_return(20):.1f}"
                )

        return _run(
            rl, env, agent_id, seed, False, True, lambda s: s.env_steps < n_env_steps, on_step
        )


def evaluate(
    rl: RLib,
    env: gym.Env | gym.vector.VectorEnv,
    n_episodes: int,
    *,
    agent_id: int = 0,
    seed: int | None = None,
    greedy: bool = True,
) -> EpisodeStats:
    """Play ``n_episodes`` whole episodes without learning.

    Args:
      greedy: take the agent's best actions (``sample_greedy``) instead of exploring ones.

    Returns:
      The statistics of (at least) ``n_episodes`` episodes.
    """
    n_episodes = check_positive_int("n_episodes", n_episodes)
    return _run(
        rl,
        env,
        agent_id,
        seed,
        greedy,
        False,
        lambda s: len(s.returns) < n_episodes,
        lambda s: None,
    )
