"""Every agent through one conformance suite: jit, vmap, scan, no retrace, stable state, determinism."""

import importlib
import pkgutil

import pytest

from agentax.testing import check_agent
from tests.agents import cases

CASES = [
    case
    for module in pkgutil.iter_modules(cases.__path__)
    for case in importlib.import_module(f"{cases.__name__}.{module.name}").CASES
]


@pytest.mark.parametrize("factory", CASES)
def test_agent_conforms(factory):
    built = factory()
    agent, update_obs, sample_obs = built if isinstance(built, tuple) else (built, None, None)
    check_agent(agent, update_obs, sample_obs)
