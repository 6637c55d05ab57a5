"""The facade: instances, reproducibility, batched stepping, compilation, and every user error."""

import jax
import numpy as np
import pytest

from agentax import RLib
from agentax.agents.mab import EGreedy
from agentax.errors import (
    AgentaxError,
    AgentTypeError,
    ExtensionTypeError,
    ForbiddenAgentChangeError,
    MissingObservationError,
    MissingParameterError,
    NoAgentError,
    ObservationError,
    UnknownInstanceError,
    UnknownParameterError,
)
from agentax.extensions import BasicMab
from agentax.testing import count_traces

MEANS = np.array([0.1, 0.3, 0.9, 0.2])


def make_rlib(**agent_params):
    params = {"e": 0.2, **agent_params}
    return RLib(
        agent_type=EGreedy,
        agent_params=params,
        ext_type=BasicMab,
        ext_params={"n_arms": len(MEANS)},
    )


def play(rl, n_steps, agent_id=0, seed=0):
    """Bernoulli rewards of MEANS; returns the actions taken."""
    rng = np.random.default_rng(seed)
    action, actions = rl.sample(reward=0.0, agent_id=agent_id), []
    for _ in range(n_steps):
        action = rl.sample(reward=float(rng.random() < MEANS[action]), agent_id=agent_id)
        actions.append(int(action))
    return actions


def test_first_call_only_samples_then_updates():
    rl = make_rlib()
    action = rl.sample(reward=123.0)  # first call: nothing to learn from yet
    assert float(rl.state().Q.sum()) == 0.0
    rl.sample(reward=1.0)
    assert rl.state().Q[int(action)] == 1.0 and int(rl.state().N.sum()) == 1


def test_is_training_false_leaves_the_state_alone():
    rl = make_rlib()
    rl.sample(reward=0.0)
    rl.sample(reward=1.0)
    before = rl.state()
    for _ in range(5):
        rl.sample(reward=1.0, is_training=False)
    jax.tree.map(np.testing.assert_array_equal, rl.state(), before)


def test_same_seed_reproduces_actions_bit_for_bit_and_seeds_are_independent():
    rl = make_rlib()
    ids = [rl.init(seed) for seed in (7, 7, 8)]
    runs = [play(rl, 200, agent_id=i, seed=1) for i in ids]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    again = make_rlib()
    again.init(7)
    assert play(again, 200, agent_id=0, seed=1) == runs[0]


def test_instances_do_not_share_state():
    rl = make_rlib()
    first, second = rl.init(1), rl.init(2)
    rl.sample(reward=0.0, agent_id=first)
    for _ in range(10):
        rl.sample(reward=1.0, agent_id=first)
    assert int(rl.state(first).N.sum()) == 10
    assert int(rl.state(second).N.sum()) == 0


def test_k_instances_in_one_call_match_separate_calls():
    together, apart = make_rlib(), make_rlib()
    ids = [together.init(seed) for seed in range(5)]
    for seed in range(5):
        apart.init(seed)
    rewards = np.random.default_rng(0).random((20, 5)).astype(np.float32)
    for t in range(20):
        batch_actions = together.sample(reward=rewards[t], agent_id=ids)
        single_actions = [apart.sample(reward=float(rewards[t, i]), agent_id=i) for i in ids]
        np.testing.assert_array_equal(batch_actions, single_actions)
    for i in ids:
        jax.tree.map(
            lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6),
            together.state(i),
            apart.state(i),
        )


def test_k_instances_accept_one_shared_value_and_a_subset_of_ids():
    rl = make_rlib()
    ids = [rl.init(seed) for seed in range(6)]
    actions = rl.sample(reward=1.0, agent_id=ids[1::2])
    assert actions.shape == (3,)
    assert all(rl._steps[i] == (1 if i in ids[1::2] else 0) for i in ids)


def test_a_step_is_one_compiled_call_that_does_not_retrace():
    rl = make_rlib()
    for _ in range(3):  # first step, then updates: compiled once each way
        rl.sample(reward=0.5)
    with count_traces() as traces:
        for reward in (0.0, 1.0, 2.5, 1):
            rl.sample(reward=reward)
        rl.init(3)  # a new instance grows the stack: allowed to compile again once
        rl.sample(reward=1.0, agent_id=1)
        rl.sample(reward=0.0, agent_id=1)
    assert traces[0] <= 3
    with count_traces() as traces:
        for _ in range(5):
            rl.sample(reward=1.0, agent_id=0)
            rl.sample(reward=1.0, agent_id=1)
    assert traces[0] == 0


