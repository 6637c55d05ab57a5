"""The facade records the propensity of each chosen action; a CSV log of it feeds agentax.ope."""

from __future__ import annotations

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax import RLib
from agentax.agents.contextual import LinUCB
from agentax.agents.mab import GLR, EGreedy, Masked, Restarting, ThompsonSampling
from agentax.errors import AgentaxError, LogSourceError
from agentax.extensions import BaseExt, BasicMab, observation
from agentax.loggers import CsvLogger
from agentax.ope import ips, read_csv_log

E, K, BEST = 0.2, 4, 2  # epsilon-greedy on 4 arms; arm 2 pays 1, the others 0


def egreedy(**options) -> RLib:
    return RLib(
        agent_type=EGreedy,
        agent_params={"e": E},
        ext_type=BasicMab,
        ext_params={"n_arms": K},
        record_propensity=True,
        **options,
    )


def pays(action) -> np.ndarray:
    return (np.asarray(action) == BEST).astype(np.float32)


def hand_propensities(actions: list[int]) -> list[float]:
    """Epsilon-greedy's probability of each action, worked out by hand.

    Until arm 2 has paid once every Q is 0: all 4 arms tie as best, 0.05 + 0.8 / 4 = 0.25 each.
    From then on arm 2 is the one best arm: 1 - e + e / K = 0.85 for it, e / K = 0.05 otherwise.
    ``actions[t]`` is sampled after learning from ``actions[:t]``.
    """
    found = [BEST in actions[:t] for t in range(len(actions))]
    return [
        (1 - E + E / K if a == BEST else E / K) if f else 0.25
        for a, f in zip(actions, found, strict=True)
    ]


def test_sample_records_egreedys_probability_of_each_action():
    rl = egreedy()
    actions, recorded = [], []
    reward = 0.0
    for _ in range(40):
        action = rl.sample(reward=reward)
        actions.append(int(action))
        recorded.append(float(rl.propensity))
        # the policy the action was drawn from: the state after this step's update
        state = rl.state()
        assert recorded[-1] == pytest.approx(
            float(rl.agent.action_probabilities(state, jax.random.PRNGKey(0))[action])
        )
        reward = float(pays(action))
    assert BEST in actions[:20] and len(set(actions[actions.index(BEST) :])) > 1  # both cases occur
    np.testing.assert_allclose(recorded, hand_propensities(actions), rtol=1e-6)


def test_decide_records_the_propensity_of_k_instances():
    rl = egreedy()
    ids = [rl.init(seed) for seed in (1, 2, 3)]
    rl.learn(rl.decide(agent_id=1)[1], reward=1.0)  # instance 1 learns that its first arm pays
    actions, _ = rl.decide(agent_id=ids)
    expected = [
        float(rl.agent.action_probabilities(rl.state(i), jax.random.PRNGKey(0))[a])
        for i, a in zip(ids, actions, strict=True)
    ]
    np.testing.assert_allclose(rl.propensity, expected, rtol=1e-6)
    assert rl.propensity.shape == (3,)


def test_thompson_sampling_records_its_monte_carlo_estimate():
    rl = RLib(
        agent_type=ThompsonSampling,
        ext_type=BasicMab,
        ext_params={"n_arms": 3},
        record_propensity=True,
    )
    action = rl.sample(reward=0.0)
    assert float(rl.propensity) == pytest.approx(1 / 3, abs=0.03)  # the uniform prior: each arm 1/3
    for _ in range(30):  # arm 0 always pays, the others never
        action = rl.sample(reward=float(action == 0))
    state = rl.state()
    estimate = rl.agent.action_probabilities(state, jax.random.PRNGKey(7), context=jnp.ones(3))[
        action
    ]
    assert float(rl.propensity) == pytest.approx(
        float(estimate), abs=0.03
    )  # two independent 4,000-draw estimates


class ContextRows(BaseExt):
    """LinUCB's extension: the played arm's row of the context kept with the decision."""

    observation_space = gym.spaces.Dict(
        {"context": gym.spaces.Box(-10.0, 10.0, (3, 2)), "reward": gym.spaces.Box(-10.0, 10.0, ())}
    )

    @observation(observation_type=gym.spaces.Box(-10.0, 10.0, (2,)))
    def action_context(self, context, action):
        return context[action]


def test_a_contextual_agents_propensity_reads_the_steps_context():
    """A fresh LinUCB's bound is alpha * |x_a| (lam = 1): the arm of the longest row, with probability 1."""
    rl = RLib(
        agent_type=LinUCB,
        agent_params={"n_arms": 3, "n_features": 2},
        ext_type=ContextRows,
        record_propensity=True,
    )
    action, _ = rl.decide(context=np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 1.0]], np.float32))
    assert int(action) == 1 and float(rl.propensity) == 1.0
    tied = np.ones((3, 2), np.float32)
    action, _ = rl.decide(context=tied)
    assert float(rl.propensity) == pytest.approx(1 / 3)


