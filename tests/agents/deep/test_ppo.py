"""PPO: losses and log-probabilities by hand, episode boundaries in the rollout, training rounds, errors."""

import math
from functools import partial

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax.agents.deep import (
    DiscreteActorCritic,
    GaussianActorCritic,
    PPOContinuous,
    PPODiscrete,
    categorical_policy,
    clipped_gaussian_log_prob,
    clipped_surrogate_loss,
    clipped_value_loss,
    ppo_loss,
)
from agentax.errors import NetworkOutputError
from agentax.utils import RolloutBatch, init


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_clipped_surrogate_loss_by_hand(jit):
    loss = jax.jit(clipped_surrogate_loss) if jit else clipped_surrogate_loss
    ratio = jnp.array([1.5, 0.5, 0.5, 1.5, 1.1])
    adv = jnp.array([2.0, 2.0, -2.0, -2.0, 1.0])
    # epsilon = 0.2:
    # 1.5, A=2:  min(3, 1.2*2 = 2.4) = 2.4    (gain capped)        -> -2.4
    # 0.5, A=2:  min(1, 0.8*2 = 1.6) = 1      (the loss still counts) -> -1
    # 0.5, A=-2: min(-1, 0.8*-2 = -1.6) = -1.6 (capped)            -> 1.6
    # 1.5, A=-2: min(-3, 1.2*-2 = -2.4) = -3   (the loss still counts) -> 3
    # 1.1, A=1:  inside the interval, 1.1                            -> -1.1
    np.testing.assert_allclose(loss(ratio, adv, 0.2), [-2.4, -1.0, 1.6, 3.0, -1.1], rtol=1e-6)


def test_clipped_value_loss_by_hand():
    v, v_old = jnp.array([3.0, 3.0]), jnp.array([2.0, 2.0])
    returns = jnp.array([4.0, 1.0])
    # clip range 0.2: the clipped value is 2 + 0.2 = 2.2 for both.
    # R = 4: max((3-4)^2 = 1, (2.2-4)^2 = 3.24) / 2 = 1.62
    # R = 1: max((3-1)^2 = 4, (2.2-1)^2 = 1.44) / 2 = 2
    np.testing.assert_allclose(clipped_value_loss(v, v_old, returns, 0.2), [1.62, 2.0], rtol=1e-6)
    np.testing.assert_allclose(clipped_value_loss(v, v_old, returns, None), [0.5, 2.0], rtol=1e-6)


def test_clipped_gaussian_log_prob_by_hand():
    # mu = 0, sigma = 1, bounds [-1, 1]:
    # inside, a = 0.5: -0.5 * 0.25 - 0 - 0.5 * log(2 pi) = -0.125 - 0.9189385 = -1.0439385
    # at the upper bound: log P(x >= 1) = log(1 - Phi(1)) = log(0.1586553) = -1.8410216; likewise at -1
    zero, log_prob_of = jnp.zeros(1), jax.jit(clipped_gaussian_log_prob)
    log_prob = jax.vmap(lambda a: log_prob_of(zero, zero, a, -1.0, 1.0))(
        jnp.array([[0.5], [1.0], [-1.0]])
    )
    np.testing.assert_allclose(log_prob, [-1.0439385, -1.8410216, -1.8410216], rtol=1e-5)
    # two dimensions add up: sigma = e^0.5 in the first, a = (0.5, 1.0) -> the first term
    # -0.5 * (0.5 / e^0.5)^2 - 0.5 - 0.9189385 = -0.0459849 - 1.4189385 = -1.4649234, plus -1.8410216
    two = log_prob_of(jnp.zeros(2), jnp.array([0.5, 0.0]), jnp.array([0.5, 1.0]), -1.0, 1.0)
    np.testing.assert_allclose(two, -1.4649234 - 1.8410216, rtol=1e-5)


class _ConstantHeads(nn.Module):
    """Logits log([1, 3]) (probabilities 0.25, 0.75) and value 1, whatever the observation."""

    @nn.compact
    def __call__(self, x):
        logits = self.param("logits", lambda key: jnp.log(jnp.array([1.0, 3.0])))
        value = self.param("value", lambda key: jnp.ones(()))
        batch = x.shape[:-1]
        return jnp.broadcast_to(logits, (*batch, 2)), jnp.broadcast_to(value, batch)


def _batch(valid=(True, True)):
    # Two transitions whose actions had probability 0.5 under the acting policy.
    return RolloutBatch(
        observations=jnp.zeros((2, 3)),
        actions=jnp.array([1, 0]),
        log_probs=jnp.log(jnp.array([0.5, 0.5])),
        values=jnp.array([0.5, 1.5]),
        advantages=jnp.array([2.0, -2.0]),
        returns=jnp.array([2.0, 0.0]),
        valid=jnp.array(valid),
    )


