"""Extensions written in plain Python, positional raw observations, and failed steps that change nothing.

The two reinforced-lib scenarios (the plain-Python ``reward`` and the positional ``matrix``) use
small deterministic agents whose actions are worked out by hand below; reinforced-lib 2.0.4 gives
the same actions for the same agents and extensions ([0, 1, 1, 1, 2, 2] and [0, 5, 8, 3]).
"""

import warnings

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from chex import dataclass

from agentax import RLib
from agentax.agents import AgentState, BaseAgent
from agentax.errors import (
    AgentaxError,
    EagerObservationWarning,
    ExtensionMethodError,
    ObservationError,
    StepRuntimeError,
)
from agentax.extensions import BaseExt, ObservationInfo, ParameterInfo, observation, parameter
from agentax.extensions.observations import plan_observations

SCALAR = gym.spaces.Box(-np.inf, np.inf, (1,), float)
PARAMS = gym.spaces.Tuple(
    [
        gym.spaces.Discrete(20),
        gym.spaces.Discrete(30),
        gym.spaces.Dict({"test": gym.spaces.Discrete(40)}),
    ]
)


# -- a deterministic bandit: Q[action] += reward - 0.5, then the first best arm --------------------


@dataclass
class ScoreState(AgentState):
    Q: jax.Array


class Scoring(BaseAgent):
    def __init__(self, n_arms: int) -> None:
        self.n_arms = n_arms
        self.init = jax.jit(lambda key: ScoreState(Q=jnp.zeros(n_arms)))
        self.update = jax.jit(self.update)
        self.sample = jax.jit(self.sample)

    @staticmethod
    def parameter_space():
        return gym.spaces.Dict({"n_arms": gym.spaces.Box(1, np.inf, (1,), int)})

    @property
    def update_observation_space(self):
        return gym.spaces.Dict({"action": gym.spaces.Discrete(self.n_arms), "reward": SCALAR})

    @property
    def sample_observation_space(self):
        return gym.spaces.Dict({})

    @property
    def action_space(self):
        return gym.spaces.Discrete(self.n_arms)

    @staticmethod
    def init(key):
        raise NotImplementedError  # replaced in the constructor

    @staticmethod
    def update(state, key, action, reward):
        return ScoreState(Q=state.Q.at[action].add(reward - 0.5))

    @staticmethod
    def sample(state, key):
        return jnp.argmax(state.Q)


class Success(BaseExt):
    """The first scenario of the issue: a reward method in plain Python."""

    observation_space = gym.spaces.Dict({"success": gym.spaces.Discrete(2)})

    @observation(observation_type=SCALAR)
    def reward(self, success, *args, **kwargs):
        return float(success)

    @parameter(parameter_type=gym.spaces.Box(1, np.inf, (1,), int))
    def n_arms(self):
        return 3


class DeclaredSuccess(Success):
    @observation(observation_type=SCALAR, eager=True)
    def reward(self, success, *args, **kwargs):
        return float(success)


class CountedSuccess(Success):
    """Records the shape of each value its eager method receives."""

    def __init__(self, calls: list) -> None:
        super().__init__()
        self.calls = calls

    @observation(observation_type=SCALAR, eager=True)
    def reward(self, success):
        self.calls.append(np.shape(success))
        return float(success)


# By hand, for successes 1, 0, 1, 0, 0, 1 (the first call only samples):
# Q = [0, 0, 0] -> 0; Q[0] -= .5 -> 1; Q[1] += .5 -> 1; Q[1] -= .5 (tie 1, 2) -> 1;
# Q[1] -= .5 -> 2; Q[2] += .5 -> 2.
SUCCESSES = [1, 0, 1, 0, 0, 1]
SCORING_ACTIONS = [0, 1, 1, 1, 2, 2]
SCORING_Q = [-0.5, -0.5, 0.5]


def test_a_plain_python_method_is_switched_to_eager_with_one_warning():
    rl = RLib(agent_type=Scoring, ext_type=Success)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        actions = [int(rl.sample(success=s)) for s in SUCCESSES]
    assert actions == SCORING_ACTIONS
    np.testing.assert_array_equal(rl.state(0).Q, SCORING_Q)
    eager_warnings = [w for w in caught if issubclass(w.category, EagerObservationWarning)]
    assert len(eager_warnings) == 1
    message = str(eager_warnings[0].message)
    assert "Success.reward" in message and "jax.numpy" in message and "eager=True" in message
    assert eager_warnings[0].filename == __file__  # points at the user's call


def test_a_declared_eager_method_gives_the_same_actions_without_a_warning():
    rl = RLib(agent_type=Scoring, ext_type=DeclaredSuccess)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [int(rl.sample(success=s)) for s in SUCCESSES] == SCORING_ACTIONS
    assert DeclaredSuccess.reward.observation_info.eager


