"""What the facade's lock and guards cost a single-threaded step.

One EGreedy instance behind ``BasicMab`` (and one DQN instance without an extension) is stepped
``--steps`` times per run; the figure is the median time per ``sample`` call over ``--repeats``
runs (after a compiling run), in microseconds:

* ``with lock``: ``RLib.sample`` as shipped;
* ``without lock``: the same facade with its lock replaced by a no-op context manager.

Run it with another checkout first on ``PYTHONPATH`` to compare whole facades (e.g. one without
the in-step guards)::

    python benchmarks/facade_lock.py
    python benchmarks/facade_lock.py --clock cpu       # CPU time: steadier on a shared machine
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import optax
from flax import linen as nn

from agentax import RLib
from agentax.agents.deep import DQN
from agentax.agents.mab import EGreedy
from agentax.extensions import BasicMab


class _NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Q(nn.Module):
    @nn.compact
    def __call__(self, x):
        return nn.Dense(2)(nn.relu(nn.Dense(64)(x)))


def _egreedy():
    rl = RLib(
        agent_type=EGreedy, agent_params={"e": 0.1}, ext_type=BasicMab, ext_params={"n_arms": 4}
    )
    return rl, lambda: rl.sample(reward=1.0)


def _dqn():
    params = dict(
        q_network=_Q(),
        obs_space_shape=4,
        act_space_size=2,
        experience_replay_buffer_size=10_000,
        experience_replay_batch_size=64,
        optimizer=optax.adam(1e-3),
    )
    rl = RLib(agent_type=DQN, agent_params=params, no_ext_mode=True)
    obs = dict(
        env_state=np.full(4, 0.1, np.float32),
        reward=1.0,
        terminal=False,
        truncated=False,
        episode_start=False,
    )
    return rl, lambda: rl.sample(**obs)


def _time(step, steps: int, clock) -> float:
    start = clock()
    for _ in range(steps):
        step()
    return (clock() - start) / steps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = parser.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    for name, build, steps in (
        ("EGreedy+BasicMab", _egreedy, args.steps),
        ("DQN", _dqn, args.steps // 4),
    ):
        rl, step = build()
        step()  # compiles
        lock = getattr(rl, "_lock", None)
        locked, unlocked = [], []
        for _ in range(args.repeats):  # alternated, so that both see the same load
            rl._lock = lock if lock is not None else _NoLock()
            locked.append(_time(step, steps, clock))
            rl._lock = _NoLock()
            unlocked.append(_time(step, steps, clock))
        label = "with lock" if lock is not None else "(this checkout has no lock)"
        print(
            f"{name}: {statistics.median(locked):.1f} us per step {label}, "
            f"{statistics.median(unlocked):.1f} us without lock"
        )


if __name__ == "__main__":
    main()
