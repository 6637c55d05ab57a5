"""Late and out-of-order feedback through the facade: ``RLib.decide`` then ``RLib.learn``.

Hand-worked numbers: an epsilon-greedy agent with sample averages (``alpha = 0``) ends with
:math:`N_a` = the number of rewards of arm :math:`a` and :math:`Q_a` = their mean, whatever the
order they arrive in (the update commutes), so out-of-order feedback must give those numbers.
"""

import csv
import importlib.util
import math
import pathlib

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax import RLib
from agentax.agents.contextual import LinUCB
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
    Restarting,
    Softmax,
    ThompsonSampling,
)
from agentax.errors import (
    AgentaxError,
    EagerObservationWarning,
    ObservationError,
    UnknownTicketError,
)
from agentax.extensions import BaseExt, BasicMab, observation
from agentax.loggers import CsvLogger

EXAMPLE = pathlib.Path(__file__).resolve().parent.parent / "examples" / "late_feedback.py"


def egreedy_facade(**options) -> RLib:
    """Uniformly random arms (e = 1), sample averages: the state is just counts and means."""
    params = {"e": 1.0, "e_decay": 1.0}
    return RLib(
        agent_type=EGreedy,
        agent_params=params,
        ext_type=BasicMab,
        ext_params={"n_arms": 3},
        **options,
    )


def averages(actions, rewards, n_arms=3):
    counts = np.bincount(actions, minlength=n_arms)
    sums = np.bincount(actions, weights=rewards, minlength=n_arms)
    return counts, np.divide(sums, np.maximum(counts, 1))


def test_out_of_order_feedback_gives_the_in_order_counts_and_means():
    rl = egreedy_facade()
    decisions = [rl.decide() for _ in range(8)]
    actions = np.array([int(action) for action, _ in decisions])
    assert len(set(actions)) > 1  # seed 42 tries several arms: the test can tell actions apart
    assert rl.pending() == [ticket for _, ticket in decisions]
    rewards = np.array([0.5, 1.0, 0.0, 2.0, 1.5, 0.25, 3.0, 1.0])
    for i in [5, 0, 7, 2, 3, 6, 1, 4]:  # shuffled
        rl.learn(decisions[i][1], reward=rewards[i])
    state = rl.state()
    counts, means = averages(actions, rewards)
    np.testing.assert_array_equal(state.N, counts)
    np.testing.assert_allclose(state.Q, means, rtol=1e-6)
    assert rl.pending() == []


def test_learn_updates_the_decided_action_not_the_last_one():
    rl = egreedy_facade()
    decisions = [rl.decide() for _ in range(8)]
    first, last = decisions[0], decisions[-1]
    assert int(first[0]) != int(last[0])  # seed 42: the first and last arms differ
    rl.learn(first[1], reward=2.0)
    expected_n = np.zeros(3, int)
    expected_n[int(first[0])] = 1
    np.testing.assert_array_equal(rl.state().N, expected_n)
    assert float(rl.state().Q[int(first[0])]) == 2.0


def test_k_instances_decide_and_learn_in_one_call_each():
    rl = egreedy_facade()
    for seed in (0, 1, 2, 3):
        rl.init(seed)
    ids = [3, 1, 2]
    first_actions, first_tickets = rl.decide(agent_id=ids)
    second_actions, second_tickets = rl.decide(agent_id=ids)
    assert (
        first_tickets.dtype == np.int64
        and first_tickets.shape == (3,)
        and first_actions.shape == (3,)
    )
    # Second decisions first, in another order of instances; one reward shared, then one each.
    rl.learn(second_tickets[::-1], reward=1.0)
    rl.learn(first_tickets, reward=np.array([4.0, 2.0, 3.0]))
    for row, instance in enumerate(ids):
        actions = np.array([first_actions[row], second_actions[row]])
        counts, means = averages(actions, np.array([[4.0, 2.0, 3.0][row], 1.0]))
        np.testing.assert_array_equal(rl.state(instance).N, counts)
        np.testing.assert_allclose(rl.state(instance).Q, means, rtol=1e-6)
        assert rl.pending(instance) == []
    assert int(rl.state(0).N.sum()) == 0  # instance 0 was not touched


