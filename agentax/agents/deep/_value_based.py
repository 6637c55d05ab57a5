"""What the value-based deep agents (DQN, DDQN, ExpectedSarsa) share.

A Q-network maps a batch of observations ``(B, *obs_shape)`` to action values ``(B, n_actions)``.
The agents keep an online network and a target network, learn off-policy from an experience
replay buffer, and differ only in their TD error and behaviour policy.

Episode boundaries. ``update`` receives the observation ``env_state`` reached by the last action,
with the reward and the ``terminal`` and ``truncated`` flags of that step. The transition from
the previous observation is stored, with ``terminal`` only (a truncated episode still bootstraps
from its last observation). When the previous step ended the episode (either flag), the state
remembers it in ``episode_ended``: the next ``update`` brings the first observation of a new
episode, so it stores nothing and only records that observation. A new agent starts with
``episode_ended`` set, so its first ``update`` just records the first observation.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import optax
from chex import Array, PRNGKey, Scalar, Shape, dataclass
from flax import linen as nn

from agentax._validation import ArrayShape, Int, Real, check_module, check_positive_int, check_range
from agentax.agents.base import AgentState, BaseAgent
from agentax.agents.deep.td import huber_loss, l2_loss
from agentax.errors import NetworkOutputError
from agentax.utils import Batch, ExperienceReplay, ReplayBuffer, experience_replay, forward, gradient_step, init

FLAG_SPACE = gym.spaces.Box(0, 1, (1,), bool)
"""Space of the ``terminal`` and ``truncated`` flags: one boolean (a Python ``bool`` is accepted)."""

LOSSES = {"huber": huber_loss, "l2": l2_loss}

_TRAINED = ("params", "net_state", "params_target", "net_state_target", "opt_state", "n_updates")


@dataclass
class QState(AgentState):
    """The state every value-based deep agent holds.

    Attributes:
      params: parameters of the online Q-network.
      net_state: the online network's other collections (e.g. batch statistics).
      params_target: parameters of the target Q-network.
      net_state_target: the target network's other collections.
      opt_state: the optimizer's state.
      replay_buffer: the experience replay buffer.
      prev_env_state: the last observation ``update`` received.
      episode_ended: whether that observation ended its episode (``bool``); see the module doc.
      n_updates: number of gradient steps taken (``int32``), which times the target refreshes.
    """

    params: dict
    net_state: dict
    params_target: dict
    net_state_target: dict
    opt_state: optax.OptState
    replay_buffer: ReplayBuffer
    prev_env_state: Array
    episode_ended: Array
    n_updates: Array


# A TD error from (q_tm1, a_tm1, r_t, discount_t, q_t_target, q_t_online); see agentax.agents.deep.td.
TDError = Callable[[Array, Array, Array, Array, Array, Array], Array]


class QLearning(NamedTuple):
    """The shared functions of one value-based agent, bound to its configuration."""

    init: Callable[[PRNGKey], dict]
    learn: Callable[..., QState]
    q_values: Callable[[QState, PRNGKey, Array], Array]


def q_learning_setup(
    q_network: nn.Module,
    obs_space_shape: Shape,
    act_space_size: int,
    optimizer: optax.GradientTransformation | None,
    experience_replay_buffer_size: int,
    experience_replay_batch_size: int,
    experience_replay_steps: int,
    discount: Scalar,
    target_update_freq: int,
    tau: Scalar,
    loss: str,
    td_error: TDError,
) -> QLearning:
    """Validate the shared hyperparameters and bind them into :class:`QLearning` functions.

    ``obs_space_shape`` and ``act_space_size`` are already checked (from the agent's ``PARAMETERS``).

    Raises:
      ValueError: a hyperparameter is out of range, naming it.
      NetworkOutputError: ``q_network`` does not map ``(1, *obs_space_shape)`` to ``(1, act_space_size)``.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
    buffer_size = check_positive_int("experience_replay_buffer_size", experience_replay_buffer_size)
    batch_size = check_positive_int("experience_replay_batch_size", experience_replay_batch_size)
    if batch_size > buffer_size:
        raise ValueError(
            f"experience_replay_batch_size must be at most experience_replay_buffer_size={buffer_size}, "
            f"got {batch_size}"
        )
    er = experience_replay(buffer_size, batch_size, obs_space_shape, (), act_dtype=jnp.int32)
    optimizer = optax.adam(1e-3) if optimizer is None else optimizer
    _check_network(q_network, obs_space_shape, act_space_size)
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
        step_fn=partial(gradient_step, optimizer=optimizer, loss_fn=loss_fn),
        experience_replay_steps=check_positive_int("experience_replay_steps", experience_replay_steps),
        target_update_freq=check_positive_int("target_update_freq", target_update_freq),
        tau=check_range("tau", tau, 0.0, 1.0, low_open=True),
    )
    return QLearning(
        init=partial(init_fields, q_network=q_network, optimizer=optimizer, er=er, obs_shape=obs_space_shape),
        learn=learn_fn,
        q_values=partial(q_values, q_network=q_network),
    )


