"""Stop an experiment, resume it from a checkpoint, and get exactly what an unbroken run gets.

Ten users each have a bandit of their own (user ``i``'s best arm is ``i % 3``), with one UCB
instance per user, stepped together. The experiment is run twice with the same seeds:

* unbroken: all rounds in one go;
* interrupted: ``auto_checkpoint`` saves the instances every 50 rounds; after ``stop_at`` rounds
  the facade is dropped (as if the process had died), the latest automatic checkpoint is
  loaded, and the rounds since that checkpoint are played again, then the rest.

The environment is not part of the checkpoint: it draws its rewards from a generator seeded per
round, so the replayed rounds see the same rewards. The two runs choose the same arms, bit for bit.

Run: ``python examples/resume.py``
"""

from __future__ import annotations

import pathlib
import tempfile

import numpy as np

from agentax import RLib
from agentax.agents.mab import UCB
from agentax.extensions import BasicMab

N_USERS, EVERY = 10, 50


def rewards_for(round_: int, actions: np.ndarray, seed: int) -> np.ndarray:
    """Bernoulli rewards of one round: arm ``i % 3`` pays with probability 0.8, the others 0.3."""
    p = np.where(actions == np.arange(N_USERS) % 3, 0.8, 0.3)
    return (np.random.default_rng([seed, round_]).random(N_USERS) < p).astype(np.float32)


def play(rl: RLib, first: int, last: int, actions: np.ndarray, seed: int) -> list[np.ndarray]:
    """Rounds ``first`` to ``last - 1``; ``actions`` are those of the round before ``first``."""
    ids = list(range(N_USERS))
    history = []
    for round_ in range(first, last):
        rewards = np.zeros(N_USERS) if round_ == 0 else rewards_for(round_ - 1, actions, seed)
        actions = rl.sample(reward=rewards, agent_id=ids)
        history.append(actions)
    return history


def new_facade(directory: str | None = None) -> RLib:
    rl = RLib(
        agent_type=UCB,
        agent_params={"c": 1.0},
        ext_type=BasicMab,
        ext_params={"n_arms": 3},
        auto_checkpoint=EVERY if directory else None,
        auto_checkpoint_path=directory,
    )
    for user in range(N_USERS):
        rl.init(seed=user)
    return rl


def main(n_rounds: int = 400, stop_at: int = 270, seed: int = 0) -> dict:
    """Run the experiment unbroken and interrupted at ``stop_at``; return both runs' actions."""
    unbroken = np.array(play(new_facade(), 0, n_rounds, np.zeros(N_USERS, int), seed))
    with tempfile.TemporaryDirectory() as directory:
        rl = new_facade(directory)
        before = play(rl, 0, stop_at, np.zeros(N_USERS, int), seed)
        del rl  # the process "dies" here
        files = sorted(
            pathlib.Path(directory).glob("*.npz"),
            key=lambda path: int(path.stem.split("-step-")[1]),
        )
        saved_at = (stop_at // EVERY) * EVERY  # the step count of the latest checkpoint
        # [resume]
        rl = RLib.load(files[-1])
        after = play(rl, saved_at, n_rounds, before[saved_at - 1], seed)
        # [/resume]
        kept = [path.name for path in files]
    interrupted = np.array(before[:saved_at] + after)
    identical = bool(np.array_equal(unbroken, interrupted))
    best = np.mean(unbroken[-100:] == np.arange(N_USERS) % 3)
    print(
        f"stopped at round {stop_at}, resumed from the checkpoint of round {saved_at} ({kept[-1]})"
    )
    print(f"the resumed run chose the same {unbroken.size} arms as the unbroken one: {identical}")
    print(f"share of the last 100 rounds on each user's best arm: {best:.0%}")
    return {
        "unbroken": unbroken,
        "interrupted": interrupted,
        "identical": identical,
        "kept": kept,
        "best_share": float(best),
    }


if __name__ == "__main__":
    main()
