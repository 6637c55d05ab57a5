"""Every agent's parameter table, tested at and just past each bound.

The agents are discovered from the ``__all__`` of every public family of :mod:`agentax.agents`,
so an agent added there is covered as soon as it declares ``PARAMETERS``. A closed bound is
accepted and the next float (or integer) beyond it refused; an open bound is refused and the next
float inside it accepted; an infinite bound refuses the infinity. The refusal is a ``ValueError``
that names the parameter and the bound. Parameters whose bound is another parameter (``e_min``
at most ``e``) are tested against that parameter's value in the example construction.
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil

import flax.linen as nn
import jax.numpy as jnp
import numpy as np
import pytest

import agentax.agents
from agentax._validation import Int, Real
from agentax.agents.base import BaseAgent
from agentax.agents.deep import SAC
from agentax.agents.mab import CUSUM, UCB


class _Q(nn.Module):
    n: int

    @nn.compact
    def __call__(self, x):
        return nn.Dense(self.n)(x)


class _Actor(nn.Module):
    shape: tuple

    @nn.compact
    def __call__(self, x):
        return nn.Dense(math.prod(self.shape))(x).reshape(*x.shape[:-1], *self.shape)


class _Critic(nn.Module):
    @nn.compact
    def __call__(self, obs, action):
        return nn.Dense(1)(jnp.concatenate([obs, action.reshape(*obs.shape[:-1], -1)], axis=-1))[
            ..., 0
        ]


class _GaussianActor(nn.Module):
    """SAC's actor: a mean and a log standard deviation of the action's shape each."""

    shape: tuple

    @nn.compact
    def __call__(self, x):
        mean = nn.Dense(math.prod(self.shape))(x).reshape(*x.shape[:-1], *self.shape)
        return mean, jnp.zeros_like(mean)


class _DiscreteActorCritic(nn.Module):
    n: int

    @nn.compact
    def __call__(self, x):
        return nn.Dense(self.n)(x), nn.Dense(1)(x)[..., 0]


class _GaussianActorCritic(nn.Module):
    shape: tuple

    @nn.compact
    def __call__(self, x):
        mean = nn.Dense(math.prod(self.shape))(x).reshape(*x.shape[:-1], *self.shape)
        return mean, jnp.zeros(self.shape), nn.Dense(1)(x)[..., 0]


def _with_networks(agent_type: type, arguments: dict) -> dict:
    """``arguments`` with small networks of the shapes the deep agents check for them."""
    names = inspect.signature(agent_type.__init__).parameters
    if "act_space_size" in arguments:
        n = arguments["act_space_size"]
        networks = {"q_network": _Q(n), "network": _DiscreteActorCritic(n)}
    elif "act_space_shape" in arguments:
        shape = tuple(arguments["act_space_shape"])
        networks = {
            "q_network": _Critic(),
            "a_network": _GaussianActor(shape) if agent_type is SAC else _Actor(shape),
            "network": _GaussianActorCritic(shape),
        }
    else:
        return arguments
    return {**arguments, **{name: network for name, network in networks.items() if name in names}}


#: Values for arguments without a default (and for ``noise``, whose default is worked out).
EXAMPLES = {
    "n_arms": 3,
    "n_features": 2,
    "c": 1.0,
    "e": 0.5,
    "window": 10,
    "h": 5.0,
    "alpha": 0.5,
    "delta": 0.1,
    "gamma": 0.5,
    "min_reward": 0.0,
    "max_reward": 1.0,
    "lr": 0.1,
    "beta": 1.0,
    "lam": 1.0,
    "mu": 0.0,
    "noise": 0.1,
    "batch_size": 1,  # PPO's batch must divide rollout_length * num_envs, whatever they are set to
    "obs_space_shape": (2,),
    "act_space_size": 2,
    "act_space_shape": (1,),
    "min_action": -1.0,
    "max_action": 1.0,
}


def _agents() -> list[type]:
    found = []
    for family in pkgutil.iter_modules(agentax.agents.__path__):
        if family.ispkg and not family.name.startswith("_"):
            module = importlib.import_module(f"agentax.agents.{family.name}")
            for name in module.__all__:
                obj = getattr(module, name)
                if (
                    inspect.isclass(obj)
                    and issubclass(obj, BaseAgent)
                    and not inspect.isabstract(obj)
                ):
                    found.append(obj)
    return found


AGENTS = _agents()


def _example(agent_type: type) -> dict:
    """Constructor arguments that build ``agent_type``: defaults, then ``EXAMPLES`` and networks."""
    examples = {
        **EXAMPLES,
        "agent": UCB(3, c=1.0),
        "mask": [True, False, False],
        "detector": CUSUM(5.0, 0.05, 10),
    }
    network_names = {"q_network", "a_network", "network"}
    arguments = {}
    for name, parameter in list(inspect.signature(agent_type.__init__).parameters.items())[1:]:
        if name in examples:
            arguments[name] = examples[name]
        elif name in network_names:
            continue  # added by _with_networks once the action space is known
        elif parameter.default is inspect.Parameter.empty:
            raise AssertionError(
                f"add an example value of {agent_type.__name__}'s argument {name!r} to EXAMPLES"
            )
        else:
            arguments[name] = parameter.default
    return arguments


def _resolve(bound, arguments: dict):
    return arguments[bound] if isinstance(bound, str) else bound


def _cases(agent_type: type):
    """(name, value, accepted, bound) for every numeric entry of the table."""
    arguments = _example(agent_type)
    for name, entry in agent_type.PARAMETERS.items():
        if isinstance(entry, Real):
            for bound, open_, outward in (
                (entry.low, entry.low_open, -math.inf),
                (entry.high, entry.high_open, math.inf),
            ):
                bound = _resolve(bound, arguments)
                if math.isinf(bound):
                    yield name, bound, False, bound
                    continue
                beyond, inside = np.nextafter(bound, outward), np.nextafter(bound, -outward)
                yield name, float(bound), not open_, bound
                yield name, float(beyond if not open_ else inside), open_, bound
        elif isinstance(entry, Int):
            low = _resolve(entry.low, arguments)
            yield name, low, True, low
            yield name, low - 1, False, low
            if entry.high is not None:
                high = _resolve(entry.high, arguments)
                last = high - 1 if entry.high_open else high
                yield name, last, True, high
                yield name, last + 1, False, high


def _with(agent_type: type, name: str, value) -> dict:
    """The example arguments with ``name = value``, and a parameter bounded by ``name`` moved inside
    its bound if ``value`` would put it out (e_min follows e down)."""
    arguments = {**_example(agent_type), name: value}
    for other, entry in agent_type.PARAMETERS.items():
        high, low = getattr(entry, "high", None), getattr(entry, "low", None)
        if high == name and other in arguments and arguments[other] > value:
            arguments[other] = value - 1 if getattr(entry, "high_open", False) else value
        if low == name and other in arguments and arguments[other] <= value:
            arguments[other] = value + 1
    return _with_networks(agent_type, arguments)


CASES = [
    pytest.param(
        agent_type, name, value, accepted, bound, id=f"{agent_type.__name__}-{name}={value!r}"
    )
    for agent_type in AGENTS
    for name, value, accepted, bound in _cases(agent_type)
]


def test_every_agent_declares_a_table_and_derives_its_space_from_it():
    assert len(AGENTS) >= 24  # the agents of 2026-12; new ones only add to it
    for agent_type in AGENTS:
        assert agent_type.PARAMETERS, f"{agent_type.__name__} declares no PARAMETERS"
        space = agent_type.parameter_space()
        assert set(space.spaces) == set(agent_type.PARAMETERS)
        for name, entry in agent_type.PARAMETERS.items():
            if isinstance(entry, Real) and not isinstance(entry.low, str):
                assert space[name].low.item() == entry.low, (agent_type.__name__, name)


@pytest.mark.parametrize(("agent_type", "name", "value", "accepted", "bound"), CASES)
def test_parameter_at_and_past_its_bound(agent_type, name, value, accepted, bound):
    arguments = _with(agent_type, name, value)
    if accepted:
        agent_type(**arguments)
        return
    with pytest.raises(ValueError) as error:
        agent_type(**arguments)
    message = str(error.value)
    assert name in message
    expected = (
        str(int(bound)) if isinstance(agent_type.PARAMETERS[name], Int) else str(float(bound))
    )
    assert expected in message, (message, expected)


def test_ddpg_refuses_tau_zero_like_dqn():
    # tau = 0 would freeze the target networks; both agents now read it from tables that agree.
    from agentax.agents.deep import DDPG, DQN

    for agent_type in (DDPG, DQN):
        assert agent_type.PARAMETERS["tau"] == Real(0.0, 1.0, low_open=True)
        with pytest.raises(ValueError, match=r"tau must lie in \(0\.0, 1\.0\]"):
            agent_type(**_with(agent_type, "tau", 0.0))
