"""The quickstart's agent without the facade: pure functions, then vmap over agents and scan over time.

1. ``init``/``sample``/``update`` called by hand in a Python loop;
2. 256 independent agents, each run for 1,000 steps inside one compiled program:
   :func:`jax.vmap` over their keys of :func:`agentax.simulate.simulate`, itself a :func:`jax.lax.scan`.

Run: ``python examples/pure_functions.py``
"""

from functools import partial

import jax
import numpy as np

from agentax.agents.mab import EGreedy
from agentax.envs import BanditProblem
from agentax.simulate import simulate

SUCCESS_PROBABILITIES = [0.2, 0.5, 0.8]


def by_hand(n_steps: int = 300, seed: int = 0) -> np.ndarray:
    """One agent stepped from Python; returns its value estimates."""
    rng = np.random.default_rng(seed)
    # [by-hand]
    agent = EGreedy(n_arms=3, e=0.1)
    key = jax.random.PRNGKey(seed)
    state = agent.init(key)
    for _ in range(n_steps):
        key, sample_key, update_key = jax.random.split(key, 3)
        action = agent.sample(state, sample_key)
        reward = float(rng.random() < SUCCESS_PROBABILITIES[action])
        state = agent.update(state, update_key, action=action, reward=reward)
    # [/by-hand]
    return np.asarray(state.Q)


def many_agents(n_agents: int = 256, n_steps: int = 1000, seed: int = 1):
    """``n_agents`` independent runs in one compiled call; returns their trajectories."""
    # [vmap-scan]
    agent = EGreedy(n_arms=3, e=0.1)
    problem = BanditProblem.stationary(SUCCESS_PROBABILITIES)
    run = jax.jit(jax.vmap(partial(simulate, agent, problem, n_steps)))
    trajectories = run(jax.random.split(jax.random.PRNGKey(seed), n_agents))
    # trajectories.regret has shape (n_agents, n_steps)
    # [/vmap-scan]
    return trajectories


def main() -> dict:
    estimates = by_hand()
    print("one agent, by hand; estimates:", np.round(estimates, 2), "true:", SUCCESS_PROBABILITIES)
    trajectories = many_agents()
    regret = np.asarray(trajectories.regret)
    optimal = np.asarray(trajectories.optimal)
    mean_regret = regret.sum(axis=1).mean()
    late_optimal = optimal[:, -200:].mean()
    print(
        f"{regret.shape[0]} agents x {regret.shape[1]} steps: mean cumulative regret {mean_regret:.1f}, "
        f"best arm in the last 200 steps {late_optimal:.0%}"
    )
    return {
        "estimates": estimates,
        "mean_regret": float(mean_regret),
        "late_optimal": float(late_optimal),
    }


if __name__ == "__main__":
    main()
