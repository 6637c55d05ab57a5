"""Conformance cases of the multi-armed bandits."""

import pytest

from agentax.agents.mab import EGreedy

CASES = [
    pytest.param(lambda: EGreedy(n_arms=4, e=0.2), id="EGreedy"),
    pytest.param(lambda: EGreedy(4, 0.5, e_min=0.1, e_decay=0.9, optimistic_start=2.0, alpha=0.3), id="EGreedy-all"),
]
