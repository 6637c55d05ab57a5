"""TD3 and SAC: targets and losses by hand, delayed actor updates, entropy tuning, the facade, errors."""

import math

import chex
import flax.linen as nn
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax import RLib
from agentax.agents.deep import (
    DDPG,
    SAC,
    TD3,
    DDPGActor,
    DDPGCritic,
    NetworkState,
    SACActor,
    sac_actor_loss,
    sac_alpha_loss,
    sac_target,
    smoothed_target_action,
    tanh_gaussian,
    tanh_gaussian_actions,
    td3_target,
    twin_critic_loss,
)
from agentax.errors import NetworkOutputError
from agentax.extensions import Gymnasium
from agentax.utils import Batch
from tests.agents.deep.test_ddpg import _small, _step

# Two linear critics, stacked: Q1(s, a) = s . (1, 2) + 3 a + 0.5 and Q2(s, a) = s . (0, 1) - a.
CRITIC = DDPGCritic(hidden_sizes=())
TWIN_PARAMS = {
    "Dense_0": {
        "kernel": jnp.array([[[1.0], [2.0], [3.0]], [[0.0], [1.0], [-1.0]]]),
        "bias": jnp.array([[0.5], [0.0]]),
    }
}
OBS = jnp.array([[1.0, 0.0], [0.0, 1.0]])
LOG_2PI = math.log(2 * math.pi)


# -- TD3 -------------------------------------------------------------------------------------------


def test_smoothed_target_action_by_hand():
    # mu + clip(eps, -0.5, 0.5), then clipped to [-2, 2]: 0.5 + 0.5 = 1;  -1.8 - 0.1 = -1.9;  1.9 + 0.3 -> 2
    action = jax.jit(smoothed_target_action)(
        jnp.array([0.5, -1.8, 1.9]), jnp.array([0.7, -0.1, 0.3]), 0.5, -2.0, 2.0
    )
    np.testing.assert_allclose(action, [1.0, -1.9, 2.0], rtol=1e-6)


def test_clipped_double_q_target_by_hand():
    # min over the critics (8, 3, -6): 1 + 0.9 * 8 = 8.2;  terminal: 2;  -1 + 0.9 * -6 = -6.4
    q_t = jnp.array([[10.0, 3.0, -5.0], [8.0, 4.0, -6.0]])
    target = jax.jit(td3_target)(jnp.array([1.0, 2.0, -1.0]), jnp.array([0.9, 0.0, 0.9]), q_t)
    np.testing.assert_allclose(target, [8.2, 2.0, -6.4], rtol=1e-6)


def test_twin_critic_loss_by_hand():
    # Q1 = (1 + 3 + 0.5, 2 - 3 + 0.5) = (4.5, -0.5);  Q2 = (0 - 1, 1 + 1) = (-1, 2);  targets (5, 0.5)
    # critic 1: mean(0.5 * 0.25, 0.5 * 1) = 0.3125;  critic 2: mean(0.5 * 36, 0.5 * 2.25) = 9.5625
    batch = Batch(OBS, jnp.array([[1.0], [-1.0]]), jnp.zeros(2), jnp.zeros(2, bool), OBS)
    target = jnp.array([5.0, 0.5])
    loss, _ = twin_critic_loss(
        TWIN_PARAMS, jax.random.PRNGKey(0), {}, batch, target=target, q_network=CRITIC
    )
    np.testing.assert_allclose(loss, 0.3125 + 9.5625, rtol=1e-6)
    # d loss / d bias_i = mean(Q_i - y): (-0.5 - 1) / 2 = -0.75 and (-6 + 1.5) / 2 = -2.25
    grad = jax.grad(
        lambda p: twin_critic_loss(
            p, jax.random.PRNGKey(0), {}, batch, target=target, q_network=CRITIC
        )[0]
    )(TWIN_PARAMS)
    np.testing.assert_allclose(grad["Dense_0"]["bias"], [[-0.75], [-2.25]], rtol=1e-6)


def _filled(agent, n=3):
    """A fresh state after the first observation and ``n - 1`` transitions (no training yet)."""
    initial = agent.init(jax.random.PRNGKey(0))
    state = initial
    for t in range(n):
        state = _step(agent, state, t)
    return initial, state


def _halfway(new, old):
    return jax.tree.map(lambda a, b: 0.5 * a + 0.5 * b, new, old)