# Ratios: 0.75 / 0.5 = 1.5 for action 1, 0.25 / 0.5 = 0.5 for action 0.
# Value loss (value 1, clip 0.2): sample 0: max((1-2)^2 = 1, (0.7-2)^2 = 1.69) / 2 = 0.845;
#   sample 1: max((1-0)^2 = 1, (1.3-0)^2 = 1.69) / 2 = 0.845.
# Entropy: 0.25 log 4 + 0.75 log(4/3) = 0.3465736 + 0.2157616 = 0.5623351.
ENTROPY = 0.25 * math.log(4) + 0.75 * math.log(4 / 3)
PPO_LOSS_CASES = {
    # policy: (-2.4 + 1.6) / 2 = -0.4;  loss = -0.4 + 0.5 * 0.845 - 0.01 * 0.5623351
    "raw": (False, (True, True), -0.4 + 0.5 * 0.845 - 0.01 * ENTROPY),
    # advantages normalized: mean 0, deviation 2 -> (1, -1); policy: (-1.2 + 0.8) / 2 = -0.2
    "normalized": (True, (True, True), -0.2 + 0.5 * 0.845 - 0.01 * ENTROPY),
    # only the first transition is valid: policy -2.4
    "masked": (False, (True, False), -2.4 + 0.5 * 0.845 - 0.01 * ENTROPY),
}


@pytest.mark.parametrize("name", PPO_LOSS_CASES)
def test_ppo_loss_by_hand(name):
    normalize, valid, expected = PPO_LOSS_CASES[name]
    network = _ConstantHeads()
    params, net_state = init(network, jax.random.PRNGKey(0), jnp.zeros((2, 3)))
    loss_fn = partial(
        ppo_loss,
        network=network,
        policy=categorical_policy(),
        normalize_advantage=normalize,
        clip_coef=0.2,
        clip_value=True,
        entropy_coef=0.01,
        value_coef=0.5,
    )
    loss, _ = jax.jit(loss_fn)(params, jax.random.PRNGKey(1), net_state, _batch(valid))
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


def _small_ppo(**kwargs):
    arguments = (
        dict(
            network=DiscreteActorCritic(2, (8,)),
            obs_space_shape=(3,),
            act_space_size=2,
            num_envs=2,
            rollout_length=3,
            batch_size=2,
            num_epochs=1,
        )
        | kwargs
    )
    return PPODiscrete(**arguments)


@pytest.fixture(scope="module")
def small_ppo():
    return _small_ppo()  # compiled once for the tests that step it


def test_update_records_episode_boundaries(small_ppo):
    agent = small_ppo
    state = agent.init(jax.random.PRNGKey(0))
    key = jax.random.PRNGKey(1)
    obs = [jnp.full((2, 3), float(t)) for t in range(3)]
    no, yes = jnp.array([False, False]), jnp.array([False, True])
    # First update: records the first observations only (row 0 invalid in both environments).
    state = agent.update(state, key, obs[0], jnp.array([0, 0]), jnp.zeros(2), no, no)
    # Environment 1 is truncated at obs[1]; the next step is its automatic reset.
    state = agent.update(state, key, obs[1], jnp.array([1, 1]), jnp.array([1.0, 1.0]), no, yes)
    rollout = state.rollout_buffer
    np.testing.assert_array_equal(rollout.valid[:2], [[False, False], [True, True]])
    np.testing.assert_array_equal(rollout.truncated[1], [False, True])
    np.testing.assert_array_equal(rollout.observations[1, :, 0], [0.0, 0.0])
    np.testing.assert_array_equal(state.episode_ended, [False, True])
    # The reset step's row is invalid for environment 1; its observation is the truncated state.
    before = state.rollout_buffer
    state = agent.update(state, key, obs[2], jnp.array([0, 1]), jnp.zeros(2), no, no)
    # The rollout was full (3 rows): it trained and started again empty.
    assert int(state.rollout_buffer.step) == 0
    initial = agent.init(jax.random.PRNGKey(0)).network.params
    assert not all(
        np.array_equal(a, b)
        for a, b in zip(
            jax.tree.leaves(state.network.params), jax.tree.leaves(initial), strict=True
        )
    )
    np.testing.assert_array_equal(state.episode_ended, [False, False])
    np.testing.assert_array_equal(before.valid[:2], [[False, False], [True, True]])


