"""What a hostile or careless caller sends cannot hang, poison or half-change the facade (issue 7).

Each test names the numbered case of the issue it covers. A refused call must leave every
instance as it was: ``snapshot`` copies everything the facade keeps per instance.
"""

import threading

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax import RLib
from agentax.agents.deep import DQN
from agentax.agents.mab import (
    UCB,
    EGreedy,
    Exp3,
    LogNormalThompsonSampling,
    NormalThompsonSampling,
    ThompsonSampling,
    _random,
)
from agentax.errors import AgentaxError, NonFiniteStateError, ObservationError
from agentax.extensions import BasicMab, Gymnasium
from tests.agents.cases.deep import _SMALL, _TinyQ
from tests.time_limit import within

TS_OBS = dict(n_successful=0, n_failed=0, delta_time=1.0, context=np.ones(3))
F32_MAX = r"3\.4028235e\+38"


def snapshot(rl):
    """Host copies of every instance's state, key, last action and step count."""
    n = rl.n_instances
    return jax.tree.map(lambda x: np.array(x[:n]), rl._stack), rl._steps[:n].copy(), n


def assert_unchanged(rl, before):
    after = snapshot(rl)
    chex.assert_trees_all_equal(after[0], before[0])
    np.testing.assert_array_equal(after[1], before[1])
    assert after[2] == before[2]


def refused(rl, error, match, **call):
    """Make a call that must raise ``error``; check it changed nothing."""
    before = snapshot(rl)
    with pytest.raises(error, match=match):
        within(120, rl.sample, **call)
    assert_unchanged(rl, before)


def thompson():
    rl = RLib(agent_type=ThompsonSampling, agent_params={"n_arms": 3}, no_ext_mode=True)
    rl.sample(**TS_OBS)
    return rl


# -- 1. Thompson sampling hangs ---------------------------------------------------------------------


def test_infinite_delta_time_is_refused_instead_of_hanging():
    rl = thompson()
    refused(
        rl,
        ObservationError,
        rf"'delta_time' is out of bounds \(inf\); expected a value in \[0, {F32_MAX}\]",
        **{**TS_OBS, "delta_time": float("inf")},
    )
    assert rl.sample(**TS_OBS) in range(3)  # and the facade keeps working


@pytest.mark.parametrize("count", [np.int64(2**31), float(2**31), 2**31, np.uint32(2**32 - 1)])
@pytest.mark.parametrize("name", ["n_successful", "n_failed"])
def test_counts_that_would_wrap_around_int32_are_refused(name, count):
    rl = thompson()
    refused(
        rl,
        ObservationError,
        rf"'{name}' is out of bounds \({int(count)}(\.0)?\); expected a value in \[0, 2147483647\]",
        **{**TS_OBS, name: count},
    )


def test_gamma_sampler_ends_on_shapes_it_cannot_draw_from():
    shapes = jnp.array([jnp.nan, -5.0, jnp.inf, 1.0, 3.0])
    draws = np.asarray(within(120, _random.gamma_at_least_one, jax.random.PRNGKey(0), shapes))
    assert np.isnan(draws[0]) and np.isnan(draws[1])
    assert np.all(draws[3:] > 0) and np.all(np.isfinite(draws[3:]))
    agent = ThompsonSampling(3)
    state = agent.init(jax.random.PRNGKey(0)).replace(alpha=jnp.array([jnp.nan, -1e9, 2.0]))
    assert int(within(120, agent.sample, state, jax.random.PRNGKey(1), jnp.ones(3))) in range(3)


def test_gamma_sampler_keeps_a_positive_proposal_at_its_bound(monkeypatch):
    # With no retry left, an element every proposal rejected keeps its last proposal, clipped above 0.
    monkeypatch.setattr(_random, "N_PROPOSALS", 1)
    monkeypatch.setattr(_random, "MAX_RETRIES", 0)
    draws = np.asarray(
        jax.jit(lambda key: _random.gamma_at_least_one(key, jnp.ones(20_000)))(
            jax.random.PRNGKey(3)
        )
    )
    assert np.all(draws > 0) and np.all(np.isfinite(draws))