def test_a_csv_log_of_sample_calls_gives_the_hand_computed_ips(tmp_path):
    path = tmp_path / "run.csv"
    rl = egreedy(
        logger_types=CsvLogger,
        logger_sources=["action", "reward", "propensity"],
        logger_params={"csv_path": path},
    )
    actions, reward = [], 0.0
    for _ in range(60):
        actions.append(int(rl.sample(reward=reward)))
        reward = float(pays(actions[-1]))
    rl.finish()
    log = read_csv_log(path)
    # each action with the reward given at the next call; the last action's never came
    np.testing.assert_array_equal(log.action, actions[:-1])
    np.testing.assert_array_equal(log.reward, pays(actions[:-1]))
    p = hand_propensities(actions)[:-1]
    np.testing.assert_allclose(log.propensity, p, rtol=1e-6)
    # the target policy always plays arm 2: IPS = (1/n) sum over rounds where a_i = 2 of r_i / p_i
    by_hand = sum(1.0 / p_i for a, p_i in zip(actions[:-1], p, strict=True) if a == BEST) / (
        len(actions) - 1
    )
    always_best = jnp.zeros((len(actions) - 1, K)).at[:, BEST].set(1.0)
    assert float(ips(log, always_best).value) == pytest.approx(by_hand, rel=1e-6)


def test_a_csv_log_of_late_feedback_pairs_each_decision_with_its_outcome(tmp_path):
    """Two instances decide 6 times each; the rewards come back in reverse order, with the contexts kept."""
    path = tmp_path / "late.csv"
    rl = RLib(
        agent_type=LinUCB,
        agent_params={"n_arms": 3, "n_features": 2},
        ext_type=ContextRows,
        record_propensity=True,
        logger_types=CsvLogger,
        logger_sources=["action", "reward", "propensity", "context"],
        logger_params={"csv_path": path},
    )
    rl.init(5), rl.init(6)
    contexts = np.random.default_rng(0).uniform(-1, 1, (6, 2, 3, 2)).astype(np.float32)
    decisions = []
    for context in contexts:
        actions, tickets = rl.decide(context=context, agent_id=[0, 1])
        decisions.append((actions, tickets, rl.propensity.copy(), context))
    for actions, tickets, _, _ in reversed(decisions):
        rl.learn(tickets, reward=pays(actions))
    rl.finish()
    log = read_csv_log(path, late_feedback=True, context="context")
    assert log.action.shape == (12,)
    # read_csv_log orders rounds by instance, then step; learn rows share their decision's step
    by_instance = [
        [(int(a[i]), float(p[i]), c[i]) for a, _, p, c in reversed(decisions)] for i in (0, 1)
    ]
    expected = by_instance[0] + by_instance[1]
    np.testing.assert_array_equal(log.action, [a for a, _, _ in expected])
    np.testing.assert_allclose(log.propensity, [p for _, p, _ in expected], rtol=1e-6)
    np.testing.assert_array_equal(log.reward, pays([a for a, _, _ in expected]))
    np.testing.assert_allclose(log.context, np.stack([c for _, _, c in expected]), rtol=1e-6)


def test_recording_is_refused_clearly(tmp_path):
    with pytest.raises(AgentaxError, match="Masked has no action_probabilities"):
        RLib(
            agent_type=Masked,
            agent_params={"agent": EGreedy(3, e=0.1), "mask": [True, False, False]},
            record_propensity=True,
        )
    with pytest.raises(
        AgentaxError, match="Masked has no action_probabilities"
    ):  # inside a wrapper that has one
        RLib(
            agent_type=Restarting,
            agent_params={
                "agent": Masked(EGreedy(3, e=0.1), [True, True, False]),
                "detector": GLR(0.1),
            },
            record_propensity=True,
        )
    with pytest.raises(AgentaxError, match="greedy=True"):
        egreedy().sample(reward=0.0, greedy=True)
    plain = RLib(
        agent_type=EGreedy, agent_params={"e": E}, ext_type=BasicMab, ext_params={"n_arms": K}
    )
    with pytest.raises(AgentaxError, match="record_propensity=True"):
        _ = plain.propensity
    logged = RLib(
        agent_type=EGreedy,
        agent_params={"e": E},
        ext_type=BasicMab,
        ext_params={"n_arms": K},
        logger_types=CsvLogger,
        logger_sources="propensity",
        logger_params={"csv_path": tmp_path / "x.csv"},
    )
    with pytest.raises(LogSourceError, match="record_propensity=True"):
        logged.sample(reward=0.0)
    with pytest.raises(AgentaxError, match="record_propensity must be True or False"):
        RLib(agent_type=EGreedy, agent_params={"e": E, "n_arms": K}, record_propensity="yes")


def test_read_csv_log_names_a_missing_column_and_an_empty_value(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("agent_id,step,action,reward\n0,1,1,0.0\n")
    with pytest.raises(AgentaxError, match="no column 'propensity'"):
        read_csv_log(path)
    path.write_text("agent_id,step,action,reward,propensity\n0,1,1,0.0,\n0,2,1,1.0,0.5\n")
    with pytest.raises(AgentaxError, match="column 'propensity' .* empty or non-numeric"):
        read_csv_log(path)


def test_the_option_survives_a_checkpoint(tmp_path):
    rl = egreedy()
    rl.sample(reward=0.0)
    loaded = RLib.load(rl.save(tmp_path / "run"))
    action = loaded.sample(reward=1.0)
    assert loaded.propensity == pytest.approx(
        float(loaded.agent.action_probabilities(loaded.state(), jax.random.PRNGKey(0))[action])
    )
