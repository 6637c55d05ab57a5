r"""The pieces every deep agent is built from: a network's state, its gradient and target updates,
"k gradient steps", and the episode-boundary rule.

Written like optax and rlax: small pure functions whose configuration is passed by keyword. An
agent composes them inside its own jitted ``update``:

* :class:`NetworkState` holds one network's parameters, its other variables, its optimizer state
  and, if it has one, its target copy; :func:`init_network` builds it.
* :func:`apply_gradient` takes one optimizer step down a loss with the one loss signature of
  :mod:`agentax.agents.deep.losses`, ``loss(params, key=, net_state=, batch=, **inputs) -> (loss,
  net_state)``.
* :func:`update_target` moves the target towards the online network (Polyak averaging, or a hard
  copy with ``tau = 1``).
* :func:`gradient_steps` runs a step function once per slice of its inputs (``lax.scan``).
* :func:`episode_boundary` says whether the transition into an observation is stored;
  :func:`agent_replay` builds the replay buffer of an agent's ``experience_replay_*`` parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from chex import Array, ArrayTree, PRNGKey, Scalar, dataclass
from flax import linen as nn

from agentax.utils import ExperienceReplay, experience_replay, forward, gradient_step, init

__all__ = [
    "NetworkState",
    "init_network",
    "apply_network",
    "apply_gradient",
    "update_target",
    "gradient_steps",
    "episode_boundary",
    "agent_replay",
    "store_transition",
    "train_when_ready",
]


@dataclass
class NetworkState:
    """One network as a deep agent trains it.

    Attributes:
      params: the parameters the optimizer trains.
      net_state: the network's other variable collections (e.g. batch statistics; often empty).
      opt_state: the optimizer's state.
      target_params: the target network's parameters, or ``None`` for a network without one.
      target_net_state: the target network's other collections, or ``None``.
    """

    params: ArrayTree
    net_state: ArrayTree
    opt_state: optax.OptState
    target_params: ArrayTree = None
    target_net_state: ArrayTree = None


def init_network(
    network: nn.Module,
    optimizer: optax.GradientTransformation,
    key: PRNGKey,
    *inputs: Any,
    target: bool,
) -> NetworkState:
    """A freshly initialized ``network`` (called on ``inputs``), its optimizer state, and, if
    ``target``, a target copy equal to it."""
    params, net_state = init(network, key, *inputs)
    copy = dict(target_params=params, target_net_state=net_state) if target else {}
    return NetworkState(
        params=params, net_state=net_state, opt_state=optimizer.init(params), **copy
    )


def apply_network(
    network: nn.Module, state: NetworkState, key: PRNGKey, *inputs: Any, target: bool = False
) -> tuple[Any, ArrayTree]:
    """``network`` applied to ``inputs`` with the online (or ``target``) variables: ``(output, new net_state)``."""
    if target:
        return forward(network, state.target_params, state.target_net_state, key, *inputs)
    return forward(network, state.params, state.net_state, key, *inputs)


def apply_gradient(
    state: NetworkState,
    *,
    optimizer: optax.GradientTransformation,
    loss_fn: Callable[..., tuple[Array, ArrayTree]],
    key: PRNGKey,
    batch: Any,
    **inputs: Any,
) -> tuple[NetworkState, Array]:
    r"""One optimizer step of the online parameters down ``loss_fn``.

    .. math:: (u, s') = \text{optimizer.update}(\nabla_\theta L(\theta), s, \theta), \qquad \theta' = \theta + u

    ``loss_fn`` is called by keyword: ``loss_fn(params, key=key, net_state=state.net_state,
    batch=batch, **inputs)``, and returns ``(loss, new net_state)``.

    Returns:
      The updated state (target untouched) and the loss before the step.
    """
    loss_inputs = dict(key=key, net_state=state.net_state, batch=batch, **inputs)
    step = gradient_step(state.params, loss_inputs, state.opt_state, optimizer, loss_fn)
    return state.replace(
        params=step.objective, net_state=step.aux, opt_state=step.opt_state
    ), step.loss


def update_target(state: NetworkState, *, tau: Scalar | Array) -> NetworkState:
    r"""Move the target variables towards the online ones,

    .. math:: \theta^- \leftarrow \tau\,\theta + (1 - \tau)\,\theta^-

    (``tau = 1``: a copy; ``tau = 0``: unchanged; a small ``tau``: Polyak averaging).

    Reference:
      T. P. Lillicrap et al., "Continuous control with deep reinforcement learning", ICLR 2016.
    """
    target_params, target_net_state = optax.incremental_update(
        (state.params, state.net_state), (state.target_params, state.target_net_state), tau
    )
    return state.replace(target_params=target_params, target_net_state=target_net_state)


def gradient_steps(step: Callable[[Any, Any], Any], carry: Any, xs: Any) -> Any:
    """``carry = step(carry, x)`` for each ``x`` along the leading axis of ``xs`` (e.g. keys, or
    minibatches with keys), compiled once as a :func:`jax.lax.scan`; returns the last ``carry``."""
    return jax.lax.scan(lambda c, x: (step(c, x), None), carry, xs)[0]


def episode_boundary(
    episode_ended: Array, terminal: Array, truncated: Array, episode_start: Array
) -> tuple[Array, Array]:
    """The episode-boundary rule of every deep agent.

    ``update`` brings the observation reached by the last action with that step's ``terminal``
    and ``truncated`` flags. The transition into it is stored unless the previous step ended an
    episode (``episode_ended``) or the observation is flagged as what ``reset`` returned
    (``episode_start``): then it is the first observation of a new episode, and no transition
    leads to it.

    Returns:
      ``(valid, ended)``: whether to store the transition, and the new ``episode_ended``
      (``terminal | truncated``), each of the flags' shape.
    """
    return ~(episode_ended | episode_start), terminal | truncated


def agent_replay(
    *,
    buffer_size: int,
    batch_size: int,
    obs_shape: tuple[int, ...],
    act_shape: tuple[int, ...],
    act_dtype: jnp.dtype = jnp.float32,
) -> ExperienceReplay:
    """:func:`~agentax.utils.experience_replay` of an agent's ``experience_replay_buffer_size`` and
    ``experience_replay_batch_size``, whose ``ValueError`` names those parameters."""
    return experience_replay(
        buffer_size,
        batch_size,
        obs_shape,
        act_shape,
        act_dtype=act_dtype,
        names=("experience_replay_buffer_size", "experience_replay_batch_size"),
    )


def store_transition(
    er: ExperienceReplay,
    state,
    env_state: Array,
    action: Array,
    reward: Array,
    terminal: Array,
    truncated: Array,
    episode_start: Array,
):
    """``state`` (with ``replay_buffer``, ``prev_env_state``, ``episode_ended``) after recording the
    transition into ``env_state``, stored unless :func:`episode_boundary` says no."""
    terminal = jnp.reshape(jnp.asarray(terminal, bool), ())
    valid, ended = episode_boundary(
        state.episode_ended,
        terminal,
        jnp.reshape(jnp.asarray(truncated, bool), ()),
        jnp.reshape(jnp.asarray(episode_start, bool), ()),
    )
    env_state = jnp.reshape(env_state, state.prev_env_state.shape).astype(jnp.float32)
    buffer = er.append(
        state.replay_buffer, state.prev_env_state, action, reward, terminal, env_state, valid
    )
    return state.replace(replay_buffer=buffer, prev_env_state=env_state, episode_ended=ended)


def train_when_ready(step: Callable, state, key: PRNGKey, *, er: ExperienceReplay, rounds: int):
    """``rounds`` applications of ``step(state, key) -> state`` once the buffer holds a batch."""
    train = lambda s: gradient_steps(step, s, jax.random.split(key, rounds))  # noqa: E731
    return jax.lax.cond(er.is_ready(state.replay_buffer), train, lambda s: s, state)
