"""Parameter composition and observation inference: by name, by function, last action, nested spaces."""

from functools import partial

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from chex import dataclass

from agentax import RLib
from agentax.agents import AgentState, BaseAgent
from agentax.agents.mab import EGreedy
from agentax.errors import (
    IncompatibleSpacesError,
    MissingObservationError,
    MissingParameterError,
    ObservationError,
)
from agentax.extensions import BaseExt, BasicMab, observation, parameter
from agentax.extensions.base import compose_agent_params
from agentax.extensions.observations import plan_observations

SCALAR = gym.spaces.Box(-np.inf, np.inf, (1,), float)


@dataclass
class RecorderState(AgentState):
    seen: dict


class Recorder(BaseAgent):
    """Stores the last observations ``update`` received, whatever their structure."""

    def __init__(self, space: gym.spaces.Dict, scale: float = 1.0) -> None:
        self.space, self.scale = space, scale
        self.init = jax.jit(partial(self.init, zeros=self._zeros(space)))
        self.update = jax.jit(self.update)
        self.sample = jax.jit(self.sample)

    @staticmethod
    def init(key, zeros):
        return RecorderState(seen=zeros)

    @staticmethod
    def update(state, key, **observations):
        return RecorderState(seen=jax.tree.map(jnp.asarray, observations))

    @staticmethod
    def sample(state, key):
        return jnp.int32(0)

    @staticmethod
    def _zeros(space):
        if isinstance(space, gym.spaces.Dict):
            return {k: Recorder._zeros(v) for k, v in space.items()}
        shape = () if space.shape == (1,) or isinstance(space, gym.spaces.Discrete) else space.shape
        dtype = jnp.int32 if isinstance(space, gym.spaces.Discrete) else jnp.float32
        return jnp.zeros(shape, dtype)

    @property
    def update_observation_space(self):
        return self.space

    @property
    def sample_observation_space(self):
        return gym.spaces.Dict({})

    @property
    def action_space(self):
        return gym.spaces.Discrete(2)

    @staticmethod
    def parameter_space():
        return gym.spaces.Dict({"scale": SCALAR})


class Sensor(BaseExt):
    """A made-up environment that reports a nested reading and a power level."""

    observation_space = gym.spaces.Dict(
        {
            "reading": gym.spaces.Dict(
                {
                    "snr": SCALAR,
                    "pair": gym.spaces.Tuple((SCALAR, gym.spaces.Dict({"rate": SCALAR}))),
                }
            ),
            "power": SCALAR,
        }
    )

    def __init__(self, gain: float = 2.0) -> None:
        super().__init__()
        self.gain = gain

    @observation(observation_type=SCALAR)
    def boosted(self, power):
        return self.gain * power

    @observation(observation_type=SCALAR)
    def with_action(self, power, action):
        return power + action

    @parameter(parameter_type=SCALAR)
    def scale(self):
        return 10.0 * self.gain


def step_twice(agent_space, **observations):
    rl = RLib(agent_type=Recorder, agent_params={"space": agent_space}, ext_type=Sensor)
    rl.sample(**observations)
    rl.sample(**observations)
    return rl, jax.tree.map(np.asarray, rl.state().seen)


READING = {"snr": 3.0, "pair": (4.0, {"rate": 5.0})}


def test_names_found_inside_nested_dict_and_tuple():
    space = gym.spaces.Dict({"snr": SCALAR, "rate": SCALAR, "power": SCALAR})
    _, seen = step_twice(space, reading=READING, power=1.5)
    assert seen == {"snr": 3.0, "rate": 5.0, "power": 1.5}


def test_observation_functions_use_raw_values_and_the_last_action():
    space = gym.spaces.Dict({"boosted": SCALAR, "with_action": SCALAR})
    _, seen = step_twice(space, reading=READING, power=1.5)
    assert seen == {"boosted": 3.0, "with_action": 1.5}  # gain 2 * 1.5; 1.5 + last action 0


def test_a_nested_dict_the_agent_needs_is_filled_entry_by_entry():
    space = gym.spaces.Dict({"radio": gym.spaces.Dict({"snr": SCALAR, "boosted": SCALAR})})
    _, seen = step_twice(space, reading=READING, power=0.25)
    assert seen == {"radio": {"snr": 3.0, "boosted": 0.5}}


def test_a_value_given_by_name_wins_over_the_extension():
    space = gym.spaces.Dict({"boosted": SCALAR})
    _, seen = step_twice(space, reading=READING, power=1.0, boosted=-7.0)
    assert seen == {"boosted": -7.0}


