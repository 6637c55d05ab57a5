"""Flax and optax helpers shared by the neural agents: build a network, run it, take a gradient step.

A network is a :class:`flax.linen.Module`. Its variables are kept as two pytrees: ``params`` (what
the optimizer trains) and ``state`` (every other collection, e.g. ``batch_stats``), so an agent's
state dataclass holds plain arrays.

Randomness inside a module: :func:`init` and :func:`forward` give the module the random streams
``'params'`` (init only), ``'dropout'`` and :data:`RNG_STREAM` (``'agentax'``), so a stochastic
module draws with ``self.make_rng('agentax')``. Modules written for reinforced-lib draw with
``self.make_rng('rlib')``; that stream is supplied too, with its own key. A stream the module
never uses costs nothing under :func:`jax.jit` (its key is dead code).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import optax
from chex import Array, PRNGKey
from flax import linen as nn

__all__ = ["RNG_STREAM", "GradientStep", "gradient_step", "init", "forward"]

RNG_STREAM = "agentax"
"""Name of the random stream a user's module draws from: ``self.make_rng('agentax')``."""

_COMPATIBLE_STREAM = "rlib"  # the stream reinforced-lib offers, for modules written against it


class GradientStep(NamedTuple):
    """What :func:`gradient_step` returns, in reinforced-lib's order (so its unpacking still works).

    Attributes:
      objective: the updated parameters.
      aux: the auxiliary value ``loss_fn`` returned next to the loss (e.g. a network's new state).
      opt_state: the updated optimizer state.
      loss: the loss before the step.
    """

    objective: Any
    aux: Any
    opt_state: optax.OptState
    loss: Array


def gradient_step(
    objective: Any,
    loss_params: tuple | Mapping[str, Any],
    opt_state: optax.OptState,
    optimizer: optax.GradientTransformation,
    loss_fn: Callable[..., tuple[Array, Any]],
) -> GradientStep:
    r"""One optimizer step on ``objective`` down the gradient of ``loss_fn``.

    .. math::
        (L, \text{aux}) = \text{loss\_fn}(\theta, \ldots), \qquad
        (u, s') = \text{optimizer.update}(\nabla_\theta L, s, \theta), \qquad
        \theta' = \theta + u

    Args:
      objective: the parameters to optimize (any pytree), the first argument of ``loss_fn``.
      loss_params: the other arguments of ``loss_fn``: a mapping is passed by keyword (as the deep
        agents' losses take them), a tuple positionally (as reinforced-lib passes them).
      opt_state: the optimizer's state for ``objective``.
      optimizer: an optax gradient transformation.
      loss_fn: ``loss_fn(objective, **loss_params)`` or ``loss_fn(objective, *loss_params)``,
        returning ``(loss, aux)``; ``aux`` may be ``None``.

    Returns:
      ``GradientStep(objective, aux, opt_state, loss)``: a named tuple, unpacked positionally in
      that order, as reinforced-lib's ``gradient_step`` returns it.
    """
    value_and_grad = jax.value_and_grad(loss_fn, has_aux=True)
    if isinstance(loss_params, Mapping):
        (loss, aux), grads = value_and_grad(objective, **loss_params)
    else:
        (loss, aux), grads = value_and_grad(objective, *loss_params)
    updates, opt_state = optimizer.update(grads, opt_state, objective)
    return GradientStep(optax.apply_updates(objective, updates), aux, opt_state, loss)


def init(model: nn.Module, key: PRNGKey, *x: Any) -> tuple[dict, dict]:
    """Initialize ``model`` on the example input ``x``.

    Args:
      model: a flax linen module.
      key: the PRNG key for the parameters and the module's random streams.
      *x: example inputs, as the module is called.

    Returns:
      ``(params, state)``: the ``'params'`` collection and a dict of every other collection
      (empty for a module without e.g. batch statistics).
    """
    params_key, own_key, compatible_key, dropout_key = jax.random.split(key, 4)
    variables = model.init(
        {
            "params": params_key,
            RNG_STREAM: own_key,
            _COMPATIBLE_STREAM: compatible_key,
            "dropout": dropout_key,
        },
        *x,
    )
    state = {name: collection for name, collection in variables.items() if name != "params"}
    return variables.get("params", {}), state


def forward(model: nn.Module, params: dict, state: dict, key: PRNGKey, *x: Any) -> tuple[Any, dict]:
    """Apply ``model`` to ``x``; every collection in ``state`` may be updated.

    Args:
      model: a flax linen module.
      params: its parameters, from :func:`init`.
      state: its other collections, from :func:`init` or a previous call.
      key: the PRNG key of the module's random streams (``'agentax'``, ``'rlib'``, ``'dropout'``).
      *x: inputs.

    Returns:
      ``(output, new_state)``.
    """
    own_key, compatible_key, dropout_key = jax.random.split(key, 3)
    return model.apply(
        {"params": params, **state},
        *x,
        rngs={RNG_STREAM: own_key, _COMPATIBLE_STREAM: compatible_key, "dropout": dropout_key},
        mutable=list(state),
    )