def test_observations_by_name_without_an_extension():
    rl = RLib(agent_type=EGreedy, agent_params={"n_arms": 3, "e": 0.0})
    rl.sample(reward=0.0)
    rl.sample(reward=1.0, action=2)
    assert int(rl.sample(reward=0.0, action=2, is_training=False)) == 2
    no_ext = RLib(
        agent_type=EGreedy,
        agent_params={"n_arms": 3, "e": 0.0},
        ext_type=BasicMab,
        ext_params={"n_arms": 3},
        no_ext_mode=True,
    )
    no_ext.sample(update_observations={"action": 1, "reward": 0.0})
    no_ext.sample(update_observations={"action": 1, "reward": 3.0})
    assert float(no_ext.state().Q[1]) == 3.0


def test_spaces_come_from_extension_and_agent():
    rl = make_rlib()
    assert rl.action_space.n == len(MEANS)
    assert "reward" in rl.observation_space.spaces
    plain = RLib(agent_type=EGreedy, agent_params={"n_arms": 2, "e": 0.1})
    assert set(plain.observation_space.spaces) == {"action", "reward"}


# -- errors ---------------------------------------------------------------------------------------


def test_unknown_instance_id():
    rl = make_rlib()
    rl.init(0)
    for bad in (1, -1, "0", 0.0, [0, 5], [0, 0]):
        with pytest.raises(AgentaxError) as info:
            rl.sample(reward=1.0, agent_id=bad)
        assert "agent_id" in str(info.value) or "instance" in str(info.value)
    with pytest.raises(
        UnknownInstanceError, match=r"unknown agent instance id 3; expected an id in 0\.\.0"
    ):
        rl.state(3)


@pytest.mark.parametrize(
    "reward, message",
    [
        ("high", "not numeric"),
        ([1.0, 2.0], r"has shape \(2,\)"),
        (np.ones((2, 2)), r"has shape \(2, 2\)"),
        (float("nan"), "out of bounds or NaN"),
        ({"a": 1}, "not numeric"),
    ],
)
def test_observation_of_wrong_shape_or_type(reward, message):
    rl = make_rlib()
    with pytest.raises(ObservationError, match=message) as info:
        rl.sample(reward=reward)
    assert "'reward'" in str(info.value)


def test_action_out_of_range_or_fractional():
    rl = RLib(agent_type=EGreedy, agent_params={"n_arms": 3, "e": 0.1})
    with pytest.raises(ObservationError, match="out of bounds"):
        rl.sample(reward=1.0, action=3)
    with pytest.raises(ObservationError, match="fractional"):
        rl.sample(reward=1.0, action=np.float32(1.5))


def test_missing_observation_names_it():
    rl = make_rlib()
    with pytest.raises(MissingObservationError, match="'reward' needed by EGreedy.update"):
        rl.sample(rewrd=1.0)


def test_missing_and_unknown_parameters():
    with pytest.raises(MissingParameterError, match="'n_arms'"):
        RLib(agent_type=EGreedy, agent_params={"e": 0.1})
    with pytest.raises(UnknownParameterError, match="'epsilon'"):
        RLib(agent_type=EGreedy, agent_params={"n_arms": 2, "epsilon": 0.1})
    with pytest.raises(ValueError, match="e must lie in"):
        RLib(agent_type=EGreedy, agent_params={"n_arms": 2, "e": 1.5})


def test_wrong_agent_or_extension_type():
    with pytest.raises(AgentTypeError, match="subclass of agentax.agents.BaseAgent"):
        RLib(agent_type=BasicMab)
    with pytest.raises(AgentTypeError):
        RLib(agent_type=EGreedy(2, 0.1))  # an instance, not a type
    with pytest.raises(ExtensionTypeError, match="subclass of agentax.extensions.BaseExt"):
        RLib(agent_type=EGreedy, agent_params={"e": 0.1}, ext_type=EGreedy)


def test_no_agent_and_changing_the_agent_after_instances_exist():
    with pytest.raises(NoAgentError):
        RLib().sample(reward=1.0)
    rl = make_rlib()
    rl.set_agent(EGreedy, {"e": 0.5})  # fine before any instance exists
    rl.init(0)
    with pytest.raises(ForbiddenAgentChangeError, match="agent"):
        rl.set_agent(EGreedy, {"e": 0.1})
    with pytest.raises(ForbiddenAgentChangeError, match="extension"):
        rl.set_ext(BasicMab, {"n_arms": 2})


def test_bad_seed_and_positional_arguments():
    rl = make_rlib()
    with pytest.raises(AgentaxError, match="seed must be an integer"):
        rl.init("forty-two")
    with pytest.raises(AgentaxError, match="positional observations"):
        rl.sample(1.0, 2.0)
    with pytest.raises(ObservationError, match="given twice"):
        rl.sample(1.0, reward=2.0)