def test_a_batched_call_runs_an_eager_method_once_per_instance():
    calls = []
    rl = RLib(agent_type=Scoring, ext_type=CountedSuccess, ext_params={"calls": calls})
    for seed in range(3):
        rl.init(seed)
    # Instance 0 sees the successes above; instance 2 their opposites; instance 1 is left alone.
    actions = [rl.sample(success=[s, 1 - s], agent_id=[0, 2]).tolist() for s in SUCCESSES]
    # The opposites, by hand: Q = [0,0,0] -> 0; Q[0] += .5 -> 0; Q[0] -= .5 -> 0 (tie);
    # Q[0] += .5 -> 0; Q[0] += .5 -> 0; Q[0] -= .5 -> 0 (Q = [0.5, 0, 0]).
    assert actions == [[a, 0] for a in SCORING_ACTIONS]
    assert calls == [()] * (2 * len(SUCCESSES))  # once per instance, on its own value
    np.testing.assert_array_equal(rl.state(0).Q, SCORING_Q)
    np.testing.assert_array_equal(rl.state(1).Q, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(rl.state(2).Q, [0.5, 0.0, 0.0])


# -- reinforced-lib's own extension test: `matrix(self, arg, *args, **kwargs)` ------------------------


@dataclass
class TotalState(AgentState):
    total: jax.Array


class Summing(BaseAgent):
    """reinforced-lib's test agent's spaces; update adds up what it gets, sample reads it back."""

    def __init__(self) -> None:
        self.init = jax.jit(self.init)
        self.update = jax.jit(self.update)
        self.sample = jax.jit(self.sample)

    @staticmethod
    def parameter_space():
        return gym.spaces.Dict({})

    update_observation_space = gym.spaces.Dict(
        {
            "time": gym.spaces.Box(0.0, 100.0, (1,)),
            "n": gym.spaces.Discrete(10),
            "params": PARAMS,
        }
    )
    sample_observation_space = gym.spaces.Dict({"matrix": gym.spaces.Box(0.0, 1.0, (10, 2))})
    action_space = gym.spaces.Discrete(10)

    @staticmethod
    def init(key):
        return TotalState(total=jnp.float32(0.0))

    @staticmethod
    def update(state, key, time, n, params):
        return TotalState(
            total=state.total + time + n + params[0] + 2 * params[1] + 3 * params[2]["test"]
        )

    @staticmethod
    def sample(state, key, matrix):
        return (jnp.floor(state.total) + jnp.floor(jnp.sum(matrix))).astype(int) % 10


class DummyExt(BaseExt):
    """reinforced-lib's test extension, unchanged but for the imports."""

    observation_space = gym.spaces.Dict(
        {
            "n": gym.spaces.Discrete(10),
            "params": PARAMS,
            "not_used": gym.spaces.MultiBinary((12, 15)),
        }
    )

    @observation(observation_type=gym.spaces.Box(0.0, 1.0, (10, 2)))
    def matrix(self, arg: float, *args, **kwargs) -> np.ndarray:
        assert 0.0 <= arg <= 1.0
        return np.full((10, 2), arg)

    @observation("time")
    def dummy_function(self, *args, **kwargs) -> float:
        return 0.1234


MATRIX_CALLS = [
    (0.5, 5, (10, 15, {"test": 20})),
    (0.25, 3, (1, 2, {"test": 4})),
    (0.75, 9, (19, 29, {"test": 39})),
    (1.0, 0, (0, 0, {"test": 0})),
]


def test_positional_values_are_passed_to_the_methods_that_take_them():
    rl = RLib(agent_type=Summing, ext_type=DummyExt)
    with pytest.warns(
        EagerObservationWarning, match="DummyExt.matrix"
    ):  # `assert` on a traced value
        actions = [int(rl.sample(arg, n=n, params=params)) for arg, n, params in MATRIX_CALLS]
    # By hand: sample gives (floor(total) + floor(sum(matrix))) % 10, sum(matrix) = 20 * arg;
    # update adds 0.1234 (time, from dummy_function) + n + p0 + 2 p1 + 3 test.
    # call 1: no update, total 0, 0 + 10 -> 0;  call 2: total 0.1234 + 3 + 1 + 4 + 12 = 20.1234, 20 + 5 -> 5;
    # call 3: total += 0.1234 + 9 + 19 + 58 + 117 -> 223.2468, 223 + 15 -> 8;
    # call 4: total += 0.1234 -> 223.3702, 223 + 20 -> 3.
    assert actions == [0, 5, 8, 3]
    assert rl.state(0).total == pytest.approx(223.3702, abs=1e-4)


class NestedNeeds(Summing):
    """Needs ``n`` and ``test`` by name: ``test`` is found inside the given ``params``."""

    update_observation_space = gym.spaces.Dict(
        {
            "time": gym.spaces.Box(0.0, 100.0, (1,)),
            "n": gym.spaces.Discrete(10),
            "test": gym.spaces.Discrete(40),
        }
    )

    @staticmethod
    def update(state, key, time, n, test):
        return TotalState(total=state.total + time + 10 * n + 100 * test)


def test_the_nested_search_still_finds_values_inside_params_next_to_positional_values():
    rl = RLib(agent_type=NestedNeeds, ext_type=DummyExt)
    with pytest.warns(EagerObservationWarning):
        rl.sample(0.5, n=5, params=(10, 15, {"test": 20}))
    action = rl.sample(0.25, n=3, params=(1, 2, {"test": 4}))
    # total = 0.1234 + 30 + 400 = 430.1234; (430 + 5) % 10 = 5
    assert rl.state(0).total == pytest.approx(430.1234, abs=1e-4)
    assert action == 5


def test_positional_values_no_method_takes_or_given_twice_are_errors():
    class Named(BaseExt):
        observation_space = gym.spaces.Dict({"success": gym.spaces.Discrete(2)})

        @observation(observation_type=SCALAR)
        def reward(self, success):
            return success.astype(float)

        @parameter()
        def n_arms(self):
            return 3

    class NoPositional(Named):
        @observation(observation_type=SCALAR)
        def reward(self, *, success=0):
            return success.astype(float)

    rl = RLib(agent_type=Scoring, ext_type=NoPositional)
    with pytest.raises(
        AgentaxError, match="positional observations.*take only 0; pass observations by name"
    ):
        rl.sample(1)
    rl = RLib(agent_type=Scoring, ext_type=Named)
    with pytest.raises(
        ObservationError, match="'success' is given both by position and by name to Named.reward"
    ):
        rl.sample(1, success=1)
    assert rl.sample(1) == 0 and rl.sample(1) == 0  # success=1 positionally: Q[0] += .5
    np.testing.assert_array_equal(rl.state(0).Q, [0.5, 0.0, 0.0])


# -- observation_info and parameter_info ---------------------------------------------------------------


def test_decorated_functions_carry_observation_info_and_parameter_info():
    info = DummyExt.matrix.observation_info
    assert isinstance(info, ObservationInfo)
    assert (info.name, info.type, info.eager) == (
        "matrix",
        gym.spaces.Box(0.0, 1.0, (10, 2)),
        False,
    )
    assert (
        DummyExt.dummy_function.observation_info.name,
        DummyExt.dummy_function.observation_info.type,
    ) == (
        "time",
        None,
    )
    info = Success.n_arms.parameter_info
    assert isinstance(info, ParameterInfo)
    assert (info.name, info.type) == ("n_arms", gym.spaces.Box(1, np.inf, (1,), int))
    assert not hasattr(Success.n_arms, "observation_info") and not hasattr(
        Success.reward, "parameter_info"
    )
    assert sorted(DummyExt().observation_functions) == ["matrix", "time"]
    assert Success().observation_functions["reward"](success=1) == 1.0


# -- a simulator object read on every call -------------------------------------------------------------


class Link:
    """A fake radio link: plain Python state, changed each time it is asked for a payoff."""

    def __init__(self) -> None:
        self.served = [0, 0, 0]

    def payoff(self, rate: int) -> float:
        self.served[rate] += 1
        return 1.0 if rate == 2 else 0.0


class LinkExt(BaseExt):
    def __init__(self, link: Link) -> None:
        super().__init__()
        self.link = link

    @observation(observation_type=SCALAR, eager=True)
    def reward(self, action):
        return self.link.payoff(int(action))

    @parameter()
    def n_arms(self):
        return 3


def test_an_extension_reads_a_simulator_object_on_every_call():
    link = Link()
    rl = RLib(agent_type=Scoring, ext_type=LinkExt, ext_params={"link": link})
    actions = [int(rl.sample()) for _ in range(5)]
    # By hand: the reward is 1 for the last arm 2, else 0. Q = [0,0,0] -> 0; Q[0] -= .5 -> 1;
    # Q[1] -= .5 -> 2; Q[2] += .5 -> 2; Q[2] += .5 -> 2.
    assert actions == [0, 1, 2, 2, 2]
    np.testing.assert_array_equal(rl.state(0).Q, [-0.5, -0.5, 1.0])
    # Read at every call, with the last action (0 before the first): 0, 0, 1, 2, 2.
    assert link.served == [2, 1, 2]
    rl.init(1)
    rl.sample(
        agent_id=[1, 0]
    )  # instance 1: its first call, last action 0; instance 0: last action 2
    assert link.served == [3, 1, 3]


# -- a failed call changes nothing ------------------------------------------------------------------


def snapshot(rl):
    """Every instance's state leaves, key and last action, and the step counters, on the host."""
    return jax.tree.map(np.array, rl._stack), rl._steps.copy()


def assert_unchanged(rl, before):
    after = snapshot(rl)
    jax.tree.map(np.testing.assert_array_equal, before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])
    for i in range(rl.n_instances):
        rl.state(i)


