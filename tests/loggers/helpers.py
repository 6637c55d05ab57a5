"""A small bandit run through the facade with loggers, and what it should have logged.

Each run records what the facade returned (actions), what was given (rewards) and the state
after each step (Q), so the tests compare what a logger wrote with values known independently.
"""

from __future__ import annotations

import numpy as np

from agentax import RLib
from agentax.agents.mab import EGreedy
from agentax.extensions import BasicMab
from agentax.loggers import SourceType

MEANS = np.array([0.2, 0.5, 0.9])
SOURCES = ["action", "reward", "cumulative", ("Q", SourceType.STATE)]


def make_rl(logger_types, logger_params, sources=SOURCES) -> RLib:
    return RLib(
        agent_type=EGreedy,
        agent_params={"e": 0.1},
        ext_type=BasicMab,
        ext_params={"n_arms": len(MEANS)},
        logger_types=logger_types,
        logger_sources=sources,
        logger_params=logger_params,
    )


def play_one(rl: RLib, n_steps: int, seed: int = 0) -> dict[str, list]:
    """``n_steps`` facade steps of instance 0 with Bernoulli rewards; every value the step gave."""
    rng = np.random.default_rng(seed)
    record = {"action": [], "reward": [], "Q": []}
    action = 0
    for _ in range(n_steps):
        reward = float(rng.random() < MEANS[action])
        action = int(rl.sample(reward=reward))
        record["action"].append(action)
        record["reward"].append(reward)
        record["Q"].append(np.asarray(rl.state(0).Q))
    return record


def play_many(rl: RLib, n_instances: int, n_steps: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``n_steps`` steps of ``n_instances`` instances in one call each; values of shape (steps, K)."""
    ids = [rl.init(seed + i) for i in range(n_instances)]
    rng = np.random.default_rng(seed)
    actions, rewards = [], []
    action = np.zeros(n_instances, int)
    for _ in range(n_steps):
        reward = (rng.random(n_instances) < MEANS[action]).astype(np.float32)
        action = rl.sample(reward=reward, agent_id=ids)
        actions.append(action)
        rewards.append(reward)
    return {"action": np.array(actions), "reward": np.array(rewards)}
