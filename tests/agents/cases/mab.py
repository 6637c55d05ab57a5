"""Conformance cases of the multi-armed bandits."""

import pytest

from agentax.agents.mab import UCB, EGreedy, Exp3, RandomScheduler, RoundRobinScheduler, Softmax

CASES = [
    pytest.param(lambda: EGreedy(n_arms=4, e=0.2), id="EGreedy"),
    pytest.param(
        lambda: EGreedy(4, 0.5, e_min=0.1, e_decay=0.9, optimistic_start=2.0, alpha=0.3),
        id="EGreedy-all",
    ),
    pytest.param(lambda: Softmax(n_arms=4, lr=0.5), id="Softmax"),
    pytest.param(lambda: Softmax(3, lr=2.0, alpha=0.2, tau=0.5, multiplier=3.0), id="Softmax-all"),
    pytest.param(lambda: Softmax(1, lr=0.1), id="Softmax-one-arm"),
    pytest.param(lambda: UCB(n_arms=4, c=1.0), id="UCB"),
    pytest.param(lambda: UCB(5, c=0.0, gamma=0.9), id="UCB-greedy-discounted"),
    pytest.param(lambda: UCB(2, c=2.0, gamma=0.5), id="UCB-discounted"),
    pytest.param(lambda: Exp3(n_arms=4, gamma=0.1, min_reward=0.0, max_reward=1.0), id="Exp3"),
    pytest.param(lambda: Exp3(3, gamma=1.0, min_reward=-5.0, max_reward=5.0), id="Exp3-uniform"),
    pytest.param(
        lambda: Exp3(6, gamma=0.01, min_reward=-20.0, max_reward=-1.0), id="Exp3-negative-rewards"
    ),
    pytest.param(lambda: RoundRobinScheduler(n_arms=4), id="RoundRobinScheduler"),
    pytest.param(lambda: RoundRobinScheduler(3, initial_item=2), id="RoundRobinScheduler-initial"),
    pytest.param(lambda: RandomScheduler(n_arms=5), id="RandomScheduler"),
    pytest.param(lambda: RandomScheduler(1), id="RandomScheduler-one-arm"),
]
