"""Networks of the deep agents: one MLP builder, the default actor and critic modules, and the
check that a user's network gives outputs of the shapes an agent needs."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from chex import Array, Numeric
from flax import linen as nn
from flax.linen.linear import default_kernel_init

from agentax._validation import check_module
from agentax.errors import NetworkOutputError
from agentax.utils import forward, init

__all__ = [
    "mlp",
    "check_network_output",
    "DDPGActor",
    "DDPGCritic",
    "DiscreteActorCritic",
    "GaussianActorCritic",
    "SACActor",
]

Initializer = Callable[..., Array]


def mlp(
    x: Array,
    hidden_sizes: Sequence[int],
    out_size: int | None = None,
    *,
    activation: Callable[[Array], Array] = nn.relu,
    hidden_init: Initializer = default_kernel_init,
    out_init: Initializer = default_kernel_init,
) -> Array:
    """A multilayer perceptron, called inside a compact module: ``activation(Dense(size))`` per
    hidden size, then a linear layer of ``out_size`` outputs (none if ``out_size`` is ``None``).

    Its layers are the calling module's ``Dense_0``, ``Dense_1``, ... in order.
    """
    for size in hidden_sizes:
        x = activation(nn.Dense(size, kernel_init=hidden_init)(x))
    return x if out_size is None else nn.Dense(out_size, kernel_init=out_init)(x)


def _tanh_mlp(x: Array, hidden_sizes: Sequence[int], out_size: int, out_scale: float) -> Array:
    """A tanh MLP with orthogonal initialization (hidden gain sqrt(2), output gain ``out_scale``), as in PPO."""
    orthogonal = nn.initializers.orthogonal
    return mlp(
        x,
        hidden_sizes,
        out_size,
        activation=nn.tanh,
        hidden_init=orthogonal(math.sqrt(2.0)),
        out_init=orthogonal(out_scale),
    )


class DDPGActor(nn.Module):
    """A ReLU MLP whose tanh output is scaled to ``[min_action, max_action]``.

    Attributes:
      act_space_shape: shape of one action.
      min_action, max_action: bounds of the actions (numbers or nested sequences).
      hidden_sizes: widths of the hidden layers.
    """

    act_space_shape: Sequence[int]
    min_action: Numeric
    max_action: Numeric
    hidden_sizes: Sequence[int] = (256, 256)

    @nn.compact
    def __call__(self, obs: Array) -> Array:
        shape = tuple(self.act_space_shape)
        squashed = nn.tanh(mlp(obs, self.hidden_sizes, math.prod(shape)))
        low, high = (
            jnp.asarray(self.min_action, jnp.float32),
            jnp.asarray(self.max_action, jnp.float32),
        )
        return low + 0.5 * (squashed.reshape(*obs.shape[:-1], *shape) + 1.0) * (high - low)


class DDPGCritic(nn.Module):
    """A ReLU MLP of the concatenated observation and action, giving one value.

    Attributes:
      hidden_sizes: widths of the hidden layers.
    """

    hidden_sizes: Sequence[int] = (256, 256)

    @nn.compact
    def __call__(self, obs: Array, action: Array) -> Array:
        action = action.reshape(*obs.shape[:-1], -1)
        return mlp(jnp.concatenate([obs, action], axis=-1), self.hidden_sizes, 1)[..., 0]


class DiscreteActorCritic(nn.Module):
    """Separate tanh MLPs for the action logits and the state value, for :class:`~agentax.agents.deep.PPODiscrete`.

    Attributes:
      act_space_size: number of actions.
      hidden_sizes: widths of the hidden layers of each MLP.
    """

    act_space_size: int
    hidden_sizes: Sequence[int] = (64, 64)

    @nn.compact
    def __call__(self, x: Array) -> tuple[Array, Array]:
        logits = _tanh_mlp(x, self.hidden_sizes, self.act_space_size, 0.01)
        return logits, _tanh_mlp(x, self.hidden_sizes, 1, 1.0)[..., 0]


class GaussianActorCritic(nn.Module):
    """Tanh MLPs for the mean action and the state value, and a learned state-independent log
    standard deviation, for :class:`~agentax.agents.deep.PPOContinuous`.

    Attributes:
      act_space_shape: shape of one action.
      hidden_sizes: widths of the hidden layers of each MLP.
      init_log_std: initial log standard deviation of every action dimension.
    """

    act_space_shape: Sequence[int]
    hidden_sizes: Sequence[int] = (64, 64)
    init_log_std: float = 0.0

    @nn.compact
    def __call__(self, x: Array) -> tuple[Array, Array, Array]:
        shape = tuple(self.act_space_shape)
        mean = _tanh_mlp(x, self.hidden_sizes, math.prod(shape), 0.01).reshape(
            *x.shape[:-1], *shape
        )
        log_std = self.param("log_std", nn.initializers.constant(self.init_log_std), shape)
        return mean, log_std, _tanh_mlp(x, self.hidden_sizes, 1, 1.0)[..., 0]


def check_network_output(
    name: str,
    network: nn.Module,
    inputs: tuple[Array, ...],
    valid: Callable[[Any], bool],
    expected: str,
) -> None:
    """Raise :class:`~agentax.errors.NetworkOutputError` unless ``valid(shapes)`` holds for the
    shapes of what ``network`` returns for ``inputs`` (worked out without computing anything);
    ``expected`` says what was wanted. ``ValueError`` if ``network`` is not a flax module."""
    check_module(name, network)

    def output(key):
        params, state = init(network, key, *inputs)
        return forward(network, params, state, key, *inputs)[0]

    shapes = jax.tree.map(lambda leaf: leaf.shape, jax.eval_shape(output, jax.random.PRNGKey(0)))
    if not valid(shapes):
        input_shapes = tuple(x.shape for x in inputs)
        raise NetworkOutputError(
            name, shapes, input_shapes[0] if len(inputs) == 1 else input_shapes, expected
        )


class SACActor(nn.Module):
    """A ReLU MLP giving the mean and log standard deviation of a tanh-squashed Gaussian
    (:func:`~agentax.agents.deep.policies.tanh_gaussian`).

    Attributes:
      act_space_shape: shape of one action.
      hidden_sizes: widths of the hidden layers.
      log_std_min, log_std_max: the range :math:`\\log \\sigma` is squashed into.
    """

    act_space_shape: Sequence[int]
    hidden_sizes: Sequence[int] = (256, 256)
    log_std_min: float = -5.0
    log_std_max: float = 2.0

    @nn.compact
    def __call__(self, obs: Array) -> tuple[Array, Array]:
        shape = tuple(self.act_space_shape)
        x = mlp(obs, self.hidden_sizes)
        mean, log_std = (
            nn.Dense(math.prod(shape))(x).reshape(*obs.shape[:-1], *shape) for _ in range(2)
        )
        return mean, self.log_std_min + 0.5 * (self.log_std_max - self.log_std_min) * (
            nn.tanh(log_std) + 1.0
        )
