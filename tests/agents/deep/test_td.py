"""TD errors and losses against numbers worked out by hand, with and without jit, and under vmap."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax.agents.deep import double_q_learning, expected_sarsa, huber_loss, l2_loss, q_learning

# One transition shared by the cases: Q(s_{t-1}) = [1, 2], action 1, reward 0.5, discount 0.9.
Q_TM1, A_TM1, R_T, DISCOUNT_T = (
    jnp.array([1.0, 2.0]),
    jnp.int32(1),
    jnp.float32(0.5),
    jnp.float32(0.9),
)

CASES = {
    # target = 0.5 + 0.9 * max(3, -1) = 3.2; error = 3.2 - Q_tm1[1] = 3.2 - 2 = 1.2
    "q_learning": (q_learning, (jnp.array([3.0, -1.0]),), 1.2),
    # the selector [1, 0] picks action 0, valued 3 by q_t_value: target = 0.5 + 0.9 * 3 = 3.2,
    # error 1.2 (Q-learning on q_t_value would take max = 5: 0.5 + 4.5 - 2 = 3.0)
    "double_q_learning": (double_q_learning, (jnp.array([3.0, 5.0]), jnp.array([1.0, 0.0])), 1.2),
    # expectation 0.25 * 3 + 0.75 * (-1) = 0: target = 0.5, error 0.5 - 2 = -1.5
    "expected_sarsa": (expected_sarsa, (jnp.array([3.0, -1.0]), jnp.array([0.25, 0.75])), -1.5),
}


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("name", CASES)
def test_td_error_by_hand(name, jit):
    function, next_values, expected = CASES[name]
    function = jax.jit(function) if jit else function
    np.testing.assert_allclose(
        function(Q_TM1, A_TM1, R_T, DISCOUNT_T, *next_values), expected, rtol=1e-6
    )


@pytest.mark.parametrize("name", CASES)
def test_termination_drops_the_bootstrap(name):
    # discount 0: target = r = 0.5, error 0.5 - 2 = -1.5 whatever the next values
    function, next_values, _ = CASES[name]
    np.testing.assert_allclose(function(Q_TM1, A_TM1, R_T, jnp.float32(0.0), *next_values), -1.5)


@pytest.mark.parametrize("name", CASES)
def test_gradient_flows_only_into_q_tm1(name):
    # d(error)/dQ_tm1 = -onehot(a_tm1) = [0, -1]; the target is a constant.
    function, next_values, _ = CASES[name]
    grads = jax.grad(
        lambda q, *n: function(q, A_TM1, R_T, DISCOUNT_T, *n),
        argnums=tuple(range(1 + len(next_values))),
    )(Q_TM1, *next_values)
    np.testing.assert_allclose(grads[0], [0.0, -1.0])
    for grad in grads[1:]:
        np.testing.assert_allclose(grad, 0.0)


@pytest.mark.parametrize("name", CASES)
def test_vmap_gives_each_transition_its_own_error(name):
    # The second transition terminates: error -1.5 (see above).
    function, next_values, expected = CASES[name]
    stack = lambda x: jnp.stack([x, x])  # noqa: E731
    errors = jax.vmap(function)(
        stack(Q_TM1), stack(A_TM1), stack(R_T), jnp.array([0.9, 0.0]), *map(stack, next_values)
    )
    np.testing.assert_allclose(errors, [expected, -1.5], rtol=1e-6)


def test_rank_and_dtype_are_checked():
    with pytest.raises(AssertionError):
        q_learning(
            Q_TM1[None], A_TM1, R_T, DISCOUNT_T, Q_TM1
        )  # a batch where one transition belongs
    with pytest.raises(AssertionError):
        q_learning(Q_TM1, jnp.float32(1.0), R_T, DISCOUNT_T, Q_TM1)  # a float action


def test_huber_and_l2_by_hand():
    x = jnp.array([0.5, -2.0, 3.0])
    # |x| <= 1: x^2 / 2 = 0.125; beyond: |x| - 1/2 = 1.5 and 2.5
    np.testing.assert_allclose(huber_loss(x), [0.125, 1.5, 2.5])
    # delta 2: -2 is still quadratic (2.0), 3 is linear: 2 * (3 - 1) = 4
    np.testing.assert_allclose(huber_loss(x, 2.0), [0.125, 2.0, 4.0])
    np.testing.assert_allclose(l2_loss(x), [0.125, 2.0, 4.5])
    # Huber's gradient is clipped to +-delta
    np.testing.assert_allclose(jax.grad(lambda x: huber_loss(x).sum())(x), [0.5, -1.0, 1.0])