class ContextRows(BaseExt):
    """Gives LinUCB the played arm's row of the context the decision was made from."""

    observation_space = gym.spaces.Dict(
        {"context": gym.spaces.Box(-10.0, 10.0, (2, 2)), "reward": gym.spaces.Box(-10.0, 10.0, ())}
    )

    @observation(observation_type=gym.spaces.Box(-10.0, 10.0, (2,)))
    def action_context(self, context, action):
        return context[action]


def linucb_facade() -> RLib:
    return RLib(
        agent_type=LinUCB,
        agent_params={"n_arms": 2, "n_features": 2, "alpha": 0.5},
        ext_type=ContextRows,
    )


def test_observations_given_at_decision_time_reach_the_update():
    """LinUCB learns from the context of the decision, kept by the facade, and the later reward."""
    rl = linucb_facade()
    contexts = [
        np.array([[1.0, 0.0], [0.0, 1.0]], np.float32),
        np.array([[0.5, 0.5], [2.0, 1.0]], np.float32),
    ]
    (a1, t1), (a2, t2) = rl.decide(context=contexts[0]), rl.decide(context=contexts[1])
    rl.learn(t2, reward=1.0)
    rl.learn(t1, reward=-1.0)
    agent, state = rl.agent, rl.agent.init(jax.random.PRNGKey(0))
    key = jax.random.PRNGKey(0)  # LinUCB's update does not read its key
    for action, context, reward in [(a2, contexts[1], 1.0), (a1, contexts[0], -1.0)]:
        state = agent.update(
            state, key, action=action, reward=reward, action_context=context[action]
        )
    jax.tree.map(
        lambda got, want: np.testing.assert_allclose(got, want, rtol=1e-5), rl.state(), state
    )


class PlainPythonRows(ContextRows):
    """The same, in plain Python (JAX cannot trace ``int(action)``): it runs eagerly, on host values."""

    @observation(observation_type=gym.spaces.Box(-10.0, 10.0, (2,)))
    def action_context(self, context, action):
        return np.asarray(context)[int(action)]


def test_an_eager_extension_method_reads_the_decided_action():
    rl = RLib(
        agent_type=LinUCB,
        agent_params={"n_arms": 2, "n_features": 2, "alpha": 0.5},
        ext_type=PlainPythonRows,
    )
    contexts = [
        np.array([[1.0, 0.0], [0.0, 1.0]], np.float32),
        np.array([[0.5, 0.5], [2.0, 1.0]], np.float32),
    ]
    (a1, t1), (a2, t2) = rl.decide(context=contexts[0]), rl.decide(context=contexts[1])
    with pytest.warns(EagerObservationWarning) as caught:
        rl.learn(t1, reward=1.0)
    assert caught[0].filename == __file__  # points at the user's call
    rl.learn(t2, reward=2.0)
    agent, state = rl.agent, rl.agent.init(jax.random.PRNGKey(0))
    for action, context, reward in [(a1, contexts[0], 1.0), (a2, contexts[1], 2.0)]:
        state = agent.update(
            state,
            jax.random.PRNGKey(0),
            action=action,
            reward=reward,
            action_context=context[action],
        )
    jax.tree.map(
        lambda got, want: np.testing.assert_allclose(got, want, rtol=1e-5), rl.state(), state
    )


def test_unknown_used_and_evicted_tickets_are_refused_by_name():
    rl = egreedy_facade(max_pending=2)
    tickets = [rl.decide()[1] for _ in range(3)]  # the third evicts the first
    assert rl.pending() == tickets[1:]
    with pytest.raises(
        UnknownTicketError, match=r"ticket 0 is not pending: .*evicted by more than max_pending=2"
    ):
        rl.learn(tickets[0], reward=1.0)
    with pytest.raises(
        UnknownTicketError,
        match=r"ticket 7 was never issued \(decide\(\) has issued tickets 0 to 2\)",
    ):
        rl.learn(7, reward=1.0)
    with pytest.raises(UnknownTicketError, match=r"ticket 'a' is not a ticket"):
        rl.learn("a", reward=1.0)
    rl.learn(tickets[1], reward=1.0)
    with pytest.raises(
        UnknownTicketError, match="ticket 1 is not pending: it was already learned from"
    ):
        rl.learn(tickets[1], reward=1.0)
    with pytest.raises(KeyError):  # an UnknownTicketError is a KeyError too
        rl.learn(tickets[1], reward=1.0)