def test_td3_moves_the_actor_and_the_targets_every_policy_delay_steps():
    agent = _small(TD3, policy_delay=2)
    initial, state = _filled(agent)
    chex.assert_trees_all_equal(state.critic, initial.critic)
    first = _step(agent, state, 3)  # the first gradient step: critics only
    assert int(first.step) == 1
    assert not np.allclose(
        first.critic.params["Dense_0"]["kernel"], initial.critic.params["Dense_0"]["kernel"]
    )
    chex.assert_trees_all_equal(first.actor, initial.actor)
    chex.assert_trees_all_equal(first.critic.target_params, initial.critic.target_params)
    second = _step(
        agent, first, 4
    )  # the second: critics, then the actor and every target (tau = 0.5)
    assert int(second.step) == 2
    assert not np.allclose(
        second.actor.params["Dense_0"]["kernel"], initial.actor.params["Dense_0"]["kernel"]
    )
    chex.assert_trees_all_close(
        second.actor.target_params, _halfway(second.actor.params, initial.actor.params)
    )
    chex.assert_trees_all_close(
        second.critic.target_params, _halfway(second.critic.params, initial.critic.params)
    )


def test_td3_twin_critics_start_apart_and_sample_like_ddpg():
    agent = _small(TD3, noise=0.3)
    state = agent.init(jax.random.PRNGKey(0))
    kernels = state.critic.params["Dense_0"]["kernel"]  # the first hidden layer
    assert kernels.shape == (2, 3, 8) and not np.allclose(kernels[0], kernels[1])
    obs = jnp.array([0.3, -0.4])
    greedy = agent.sample_greedy(state, jax.random.PRNGKey(1), obs)
    np.testing.assert_allclose(
        greedy, DDPGActor((1,), -2.0, 2.0, (8,)).apply({"params": state.actor.params}, obs)
    )
    draws = jax.vmap(lambda k: agent.sample(state, k, obs))(
        jax.random.split(jax.random.PRNGKey(2), 2000)
    )
    assert (
        abs(float(jnp.std(draws)) - 0.3) < 0.03 and abs(float(jnp.mean(draws) - greedy[0])) < 0.03
    )


# -- SAC -------------------------------------------------------------------------------------------


def test_tanh_gaussian_by_hand():
    # mu = 0, sigma = 1, eps = 0 on [-2, 2]: a = 0, log pi = -log(2 pi) / 2 - log 2 - log(1 - 0)
    action, log_prob = tanh_gaussian(jnp.zeros(1), jnp.zeros(1), jnp.zeros(1), -2.0, 2.0)
    np.testing.assert_allclose(action, [0.0], atol=1e-7)
    np.testing.assert_allclose(log_prob, -0.5 * LOG_2PI - math.log(2.0), rtol=1e-6)
    # mu = 0.5, sigma = 0.5, eps = 1 on [0, 4]: u = 1, a = 2 + 2 tanh 1 = 3.5231883,
    # log pi = -1/2 - log 0.5 - log(2 pi)/2 - log 2 - log(1 - tanh^2 1) = -0.7257913 + 0.1744188 = -0.5513725
    action, log_prob = jax.jit(tanh_gaussian)(
        jnp.array([0.5]), jnp.log(jnp.array([0.5])), jnp.ones(1), 0.0, 4.0
    )
    np.testing.assert_allclose(action, [2 + 2 * math.tanh(1.0)], rtol=1e-6)
    np.testing.assert_allclose(log_prob, -0.5513725, rtol=1e-5)
    # Two dimensions add up; far in the tail the log-determinant stays finite (log(1 - tanh^2 20) ~ 2 log 2 - 40).
    both = tanh_gaussian(
        jnp.array([0.0, 0.5]), jnp.array([0.0, math.log(0.5)]), jnp.array([0.0, 1.0]), 0.0, 4.0
    )[1]
    np.testing.assert_allclose(both, -0.5 * LOG_2PI - math.log(2.0) - 0.5513725, rtol=1e-5)
    tail = tanh_gaussian(jnp.array([20.0]), jnp.zeros(1), jnp.zeros(1), -1.0, 1.0)[1]
    np.testing.assert_allclose(tail, -0.5 * LOG_2PI - (2 * math.log(2.0) - 40.0), rtol=1e-5)