def _check_network(q_network: nn.Module, obs_shape: tuple[int, ...], act_space_size: int) -> None:
    check_module("q_network", q_network)
    x = jnp.zeros((1, *obs_shape), jnp.float32)

    def output(key):
        params, state = init(q_network, key, x)
        return forward(q_network, params, state, key, x)[0]

    shape = jax.eval_shape(output, jax.random.PRNGKey(0)).shape
    if shape != (1, act_space_size):
        raise NetworkOutputError("q_network", shape, x.shape, f"(1, act_space_size) = {(1, act_space_size)}")


def init_fields(
    key: PRNGKey, q_network: nn.Module, optimizer: optax.GradientTransformation, er: ExperienceReplay, obs_shape: Shape
) -> dict:
    """The fields of a fresh :class:`QState`: the target network starts as a copy of the online one."""
    params, net_state = init(q_network, key, jnp.zeros((1, *obs_shape), jnp.float32))
    return dict(
        params=params,
        net_state=net_state,
        params_target=params,
        net_state_target=net_state,
        opt_state=optimizer.init(params),
        replay_buffer=er.init(),
        prev_env_state=jnp.zeros(obs_shape, jnp.float32),
        episode_ended=jnp.bool_(True),
        n_updates=jnp.int32(0),
    )


def q_values(state: QState, key: PRNGKey, env_state: Array, q_network: nn.Module) -> Array:
    """The online network's action values for one observation, shape ``(n_actions,)``."""
    q, _ = forward(q_network, state.params, state.net_state, key, jnp.asarray(env_state, jnp.float32)[None])
    return q[0]


def td_loss(
    params: dict,
    key: PRNGKey,
    net_state: dict,
    params_target: dict,
    net_state_target: dict,
    batch: Batch,
    q_network: nn.Module,
    td_error: TDError,
    discount: float,
    loss: Callable[[Array], Array],
) -> tuple[Array, dict]:
    r"""Mean loss of the TD errors of a batch, and the online network's new state.

    .. math::
        \mathcal{L}(\theta) = \frac1B \sum_{i=1}^{B} \ell(\delta_i), \qquad
        \gamma_i = \gamma\,(1 - \text{terminal}_i)

    where :math:`\delta_i` is ``td_error`` of transition :math:`i` given the online values
    :math:`Q_\theta(s_i)`, the target network's values :math:`Q_{\theta^-}(s'_i)` and the online
    values :math:`Q_\theta(s'_i)` (gradient stopped), and :math:`\ell` is the Huber or L2 loss.
    """
    online_key, target_key, next_key = jax.random.split(key, 3)
    q_tm1, net_state = forward(q_network, params, net_state, online_key, batch.obs)
    q_t_target, _ = forward(q_network, params_target, net_state_target, target_key, batch.next_obs)
    q_t_online, _ = forward(q_network, params, net_state, next_key, batch.next_obs)  # dead code unless used
    discount_t = jnp.where(batch.terminal, 0.0, discount).astype(q_tm1.dtype)
    errors = jax.vmap(td_error)(
        q_tm1, batch.action, batch.reward, discount_t, q_t_target, jax.lax.stop_gradient(q_t_online)
    )
    return jnp.mean(loss(errors)), net_state


