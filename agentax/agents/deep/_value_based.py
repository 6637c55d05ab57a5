"""What the value-based deep agents (DQN, DDQN, ExpectedSarsa) share.

A Q-network maps a batch of observations ``(B, *obs_shape)`` to action values ``(B, n_actions)``.
The agents keep an online network and a target network, learn off-policy from an experience
replay buffer, and differ only in their TD error and behaviour policy.

Episode boundaries follow :func:`~agentax.agents.deep.episode_boundary`; a transition is stored
with ``terminal`` only (a truncated episode still bootstraps from its last observation). A new
agent starts with ``episode_ended`` set, so its first ``update`` just records the first observation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import optax
from chex import Array, PRNGKey, Scalar, dataclass
from flax import linen as nn

from agentax._validation import (
    ArrayShape,
    Int,
    Real,
    check_positive_int,
    check_range,
    declared,
)
from agentax.agents.base import AgentState, BaseAgent
from agentax.agents.deep.core import (
    NetworkState,
    agent_replay,
    apply_gradient,
    apply_network,
    episode_boundary,
    gradient_steps,
    init_network,
    update_target,
)
from agentax.agents.deep.losses import TDError, td_loss
from agentax.agents.deep.networks import check_network_output
from agentax.agents.deep.td import huber_loss, l2_loss
from agentax.utils import ExperienceReplay, ReplayBuffer

FLAG_SPACE = gym.spaces.Box(0, 1, (1,), bool)
"""Space of the ``terminal`` and ``truncated`` flags: one boolean (a Python ``bool`` is accepted)."""

LOSSES = {"huber": huber_loss, "l2": l2_loss}


@dataclass
class QState(AgentState):
    """The state every value-based deep agent holds.

    Attributes:
      network: the online Q-network, its target copy and the optimizer's state.
      replay_buffer: the experience replay buffer.
      prev_env_state: the last observation ``update`` received.
      episode_ended: whether that observation ended its episode (``bool``); see the module doc.
      n_updates: number of gradient steps taken (``int32``), which times the target refreshes.
    """

    network: NetworkState
    replay_buffer: ReplayBuffer
    prev_env_state: Array
    episode_ended: Array
    n_updates: Array


class TDLearning(NamedTuple):
    """The shared functions of one value-based agent (TD learning of a Q-network), bound to its configuration."""

    init: Callable[[PRNGKey], dict]
    learn: Callable[..., QState]
    q_values: Callable[[QState, PRNGKey, Array], Array]


def td_learning(
    q_network: nn.Module,
    *,
    obs_shape: tuple[int, ...],
    n_actions: int,
    optimizer: optax.GradientTransformation | None,
    experience_replay_buffer_size: int,
    experience_replay_batch_size: int,
    experience_replay_steps: int,
    discount: Scalar,
    loss: str,
    td_error: TDError,
    target_update_freq: int,
    target_tau: float,
) -> TDLearning:
    """Validate the shared hyperparameters and bind them into :class:`TDLearning` functions.

    ``obs_shape`` and ``n_actions`` are already checked (from the agent's ``PARAMETERS``);
    ``target_tau`` is the weight of the online parameters in a target refresh (1: a copy).

    Raises:
      ValueError: a hyperparameter is out of range, naming it.
      NetworkOutputError: ``q_network`` does not map ``(1, *obs_shape)`` to ``(1, n_actions)``.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
    er = agent_replay(
        buffer_size=experience_replay_buffer_size,
        batch_size=experience_replay_batch_size,
        obs_shape=obs_shape,
        act_shape=(),
        act_dtype=jnp.int32,
    )
    optimizer = optax.adam(1e-3) if optimizer is None else optimizer
    check_network_output(
        "q_network",
        q_network,
        (jnp.zeros((1, *obs_shape), jnp.float32),),
        lambda shape: shape == (1, n_actions),
        f"(1, act_space_size) = {(1, n_actions)}",
    )
    loss_fn = partial(
        td_loss,
        q_network=q_network,
        td_error=td_error,
        discount=check_range("discount", discount, 0.0, 1.0),
        loss=LOSSES[loss],
    )
    learn_fn = partial(
        learn,
        er=er,
        step=partial(apply_gradient, optimizer=optimizer, loss_fn=loss_fn),
        experience_replay_steps=check_positive_int(
            "experience_replay_steps", experience_replay_steps
        ),
        target_update_freq=check_positive_int("target_update_freq", target_update_freq),
        target_tau=target_tau,
    )
    return TDLearning(
        init=partial(
            init_fields, q_network=q_network, optimizer=optimizer, er=er, obs_shape=obs_shape
        ),
        learn=learn_fn,
        q_values=partial(q_values, q_network=q_network),
    )


def init_fields(
    key: PRNGKey,
    *,
    q_network: nn.Module,
    optimizer: optax.GradientTransformation,
    er: ExperienceReplay,
    obs_shape: tuple[int, ...],
) -> dict:
    """The fields of a fresh :class:`QState`: the target network starts as a copy of the online one."""
    return dict(
        network=init_network(
            q_network, optimizer, key, jnp.zeros((1, *obs_shape), jnp.float32), target=True
        ),
        replay_buffer=er.init(),
        prev_env_state=jnp.zeros(obs_shape, jnp.float32),
        episode_ended=jnp.bool_(True),
        n_updates=jnp.int32(0),
    )


def q_values(state: QState, key: PRNGKey, env_state: Array, q_network: nn.Module) -> Array:
    """The online network's action values for one observation, shape ``(n_actions,)``."""
    return apply_network(q_network, state.network, key, jnp.asarray(env_state, jnp.float32)[None])[
        0
    ][0]


def learn(
    state: QState,
    key: PRNGKey,
    env_state: Array,
    action: Array,
    reward: Scalar,
    terminal: Array,
    truncated: Array,
    episode_start: Array = False,
    *,
    er: ExperienceReplay,
    step: Callable[..., tuple[NetworkState, Array]],
    experience_replay_steps: int,
    target_update_freq: int,
    target_tau: float,
) -> QState:
    r"""Store the last transition (see :func:`~agentax.agents.deep.episode_boundary`) and train
    once the buffer is ready.

    Each of the ``experience_replay_steps`` gradient steps samples a batch, steps the online
    parameters :math:`\theta` down :func:`~agentax.agents.deep.td_loss`, and every
    ``target_update_freq``-th step moves the target parameters towards them:

    .. math:: \theta^- \leftarrow \tau\,\theta + (1 - \tau)\,\theta^-

    (``tau = 1``: a copy every ``target_update_freq`` steps; ``target_update_freq = 1`` with a
    small ``tau``: Polyak averaging after every step).
    """
    terminal, truncated = jnp.any(terminal), jnp.any(truncated)
    env_state = jnp.asarray(env_state, state.prev_env_state.dtype)
    valid, ended = episode_boundary(
        state.episode_ended, terminal, truncated, jnp.any(episode_start)
    )
    buffer = er.append(
        state.replay_buffer, state.prev_env_state, action, reward, terminal, env_state, valid
    )

    def one_step(trained: tuple[NetworkState, Array], keys: PRNGKey) -> tuple[NetworkState, Array]:
        network, n_updates = trained
        network, _ = step(
            network,
            key=keys[0],
            batch=er.sample(buffer, keys[1]),
            target_params=network.target_params,
            target_net_state=network.target_net_state,
        )
        n_updates = n_updates + 1
        rate = jnp.where(n_updates % target_update_freq == 0, target_tau, 0.0).astype(jnp.float32)
        return update_target(network, tau=rate), n_updates

    def train(trained: tuple[NetworkState, Array]) -> tuple[NetworkState, Array]:
        return gradient_steps(
            one_step, trained, jax.random.split(key, (experience_replay_steps, 2))
        )

    network, n_updates = jax.lax.cond(
        er.is_ready(buffer), train, lambda t: t, (state.network, state.n_updates)
    )
    return state.replace(
        network=network,
        n_updates=n_updates,
        replay_buffer=buffer,
        prev_env_state=env_state,
        episode_ended=ended,
    )


class QAgent(BaseAgent):
    """What the value-based agents share besides :class:`TDLearning`: spaces and the greedy policy.

    Subclasses validate their ``PARAMETERS`` and call :meth:`bind_td_learning` in their
    constructor, which sets ``obs_space_shape`` and ``act_space_size`` and binds
    ``sample_greedy``. The facade calls ``update`` at an instance's first step too, so that the
    first observation is recorded.
    """

    obs_space_shape: tuple[int, ...]
    act_space_size: int
    update_on_first_step = True

    PARAMETERS = {
        "obs_space_shape": ArrayShape(),
        "act_space_size": Int(),
        "experience_replay_buffer_size": Int(),
        "experience_replay_batch_size": Int(1, "experience_replay_buffer_size"),
        "experience_replay_steps": Int(),
        "discount": Real(0.0, 1.0),
        "target_update_freq": Int(),
    }

    def bind_td_learning(
        self,
        q_network: nn.Module,
        p: Mapping[str, Any],
        *,
        optimizer: optax.GradientTransformation | None,
        loss: str,
        td_error: TDError,
        target_tau: float,
    ) -> TDLearning:
        """Set the spaces from the validated parameters ``p``, build the :func:`td_learning`
        functions of the rest, and jit ``sample_greedy`` with them."""
        self.obs_space_shape, self.act_space_size = p["obs_space_shape"], p["act_space_size"]
        shared = td_learning(
            q_network,
            obs_shape=self.obs_space_shape,
            n_actions=self.act_space_size,
            optimizer=optimizer,
            loss=loss,
            td_error=td_error,
            target_tau=target_tau,
            **declared(QAgent.PARAMETERS, p, skip=("obs_space_shape", "act_space_size")),
        )
        self.sample_greedy = jax.jit(partial(self.sample_greedy, shared=shared))
        return shared

    @staticmethod
    def sample_greedy(state: QState, key: PRNGKey, env_state: Array, shared: TDLearning) -> Array:
        r"""The online network's best action :math:`\arg\max_a Q_\theta(s, a)`, without exploration."""
        return jnp.argmax(shared.q_values(state, key, env_state)).astype(jnp.int32)

    @property
    def update_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict(
            {
                "env_state": self._env_state_space,
                "action": gym.spaces.Discrete(self.act_space_size),
                "reward": gym.spaces.Box(-jnp.inf, jnp.inf, (1,), float),
                "terminal": FLAG_SPACE,
                "truncated": FLAG_SPACE,
                "episode_start": FLAG_SPACE,
            }
        )

    @property
    def sample_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict({"env_state": self._env_state_space})

    @property
    def action_space(self) -> gym.spaces.Discrete:
        return gym.spaces.Discrete(self.act_space_size)

    @property
    def _env_state_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(-jnp.inf, jnp.inf, self.obs_space_shape, jnp.float32)