# -- 3. Non-finite and out-of-bounds values ---------------------------------------------------------


def egreedy():
    rl = RLib(agent_type=EGreedy, agent_params={"n_arms": 2, "e": 0.1}, no_ext_mode=True)
    rl.sample(reward=0.0)
    return rl


@pytest.mark.parametrize(
    "reward", [1e300, -1e39, float("inf"), np.float64(-np.inf), np.array([1e300])]
)
def test_reward_beyond_float32_is_refused(reward):
    rl = egreedy()
    refused(
        rl,
        ObservationError,
        rf"'reward' is out of bounds \(.*\); expected a value in \[-{F32_MAX}, {F32_MAX}\]",
        reward=reward,
    )
    assert np.all(np.isfinite(rl.state(0).Q))


def test_integer_beyond_64_bits_is_an_observation_error():
    rl = egreedy()
    refused(rl, ObservationError, r"'reward' is out of bounds \(1000000", reward=10**400)
    refused(rl, ObservationError, r"'reward' is out of bounds \(-1000000", reward=[-(10**400)])


def test_lognormal_thompson_sampling_keeps_its_bound_behind_basic_mab():
    rl = RLib(
        agent_type=LogNormalThompsonSampling,
        agent_params={"alpha": 1.0, "beta": 1.0, "lam": 1.0, "mu": 0.0},
        ext_type=BasicMab,
        ext_params={"n_arms": 3},
    )
    rl.sample(reward=1.0)
    refused(
        rl,
        ObservationError,
        r"'reward' for LogNormalThompsonSampling.update of instance 0 is out of bounds \(0\.0\); "
        r"expected a value in \[1\.1754944e-38, " + F32_MAX,
        reward=0.0,
    )
    rl.sample(reward=2.0)
    assert np.all(np.isfinite(jnp.concatenate(jax.tree.leaves(rl.state(0)))))


@pytest.mark.parametrize("reward", [3e38, -3e38, 2e12])
def test_normal_thompson_sampling_refuses_rewards_beyond_its_bound(reward):
    rl = RLib(
        agent_type=NormalThompsonSampling,
        agent_params={"n_arms": 2, "alpha": 1.0, "beta": 1.0, "lam": 1.0, "mu": 0.0},
        no_ext_mode=True,
    )
    rl.sample(reward=0.0)
    refused(
        rl, ObservationError, r"'reward' .*expected a value in \[-1e\+12, 1e\+12\]", reward=reward
    )
    rl.sample(reward=1e12)
    assert np.all(np.isfinite(rl.state(0).beta))


def test_update_that_would_overflow_the_state_is_refused():
    rl = RLib(agent_type=UCB, agent_params={"n_arms": 1, "c": 1.0}, no_ext_mode=True)
    rl.sample(reward=0.0)
    rl.sample(reward=3e38)  # R = 3e38: finite
    refused(
        rl,
        NonFiniteStateError,
        r"instance 0 would make the state entry 'R' of UCB.update non-finite",
        reward=3e38,
    )
    np.testing.assert_array_equal(rl.state(0).R, np.float32([3e38]))


def test_exp3_clips_finite_rewards_and_refuses_non_finite_ones():
    def run(reward):
        rl = RLib(
            agent_type=Exp3,
            agent_params={"n_arms": 2, "gamma": 0.5, "min_reward": 0.0, "max_reward": 1.0},
            no_ext_mode=True,
        )
        rl.sample(reward=0.0)
        rl.sample(reward=reward)
        return rl

    chex.assert_trees_all_equal(run(1e30).state(0), run(1.0).state(0))
    chex.assert_trees_all_equal(run(-1e30).state(0), run(0.0).state(0))
    refused(run(1.0), ObservationError, "'reward' is out of bounds or NaN", reward=float("nan"))


def dqn(**observations):
    rl = RLib(
        agent_type=DQN,
        agent_params=dict(q_network=_TinyQ(2), obs_space_shape=3, act_space_size=2, **_SMALL),
        no_ext_mode=True,
    )
    obs = dict(
        env_state=np.zeros(3), reward=0.0, terminal=False, truncated=False, episode_start=False
    )
    for t in range(6):
        rl.sample(**{**obs, "env_state": np.full(3, 0.1 * t), "reward": 1.0})
    return rl, obs


