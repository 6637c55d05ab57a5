"""DDPG: target and losses by hand, no training before a batch, Polyak averaging, episode boundaries, errors."""

import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax.agents.deep import (
    DDPG,
    SAC,
    DDPGActor,
    DDPGCritic,
    NetworkState,
    SACActor,
    ddpg_actor_loss,
    ddpg_critic_loss,
    ddpg_target,
)
from agentax.utils import Batch

# A linear critic Q(s, a) = s . (1, 2) + 3 a + 0.5 and a linear-tanh actor pi(s) = 2 tanh(s . (0.5, 0)).
CRITIC, CRITIC_PARAMS = (
    DDPGCritic(hidden_sizes=()),
    {"Dense_0": {"kernel": jnp.array([[1.0], [2.0], [3.0]]), "bias": jnp.array([0.5])}},
)
ACTOR, ACTOR_PARAMS = (
    DDPGActor((1,), -2.0, 2.0, hidden_sizes=()),
    {"Dense_0": {"kernel": jnp.array([[0.5], [0.0]]), "bias": jnp.array([0.0])}},
)
OBS = jnp.array([[1.0, 0.0], [0.0, 1.0]])


def test_target_by_hand():
    # r + gamma_t * Q': 1 + 0.9 * 10 = 10;  terminal: 2 + 0 = 2;  -1 + 0.9 * -5 = -5.5
    target = jax.jit(ddpg_target)(
        jnp.array([1.0, 2.0, -1.0]), jnp.array([0.9, 0.0, 0.9]), jnp.array([10.0, 10, -5])
    )
    np.testing.assert_allclose(target, [10.0, 2.0, -5.5], rtol=1e-6)


def test_critic_loss_by_hand():
    # Q(s1, 1) = 1 + 0 + 3 + 0.5 = 4.5;  Q(s2, -1) = 0 + 2 - 3 + 0.5 = -0.5
    # targets (5, 0.5): mean(0.5 * 0.5^2, 0.5 * 1^2) = mean(0.125, 0.5) = 0.3125
    batch = Batch(OBS, jnp.array([[1.0], [-1.0]]), jnp.zeros(2), jnp.zeros(2, bool), OBS)
    loss, _ = ddpg_critic_loss(
        CRITIC_PARAMS,
        jax.random.PRNGKey(0),
        {},
        batch,
        target=jnp.array([5.0, 0.5]),
        q_network=CRITIC,
    )
    np.testing.assert_allclose(loss, 0.3125, rtol=1e-6)
    # d loss / d bias = mean(Q - y) = mean(-0.5, -1) = -0.75
    grad = jax.grad(
        lambda p: ddpg_critic_loss(
            p, jax.random.PRNGKey(0), {}, batch, target=jnp.array([5.0, 0.5]), q_network=CRITIC
        )[0]
    )
    np.testing.assert_allclose(grad(CRITIC_PARAMS)["Dense_0"]["bias"], [-0.75], rtol=1e-6)


def test_actor_loss_by_hand():
    # pi(s1) = 2 tanh(0.5) = 0.9242343, pi(s2) = 2 tanh(0) = 0
    # Q(s1, .) = 1 + 3 * 0.9242343 + 0.5 = 4.2727029;  Q(s2, .) = 2 + 0 + 0.5 = 2.5
    # loss = -(4.2727029 + 2.5) / 2 = -3.3863515
    batch = Batch(OBS, jnp.zeros((2, 1)), jnp.zeros(2), jnp.zeros(2, bool), OBS)
    critic = NetworkState(params=CRITIC_PARAMS, net_state={}, opt_state=())

    def loss(params):
        return ddpg_actor_loss(
            params,
            jax.random.PRNGKey(0),
            {},
            batch,
            critic=critic,
            a_network=ACTOR,
            q_network=CRITIC,
        )[0]

    np.testing.assert_allclose(loss(ACTOR_PARAMS), -3.3863515, rtol=1e-6)
    # Only the actor is differentiated: d loss / d bias = -mean(3 * 2 (1 - tanh^2)):
    # s1: 6 (1 - tanh(0.5)^2) = 6 * 0.7864477 = 4.7186862;  s2: 6;  -> -(4.7186862 + 6) / 2 = -5.3593431
    expected = -(6 * (1 - math.tanh(0.5) ** 2) + 6) / 2
    np.testing.assert_allclose(
        jax.grad(loss)(ACTOR_PARAMS)["Dense_0"]["bias"], [expected], rtol=1e-6
    )


