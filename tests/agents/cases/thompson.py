"""Conformance cases of the Thompson sampling bandits and the Masked wrapper."""

import pytest

from agentax.agents.mab import (
    UCB,
    EGreedy,
    LogNormalThompsonSampling,
    Masked,
    NormalThompsonSampling,
    ThompsonSampling,
)

CASES = [
    pytest.param(lambda: ThompsonSampling(n_arms=4), id="ThompsonSampling"),
    pytest.param(lambda: ThompsonSampling(3, decay=0.5), id="ThompsonSampling-decay"),
    pytest.param(
        lambda: ThompsonSampling(5, decay=2.0, sampler="normal"), id="ThompsonSampling-normal"
    ),
    pytest.param(lambda: ThompsonSampling(1), id="ThompsonSampling-one-arm"),
    pytest.param(
        lambda: NormalThompsonSampling(4, alpha=1.0, beta=1.0, lam=1.0, mu=0.0), id="NormalTS"
    ),
    pytest.param(
        lambda: NormalThompsonSampling(3, alpha=0.5, beta=2.0, lam=0.0, mu=1.0),
        id="NormalTS-improper",
    ),
    pytest.param(
        lambda: LogNormalThompsonSampling(4, alpha=1.0, beta=1.0, lam=1.0, mu=0.0), id="LogNormalTS"
    ),
    pytest.param(
        lambda: LogNormalThompsonSampling(2, alpha=3.0, beta=0.1, lam=0.5, mu=2.0),
        id="LogNormalTS-tight",
    ),
    pytest.param(
        lambda: Masked(EGreedy(4, e=0.0), [False, True, False, True]), id="Masked-EGreedy"
    ),
    pytest.param(
        lambda: Masked(ThompsonSampling(3, decay=0.1), [1, 0, 0], max_tries=2),
        id="Masked-ThompsonSampling",
    ),
    pytest.param(
        lambda: Masked(UCB(5, c=1.0), [True, True, True, True, False], max_tries=1),
        id="Masked-UCB-one-left",
    ),
]