def test_tanh_gaussian_density_integrates_to_one():
    # The density of a on [-1, 3], from draws of eps over a fine grid of u: sum of pi(a) da = 1.
    u = jnp.linspace(-8.0, 8.0, 20001)
    actions, log_probs = jax.vmap(
        lambda e: tanh_gaussian(jnp.array([0.3]), jnp.array([0.2]), e, -1.0, 3.0)
    )(((u - 0.3) / math.exp(0.2))[:, None])
    np.testing.assert_allclose(
        jnp.sum(jnp.exp(log_probs[:-1]) * jnp.diff(actions[:, 0])), 1.0, atol=1e-3
    )


def test_soft_target_by_hand():
    # min over the critics (8, 3); alpha = 0.5: 1 + 0.9 * (8 - 0.5 * -1) = 8.65;  terminal: 2
    target = jax.jit(sac_target)(
        jnp.array([1.0, 2.0]),
        jnp.array([0.9, 0.0]),
        jnp.array([[10.0, 3.0], [8.0, 4.0]]),
        jnp.array([-1.0, 5.0]),
        0.5,
    )
    np.testing.assert_allclose(target, [8.65, 2.0], rtol=1e-6)


class _LinearGaussian(nn.Module):
    """mean = obs . w + b, log_std = 0."""

    @nn.compact
    def __call__(self, obs):
        mean = nn.Dense(1)(obs)
        return mean, jnp.zeros_like(mean)


def test_sac_actor_loss_by_hand():
    # means (0.5, 0), eps (0.5, 0): u = (1, 0), a = (2 tanh 1, 0) = (1.5231883, 0) on [-2, 2]
    # log pi: -0.125 - log(2 pi)/2 - log 2 - log(1 - tanh^2 1) = -0.8695197;  -log(2 pi)/2 - log 2 = -1.6120857
    # Q1 = (1 + 3 * 1.5231883 + 0.5, 2 + 0.5) = (6.0695649, 2.5);  Q2 = (-1.5231883, 1);  min = (-1.5231883, 1)
    # alpha = 0.5: mean(0.5 * -0.8695197 + 1.5231883, 0.5 * -1.6120857 - 1) = -0.3588072
    params = {"Dense_0": {"kernel": jnp.array([[0.5], [0.0]]), "bias": jnp.zeros(1)}}

    def loss(p):
        return sac_actor_loss(
            p,
            jax.random.PRNGKey(0),
            {},
            batch,
            epsilon=epsilon,
            critic=critic,
            alpha=0.5,
            a_network=_LinearGaussian(),
            q_network=CRITIC,
            low=-2.0,
            high=2.0,
        )

    batch, epsilon = Batch(OBS, None, None, None, None), jnp.array([[0.5], [0.0]])
    critic = NetworkState(params=TWIN_PARAMS, net_state={}, opt_state=())
    _, log_probs = tanh_gaussian_actions(
        _LinearGaussian().apply({"params": params}, OBS), epsilon, -2.0, 2.0
    )
    np.testing.assert_allclose(log_probs, [-0.8695197, -1.6120857], rtol=1e-5)
    np.testing.assert_allclose(loss(params)[0], -0.3588072, rtol=1e-5)
    # Only the actor is differentiated, through the action (reparameterized): finite differences agree.
    grad = jax.grad(lambda p: loss(p)[0])(params)["Dense_0"]["bias"]
    h = 1e-3
    shifted = [
        loss({"Dense_0": {"kernel": params["Dense_0"]["kernel"], "bias": jnp.array([d])}})[0]
        for d in (h, -h)
    ]
    np.testing.assert_allclose(grad, [(shifted[0] - shifted[1]) / (2 * h)], rtol=1e-2)


def test_alpha_loss_by_hand():
    # alpha = 0.5, mean(log pi + H) = mean(-1 - 1, -2 - 1) = -2.5: loss = 1.25, d loss / d log alpha = 1.25
    # (the entropy 1.5 is above the target -1, so alpha shrinks); log pi is a constant for it.
    def loss(log_alpha, log_probs):
        return sac_alpha_loss(log_alpha, None, {}, None, log_probs=log_probs, target_entropy=-1.0)[
            0
        ]

    log_alpha, log_probs = jnp.log(0.5), jnp.array([-1.0, -2.0])
    np.testing.assert_allclose(loss(log_alpha, log_probs), 1.25, rtol=1e-6)
    np.testing.assert_allclose(jax.grad(loss)(log_alpha, log_probs), 1.25, rtol=1e-6)
    np.testing.assert_array_equal(jax.grad(loss, argnums=1)(log_alpha, log_probs), [0.0, 0.0])