def learn(
    state: QState,
    key: PRNGKey,
    env_state: Array,
    action: Array,
    reward: Scalar,
    terminal: Array,
    truncated: Array,
    er: ExperienceReplay,
    step_fn: Callable,
    experience_replay_steps: int,
    target_update_freq: int,
    tau: float,
    episode_start: Array = False,
) -> QState:
    r"""Store the last transition (unless an episode restarts) and train once the buffer is ready.

    An episode restarts after a step that ended one, or when ``episode_start`` flags ``env_state``
    as what ``reset`` returned (an episode may be cut off without a flag).

    Each of the ``experience_replay_steps`` gradient steps samples a batch, steps the online
    parameters :math:`\theta` down :func:`td_loss`, and every ``target_update_freq``-th step
    moves the target parameters towards them:

    .. math:: \theta^- \leftarrow \tau\,\theta + (1 - \tau)\,\theta^-

    (``tau = 1``: a copy every ``target_update_freq`` steps; ``target_update_freq = 1`` with a
    small ``tau``: Polyak averaging after every step).
    """
    terminal, truncated = jnp.any(terminal), jnp.any(truncated)
    env_state = jnp.asarray(env_state, state.prev_env_state.dtype)
    buffer = er.append(
        state.replay_buffer, state.prev_env_state, action, reward, terminal, env_state,
        ~(state.episode_ended | jnp.any(episode_start)),
    )

    def train(trained: dict) -> dict:
        keys = jax.random.split(key, (experience_replay_steps, 2))

        def one_step(i: int, trained: dict) -> dict:
            step = step_fn(
                trained["params"],
                (keys[i, 0], trained["net_state"], trained["params_target"], trained["net_state_target"],
                 er.sample(buffer, keys[i, 1])),
                trained["opt_state"],
            )
            n_updates = trained["n_updates"] + 1
            rate = jnp.where(n_updates % target_update_freq == 0, tau, 0.0).astype(jnp.float32)
            params_target, net_state_target = optax.incremental_update(
                (step.objective, step.aux), (trained["params_target"], trained["net_state_target"]), rate
            )
            return dict(
                params=step.objective, net_state=step.aux, params_target=params_target,
                net_state_target=net_state_target, opt_state=step.opt_state, n_updates=n_updates,
            )

        return jax.lax.fori_loop(0, experience_replay_steps, one_step, trained)

    trained = {name: getattr(state, name) for name in _TRAINED}
    trained = jax.lax.cond(er.is_ready(buffer), train, lambda t: t, trained)
    return state.replace(
        **trained, replay_buffer=buffer, prev_env_state=env_state, episode_ended=terminal | truncated
    )


class QAgent(BaseAgent):
    """What the value-based agents share besides :class:`QLearning`: spaces and the greedy policy.

    Subclasses set ``self.obs_space_shape`` and ``self.act_space_size`` and bind
    ``sample_greedy`` (see :meth:`bind_greedy`) in their constructor. The facade calls ``update``
    at an instance's first step too, so that the first observation is recorded.
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

    def bind_greedy(self, shared: QLearning) -> None:
        """Jit ``sample_greedy`` for this agent's network."""
        self.sample_greedy = jax.jit(partial(self.sample_greedy, shared=shared))

    @staticmethod
    def sample_greedy(state: QState, key: PRNGKey, env_state: Array, shared: QLearning) -> Array:
        r"""The online network's best action :math:`\arg\max_a Q_\theta(s, a)`, without exploration."""
        return jnp.argmax(shared.q_values(state, key, env_state)).astype(jnp.int32)

    @property
    def update_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict({
            "env_state": self._env_state_space,
            "action": gym.spaces.Discrete(self.act_space_size),
            "reward": gym.spaces.Box(-jnp.inf, jnp.inf, (1,), float),
            "terminal": FLAG_SPACE,
            "truncated": FLAG_SPACE,
            "episode_start": FLAG_SPACE,
        })

    @property
    def sample_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict({"env_state": self._env_state_space})

    @property
    def action_space(self) -> gym.spaces.Discrete:
        return gym.spaces.Discrete(self.act_space_size)

    @property
    def _env_state_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(-jnp.inf, jnp.inf, self.obs_space_shape, jnp.float32)
