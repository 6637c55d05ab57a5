"""reinforced-lib's side of the DQN benchmark: run in reinforced-lib's own virtual environment.

``python rlib_dqn_side.py '<json settings>'`` prints one JSON object on stdout:
``{"steps_per_second": [...], "solve": [{"seed", "steps", "episodes"}...], "versions": {...}}``.
It imports only reinforced_lib (and what it depends on) and uses its Gymnasium extension as its
documentation shows: ``action = rl.sample(*env.step(action))``, a random first action per episode.
"""

from __future__ import annotations

import json
import platform
import sys
from importlib.metadata import version

import gymnasium as gym
import optax
from cartpole_episodes import (
    ENV_ID,
    HIDDEN,
    LEARNING_RATE,
    SHARED_HYPERPARAMETERS,
    play,
    steps_to_solve,
)
from flax import linen as nn
from reinforced_lib import RLib
from reinforced_lib.agents.deep import DQN
from reinforced_lib.exts import Gymnasium


class QNetwork(nn.Module):
    @nn.compact
    def __call__(self, x):
        for width in HIDDEN:
            x = nn.relu(nn.Dense(width)(x))
        return nn.Dense(2)(x)


def make_rlib(seed: int) -> RLib:
    rl = RLib(
        agent_type=DQN,
        agent_params={
            "q_network": QNetwork(),
            "optimizer": optax.adam(LEARNING_RATE),
            **SHARED_HYPERPARAMETERS,
        },
        ext_type=Gymnasium,
        ext_params={"env_id": ENV_ID},
    )
    rl.init(seed)
    return rl


def run(rl: RLib, env, n_steps: int, seed: int, stop_when_solved: bool = False):
    return play(
        env, rl.sample, n_steps, seed, lambda *_: env.action_space.sample(), stop_when_solved
    )


def main() -> None:
    settings = json.loads(sys.argv[1])
    log = lambda message: print(f"[reinforced-lib] {message}", file=sys.stderr, flush=True)  # noqa: E731
    speeds = []
    for repeat in range(settings["repeats"]):
        env = gym.make(ENV_ID)
        env.action_space.seed(repeat)
        rl = make_rlib(repeat)
        run(rl, env, settings["warmup"], repeat)
        timed = run(rl, env, settings["measure"], repeat + 1000)
        speeds.append(timed.steps / timed.seconds)
        log(f"speed {repeat + 1}/{settings['repeats']}: {speeds[-1]:.0f} steps/s")
    solves = []
    for seed in settings["solve_seeds"]:
        env = gym.make(ENV_ID)
        env.action_space.seed(seed)
        episodes = run(make_rlib(seed), env, settings["budget"], seed, stop_when_solved=True)
        solves.append(
            {
                "seed": seed,
                "steps": steps_to_solve(episodes.lengths, episodes.returns),
                "episodes": len(episodes.returns),
                "seconds": episodes.seconds,
            }
        )
        log(
            f"solve seed {seed}: {solves[-1]['steps'] or 'not reached'} steps ({episodes.seconds:.0f} s)"
        )
    versions = {
        name: version(name)
        for name in ("reinforced-lib", "jax", "jaxlib", "flax", "optax", "gymnasium")
    }
    print(
        json.dumps(
            {
                "steps_per_second": speeds,
                "solve": solves,
                "versions": {**versions, "python": platform.python_version()},
            }
        )
    )


if __name__ == "__main__":
    main()
