r"""Normal, Gamma and Beta draws that stay fast under ``vmap`` and ``lax.scan``.

:func:`jax.random.gamma` (hence :func:`jax.random.beta`) runs a rejection loop per element:
under ``vmap`` the loop goes on until the slowest element of the whole batch is accepted, and
every round makes new random calls. Here every element gets ``N_PROPOSALS`` Marsaglia–Tsang
proposals at once, from random words drawn in one call and evaluated as plain array
arithmetic; the first accepted one is kept. An element rejects them all with probability at most
:math:`0.0483^4 \approx 5 \cdot 10^{-6}` (at shape 1; less for larger shapes). Such elements
draw again in a ``while_loop``, which does not run at all when none is left, so the draws are
exact (up to float32 rounding), not truncated. The loop is bounded: after ``MAX_RETRIES`` more
rounds (reached with probability below :math:`0.0483^{68} \approx 10^{-89}` for a valid shape) an
element keeps its last proposal, the Wilson–Hilferty approximation :math:`d(1 + cx)^3` the
method is built on (at least the smallest positive float32). A shape that is not a finite number
:math:`\ge 1` (NaN, say) ends the loop there too, with a NaN draw, instead of hanging.

Random words come from JAX's Threefry-2x32 counter stream of the key: one call gives all of
them, and a retry reads further counters of the same stream instead of deriving a new key.

Why four proposals: with fewer, the ``while_loop`` runs on most steps of a large batch (the
chance that some element rejects every proposal grows with the batch); with more, every step
pays for words that are almost never used (``benchmarks/thompson_sampler.py`` measures both).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from chex import Array, PRNGKey
from jax.extend.random import threefry_2x32

N_PROPOSALS = 4  # proposals per element evaluated at once
MAX_RETRIES = 64  # rounds of the while_loop before an element keeps its last proposal
_TINY = float(jnp.finfo(jnp.float32).tiny)


def random_words(key: PRNGKey, n: int, offset: int = 0) -> Array:
    """Words ``offset`` to ``offset + n - 1`` (``n`` even) of ``key``'s stream of uint32 words.

    For a Threefry key (JAX's default) this is one ``threefry_2x32`` call on those counters, the
    stream :func:`jax.random.bits` gives with ``jax_threefry_partitionable`` off; other key types
    use :func:`jax.random.bits` of ``fold_in(key, offset)``.
    """
    if jax.random.key_impl(key) == "threefry2x32":
        return threefry_2x32(jax.random.key_data(key), offset + jax.lax.iota(jnp.uint32, n))
    return jax.random.bits(jax.random.fold_in(key, offset), (n,), jnp.uint32)


def _uniform(bits: Array, n_bits: int = 24) -> Array:
    """Float32 uniforms on the open interval (0, 1) from the low ``n_bits`` of ``bits``."""
    return ((bits & ((1 << n_bits) - 1)).astype(jnp.float32) + 0.5) * (2.0**-n_bits)


def _sin_cos_within_eighth_turn(t: Array) -> tuple[Array, Array]:
    r"""Sine and cosine of :math:`\phi = \pi t / 2` for :math:`|t| \le 1/2`, i.e. :math:`|\phi| \le \pi/4`.

    Taylor polynomials to degree 9 and 10: their remainders (below :math:`2 \cdot 10^{-9}`) are
    under float32 rounding, and they cost a few multiplications where ``jnp.sin`` and
    ``jnp.cos`` reduce arbitrary arguments.
    """
    phi = (0.5 * math.pi) * t
    p2 = phi * phi
    sin = phi * (1 + p2 * (-1 / 6 + p2 * (1 / 120 + p2 * (-1 / 5040 + p2 * (1 / 362880)))))
    cos = 1 + p2 * (
        -1 / 2 + p2 * (1 / 24 + p2 * (-1 / 720 + p2 * (1 / 40320 + p2 * (-1 / 3628800))))
    )
    return sin, cos


def _normals(radius_bits: Array, angle_bits: Array) -> Array:
    r"""Standard normals by Box–Muller, two from each pair of words.

    :math:`R = \sqrt{-2 \ln U}` from the radius word; the angle word picks a quarter turn with its
    top 2 bits and an angle within it with its next 22, so the angle is uniform on the circle.
    """
    radius = jnp.sqrt(
        -2.0 * jnp.log(_uniform(jax.lax.shift_right_logical(radius_bits, jnp.uint32(8))))
    )
    sin, cos = _sin_cos_within_eighth_turn(
        _uniform(jax.lax.shift_right_logical(angle_bits, jnp.uint32(8)), 22) - 0.5
    )
    quarter = jax.lax.shift_right_logical(angle_bits, jnp.uint32(30))
    odd = (quarter & 1) == 1  # a quarter turn maps (cos, sin) to (-sin, cos)
    cos, sin = jnp.where(odd, -sin, cos), jnp.where(odd, cos, sin)
    sign = jnp.where(quarter >= 2, -radius, radius)  # a half turn negates both
    return jnp.concatenate([sign * cos, sign * sin])


def normal(key: PRNGKey, shape: tuple[int, ...]) -> Array:
    """Standard normal float32 draws of the given shape, from one random call."""
    size = math.prod(shape)
    words = random_words(key, size + size % 2)
    return _normals(*jnp.split(words, 2))[:size].reshape(shape)


def _proposal_inputs(key: PRNGKey, n: int, offset: int) -> tuple[Array, Array, int]:
    """``n`` normals and ``n`` uniforms (``n`` even) from the stream at ``offset``; and the next offset.

    They are materialised (``optimization_barrier``) before the proposals use them: left to
    itself, XLA on CPU fuses the Box–Muller step into every consumer of a slice and runs twice as
    slowly.
    """
    radius_bits, angle_bits, uniform_bits = jnp.split(random_words(key, 2 * n, offset), [n // 2, n])
    uniforms = _uniform(jax.lax.shift_right_logical(uniform_bits, jnp.uint32(8)))
    normals, uniforms = jax.lax.optimization_barrier((_normals(radius_bits, angle_bits), uniforms))
    return normals, uniforms, offset + 2 * n


def _marsaglia_tsang(x: Array, u: Array, d: Array, c: Array) -> tuple[Array, Array]:
    r"""Evaluate proposals: ``(accepted, value)`` for normals ``x`` and uniforms ``u``.

    With :math:`d = a - 1/3`, :math:`c = 1/\sqrt{9d}` and :math:`v = (1 + cx)^3`, the proposal
    :math:`dv` is accepted when :math:`v > 0` and :math:`\ln u < x^2/2 + d\,(1 - v + \ln v)`;
    :math:`\ln v` is taken with ``log1p`` and :math:`v - 1` expanded, so that the test keeps its
    precision for large shapes.
    """
    w = c * x
    v_minus_one = w * (3.0 + w * (3.0 + w))
    log_ratio = 0.5 * x * x + d * (3.0 * jnp.log1p(w) - v_minus_one)
    return (w > -1.0) & (jnp.log(u) < log_ratio), d * (1.0 + v_minus_one)


def _first_accepted(
    x: Array, u: Array, d: Array, c: Array, n_proposals: int
) -> tuple[Array, Array]:
    """Evaluate ``n_proposals`` proposals per element; ``(accepted any, first accepted value)``.

    Proposal ``k`` of element ``i`` uses ``x[k * size + i]`` and ``u[k * size + i]`` (contiguous
    slices: XLA vectorises them better than rows of a reshaped array).
    """
    size = d.size
    done = jnp.zeros(size, bool)
    value = jnp.zeros(size, jnp.float32)
    for k in range(n_proposals):
        proposal = slice(k * size, (k + 1) * size)
        accepted, candidate = _marsaglia_tsang(x[proposal], u[proposal], d, c)
        value = jnp.where(done, value, candidate)
        done = done | accepted
    return done, value


def gamma_at_least_one(key: PRNGKey, shape: Array) -> Array:
    r"""Exact :math:`\mathrm{Gamma}(a, 1)` draws for every shape :math:`a \ge 1` in ``shape``.

    Marsaglia–Tsang rejection sampling (acceptance rate at least 0.95 for :math:`a \ge 1`), with
    ``N_PROPOSALS`` proposals per element at once and a ``while_loop`` for the rare rest, ended
    after ``MAX_RETRIES`` rounds (see the module docstring).

    Reference:
      G. Marsaglia, W. W. Tsang, *A Simple Method for Generating Gamma Variables*, ACM
      Transactions on Mathematical Software 26(3), 2000.
    """
    d = jnp.asarray(shape, jnp.float32).ravel() - 1.0 / 3.0
    c = jax.lax.rsqrt(9.0 * d)
    size = d.size
    n_proposals = N_PROPOSALS * size + (N_PROPOSALS * size) % 2
    x, u, offset = _proposal_inputs(key, n_proposals, 0)
    done, value = _first_accepted(x, u, d, c, N_PROPOSALS)
    n_retry = size + size % 2

    def retry(carry):
        attempt, value, done = carry
        x, u, _ = _proposal_inputs(key, n_retry, offset + attempt * 2 * n_retry)
        accepted, candidate = _marsaglia_tsang(x[:size], u[:size], d, c)
        return attempt + 1, jnp.where(done, value, candidate), done | accepted

    def rejected_within_bound(carry):
        attempt, _, done = carry
        return ~jnp.all(done) & (attempt < MAX_RETRIES)

    _, value, _ = jax.lax.while_loop(rejected_within_bound, retry, (jnp.uint32(0), value, done))
    return jnp.maximum(value, _TINY).reshape(jnp.shape(shape))  # a kept proposal may be <= 0


def gamma(key: PRNGKey, shape: Array) -> Array:
    r"""Exact :math:`\mathrm{Gamma}(a, 1)` draws for every shape :math:`a > 0` in ``shape``.

    Shapes below 1 use :math:`G_a = G_{a+1} U^{1/a}` with :math:`U` uniform on (0, 1).
    """
    shape = jnp.asarray(shape, jnp.float32)
    boosted = shape < 1.0
    gamma_key, boost_key = jax.random.split(key)
    draw = gamma_at_least_one(gamma_key, jnp.where(boosted, shape + 1.0, shape))
    bits = random_words(boost_key, shape.size + shape.size % 2)[: shape.size].reshape(shape.shape)
    boost = jnp.exp(jnp.log(_uniform(jax.lax.shift_right_logical(bits, jnp.uint32(8)))) / shape)
    return jnp.where(boosted, draw * boost, draw)


def beta(key: PRNGKey, a: Array, b: Array) -> Array:
    r"""Exact :math:`\mathrm{Beta}(a, b)` draws for shapes :math:`a, b \ge 1` (arrays of one shape).

    :math:`X / (X + Y)` for independent :math:`X \sim \mathrm{Gamma}(a)` and
    :math:`Y \sim \mathrm{Gamma}(b)`, both drawn by one :func:`gamma_at_least_one` call.
    """
    x, y = gamma_at_least_one(key, jnp.stack([a, b]))
    return x / (x + y)


def beta_normal(key: PRNGKey, a: Array, b: Array) -> Array:
    r"""Moment-matched normal approximation of :math:`\mathrm{Beta}(a, b)` draws.

    :math:`m + s Z` with :math:`m = a / (a + b)`, :math:`s^2 = ab / ((a + b)^2 (a + b + 1))`
    and :math:`Z` standard normal: the mean and variance are exact, the shape is not (draws may
    leave [0, 1]). Close to the Beta distribution once :math:`a` and :math:`b` are both large.
    """
    total = a + b
    std = jnp.sqrt(a * b / (total * total * (total + 1.0)))
    return a / total + std * normal(key, jnp.shape(total))
