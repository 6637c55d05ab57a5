"""Many agent instances behind one facade, stepped together in one compiled call per round.

Each of ``K`` users has a bandit of their own (user ``i``'s best arm is ``i % 3``); one ``RLib``
holds an independent agent instance per user and steps all of them at once with
``agent_id=[...]``: the reward passed is an array with one entry per instance, and so is the
action returned.

Run: ``python examples/many_instances.py``
"""

import numpy as np

from agentax import RLib
from agentax.agents.mab import EGreedy
from agentax.extensions import BasicMab


def success_probabilities(n_users: int) -> np.ndarray:
    """Shape ``(n_users, 3)``: arm ``i % 3`` pays with probability 0.8, the others with 0.3."""
    table = np.full((n_users, 3), 0.3)
    table[np.arange(n_users), np.arange(n_users) % 3] = 0.8
    return table


def main(n_users: int = 100, n_rounds: int = 500, seed: int = 0) -> dict:
    """Run ``n_rounds`` rounds for every user; return the actions, shape ``(n_rounds, n_users)``."""
    rng = np.random.default_rng(seed)
    probabilities = success_probabilities(n_users)
    # [instances]
    rl = RLib(
        agent_type=EGreedy, agent_params={"e": 0.1}, ext_type=BasicMab, ext_params={"n_arms": 3}
    )
    ids = [rl.init(seed=user) for user in range(n_users)]  # an instance per user
    rewards, history = np.zeros(n_users), []
    for _ in range(n_rounds):
        actions = rl.sample(reward=rewards, agent_id=ids)  # shape (n_users,)
        rewards = (rng.random(n_users) < probabilities[ids, actions]).astype(np.float32)
        history.append(actions)
    # [/instances]
    history = np.array(history)
    found = np.mean(_most_chosen(history) == np.arange(n_users) % 3)
    print(
        f"{n_users} instances, {n_rounds} rounds: {found:.0%} of the users' agents settled on their best arm"
    )
    return {"actions": history, "found": float(found)}


def _most_chosen(history: np.ndarray) -> np.ndarray:
    """The arm each instance chose most often in the second half of the rounds."""
    late = history[len(history) // 2 :]
    return np.array([np.bincount(column, minlength=3).argmax() for column in late.T])


if __name__ == "__main__":
    main()
