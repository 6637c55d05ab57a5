"""The reinforced-lib guide's agent template runs on agentax with only its import changed."""

import jax
import numpy as np
import pytest

from agentax import RLib
from agentax.extensions import BasicMab
from agentax.testing import check_agent
from tests.seed_template import EGreedy


def test_template_as_pure_functions():
    agent = EGreedy(n_arms=3, e=0.0)
    state = agent.init(jax.random.PRNGKey(0))
    state = agent.update(state, jax.random.PRNGKey(1), action=2, reward=1.0)
    # N starts at one, so the first update moves Q[2] all the way to the reward.
    np.testing.assert_allclose(state.Q, [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(state.N, [1, 1, 2])
    assert int(agent.sample(state, jax.random.PRNGKey(2))) == 2


def test_template_passes_conformance():
    check_agent(EGreedy(n_arms=4, e=0.3))


@pytest.mark.parametrize("ext", [True, False])
def test_template_through_rlib_finds_the_best_arm(ext):
    kwargs = dict(ext_type=BasicMab, ext_params={"n_arms": 3}) if ext else {}
    params = {"e": 0.1} if ext else {"e": 0.1, "n_arms": 3}
    rl = RLib(agent_type=EGreedy, agent_params=params, **kwargs)
    rng = np.random.default_rng(0)
    means = np.array([0.2, 0.5, 0.9])
    action, picks = rl.sample(reward=0.0), []
    for _ in range(500):
        action = rl.sample(reward=float(rng.random() < means[action]))
        picks.append(int(action))
    assert np.mean(np.array(picks[-200:]) == 2) > 0.8