def test_two_tickets_of_one_instance_in_one_call_are_refused():
    rl = egreedy_facade()
    tickets = [rl.decide()[1] for _ in range(2)]
    with pytest.raises(AgentaxError, match=r"tickets \[0, 1\] include two of one instance"):
        rl.learn(tickets, reward=1.0)
    assert rl.pending() == tickets


@pytest.mark.parametrize("count", [0, -1, 1.5, True])
def test_max_pending_must_be_a_positive_integer(count):
    with pytest.raises(ValueError, match="max_pending must be a positive integer"):
        egreedy_facade(max_pending=count)


def test_a_refused_feedback_changes_nothing_and_stays_pending():
    rl = egreedy_facade()
    _, ticket = rl.decide()
    before = rl.state()
    with pytest.raises(ObservationError, match="reward"):
        rl.learn(ticket, reward=float("nan"))
    jax.tree.map(np.testing.assert_array_equal, rl.state(), before)
    assert rl.pending() == [ticket]
    rl.learn(ticket, reward=1.0)
    assert int(rl.state().N.sum()) == 1


def test_decide_refuses_a_bad_observation_before_keeping_anything():
    rl = linucb_facade()
    with pytest.raises(ObservationError, match="context"):
        rl.decide(context=np.full((2, 2), np.nan, np.float32))
    assert rl.n_instances == 0  # the first call failed: no instance was created


def test_pending_decisions_are_not_saved_and_tickets_do_not_repeat_after_load(tmp_path):
    rl = egreedy_facade()
    _, first = rl.decide()
    path = rl.save(tmp_path / "late")
    loaded = RLib.load(path)
    assert loaded.pending() == []
    with pytest.raises(UnknownTicketError, match="issued before the facade was loaded"):
        loaded.learn(first, reward=1.0)
    _, second = loaded.decide()
    assert second == first + 1
    loaded.learn(second, reward=1.0)
    rl.learn(first, reward=1.0)  # the saved facade still has its own pending decision


def test_decide_and_sample_share_the_instance():
    """``sample`` after ``decide`` learns from the decided action, as after an earlier ``sample``."""
    rl = egreedy_facade()
    action, ticket = rl.decide()
    rl.sample(reward=1.0)
    assert int(rl.state().N[int(action)]) == 1
    rl.learn(ticket, reward=3.0)
    assert int(rl.state().N[int(action)]) == 2


def test_loggers_see_the_decisions_then_the_feedback_with_the_decided_action(tmp_path):
    path = tmp_path / "late.csv"
    rl = RLib(
        agent_type=EGreedy,
        agent_params={"e": 1.0},
        ext_type=BasicMab,
        ext_params={"n_arms": 3},
        logger_types=CsvLogger,
        logger_sources=["action", "reward"],
        logger_params={"csv_path": path},
    )
    (a1, t1), (a2, t2) = rl.decide(), rl.decide()
    rl.learn(t2, reward=1.0)
    rl.learn(t1, reward=0.5)
    rl.finish()
    with open(path, newline="") as file:
        rows = [(int(r["step"]), int(r["action"]), r["reward"]) for r in csv.DictReader(file)]
    assert rows == [(1, a1, ""), (2, a2, ""), (2, a2, "1.0"), (2, a1, "0.5")]


# -- every bandit agent with delayed, shuffled rewards ---------------------------------------

