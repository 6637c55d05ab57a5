"""The deep agents' core (network state, gradient and target updates, k steps, episode boundaries),
policies and networks, against numbers worked out by hand."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import linen as nn

from agentax.agents._arms import decayed
from agentax.agents.deep import (
    NetworkState,
    apply_gradient,
    apply_network,
    check_network_output,
    episode_boundary,
    epsilon_greedy,
    gaussian_exploration,
    gradient_steps,
    init_network,
    mlp,
    update_target,
)
from agentax.errors import NetworkOutputError
from agentax.utils import gradient_step


class Scale(nn.Module):
    """y = w * x with one weight, initialized to 1."""

    @nn.compact
    def __call__(self, x):
        return self.param("w", nn.initializers.ones, ()) * x


def _squared_error(params, key, net_state, batch, *, network):
    """Keyword-only extra input: called with the one loss signature."""
    x, y = batch
    prediction, net_state = network.apply(
        {"params": params, **net_state}, x, mutable=list(net_state)
    )
    return 0.5 * jnp.mean((prediction - y) ** 2), net_state


def test_init_network_copies_the_target_only_if_asked():
    with_target = init_network(
        Scale(), optax.sgd(0.1), jax.random.PRNGKey(0), jnp.ones(2), target=True
    )
    assert with_target.params == {"w": 1.0} and with_target.target_params == {"w": 1.0}
    without = init_network(
        Scale(), optax.sgd(0.1), jax.random.PRNGKey(0), jnp.ones(2), target=False
    )
    assert without.target_params is None and without.target_net_state is None
    assert len(jax.tree.leaves(without)) == 1  # only w: sgd keeps no state, the target is absent


def test_apply_gradient_takes_one_sgd_step_by_hand():
    # L(w) = 0.5 (w x - y)^2 with x = 2, y = 5, w = 1: dL/dw = (2 - 5) * 2 = -6; w' = 1 + 0.1 * 6 = 1.6.
    state = init_network(Scale(), optax.sgd(0.1), jax.random.PRNGKey(0), jnp.ones(1), target=True)
    batch = (jnp.array([2.0]), jnp.array([5.0]))
    step = jax.jit(
        lambda s: apply_gradient(
            s,
            optimizer=optax.sgd(0.1),
            loss_fn=_squared_error,
            key=jax.random.PRNGKey(1),
            batch=batch,
            network=Scale(),
        )
    )
    new, loss = step(state)
    np.testing.assert_allclose(loss, 4.5)
    np.testing.assert_allclose(new.params["w"], 1.6, rtol=1e-6)
    assert new.target_params == {"w": 1.0}  # the target moves only in update_target


@pytest.mark.parametrize("tau, expected", [(0.25, 0.25 * 3.0 + 0.75 * 1.0), (1.0, 3.0), (0.0, 1.0)])
def test_update_target_is_polyak_or_a_copy(tau, expected):
    state = NetworkState(
        params={"w": jnp.float32(3.0)},
        net_state={},
        opt_state=(),
        target_params={"w": jnp.float32(1.0)},
        target_net_state={},
    )
    np.testing.assert_allclose(
        jax.jit(update_target)(state, tau=tau).target_params["w"], expected, rtol=1e-6
    )


def test_gradient_steps_runs_the_step_once_per_slice():
    # carry <- 2 * carry + x over x = 1, 2, 3 from 0: 1, 4, 11.
    assert int(gradient_steps(lambda c, x: 2 * c + x, jnp.int32(0), jnp.arange(1, 4))) == 11
    # two SGD steps of the loss above: w = 1 -> 1.6 -> 1.6 + 0.1 * (5 - 3.2) * 2 = 1.96.
    state = init_network(Scale(), optax.sgd(0.1), jax.random.PRNGKey(0), jnp.ones(1), target=False)
    batch = (jnp.array([2.0]), jnp.array([5.0]))

    def step(s, key):
        return apply_gradient(
            s,
            optimizer=optax.sgd(0.1),
            loss_fn=_squared_error,
            key=key,
            batch=batch,
            network=Scale(),
        )[0]

    trained = gradient_steps(step, state, jax.random.split(jax.random.PRNGKey(0), 2))
    np.testing.assert_allclose(trained.params["w"], 1.96, rtol=1e-6)


def test_gradient_step_calls_a_loss_by_keyword_given_a_mapping():
    params = {"w": jnp.float32(1.0)}
    step = gradient_step(
        params,
        dict(key=None, net_state={}, batch=(jnp.array([2.0]), jnp.array([5.0])), network=Scale()),
        optax.sgd(0.1).init(params),
        optax.sgd(0.1),
        _squared_error,
    )
    np.testing.assert_allclose(step.objective["w"], 1.6, rtol=1e-6)


@pytest.mark.parametrize(
    "ended, terminal, truncated, start, valid, new_ended",
    [
        (False, False, False, False, True, False),
        (False, True, False, False, True, True),  # the terminal transition is stored
        (False, False, True, False, True, True),  # so is the truncated one
        (
            True,
            False,
            False,
            False,
            False,
            False,
        ),  # after an episode ended: the new first observation
        (False, False, False, True, False, False),  # flagged as what reset returned
    ],
)
def test_episode_boundary(ended, terminal, truncated, start, valid, new_ended):
    got = episode_boundary(
        jnp.bool_(ended), jnp.bool_(terminal), jnp.bool_(truncated), jnp.bool_(start)
    )
    assert (bool(got[0]), bool(got[1])) == (valid, new_ended)


def test_epsilon_greedy_by_hand():
    values = jnp.array([0.0, 3.0, 1.0, 2.0])
    key = jax.random.PRNGKey(7)
    u = float(jax.random.uniform(key))
    assert int(epsilon_greedy(values, jnp.float32(0.0), key)) == 1
    assert int(epsilon_greedy(values, jnp.float32(1.0), key)) == int(np.floor(u * 4))
    # explore iff u < epsilon; then the arm is floor(4 u / epsilon)
    epsilon = min(1.0, 1.5 * u)
    assert int(epsilon_greedy(values, jnp.float32(epsilon), key)) == int(np.floor(4 * u / epsilon))
    assert int(epsilon_greedy(values, jnp.float32(0.5 * u), key)) == 1


def test_epsilon_greedy_frequencies():
    keys = jax.random.split(jax.random.PRNGKey(0), 40_000)
    actions = jax.vmap(epsilon_greedy, in_axes=(None, None, 0))(
        jnp.array([0.0, 3.0, 1.0, 2.0]), 0.2, keys
    )
    frequencies = np.bincount(np.asarray(actions), minlength=4) / keys.shape[0]
    np.testing.assert_allclose(frequencies, [0.05, 0.85, 0.05, 0.05], atol=0.01)


def test_gaussian_exploration_clips():
    low, high = jnp.array([-1.0, -1.0]), jnp.array([1.0, 1.0])
    np.testing.assert_array_equal(
        gaussian_exploration(jnp.array([0.5, 3.0]), 0.0, jax.random.PRNGKey(0), low, high),
        [0.5, 1.0],
    )
    noisy = gaussian_exploration(jnp.zeros(2), 10.0, jax.random.PRNGKey(0), low, high)
    assert np.all(np.abs(noisy) <= 1.0)


def test_decayed_is_floored():
    e = jnp.float32(0.5)
    np.testing.assert_allclose(decayed(e, 0.9, 0.1), 0.45)
    assert (
        decayed(jnp.float32(0.105), 0.9, 0.1) == jnp.float32(0.1)
        and decayed(e, 0.9, 0.1).dtype == jnp.float32
    )


class _TwoLayers(nn.Module):
    @nn.compact
    def __call__(self, x):
        return mlp(x, (3,), 2, activation=nn.tanh)


def test_mlp_layers_and_shapes():
    params = _TwoLayers().init(jax.random.PRNGKey(0), jnp.ones((5, 4)))["params"]
    chex.assert_trees_all_equal_shapes(
        params,
        {
            "Dense_0": {"kernel": jnp.zeros((4, 3)), "bias": jnp.zeros(3)},
            "Dense_1": {"kernel": jnp.zeros((3, 2)), "bias": jnp.zeros(2)},
        },
    )
    x = jnp.ones((5, 4))
    hidden = jnp.tanh(x @ params["Dense_0"]["kernel"] + params["Dense_0"]["bias"])
    np.testing.assert_allclose(
        _TwoLayers().apply({"params": params}, x),
        hidden @ params["Dense_1"]["kernel"] + params["Dense_1"]["bias"],
        rtol=1e-6,
    )


def test_check_network_output():
    check_network_output(
        "net", _TwoLayers(), (jnp.ones((1, 4)),), lambda shape: shape == (1, 2), "(1, 2)"
    )
    with pytest.raises(NetworkOutputError, match="net"):
        check_network_output(
            "net", _TwoLayers(), (jnp.ones((1, 4)),), lambda shape: shape == (1, 3), "(1, 3)"
        )
    with pytest.raises(ValueError, match="net"):
        check_network_output("net", lambda x: x, (jnp.ones((1, 4)),), lambda shape: True, "")


def test_apply_network_uses_the_target_variables_when_asked():
    state = NetworkState(
        params={"w": jnp.float32(3.0)},
        net_state={},
        opt_state=(),
        target_params={"w": jnp.float32(1.0)},
        target_net_state={},
    )
    x = jnp.array([2.0])
    np.testing.assert_allclose(apply_network(Scale(), state, jax.random.PRNGKey(0), x)[0], [6.0])
    np.testing.assert_allclose(
        apply_network(Scale(), state, jax.random.PRNGKey(0), x, target=True)[0], [2.0]
    )
