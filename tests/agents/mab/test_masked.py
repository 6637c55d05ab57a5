"""Masked: no masked arm ever, even when the wrapped agent insists; the conditional distribution
otherwise; masks in the state; kept spaces; the facade; validation."""

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax import RLib
from agentax.agents.base import BaseAgent
from agentax.agents.mab import (
    EGreedy,
    EGreedyState,
    Masked,
    MaskedState,
    ThompsonSampling,
    ThompsonSamplingState,
)
from agentax.errors import AllArmsMaskedError, UnsupportedAgentError
from agentax.extensions import BasicMab

KEYS = jax.random.split(jax.random.PRNGKey(4), 4000)


def masked_state(agent: Masked, agent_state) -> MaskedState:
    return MaskedState(agent_state=agent_state, mask=agent.init(KEYS[0]).mask)


def sample_counts(agent, state, **observations) -> np.ndarray:
    actions = jax.jit(jax.vmap(lambda k: agent.sample(state, k, **observations)))(KEYS)
    return np.bincount(np.asarray(actions), minlength=agent.n_arms) / KEYS.shape[0]


def greedy_state(best: int, n_arms: int = 4) -> EGreedyState:
    return EGreedyState(
        Q=jnp.zeros(n_arms).at[best].set(5.0), N=jnp.ones(n_arms, jnp.int32), e=jnp.float32(0.0)
    )


def test_a_greedy_agent_insisting_on_a_masked_arm_gets_a_uniform_unmasked_one():
    # EGreedy with e = 0 always answers arm 2, which is masked: after max_tries answers the
    # wrapper falls back to a uniformly random unmasked arm (1/3 each; share std 0.0075).
    agent = Masked(EGreedy(4, e=0.0), [False, False, True, False])
    counts = sample_counts(agent, masked_state(agent, greedy_state(best=2)))
    assert counts[2] == 0
    np.testing.assert_allclose(counts[[0, 1, 3]], 1 / 3, atol=0.03)


def test_otherwise_the_wrapped_agents_choice_given_an_unmasked_arm():
    # EGreedy(e = 0.5) with best arm 3 plays arm 3 with 0.5 + 0.5/4 = 0.625 and every other arm
    # with 0.125. Masking arms 0 and 2 leaves 1 and 3: conditioned on those, 0.125 / 0.75 = 1/6 and
    # 0.625 / 0.75 = 5/6 (the fallback matters only with probability 0.25^8).
    base = EGreedy(4, e=0.5)
    agent = Masked(base, [True, False, True, False])
    counts = sample_counts(
        agent, masked_state(agent, greedy_state(best=3).replace(e=jnp.float32(0.5)))
    )
    assert counts[0] == counts[2] == 0
    np.testing.assert_allclose(counts[[1, 3]], [1 / 6, 5 / 6], atol=0.03)


def test_an_unmasked_first_choice_is_the_wrapped_agents_own():
    base = EGreedy(4, e=0.3)
    agent = Masked(base, [False, False, False, True])
    base_state = EGreedyState(
        Q=jnp.array([0.0, 1.0, 0.0, 0.0]), N=jnp.ones(4, jnp.int32), e=jnp.float32(0.3)
    )
    own = np.asarray(jax.vmap(lambda k: base.sample(base_state, k))(KEYS))
    wrapped = np.asarray(jax.vmap(lambda k: agent.sample(masked_state(agent, base_state), k))(KEYS))
    kept = own != 3
    np.testing.assert_array_equal(wrapped[kept], own[kept])
    assert np.all(wrapped != 3)


def test_thompson_sampling_with_its_best_arm_masked():
    agent = Masked(ThompsonSampling(3), [False, True, False])
    confident = ThompsonSamplingState(
        alpha=jnp.array([10.0, 1000.0, 20.0]), beta=jnp.array([90.0, 0.0, 80.0])
    )
    counts = sample_counts(agent, masked_state(agent, confident), context=jnp.ones(3))
    # Arm 1 draws ~0.999 and always wins, but it is masked: after max_tries draws (each with its
    # own exact-Beta while_loop, under the wrapper's) the uniform fallback picks arm 0 or 2.
    assert counts[1] == 0
    np.testing.assert_allclose(counts[[0, 2]], 0.5, atol=0.03)