MEANS = np.array([0.2, 0.5, 0.8])
SQRT2 = math.sqrt(2.0)
PRIOR = {"alpha": 1.0, "beta": 1.0, "lam": 1.0, "mu": 0.0}
AGENTS = {
    "EGreedy": (EGreedy, {"e": 0.05}),
    "Softmax": (Softmax, {"lr": 0.5}),
    "UCB": (UCB, {"c": SQRT2}),
    "Exp3": (Exp3, {"gamma": 0.1, "min_reward": 0.0, "max_reward": 1.0}),
    "KLUCB": (KLUCB, {}),
    "SWUCB": (SWUCB, {"window": 200}),
    "CUSUMUCB": (CUSUMUCB, {"h": 5.0, "alpha": 0.01}),
    "GLRklUCB": (GLRklUCB, {"delta": 0.01, "alpha": 0.01}),
    "ThompsonSampling": (ThompsonSampling, {"decay": 0.0}),
    "NormalThompsonSampling": (NormalThompsonSampling, PRIOR),
    "LogNormalThompsonSampling": (
        LogNormalThompsonSampling,
        PRIOR,
    ),  # rewards 1 or 2: log needs > 0
    "Restarting(UCB, CUSUM)": (
        Restarting,
        {"agent": UCB(3, c=SQRT2), "detector": CUSUM(h=5.0, epsilon=0.05, m=50), "alpha": 0.01},
    ),
}
N_STEPS, MAX_DELAY = 250, 15


def test_the_delayed_study_covers_every_learning_bandit():
    """Every agent of agentax.agents.mab that learns from action and reward is in AGENTS.

    Left out: the schedulers (they do not learn) and Masked (a wrapper for forbidden arms).
    """
    from agentax.agents import BaseAgent, mab

    learners = {
        name
        for name in mab.__all__
        if isinstance(getattr(mab, name), type)
        and issubclass(getattr(mab, name), BaseAgent)
        and name not in {"RandomScheduler", "RoundRobinScheduler", "Masked"}
    }
    assert learners == {name.split("(")[0] for name in AGENTS}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(AGENTS))
def test_every_bandit_finds_the_best_arm_with_rewards_late_and_shuffled(name):
    """Rewards come back 0..MAX_DELAY decisions late, in random order; the best arm still wins.

    In the last 100 of 250 decisions of two runs (seeds 0 and 1), counted together, the best arm
    (mean 0.8, gaps 0.3 and 0.6) is picked more often than the two others together.
    """
    late = sum(_late_choices(name, seed) for seed in (0, 1))
    assert late[2] > late.sum() / 2, late


def _late_choices(name: str, seed: int) -> np.ndarray:
    """How often each arm is chosen in the last 100 decisions of one run with late, shuffled rewards."""
    agent_type, params = AGENTS[name]
    rl = RLib(
        agent_type=agent_type, agent_params=params, ext_type=BasicMab, ext_params={"n_arms": 3}
    )
    rng = np.random.default_rng(seed)
    shift = 1.0 if agent_type is LogNormalThompsonSampling else 0.0
    waiting: dict[int, list] = {}  # step due -> [(ticket, reward)]
    actions = []
    for step in range(N_STEPS + MAX_DELAY + 1):
        if step < N_STEPS:
            action, ticket = rl.decide()
            actions.append(int(action))
            reward = float(rng.random() < MEANS[action]) + shift
            waiting.setdefault(step + int(rng.integers(0, MAX_DELAY + 1)), []).append(
                (ticket, reward)
            )
        due = waiting.pop(step, [])
        for i in rng.permutation(len(due)):
            rl.learn(due[i][0], reward=due[i][1])
    assert rl.pending() == [] and not waiting
    return np.bincount(actions[-100:], minlength=3)


def _example():
    spec = importlib.util.spec_from_file_location("examples_late_feedback", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_ucb_regret_grows_additively_with_the_delay():
    """Joulani et al. (2013): a delay of D adds at most about D * sum of gaps to UCB's regret.

    Arms (0.3, 0.5, 0.7): the gaps sum to 0.6, so D = 100 may add at most 60. Measured (1000
    steps, 64 seeds): it adds a clear, positive amount below that bound.
    """
    example = _example()
    agent = UCB(3, c=SQRT2)
    regret = {
        d: example.delayed_regret(agent, example.MEANS, d, n_steps=1000, n_seeds=64)
        for d in (0, 100)
    }
    gaps = sum(max(example.MEANS) - m for m in example.MEANS)
    added = regret[100].mean() - regret[0].mean()
    error = 1.96 * math.sqrt(regret[100].var(ddof=1) / 64 + regret[0].var(ddof=1) / 64)
    assert added > error  # the delay costs something
    assert added < 100 * gaps + error  # but only additively
    assert jnp.all(jnp.isfinite(jnp.asarray(regret[100])))
