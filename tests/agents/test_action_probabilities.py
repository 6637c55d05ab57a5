"""``action_probabilities``: hand-worked values, and agreement with the frequencies of ``sample``."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax.agents.contextual import LinTS, LinUCB, NeuralEGreedy
from agentax.agents.mab import (
    CUSUM,
    CUSUMUCB,
    KLUCB,
    SWUCB,
    UCB,
    EGreedy,
    Exp3,
    GLRklUCB,
    LogNormalThompsonSampling,
    NormalThompsonSampling,
    RandomScheduler,
    Restarting,
    RoundRobinScheduler,
    Softmax,
    ThompsonSampling,
)

KEY = jax.random.PRNGKey(0)
REWARDS = [(0, 1.0), (1, 0.0), (2, 1.0), (0, 0.0), (3, 1.0), (2, 1.0)]  # arm 2 best on average


def _trained(agent, steps=REWARDS, **fixed):
    state = agent.init(KEY)
    for action, reward in steps:
        state = agent.update(state, KEY, action=action, reward=reward, **fixed)
    return state


def test_egreedy_hand_computed():
    # e = 0.2, 4 arms, Q = [0.5, 0, 1, 1] (arms 2 and 3 tied best): 0.05 each, plus 0.4 on arms 2 and 3.
    agent = EGreedy(4, e=0.2)
    state = agent.init(KEY).replace(Q=jnp.array([0.5, 0.0, 1.0, 1.0]))
    np.testing.assert_allclose(
        agent.action_probabilities(state, KEY), [0.05, 0.05, 0.45, 0.45], rtol=1e-6
    )


def test_softmax_and_exp3_hand_computed():
    # Softmax with tau = 0.5 and H = [0, ln 2 / 2, ln 3 / 2]: exp(H / tau) = [1, 2, 3], so [1, 2, 3] / 6.
    softmax = Softmax(3, lr=0.1, tau=0.5)
    state = softmax.init(KEY).replace(H=jnp.log(jnp.array([1.0, 2.0, 3.0])) / 2)
    np.testing.assert_allclose(
        softmax.action_probabilities(state, KEY), [1 / 6, 2 / 6, 3 / 6], rtol=1e-5
    )
    # Exp3 with gamma = 0.4 and normalised weights [0.5, 0.25, 0.25]: 0.6 w + 0.4 / 3.
    exp3 = Exp3(3, gamma=0.4, min_reward=0.0, max_reward=1.0)
    state = exp3.init(KEY).replace(log_weights=jnp.log(jnp.array([0.5, 0.25, 0.25])))
    np.testing.assert_allclose(
        exp3.action_probabilities(state, KEY),
        [0.3 + 0.4 / 3, 0.15 + 0.4 / 3, 0.15 + 0.4 / 3],
        rtol=1e-5,
    )


def test_schedulers_hand_computed():
    robin = RoundRobinScheduler(3, initial_item=1)
    np.testing.assert_array_equal(robin.action_probabilities(robin.init(KEY), KEY), [0, 1, 0])
    uniform = RandomScheduler(4)
    np.testing.assert_allclose(uniform.action_probabilities(uniform.init(KEY), KEY), [0.25] * 4)


def test_cusum_ucb_mixes_exploration_and_the_best_index():
    # alpha = 0.2, 4 arms, arm 1 untried (index +inf): 0.05 everywhere plus 0.8 on arm 1.
    agent = CUSUMUCB(4, h=5.0, alpha=0.2)
    state = _trained(agent, [(0, 1.0), (2, 0.0), (3, 1.0)])
    np.testing.assert_allclose(
        agent.action_probabilities(state, KEY), [0.05, 0.85, 0.05, 0.05], rtol=1e-6
    )


def _contextual_state(agent, n_features=2):
    problem_key = jax.random.PRNGKey(3)
    state = agent.init(KEY)
    for step in range(6):
        context = jax.random.normal(jax.random.fold_in(problem_key, step), (3, n_features))
        action = step % 3
        state = agent.update(
            state,
            KEY,
            action=action,
            reward=float(context[action, 0]),
            action_context=context[action],
        )
    return state, {
        "context": jax.random.normal(jax.random.fold_in(problem_key, 99), (3, n_features))
    }


CASES = [
    pytest.param(lambda: (EGreedy(4, e=0.3), None), id="EGreedy"),
    pytest.param(lambda: (Softmax(4, lr=0.5), None), id="Softmax"),
    pytest.param(lambda: (Exp3(4, gamma=0.3, min_reward=0.0, max_reward=1.0), None), id="Exp3"),
    pytest.param(lambda: (UCB(4, c=0.1), None), id="UCB"),
    pytest.param(lambda: (KLUCB(4), None), id="KLUCB"),
    pytest.param(lambda: (SWUCB(4, window=4), None), id="SWUCB"),
    pytest.param(lambda: (CUSUMUCB(4, h=5.0, alpha=0.3), None), id="CUSUMUCB"),
    pytest.param(lambda: (GLRklUCB(4, delta=0.1, alpha=0.0), None), id="GLRklUCB"),
    pytest.param(
        lambda: (Restarting(EGreedy(4, e=0.2), CUSUM(5.0, 0.1, 5), alpha=0.2), None),
        id="Restarting",
    ),
    pytest.param(
        lambda: (NormalThompsonSampling(4, alpha=1.0, beta=1.0, lam=1.0, mu=0.0), None),
        id="NormalTS",
    ),
    pytest.param(
        lambda: (LogNormalThompsonSampling(4, alpha=1.0, beta=1.0, lam=1.0, mu=0.0), "positive"),
        id="LogNormalTS",
    ),
    pytest.param(lambda: (ThompsonSampling(4, decay=0.0), "trials"), id="ThompsonSampling"),
    pytest.param(lambda: (LinUCB(3, 2, alpha=0.5), "contextual"), id="LinUCB"),
    pytest.param(lambda: (LinTS(3, 2, v=0.5), "contextual"), id="LinTS"),
    pytest.param(
        lambda: (
            NeuralEGreedy(
                3, 2, e=0.3, experience_replay_buffer_size=8, experience_replay_batch_size=2
            ),
            "contextual",
        ),
        id="NeuralEGreedy",
    ),
]


def _state_and_observations(agent, kind):
    if kind == "contextual":
        return _contextual_state(agent)
    if kind == "trials":
        state = agent.init(KEY)
        for action, success in REWARDS:
            state = agent.update(
                state,
                KEY,
                action=action,
                n_successful=success,
                n_failed=1 - success,
                delta_time=1.0,
            )
        return state, {"context": jnp.ones(4)}
    steps = [(a, r + 1.0) for a, r in REWARDS] if kind == "positive" else REWARDS
    return _trained(agent, steps), {}


@pytest.mark.parametrize("factory", CASES)
def test_probabilities_match_the_frequencies_of_sample(factory):
    # 20,000 samples with the keys split from one key: each frequency is within 4 standard
    # deviations (4 sqrt(0.25 / 20000) = 0.014) of the exact probability; Monte-Carlo ones
    # (Thompson sampling, 4000 draws) add 4 sqrt(0.25 / 4000) = 0.032.
    agent, kind = factory()
    state, observations = _state_and_observations(agent, kind)
    keys = jax.random.split(jax.random.PRNGKey(7), 20000)
    if isinstance(
        agent, NeuralEGreedy
    ):  # its network pass is the same for every key here (no dropout)
        probabilities = agent.action_probabilities(state, keys[0], **observations)
    else:
        probabilities = agent.action_probabilities(state, KEY, **observations)
    actions = np.asarray(jax.vmap(lambda k: agent.sample(state, k, **observations))(keys))
    frequencies = np.bincount(actions, minlength=probabilities.shape[0]) / actions.size
    np.testing.assert_allclose(float(jnp.sum(probabilities)), 1.0, rtol=1e-5)
    np.testing.assert_allclose(
        probabilities,
        frequencies,
        atol=0.014 + 0.032 * ("Thompson" in type(agent).__name__ or isinstance(agent, LinTS)),
    )


def test_probabilities_are_pure_and_vmap():
    agent = Softmax(3, lr=0.5)
    states = jax.vmap(agent.init)(jax.random.split(KEY, 5))
    probabilities = jax.jit(jax.vmap(agent.action_probabilities))(states, jax.random.split(KEY, 5))
    np.testing.assert_allclose(probabilities, 1 / 3, rtol=1e-6)
