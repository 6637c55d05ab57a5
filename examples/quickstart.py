"""Quickstart: an epsilon-greedy agent learns which of three Bernoulli arms pays best.

The environment is plain NumPy; the agent runs behind the ``RLib`` facade, which turns each
reward into the agent's ``update`` observations through the ``BasicMab`` extension.

Run: ``python examples/quickstart.py``
"""

import numpy as np

from agentax import RLib
from agentax.agents.mab import EGreedy
from agentax.extensions import BasicMab

SUCCESS_PROBABILITIES = np.array([0.2, 0.5, 0.8])  # arm 2 is the best


def main(n_steps: int = 1000, seed: int = 0) -> dict:
    """Play ``n_steps`` rounds; return the arms chosen and the agent's final value estimates."""
    rng = np.random.default_rng(seed)
    # [bandit]
    rl = RLib(
        agent_type=EGreedy, agent_params={"e": 0.1}, ext_type=BasicMab, ext_params={"n_arms": 3}
    )
    reward, actions = 0.0, []
    for _ in range(n_steps):
        action = rl.sample(reward=reward)  # learn from the last reward, then pick the next arm
        reward = float(rng.random() < SUCCESS_PROBABILITIES[action])
        actions.append(int(action))
    # [/bandit]
    actions = np.array(actions)
    best_share = float(np.mean(actions[-n_steps // 2 :] == 2))
    estimates = np.asarray(rl.state(0).Q)
    print(f"best arm chosen in {best_share:.0%} of the last {n_steps // 2} rounds")
    print(
        "estimated success probabilities:", np.round(estimates, 2), "true:", SUCCESS_PROBABILITIES
    )
    return {"actions": actions, "best_share": best_share, "estimates": estimates}


if __name__ == "__main__":
    main()