class Fragile(Success):
    """Raises when given ``bad=1``, in plain Python (an eager method)."""

    observation_space = gym.spaces.Dict(
        {"success": gym.spaces.Discrete(2), "bad": gym.spaces.Discrete(2)}
    )

    @observation(observation_type=SCALAR, eager=True)
    def reward(self, success, bad=0):
        if bad:
            raise ZeroDivisionError("the link is down")
        return float(success)


class TracedFragile(Fragile):
    """Raises while traced when ``bad`` is given at all."""

    @observation(observation_type=SCALAR)
    def reward(self, success, bad=None):
        if bad is not None:
            raise KeyError("no such link")
        return success.astype(float)


@pytest.mark.parametrize(
    "ext_type, cause", [(Fragile, ZeroDivisionError), (TracedFragile, KeyError)]
)
def test_a_raising_observation_method_is_reported_and_changes_nothing(ext_type, cause):
    rl = RLib(agent_type=Scoring, ext_type=ext_type)
    for seed in range(3):
        rl.init(seed)
    rl.sample(success=1, agent_id=[0, 1, 2])
    rl.sample(success=0, agent_id=[0, 2])
    before = snapshot(rl)
    for agent_id, success in ((1, 1), ([0, 2], [1, 0])):
        with pytest.raises(
            ExtensionMethodError, match=f"{ext_type.__name__}.reward raised {cause.__name__}"
        ) as info:
            rl.sample(success=success, agent_id=agent_id, bad=1)
        assert isinstance(info.value.__cause__, cause)
        assert_unchanged(rl, before)
    # Instances 0 and 2 were at Q = [-0.5, 0, 0] (last action 1), instance 1 at zeros (last action 0).
    assert rl.sample(success=1, agent_id=[0, 1, 2]).tolist() == [1, 0, 1]
    np.testing.assert_array_equal(rl.state(0).Q, [-0.5, 0.5, 0.0])
    np.testing.assert_array_equal(rl.state(1).Q, [0.5, 0.0, 0.0])


