"""Extensions for Gymnasium environments: ``rl.sample(*env.step(action))`` just works.

Both read the environment's spaces once, at construction, from an environment they create and
close straight away (nothing is stepped, nothing is left open), and supply the agent's
constructor parameters from them (``obs_space_shape``, ``act_space_size`` or
``act_space_shape``/``min_action``/``max_action``, and ``num_envs`` for vector environments).
"""

from __future__ import annotations

import gymnasium as gym
import jax.numpy as jnp
import numpy as np

from agentax._validation import check_positive_int
from agentax.errors import AgentaxError
from agentax.extensions.base import BaseExt, observation, parameter

__all__ = ["Gymnasium", "GymnasiumVectorized"]

_SHAPE = gym.spaces.Sequence(gym.spaces.Box(1, np.inf, (1,), int))
_BOUNDS = gym.spaces.Sequence(gym.spaces.Box(-np.inf, np.inf, (1,), float))
_SIZE = gym.spaces.Box(1, np.inf, (1,), int)
_FLAG = gym.spaces.Box(0, 1, (1,), bool)


def _spaces_of(make) -> tuple[gym.spaces.Space, gym.spaces.Space]:
    try:
        env = make()
    except gym.error.Error as error:
        raise AgentaxError(f"cannot create the Gymnasium environment: {error}") from error
    try:
        return env.observation_space, env.action_space
    finally:
        env.close()


def _unbounded(space: gym.spaces.Space) -> gym.spaces.Space:
    """The space with its bounds dropped: environments may exceed their nominal bounds."""
    if isinstance(space, gym.spaces.Box):
        return gym.spaces.Box(-np.inf, np.inf, space.shape, space.dtype)
    return space


class _GymnasiumBase(BaseExt):
    """Parameters read from a single environment's observation and action spaces."""

    def __init__(self, observation_space: gym.spaces.Space, action_space: gym.spaces.Space) -> None:
        super().__init__()
        self.env_observation_space = observation_space
        self.env_action_space = action_space

    def _action_space_of(self, kind: type, parameter_name: str) -> gym.spaces.Space:
        if not isinstance(self.env_action_space, kind):
            raise AgentaxError(
                f"the agent needs {parameter_name!r}, which exists for {kind.__name__} action spaces, "
                f"but the environment's action space is {self.env_action_space}"
            )
        return self.env_action_space

    @parameter(parameter_type=_SHAPE)
    def obs_space_shape(self) -> tuple:
        return tuple(self.env_observation_space.shape)

    @parameter(parameter_type=_SIZE)
    def act_space_size(self) -> int:
        return int(self._action_space_of(gym.spaces.Discrete, "act_space_size").n)

    @parameter(parameter_type=_SHAPE)
    def act_space_shape(self) -> tuple:
        return tuple(self._action_space_of(gym.spaces.Box, "act_space_shape").shape)

    @parameter(parameter_type=_BOUNDS)
    def min_action(self) -> np.ndarray:
        return self._action_space_of(gym.spaces.Box, "min_action").low

    @parameter(parameter_type=_BOUNDS)
    def max_action(self) -> np.ndarray:
        return self._action_space_of(gym.spaces.Box, "max_action").high


class Gymnasium(_GymnasiumBase):
    """One Gymnasium environment: ``rl.sample(*env.reset())``, then ``rl.sample(*env.step(a))``.

    Positional arguments are named ``(env_state, info)`` for the two values ``reset`` returns and
    ``(env_state, reward, terminal, truncated, info)`` for the five values ``step`` returns;
    ``info`` is ignored. After ``reset`` the reward is 0, both flags are false and
    ``episode_start`` is true: the observation begins an episode, so an agent never joins it to the
    last observation it saw (even when the previous episode was cut off without a flag).

    Args:
      env_id: a registered environment id, e.g. ``"CartPole-v1"``.
      env_kwargs: keyword arguments of :func:`gymnasium.make`.
    """

    positional_names = ("env_state", "reward", "terminal", "truncated", "info")

    def __init__(self, env_id: str, env_kwargs: dict | None = None) -> None:
        observation_space, action_space = _spaces_of(lambda: gym.make(env_id, **(env_kwargs or {})))
        super().__init__(observation_space, action_space)
        self.observation_space = gym.spaces.Dict(
            {
                "env_state": _unbounded(observation_space),
                "reward": gym.spaces.Box(-np.inf, np.inf, (1,), float),
                "terminal": _FLAG,
                "truncated": _FLAG,
            }
        )

    def argument_names(self, n_args: int) -> tuple[str, ...]:
        return ("env_state", "info") if n_args == 2 else self.positional_names

    @observation(observation_type=gym.spaces.Box(-np.inf, np.inf, (1,), float))
    def reward(self, reward=0.0):
        return jnp.asarray(reward, jnp.float32)

    @observation(observation_type=_FLAG)
    def terminal(self, terminal=False):
        return jnp.asarray(terminal, jnp.bool_)

    @observation(observation_type=_FLAG)
    def truncated(self, truncated=False):
        return jnp.asarray(truncated, jnp.bool_)

    @observation(observation_type=_FLAG)
    def episode_start(self, reward=None):
        # Planned per set of given names: no reward given means the call passed what reset returns.
        return jnp.asarray(reward is None)


class GymnasiumVectorized(_GymnasiumBase):
    """A Gymnasium vector environment of ``num_envs`` copies (:func:`gymnasium.make_vec`).

    Observations are the batched ``env_states``, ``rewards``, ``terminals`` and ``truncated``
    that ``env.step`` returns (``(env_states, infos)`` after ``reset``, when ``episode_starts`` is
    true for every copy). Parameters describe one copy, plus ``num_envs``.

    Args:
      env_id: a registered environment id.
      num_envs: the number of copies.
      env_kwargs: keyword arguments of :func:`gymnasium.make`.
    """

    positional_names = ("env_states", "rewards", "terminals", "truncated", "infos")

    def __init__(self, env_id: str, num_envs: int, env_kwargs: dict | None = None) -> None:
        self.num_envs_value = check_positive_int("num_envs", num_envs)
        observation_space, action_space = _spaces_of(lambda: gym.make(env_id, **(env_kwargs or {})))
        super().__init__(observation_space, action_space)
        n = self.num_envs_value
        self.observation_space = gym.spaces.Dict(
            {
                "env_states": gym.spaces.Box(
                    -np.inf, np.inf, (n, *observation_space.shape), observation_space.dtype
                ),
                "rewards": gym.spaces.Box(-np.inf, np.inf, (n,), float),
                "terminals": gym.spaces.Box(0, 1, (n,), bool),
                "truncated": gym.spaces.Box(0, 1, (n,), bool),
            }
        )

    def argument_names(self, n_args: int) -> tuple[str, ...]:
        return ("env_states", "infos") if n_args == 2 else self.positional_names

    @parameter(parameter_type=_SIZE)
    def num_envs(self) -> int:
        return self.num_envs_value

    @observation()
    def rewards(self):
        return jnp.zeros(self.num_envs_value, jnp.float32)

    @observation()
    def terminals(self):
        return jnp.zeros(self.num_envs_value, jnp.bool_)

    @observation()
    def truncated(self):
        return jnp.zeros(self.num_envs_value, jnp.bool_)

    @observation()
    def episode_starts(self, rewards=None):
        return jnp.full(self.num_envs_value, rewards is None)