@pytest.mark.parametrize(
    "bad",
    [
        dict(reward=float("inf")),
        dict(env_state=np.array([0.0, np.nan, 0.0])),
        dict(env_state=np.array([1e39, 0.0, 0.0])),
    ],
)
def test_dqn_refuses_non_finite_rewards_and_observations(bad):
    rl, obs = dqn()
    name = next(iter(bad))
    refused(rl, ObservationError, f"'{name}' is out of bounds", **{**obs, **bad})
    leaves = jax.tree.leaves(rl.state(0))
    assert all(
        np.all(np.isfinite(leaf)) for leaf in leaves if jnp.issubdtype(leaf.dtype, jnp.inexact)
    )


def test_a_batched_call_with_one_bad_instance_changes_no_instance():
    rl = RLib(
        agent_type=LogNormalThompsonSampling,
        agent_params={"alpha": 1.0, "beta": 1.0, "lam": 1.0, "mu": 0.0},
        ext_type=BasicMab,
        ext_params={"n_arms": 3},
    )
    for seed in range(3):
        rl.init(seed)
    rl.sample(reward=[1.0, 1.0, 1.0], agent_id=[0, 1, 2])
    refused(
        rl,
        ObservationError,
        r"'reward' for LogNormalThompsonSampling.update of instance 2 is out of bounds \(-1\.0\)",
        reward=[1.0, 2.0, -1.0],
        agent_id=[1, 0, 2],
    )


# -- 4. Threads ------------------------------------------------------------------------------------


def _reward(seed, t):
    return float((seed * 7 + t * 3) % 5) / 4.0


def _run_instances(rl, seeds, n_steps, ids):
    for seed in seeds:
        ids[seed] = rl.init(seed)
        for t in range(n_steps):
            rl.sample(reward=_reward(seed, t), agent_id=ids[seed])