class Callback(Success):
    """A traced reward that asks the host through a callback, which fails for success = 1."""

    @observation(observation_type=SCALAR)
    def reward(self, success):
        def host(value):
            if value == 1:
                raise ConnectionError("the simulator went away")
            return np.float32(value)

        return jax.pure_callback(
            host, jax.ShapeDtypeStruct((), jnp.float32), success, vmap_method="sequential"
        )


def test_a_step_that_fails_while_running_keeps_every_instance():
    rl = RLib(agent_type=Scoring, ext_type=Callback)
    for seed in range(3):
        rl.init(seed)
    rl.sample(success=0, agent_id=[0, 1, 2])
    rl.sample(success=0, agent_id=[0, 1])
    before = snapshot(rl)
    for agent_id, success in ((2, 1), ([0, 1, 2], [0, 1, 0])):
        with pytest.raises(StepRuntimeError, match="no instance was changed") as info:
            rl.sample(success=success, agent_id=agent_id)
        assert "the simulator went away" in str(info.value.__cause__)  # JAX's error, chained
        assert_unchanged(rl, before)
    assert rl.sample(success=0, agent_id=[0, 1, 2]).tolist() == [2, 2, 1]
    # Instances 0 and 1 were at Q = [-0.5, 0, 0] (action 1): now Q[1] -= .5 -> arm 2.
    np.testing.assert_array_equal(rl.state(0).Q, [-0.5, -0.5, 0.0])
    np.testing.assert_array_equal(rl.state(2).Q, [-0.5, 0.0, 0.0])


def test_a_compiled_program_refuses_a_declared_eager_method():
    agent = Scoring(3)
    with pytest.raises(
        AgentaxError, match="DeclaredSuccess.reward is an eager .* cannot run inside a compiled"
    ):
        plan_observations(
            agent.update_observation_space, DeclaredSuccess(), {"success": None}, "Scoring.update"
        )


def test_a_step_that_cannot_fail_while_running_still_donates_the_stack():
    rl = RLib(
        agent_type=Scoring, ext_type=DeclaredSuccess
    )  # an eager method: no callback in the program
    rl.sample(success=1)
    before = rl._stack[0][0]
    rl.sample(success=1)
    assert (
        before.is_deleted()
    )  # given to the one compiled step, which scattered the new row in place