def _small(agent_type, **kwargs):
    """A small DDPG, TD3 or SAC on 2-d observations and 1-d actions in [-2, 2]."""
    actor = SACActor((1,), (8,)) if agent_type is SAC else DDPGActor((1,), -2.0, 2.0, (8,))
    arguments = (
        dict(
            q_network=DDPGCritic((8,)),
            a_network=actor,
            obs_space_shape=(2,),
            act_space_shape=(1,),
            min_action=-2.0,
            max_action=2.0,
            experience_replay_buffer_size=8,
            experience_replay_batch_size=3,
            tau=0.5,
        )
        | kwargs
    )
    return agent_type(**arguments)


@pytest.fixture(scope="module")
def small_ddpg():
    return _small(DDPG)  # compiled once for the tests that step it


def _step(agent, state, t, terminal=False, truncated=False):
    return agent.update(
        state,
        jax.random.PRNGKey(t),
        jnp.full(2, float(t)),
        jnp.array([0.1 * t]),
        jnp.float32(t),
        jnp.bool_(terminal),
        jnp.bool_(truncated),
    )


def test_no_training_before_the_buffer_holds_a_batch_then_polyak_targets(small_ddpg):
    agent = small_ddpg
    initial = agent.init(jax.random.PRNGKey(0))
    state = _step(agent, initial, 0)  # records the first observation only
    for t in (1, 2):  # two transitions stored: fewer than a batch of 3
        state = _step(agent, state, t)
    assert int(state.replay_buffer.size) == 2
    for name in ("critic", "actor"):
        chex.assert_trees_all_equal(state[name].params, initial[name].params)
        chex.assert_trees_all_equal(state[name].target_params, initial[name].target_params)
    trained = _step(agent, state, 3)  # the third transition: one training step
    assert int(trained.replay_buffer.size) == 3
    for network in ("critic", "actor"):
        online, target, before = (
            trained[network].params,
            trained[network].target_params,
            initial[network].params,
        )
        assert not np.allclose(online["Dense_0"]["kernel"], before["Dense_0"]["kernel"])
        # tau = 0.5: target = 0.5 * new online + 0.5 * old target
        chex.assert_trees_all_close(
            target, jax.tree.map(lambda a, b: 0.5 * a + 0.5 * b, online, before), rtol=1e-6
        )


def test_noise_decays_to_its_floor_and_greedy_has_none():
    agent = _small(DDPG, noise=1.0, noise_decay=0.5, noise_min=0.2)
    state = agent.init(jax.random.PRNGKey(0))
    noises = []
    for t in range(3):
        state = _step(agent, state, t)
        noises.append(float(state.noise))
    np.testing.assert_allclose(noises, [0.5, 0.25, 0.2], rtol=1e-6)
    obs = jnp.array([0.3, -0.4])
    greedy = agent.sample_greedy(state, jax.random.PRNGKey(1), obs)
    actor = DDPGActor((1,), -2.0, 2.0, (8,)).apply({"params": state.actor.params}, obs)
    np.testing.assert_allclose(greedy, actor, rtol=1e-6)
    draws = jax.vmap(lambda k: agent.sample(state, k, obs))(
        jax.random.split(jax.random.PRNGKey(2), 2000)
    )
    assert draws.shape == (2000, 1)
    assert abs(float(jnp.std(draws)) - 0.2) < 0.02 and abs(float(jnp.mean(draws) - actor[0])) < 0.02


def test_actions_stay_within_the_bounds():
    agent = _small(DDPG, noise=5.0)
    state = agent.init(jax.random.PRNGKey(0))
    draws = jax.vmap(lambda k: agent.sample(state, k, jnp.ones(2)))(
        jax.random.split(jax.random.PRNGKey(1), 200)
    )
    assert float(draws.min()) == -2.0 and float(draws.max()) == 2.0
    assert agent.action_space.contains(np.asarray(draws[0]))