@pytest.mark.parametrize("autotune", [True, False])
def test_sac_trains_critics_actor_and_alpha_once_a_batch_is_stored(autotune):
    agent = _small(SAC, alpha=0.2, autotune=autotune)
    initial, state = _filled(agent)
    chex.assert_trees_all_equal(state.critic, initial.critic)
    np.testing.assert_allclose(state.alpha.params, math.log(0.2), rtol=1e-6)
    trained = _step(agent, state, 3)
    critic = trained.critic
    assert not np.allclose(
        critic.params["Dense_0"]["kernel"], initial.critic.params["Dense_0"]["kernel"]
    )
    assert not np.allclose(
        trained.actor.params["Dense_0"]["kernel"], initial.actor.params["Dense_0"]["kernel"]
    )
    chex.assert_trees_all_close(
        critic.target_params, _halfway(critic.params, initial.critic.params)
    )
    # Adam's first step moves log alpha by its learning rate (1e-3), against the gradient's sign.
    step = abs(float(trained.alpha.params) - float(state.alpha.params))
    assert (abs(step - 1e-3) < 1e-5) if autotune else step == 0.0


def test_sac_samples_within_bounds_and_greedy_is_the_squashed_mean():
    agent = _small(SAC, min_action=-1.0, max_action=3.0)
    state = agent.init(jax.random.PRNGKey(0))
    obs = jnp.array([0.3, -0.4])
    mean, log_std = SACActor((1,), (8,)).apply({"params": state.actor.params}, obs)
    greedy = agent.sample_greedy(state, jax.random.PRNGKey(1), obs)
    np.testing.assert_allclose(greedy, 1.0 + 2.0 * jnp.tanh(mean), rtol=1e-6)
    draws = jax.vmap(lambda k: agent.sample(state, k, obs))(
        jax.random.split(jax.random.PRNGKey(2), 4000)
    )[:, 0]
    assert draws.shape == (4000,) and float(draws.min()) > -1.0 and float(draws.max()) < 3.0
    # The draws are 1 + 2 tanh(u), u ~ N(mean, std^2): their arctanh has that mean and spread.
    u = jnp.arctanh((draws - 1.0) / 2.0)
    assert (
        abs(float(jnp.mean(u) - mean[0])) < 0.1
        and abs(float(jnp.std(u) - jnp.exp(log_std[0]))) < 0.1
    )


# -- DDPG, TD3 and SAC ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("agent_type", [DDPG, TD3, SAC])
def test_episode_boundaries_in_the_buffer(agent_type):
    agent = _small(agent_type)
    state = _step(agent, agent.init(jax.random.PRNGKey(0)), 0)
    state = _step(agent, state, 1, terminal=True)  # (s0, a, r, terminal, s1)
    state = _step(agent, state, 2)  # first observation of a new episode: nothing stored
    state = _step(agent, state, 3, truncated=True)  # (s2, a, r, not terminal, s3)
    state = _step(agent, state, 4)  # reset: nothing stored
    buffer = state.replay_buffer
    assert int(buffer.size) == 2
    np.testing.assert_array_equal(buffer.observations[:2, 0], [0.0, 2.0])
    np.testing.assert_array_equal(buffer.next_observations[:2, 0], [1.0, 3.0])
    np.testing.assert_array_equal(buffer.terminals[:2], [True, False])
    np.testing.assert_allclose(buffer.rewards[:2], [1.0, 3.0])
    np.testing.assert_allclose(buffer.actions[:2, 0], [0.1, 0.3], rtol=1e-6)


@pytest.mark.parametrize("agent_type", [TD3, SAC])
def test_through_the_facade_with_gymnasium(agent_type):
    """The extension supplies the shapes and bounds; actions are in the environment's space."""
    actor = DDPGActor((1,), -2.0, 2.0, (16,)) if agent_type is TD3 else SACActor((1,), (16,))
    rl = RLib(
        agent_type=agent_type,
        agent_params={
            "q_network": DDPGCritic((16,)),
            "a_network": actor,
            "experience_replay_batch_size": 8,
        },
        ext_type=Gymnasium,
        ext_params={"env_id": "Pendulum-v1"},
    )
    env = gym.make("Pendulum-v1")
    action = rl.sample(*env.reset(seed=0))
    for _ in range(12):
        assert env.action_space.contains(np.asarray(action, np.float32))
        action = rl.sample(*env.step(np.asarray(action)))
    assert int(rl.state().replay_buffer.size) == 12
    greedy = rl.sample(env.step(np.asarray(action))[0], greedy=True)
    assert env.action_space.contains(np.asarray(greedy, np.float32))