def test_nested_values_are_checked_against_the_extension_space():
    space = gym.spaces.Dict({"snr": SCALAR})
    rl = RLib(agent_type=Recorder, agent_params={"space": space}, ext_type=Sensor)
    with pytest.raises(ObservationError, match=r"reading\.pair\[1\]"):
        rl.sample(reading={"snr": 1.0, "pair": (1.0, {"rate": "fast"})}, power=1.0)
    with pytest.raises(ObservationError, match="lacks the entries"):
        rl.sample(reading={"snr": 1.0}, power=1.0)


def test_missing_observation_names_what_is_given_and_computable():
    space = gym.spaces.Dict({"temperature": SCALAR})
    rl = RLib(agent_type=Recorder, agent_params={"space": space}, ext_type=Sensor)
    with pytest.raises(MissingObservationError) as info:
        rl.sample(reading=READING, power=1.0)
    message = str(info.value)
    assert "'temperature'" in message and "Recorder.update" in message and "boosted" in message


def test_an_observation_function_missing_its_input_says_so():
    space = gym.spaces.Dict({"boosted": SCALAR})
    rl = RLib(agent_type=Recorder, agent_params={"space": space}, ext_type=Sensor)
    with pytest.raises(MissingObservationError, match="'power' needed by Sensor.boosted"):
        rl.sample(reading=READING)


def test_incompatible_spaces_are_refused_at_planning():
    agent_space = gym.spaces.Dict({"boosted": gym.spaces.Discrete(3)})
    with pytest.raises(IncompatibleSpacesError, match="boosted"):
        plan_observations(agent_space, Sensor(), {"power": SCALAR}, "Recorder.update")


def test_parameter_composition_order():
    space = gym.spaces.Dict({"x": SCALAR})
    # extension parameter
    assert (
        compose_agent_params(Recorder, Recorder.parameter_space(), {"space": space}, Sensor(3.0))[
            "scale"
        ]
        == 30.0
    )
    # user value wins
    assert (
        compose_agent_params(
            Recorder, Recorder.parameter_space(), {"space": space, "scale": 1.5}, Sensor()
        )["scale"]
        == 1.5
    )
    # constructor default when no extension supplies it
    assert "scale" not in compose_agent_params(
        Recorder, Recorder.parameter_space(), {"space": space}, None
    )
    # else an error naming the parameter
    with pytest.raises(MissingParameterError, match="'space'"):
        compose_agent_params(Recorder, Recorder.parameter_space(), {}, Sensor())


def test_extensions_do_not_share_state():
    first, second = BasicMab(3), BasicMab(5)
    assert (
        first.parameter_functions["n_arms"]() == 3 and second.parameter_functions["n_arms"]() == 5
    )
    before = BasicMab.observation_space
    RLib(
        agent_type=EGreedy, agent_params={"e": 0.1}, ext_type=BasicMab, ext_params={"n_arms": 3}
    ).sample(reward=1.0)
    assert BasicMab.observation_space is before and list(before.spaces) == ["reward"]
    gains = [Sensor(1.0), Sensor(4.0)]
    assert [ext.observation_functions["boosted"](power=1.0) for ext in gains] == [1.0, 4.0]


def test_basic_mab_supplies_every_bandit_observation():
    ext = BasicMab(4)
    given = {"reward": BasicMab.observation_space["reward"]}
    space = gym.spaces.Dict(
        {
            "action": gym.spaces.Discrete(4),
            "reward": SCALAR,
            "n_successful": gym.spaces.Box(0, np.inf, (1,), int),
            "n_failed": gym.spaces.Box(0, np.inf, (1,), int),
            "delta_time": gym.spaces.Box(0.0, np.inf, (1,), float),
            "context": gym.spaces.Box(-np.inf, np.inf, (4,), float),
        }
    )
    plan = plan_observations(space, ext, given, "test")
    built = jax.tree.map(np.asarray, plan.build({"reward": jnp.float32(0.7)}, jnp.int32(2)))
    assert built["action"] == 2 and built["reward"] == np.float32(0.7)
    assert built["n_successful"] == 1 and built["n_failed"] == 0 and built["delta_time"] == 1.0
    np.testing.assert_array_equal(built["context"], np.ones(4))
    failed = plan.build({"reward": jnp.float32(0.0)}, jnp.int32(0))
    assert int(failed["n_successful"]) == 0 and int(failed["n_failed"]) == 1


def test_basic_mab_context_does_not_silently_feed_a_contextual_agent():
    from agentax.agents.contextual import LinUCB

    rl = RLib(
        agent_type=LinUCB,
        agent_params={"n_features": 3, "alpha": 1.0},
        ext_type=BasicMab,
        ext_params={"n_arms": 4},
    )
    with pytest.raises(IncompatibleSpacesError, match=r"BasicMab.context.*\(4,\).*\(4, 3\)"):
        rl.sample(reward=1.0, action_context=np.ones(3))
    given = np.ones((4, 3))
    rl.sample(reward=0.0, context=given, action_context=given[0])  # given by name: accepted