def test_training_waits_for_a_full_rollout(small_ppo):
    agent = small_ppo
    state = agent.init(jax.random.PRNGKey(0))
    flags = jnp.zeros(2, bool)
    for t in range(2):
        state = agent.update(
            state,
            jax.random.PRNGKey(t),
            jnp.ones((2, 3)),
            jnp.array([0, 1]),
            jnp.ones(2),
            flags,
            flags,
        )
    chex.assert_trees_all_equal(
        state.network.params, agent.init(jax.random.PRNGKey(0)).network.params
    )
    assert int(state.rollout_buffer.step) == 2


def test_greedy_sample_is_the_most_likely_action():
    agent = PPODiscrete(_ConstantHeads(), (3,), 2, num_envs=4, rollout_length=2, batch_size=2)
    state = agent.init(jax.random.PRNGKey(0))
    np.testing.assert_array_equal(
        agent.sample_greedy(state, jax.random.PRNGKey(1), jnp.zeros((4, 3))), [1, 1, 1, 1]
    )
    # sampling: probability 0.75 of action 1
    draws = jax.vmap(lambda k: agent.sample(state, k, jnp.zeros((4, 3))))(
        jax.random.split(jax.random.PRNGKey(2), 500)
    )
    assert abs(float(jnp.mean(draws)) - 0.75) < 0.03


def test_continuous_actions_are_clipped_and_greedy_is_the_mean():
    agent = PPOContinuous(
        GaussianActorCritic((2,), (8,), init_log_std=1.0),
        (3,),
        (2,),
        [-1.0, 0.0],
        [1.0, 0.5],
        num_envs=3,
        rollout_length=2,
        batch_size=2,
    )
    state = agent.init(jax.random.PRNGKey(0))
    draws = jax.vmap(lambda k: agent.sample(state, k, jnp.ones((3, 3))))(
        jax.random.split(jax.random.PRNGKey(1), 200)
    )
    assert draws.shape == (200, 3, 2)
    assert float(draws[..., 0].min()) == -1.0 and float(draws[..., 0].max()) == 1.0
    assert float(draws[..., 1].min()) == 0.0 and float(draws[..., 1].max()) == 0.5
    assert agent.action_space.contains(np.asarray(draws[0]))
    greedy = agent.sample_greedy(state, jax.random.PRNGKey(2), jnp.ones((3, 3)))
    mean = jnp.clip(
        GaussianActorCritic((2,), (8,)).apply({"params": state.network.params}, jnp.ones((3, 3)))[
            0
        ],
        0.0,
        0.5,
    )
    np.testing.assert_allclose(greedy[:, 1], mean[:, 1], rtol=1e-6)


def test_spaces_describe_vectorized_observations():
    agent = _small_ppo(num_envs=4)
    update = agent.update_observation_space
    assert set(update.spaces) == {
        "env_states",
        "actions",
        "rewards",
        "terminals",
        "truncated",
        "episode_starts",
    }
    assert update["env_states"].shape == (4, 3) and update["actions"].shape == (4,)
    assert update["terminals"].shape == (4,) and update["terminals"].dtype == bool
    assert set(agent.sample_observation_space.spaces) == {"env_states"}
    assert agent.update_on_first_step


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"batch_size": 4}, "batch_size"),
        ({"rollout_length": 0}, "rollout_length"),
        ({"num_envs": 0}, "num_envs"),
        ({"discount": 1.1}, "discount"),
        ({"lambda_gae": -0.5}, "lambda_gae"),
        ({"clip_coef": -0.1}, "clip_coef"),
        ({"clip_grad": 0.0}, "clip_grad"),
        ({"entropy_coef": -1.0}, "entropy_coef"),
        ({"value_coef": float("nan")}, "value_coef"),
        ({"num_epochs": 0}, "num_epochs"),
        ({"obs_space_shape": (0,)}, "obs_space_shape"),
        ({"act_space_size": 0}, "act_space_size"),
    ],
)
def test_bad_hyperparameters_name_themselves(kwargs, name):
    with pytest.raises(ValueError, match=name):
        _small_ppo(**kwargs)


def test_bad_action_bounds():
    with pytest.raises(ValueError, match="min_action"):
        PPOContinuous(GaussianActorCritic((1,)), (3,), (1,), 1.0, -1.0)


@pytest.mark.parametrize(
    "network, expected",
    [
        (nn.Dense(2), "a pair"),  # no value head
        (DiscreteActorCritic(3, (8,)), r"logits of shape \(2, 2\)"),  # wrong number of actions
    ],
)
def test_a_network_with_wrong_outputs_is_refused(network, expected):
    with pytest.raises(NetworkOutputError, match=expected):
        _small_ppo(network=network)


def test_a_gaussian_network_with_wrong_outputs_is_refused():
    with pytest.raises(NetworkOutputError, match="mean of shape"):
        PPOContinuous(GaussianActorCritic((2,)), (3,), (1,), -1.0, 1.0)
