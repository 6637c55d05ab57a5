"""Conformance cases of the bandits for changing worlds: KL-UCB, SW-UCB, the change detectors."""

import pytest

from agentax.agents.mab import (
    CUSUM,
    CUSUMUCB,
    GLR,
    KLUCB,
    SWUCB,
    UCB,
    EGreedy,
    GLRklUCB,
    Restarting,
)

CASES = [
    pytest.param(lambda: KLUCB(n_arms=4), id="KLUCB"),
    pytest.param(lambda: KLUCB(3, c=3.0, n_iterations=5), id="KLUCB-c3"),
    pytest.param(lambda: SWUCB(n_arms=4, window=3), id="SWUCB"),
    pytest.param(lambda: SWUCB(2, window=1, c=0.0), id="SWUCB-window-1"),
    pytest.param(lambda: CUSUMUCB(n_arms=4, h=0.5, alpha=0.1, epsilon=0.0, m=1), id="CUSUMUCB"),
    pytest.param(lambda: CUSUMUCB(3, h=5.0, alpha=0.0), id="CUSUMUCB-no-exploration"),
    pytest.param(lambda: GLRklUCB(n_arms=4, delta=0.5, alpha=0.5, history=2), id="GLRklUCB"),
    pytest.param(lambda: GLRklUCB(3, delta=0.01, alpha=0.0), id="GLRklUCB-no-exploration"),
    pytest.param(
        lambda: Restarting(UCB(4, c=1.0), CUSUM(h=0.5, epsilon=0.0, m=1), alpha=0.1),
        id="Restarting-UCB-CUSUM",
    ),
    pytest.param(
        lambda: Restarting(EGreedy(3, e=0.1), GLR(delta=0.5, history=3)),
        id="Restarting-EGreedy-GLR",
    ),
]
