"""gradient_step, init and forward: one optimizer step by hand, random streams, mutable state."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import linen as nn

from agentax.utils import RNG_STREAM, GradientStep, forward, gradient_step, init


def test_gradient_step_takes_one_sgd_step_by_hand():
    # loss(w, target) = (w - target)^2 with w = 3, target = 1: loss = 4, gradient 2 * (3 - 1) = 4,
    # SGD with learning rate 0.1: w' = 3 - 0.1 * 4 = 2.6.
    def loss_fn(w, target):
        return (w - target) ** 2, {"seen": target}

    optimizer = optax.sgd(0.1)
    w = jnp.float32(3.0)
    step = jax.jit(gradient_step, static_argnums=(3, 4))(
        w, (jnp.float32(1.0),), optimizer.init(w), optimizer, loss_fn
    )
    assert isinstance(step, GradientStep)
    np.testing.assert_allclose(step.objective, 2.6, rtol=1e-6)
    np.testing.assert_allclose(step.loss, 4.0)
    np.testing.assert_allclose(step.aux["seen"], 1.0)
    objective, aux, opt_state, loss = step  # reinforced-lib's order
    assert (
        objective is step.objective
        and aux is step.aux
        and opt_state is step.opt_state
        and loss is step.loss
    )


def test_gradient_step_passes_params_to_the_optimizer():
    # adamw's weight decay needs the parameters: with a zero gradient only the decay moves w,
    # w' = w - lr * wd * w = 2 - 0.5 * 0.1 * 2 = 1.9.
    optimizer = optax.adamw(0.5, weight_decay=0.1)
    w = jnp.float32(2.0)
    step = gradient_step(w, (), optimizer.init(w), optimizer, lambda w: (0.0 * w, None))
    np.testing.assert_allclose(step.objective, 1.9, rtol=1e-6)


class _Noisy(nn.Module):
    """Returns a dense layer's output and one draw from each of the two user streams."""

    @nn.compact
    def __call__(self, x):
        own = jax.random.uniform(self.make_rng(RNG_STREAM))
        compatible = jax.random.uniform(self.make_rng("rlib"))
        return nn.Dense(2)(x), own, compatible


def test_modules_draw_from_the_agentax_and_rlib_streams():
    model, x = _Noisy(), jnp.ones(3)
    params, state = init(model, jax.random.PRNGKey(0), x)
    assert state == {}
    assert set(params) == {"Dense_0"}
    (y, own, compatible), new_state = forward(model, params, state, jax.random.PRNGKey(1), x)
    (_, own_again, _), _ = forward(model, params, state, jax.random.PRNGKey(1), x)
    (_, own_other, _), _ = forward(model, params, state, jax.random.PRNGKey(2), x)
    assert y.shape == (2,) and new_state == {}
    assert own == own_again  # same key, same draw
    assert own != own_other  # another key, another draw
    assert own != compatible  # the two streams have their own keys


class _Normalized(nn.Module):
    @nn.compact
    def __call__(self, x):
        return nn.BatchNorm(use_running_average=False, momentum=0.5)(x)


def test_forward_updates_mutable_collections():
    # BatchNorm starts with running mean 0; one batch with mean 4 and momentum 0.5 moves it to
    # 0.5 * 0 + 0.5 * 4 = 2.
    model, x = _Normalized(), jnp.array([[2.0], [6.0]])
    params, state = init(model, jax.random.PRNGKey(0), x)
    assert set(state) == {"batch_stats"}
    _, state = jax.jit(forward, static_argnums=0)(model, params, state, jax.random.PRNGKey(1), x)
    np.testing.assert_allclose(state["batch_stats"]["BatchNorm_0"]["mean"], [2.0])
    chex.assert_trees_all_equal_structs(state, init(model, jax.random.PRNGKey(0), x)[1])