@pytest.mark.parametrize(
    "agent_type, kwargs, name",
    [
        (DDPG, {"experience_replay_buffer_size": 0}, "experience_replay_buffer_size"),
        (DDPG, {"experience_replay_batch_size": 9}, "experience_replay_batch_size"),
        (DDPG, {"experience_replay_steps": 0}, "experience_replay_steps"),
        (DDPG, {"discount": -0.1}, "discount"),
        (DDPG, {"noise": -1.0}, "noise"),
        (DDPG, {"noise_decay": 1.5}, "noise_decay"),
        (DDPG, {"noise": 0.1, "noise_min": 0.2}, "noise_min"),
        (DDPG, {"tau": 2.0}, "tau"),
        (DDPG, {"obs_space_shape": "x"}, "obs_space_shape"),
        (DDPG, {"min_action": 3.0}, "min_action"),
        (TD3, {"experience_replay_buffer_size": 0}, "experience_replay_buffer_size"),
        (TD3, {"experience_replay_batch_size": 9}, "experience_replay_batch_size"),
        (TD3, {"experience_replay_steps": 0}, "experience_replay_steps"),
        (TD3, {"discount": 1.1}, "discount"),
        (TD3, {"tau": 0.0}, "tau"),
        (TD3, {"noise": 0.1, "noise_min": 0.2}, "noise_min"),
        (TD3, {"policy_noise": -0.1}, "policy_noise"),
        (TD3, {"noise_clip": -0.1}, "noise_clip"),
        (TD3, {"policy_delay": 0}, "policy_delay"),
        (TD3, {"min_action": 3.0}, "min_action"),
        (SAC, {"tau": 1.5}, "tau"),
        (SAC, {"alpha": 0.0}, "alpha"),
        (SAC, {"autotune": "yes"}, "autotune"),
        (SAC, {"target_entropy": float("nan")}, "target_entropy"),
        (SAC, {"obs_space_shape": "x"}, "obs_space_shape"),
    ],
)
def test_bad_hyperparameters_name_themselves(agent_type, kwargs, name):
    with pytest.raises(ValueError, match=name):
        _small(agent_type, **kwargs)


class _WideCritic(nn.Module):
    """Three values per observation-action pair instead of one."""

    @nn.compact
    def __call__(self, obs, action):
        return nn.Dense(3)(jnp.concatenate([obs, action], axis=-1))


@pytest.mark.parametrize(
    "agent_type, kwargs, name",
    [
        (DDPG, {"a_network": DDPGActor((2,), -2.0, 2.0, (8,))}, "a_network"),
        (DDPG, {"q_network": _WideCritic()}, "q_network"),
        (TD3, {"a_network": SACActor((1,), (8,))}, "a_network"),
        (SAC, {"a_network": DDPGActor((1,), -2.0, 2.0, (8,))}, "a_network"),
        (SAC, {"a_network": SACActor((2,), (8,))}, "a_network"),
        (SAC, {"q_network": _WideCritic()}, "q_network"),
    ],
)
def test_networks_with_wrong_outputs_are_refused(agent_type, kwargs, name):
    with pytest.raises(NetworkOutputError, match=name):
        _small(agent_type, **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("agent_type", [TD3, SAC])
def test_resumes_exactly_from_a_checkpoint(tmp_path, agent_type):
    """Saved while learning (the buffer holds more than a batch, TD3 between two actor steps), loaded, and
    stepped on: the same actions and bit-identical states as the original."""
    from tests.test_checkpoint import GymEnv, resume_and_compare

    actor = DDPGActor((1,), -2.0, 2.0, (16,)) if agent_type is TD3 else SACActor((1,), (16,))
    networks = {"q_network": DDPGCritic((16,)), "a_network": actor}
    rl = RLib(
        agent_type=agent_type,
        agent_params={
            **networks,
            "experience_replay_buffer_size": 200,
            "experience_replay_batch_size": 16,
        },
        ext_type=Gymnasium,
        ext_params={"env_id": "Pendulum-v1"},
    )
    resume_and_compare(rl, GymEnv("Pendulum-v1"), tmp_path, t=40, m=30, agent_params=networks)
    assert int(rl.state().replay_buffer.size) == 69