def test_threads_creating_and_stepping_instances_match_a_single_thread():
    def facade():
        return RLib(
            agent_type=EGreedy, agent_params={"e": 0.3}, ext_type=BasicMab, ext_params={"n_arms": 4}
        )

    shared, ids = facade(), {}
    groups = [list(range(k, 24, 4)) for k in range(4)]
    threads = [
        threading.Thread(target=_run_instances, args=(shared, group, 15, ids)) for group in groups
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    alone, alone_ids = facade(), {}
    _run_instances(alone, range(24), 15, alone_ids)
    assert shared.n_instances == 24 and sorted(ids.values()) == list(range(24))
    for seed in range(24):
        chex.assert_trees_all_equal(shared.state(ids[seed]), alone.state(alone_ids[seed]))
        np.testing.assert_array_equal(shared._stack[1][ids[seed]], alone._stack[1][alone_ids[seed]])
    np.testing.assert_array_equal(shared._steps[:24], 15)


def test_threads_stepping_one_instance_count_every_step():
    rl = RLib(agent_type=UCB, agent_params={"c": 1.0}, ext_type=BasicMab, ext_params={"n_arms": 3})
    rl.init(0)
    threads = [
        threading.Thread(target=lambda: [rl.sample(reward=1.0) for _ in range(25)])
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert rl._steps[0] == 100
    assert float(jnp.sum(rl.state(0).N)) == 99  # the first step only samples


# -- 5. Atomic reconfiguration ----------------------------------------------------------------------


def test_failed_set_agent_keeps_the_previous_agent():
    rl = RLib(
        agent_type=EGreedy, agent_params={"e": 0.1}, ext_type=BasicMab, ext_params={"n_arms": 3}
    )
    agent = rl.agent
    with pytest.raises(AgentaxError, match="UCB needs parameter 'c'"):
        rl.set_agent(UCB, {})
    assert rl.agent is agent and rl._agent_type is EGreedy and rl._agent_params == {"e": 0.1}
    rl.set_ext(BasicMab, {"n_arms": 5})
    assert type(rl.agent) is EGreedy and rl.agent.n_arms == 5
    assert {int(rl.sample(reward=1.0)) for _ in range(40)} <= set(range(5))


def test_failed_set_ext_keeps_the_previous_extension_and_agent():
    rl = RLib(
        agent_type=EGreedy, agent_params={"e": 0.1}, ext_type=BasicMab, ext_params={"n_arms": 3}
    )
    agent, ext = rl.agent, rl._ext
    for bad in ({"n_arms": 0}, {"arms": 3}):
        with pytest.raises((AgentaxError, ValueError)):
            rl.set_ext(BasicMab, bad)
        assert rl.agent is agent and rl._ext is ext and rl._ext_params == {"n_arms": 3}
    rl.set_agent(UCB, {"c": 1.0})
    assert rl.agent.n_arms == 3


# -- 6. Silently ignored input ---------------------------------------------------------------------


def test_misspelled_observation_suggests_the_known_name():
    rl = egreedy()
    n_steppers = len(rl._steppers)
    refused(
        rl,
        ObservationError,
        r"'rewrad' is not an observation .*did you mean 'reward'\?",
        reward=1.0,
        rewrad=2.0,
    )
    assert len(rl._steppers) == n_steppers  # nothing compiled for it


def test_misspelled_gymnasium_flag_suggests_the_known_name():
    rl = RLib(
        agent_type=DQN,
        agent_params=dict(q_network=_TinyQ(2), **_SMALL),
        ext_type=Gymnasium,
        ext_params={"env_id": "CartPole-v1"},
    )
    rl.sample(np.zeros(4, np.float32), {})
    refused(
        rl,
        ObservationError,
        r"'terminl' is not an observation .*did you mean 'terminal'\?",
        env_state=np.zeros(4),
        reward=1.0,
        terminl=True,
    )


def _actions(seed, n=24):
    rl = RLib(agent_type=EGreedy, agent_params={"n_arms": 8, "e": 1.0}, no_ext_mode=True)
    rl.init(seed)
    return [int(rl.sample(reward=0.0)) for _ in range(n)]


def test_seeds_are_used_in_full():
    assert _actions(5) != _actions(5 + 2**32)
    assert _actions(2**32 - 1) != _actions(-1)
    assert _actions(2**63) != _actions(2**63 + 2**64)
    assert _actions(2**200) == _actions(2**200)
    rl = RLib(agent_type=EGreedy, agent_params={"n_arms": 8, "e": 1.0}, no_ext_mode=True)
    rl.init(np.int64(7))
    np.testing.assert_array_equal(
        rl._stack[1][0], jax.random.split(jax.random.PRNGKey(7))[1]
    )  # as before


def test_fractional_flag_is_refused():
    rl, obs = dqn()
    refused(rl, ObservationError, r"'terminal' is fractional \(0\.5\)", **{**obs, "terminal": 0.5})


@pytest.mark.parametrize("flag", ["is_training", "greedy"])
def test_flags_must_be_booleans(flag):
    rl = egreedy()
    refused(rl, AgentaxError, f"{flag} must be True or False, got None", reward=1.0, **{flag: None})


def test_missing_network_is_named():
    with pytest.raises(ValueError, match="q_network must be a flax.linen.Module object .*got None"):
        RLib(
            agent_type=DQN,
            agent_params={"q_network": None, "obs_space_shape": 3, "act_space_size": 2},
            no_ext_mode=True,
        )


def test_failed_first_sample_creates_no_instance():
    rl = RLib(agent_type=EGreedy, agent_params={"n_arms": 2, "e": 0.1}, no_ext_mode=True)
    with pytest.raises(ObservationError):
        rl.sample(reward="high")
    assert rl.n_instances == 0
    rl.sample(reward=0.0)
    assert rl.n_instances == 1


def test_agent_id_may_be_a_jax_array():
    rl = egreedy()
    rl.init(1)
    assert int(rl.sample(reward=1.0, agent_id=jnp.int32(1))) in range(2)
    assert rl.sample(reward=1.0, agent_id=jnp.array([0, 1])).shape == (2,)
    np.testing.assert_array_equal(rl._steps[:2], [2, 2])