def test_masks_live_in_the_state():
    agent = Masked(EGreedy(4, e=1.0), [True, False, False, False])
    state = agent.init(KEYS[0])
    np.testing.assert_array_equal(state.mask, [True, False, False, False])
    moved = agent.with_mask(state, [False, False, True, True])
    counts = sample_counts(agent, moved)
    assert counts[2] == counts[3] == 0 and counts[0] > 0.4
    # vmapped instances with masks of their own
    masks = jnp.array([[True, True, True, False], [False, True, True, True]])
    states = jax.vmap(lambda k, m: agent.init(k).replace(mask=m))(KEYS[:2], masks)
    actions = jax.vmap(jax.vmap(agent.sample, in_axes=(0, 0)), in_axes=(None, 0))(
        states, KEYS[:200].reshape(100, 2, 2)
    )
    np.testing.assert_array_equal(np.asarray(actions), np.broadcast_to([3, 0], (100, 2)))


def test_keeps_the_wrapped_agents_spaces():
    base = ThompsonSampling(3, decay=0.1)
    agent = Masked(base, [False, True, False])
    assert agent.update_observation_space == base.update_observation_space
    assert agent.sample_observation_space == base.sample_observation_space
    assert agent.action_space == base.action_space
    assert agent.parameter_space() == base.parameter_space()


def test_through_the_facade():
    rl = RLib(
        agent_type=Masked,
        agent_params={"agent": EGreedy(4, e=0.1), "mask": [False, False, False, True]},
        ext_type=BasicMab,
        ext_params={"n_arms": 4},
    )
    means = [0.1, 0.3, 0.6, 0.9]  # the best arm, 3, is masked: the agent must settle on arm 2
    rng = np.random.default_rng(0)
    action, actions = rl.sample(reward=0.0), []
    for _ in range(300):
        action = int(rl.sample(reward=float(rng.random() < means[action])))
        actions.append(action)
    assert 3 not in actions
    assert np.mean(np.array(actions[-100:]) == 2) > 0.8


def test_all_masked_is_refused():
    with pytest.raises(AllArmsMaskedError, match="all 3 arms"):
        Masked(EGreedy(3, e=0.1), [True, True, True])
    agent = Masked(EGreedy(3, e=0.1), [True, False, True])
    with pytest.raises(AllArmsMaskedError):
        agent.with_mask(agent.init(KEYS[0]), np.ones(3, bool))


class _BoxAgent(BaseAgent):
    """An agent with a continuous action space."""

    init = update = sample = staticmethod(lambda *args, **kwargs: None)

    @property
    def action_space(self):
        return gym.spaces.Box(-1.0, 1.0, (2,))


@pytest.mark.parametrize(
    ("agent", "mask", "kwargs", "error", "match"),
    [
        (EGreedy(3, e=0.1), [True, False], {}, ValueError, "mask must have shape \\(3,\\)"),
        (EGreedy(3, e=0.1), [0, 2, 0], {}, ValueError, "mask must hold booleans"),
        (EGreedy(3, e=0.1), ["a", "b", "c"], {}, ValueError, "mask must hold booleans"),
        (EGreedy(3, e=0.1), [False, True, False], {"max_tries": 0}, ValueError, "max_tries"),
        (EGreedy, [False, True, False], {}, UnsupportedAgentError, "a constructed agent"),
        (_BoxAgent(), [False, True], {}, UnsupportedAgentError, "Discrete action space"),
    ],
)
def test_mistakes_are_named(agent, mask, kwargs, error, match):
    with pytest.raises(error, match=match):
        Masked(agent, mask, **kwargs)
