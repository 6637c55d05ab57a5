"""ThompsonSampling: forgetting counts against hand-worked numbers, the prior and context in sampling,
learning, following a switch, the facade, validation."""

import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax.agents.mab import ThompsonSampling, ThompsonSamplingState
from agentax.envs import BanditProblem
from tests.agents.mab.helpers import FOUR_ARMS, KEY, drive_facade, optimal_share, run_seeds


def trials(agent, steps):
    """The state after ``(action, n_successful, n_failed, delta_time)`` updates, dtypes kept."""
    state = agent.init(KEY)
    for action, successes, failures, delta_time in steps:
        new = agent.update(
            state,
            KEY,
            action=action,
            n_successful=successes,
            n_failed=failures,
            delta_time=delta_time,
        )
        chex.assert_trees_all_equal_shapes_and_dtypes(new, state)
        state = new
    return state


def shares(agent, state, context, n=4000):
    actions = jax.vmap(lambda k: agent.sample(state, k, context=jnp.asarray(context, jnp.float32)))(
        jax.random.split(jax.random.PRNGKey(5), n)
    )
    return np.bincount(np.asarray(actions), minlength=state.alpha.size) / n


def test_counts_are_forgotten_over_elapsed_time():
    state = trials(
        ThompsonSampling(3, decay=math.log(2)), [(0, 2, 1, 1.0), (1, 0, 3, 2.0), (0, 1, 0, 0.0)]
    )
    # decay ln 2: every update first multiplies all counts by exp(-ln 2 * dt) = 0.5 ** dt
    # 1st (arm 0, 2 successes, 1 failure, dt = 1): alpha = [2, 0, 0],              beta = [1, 0, 0]
    # 2nd (arm 1, 0 / 3, dt = 2, factor 0.25):     alpha = [0.5, 0, 0],            beta = [0.25, 3, 0]
    # 3rd (arm 0, 1 / 0, dt = 0, factor 1):        alpha = [0.5 + 1, 0, 0] = [1.5, 0, 0], beta unchanged
    np.testing.assert_allclose(state.alpha, [1.5, 0.0, 0.0], rtol=1e-6)
    np.testing.assert_allclose(state.beta, [0.25, 3.0, 0.0], rtol=1e-6)


def test_without_decay_counts_are_plain_sums():
    state = trials(ThompsonSampling(2), [(1, 1, 0, 5.0), (1, 0, 1, 0.5), (0, 3, 2, 1.0)])
    np.testing.assert_array_equal(state.alpha, [3.0, 1.0])
    np.testing.assert_array_equal(state.beta, [2.0, 1.0])


def test_posteriors_have_a_uniform_prior():
    # alpha = [1, 0], beta = 0: arm 0 draws from Beta(2, 1) (density 2x), arm 1 from Beta(1, 1).
    # P(arm 0) = P(X > U) = E[X] = 2/3; the std of a share over 4000 draws is 0.0075.
    agent = ThompsonSampling(2)
    state = ThompsonSamplingState(alpha=jnp.array([1.0, 0.0]), beta=jnp.zeros(2))
    assert abs(shares(agent, state, [1.0, 1.0])[0] - 2 / 3) < 0.03


def test_context_weighs_the_draws():
    # Both arms untried (uniform draws U0, U1), context [1, 2]: arm 1 wins unless U0 > 2 U1, which
    # has probability integral_0^1 (u / 2) du = 1/4. So arm 1 is played 3/4 of the time.
    agent = ThompsonSampling(2)
    assert abs(shares(agent, agent.init(KEY), [1.0, 2.0])[1] - 0.75) < 0.03
    # Confident arms: arm 0 draws ~0.999 (std 0.001), arm 1 ~0.5 (std 0.016). Context [1, 1]
    # plays arm 0; context [0.4, 1] weighs arm 0 down to ~0.4, six stds below arm 1: arm 1.
    confident = ThompsonSamplingState(
        alpha=jnp.array([1000.0, 500.0]), beta=jnp.array([0.0, 500.0])
    )
    np.testing.assert_array_equal(shares(agent, confident, [1.0, 1.0]), [1.0, 0.0])
    np.testing.assert_array_equal(shares(agent, confident, [0.4, 1.0]), [0.0, 1.0])


@pytest.mark.parametrize("sampler", ["exact", "normal"])
def test_finds_the_best_arm(sampler):
    # Arms 0.2 apart: Thompson sampling pulls a worse arm O(log t / gap^2) times, so by steps
    # 1500-2000 it plays the best arm almost always (about 0.97 measured); 0.9 leaves room.
    share = optimal_share(run_seeds(ThompsonSampling(4, sampler=sampler), FOUR_ARMS, 2000), 1500)
    assert share.min() > 0.9, share


def test_decay_follows_a_switch():
    # Arm 0 is best (0.9) for 2000 steps, then arm 2 (0.7) while arm 0 falls to 0.3. Without decay,
    # arm 0's ~1800 successes in ~2000 pulls keep its posterior mean above 0.7 until k > 1000 more
    # pulls at 0.3 ((1800 + 0.3 k) / (2000 + k) < 0.7): it keeps pulling arm 0 after the switch.
    # With decay 0.01 per step the counts remember about 100 steps and the agent moves within a
    # few hundred steps.
    problem = BanditProblem.switching([[0.9, 0.5, 0.1], [0.3, 0.5, 0.7]], [0, 2000])
    plain = optimal_share(run_seeds(ThompsonSampling(3), problem, 3000), 2300)
    decayed = optimal_share(run_seeds(ThompsonSampling(3, decay=0.01), problem, 3000), 2300)
    assert decayed.min() > 0.7, decayed
    assert plain.max() < 0.3, plain


def test_through_the_facade():
    # BasicMab supplies n_successful / n_failed from the reward, delta_time = 1 and context = 1.
    actions = drive_facade(ThompsonSampling, {"decay": 0.001}, [0.1, 0.3, 0.5, 0.7], 400)
    assert np.mean(actions[-100:] == 3) > 0.8


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_arms": 0}, "n_arms"),
        ({"n_arms": 2, "decay": -0.1}, "decay"),
        ({"n_arms": 2, "sampler": "fast"}, "sampler"),
    ],
)
def test_bad_hyperparameters_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ThompsonSampling(**kwargs)


def test_spaces_are_reinforced_libs():
    agent = ThompsonSampling(3)
    update = agent.update_observation_space
    assert set(update.spaces) == {"action", "n_successful", "n_failed", "delta_time"}
    assert update["n_successful"].dtype == np.int64 and update["delta_time"].dtype == np.float64
    assert agent.sample_observation_space["context"].shape == (3,)
    assert set(ThompsonSampling.parameter_space().spaces) == {"n_arms", "decay"}
