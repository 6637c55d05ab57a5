"""Neural epsilon-greedy: a network predicts each arm's reward from its features, trained on replay."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import optax
from chex import Array, PRNGKey, Scalar, dataclass
from flax import linen as nn

from agentax._validation import Int, Real, validate
from agentax.agents._arms import decayed
from agentax.agents.base import AgentState
from agentax.agents.contextual._common import ContextualBandit
from agentax.agents.deep.core import (
    NetworkState,
    agent_replay,
    apply_gradient,
    apply_network,
    gradient_steps,
    init_network,
)
from agentax.agents.deep.networks import check_network_output, mlp
from agentax.agents.deep.policies import epsilon_greedy
from agentax.utils import Batch, ExperienceReplay, ReplayBuffer, forward

__all__ = ["NeuralEGreedy", "NeuralEGreedyState", "RewardNetwork"]


class RewardNetwork(nn.Module):
    """The default network: one hidden ReLU layer, then one predicted reward per arm.

    Attributes:
      n_arms: number of outputs.
      hidden: width of the hidden layer.
    """

    n_arms: int
    hidden: int = 64

    @nn.compact
    def __call__(self, x: Array) -> Array:
        return mlp(x, (self.hidden,), self.n_arms)


@dataclass
class NeuralEGreedyState(AgentState):
    """State of :class:`NeuralEGreedy`.

    Attributes:
      network: the network and its optimizer's state.
      replay_buffer: past plays: ``observations`` the played arms' features, ``actions`` the arms,
        ``rewards`` their rewards.
      e: the current exploration probability.
    """

    network: NetworkState
    replay_buffer: ReplayBuffer
    e: Array


class NeuralEGreedy(ContextualBandit):
    r"""Epsilon-greedy over rewards predicted by a neural network from each arm's features.

    The network :math:`f_\phi` maps one feature vector to ``n_arms`` outputs; arm :math:`a` with
    features :math:`x_a` (row ``a`` of ``context``) is predicted to pay :math:`f_\phi(x_a)_a`. Its
    hidden layers are shared by all arms and each arm has its own output, so arms whose features
    look alike may still pay differently (as in the disjoint model of :class:`LinUCB`).

    Update, after arm :math:`a` with features :math:`x` paid :math:`r`: store :math:`(x, a, r)` in
    the replay buffer; once it holds a batch, take ``experience_replay_steps`` optimizer steps,
    each on a batch :math:`B` drawn uniformly from it,

    .. math::
        \mathcal L(\phi) = \frac{1}{|B|} \sum_{(x, a, r) \in B} \big(f_\phi(x)_a - r\big)^2,
        \qquad \epsilon \leftarrow \max(\epsilon \cdot \epsilon_{decay}, \epsilon_{min})

    Sampling: with probability :math:`\epsilon` a uniformly random arm, otherwise
    :math:`\arg\max_a f_\phi(x_a)_a`.

    Observations: as :class:`LinUCB`, ``sample(context)`` with ``context`` of shape
    ``(n_arms, n_features)`` and ``update(action, reward, action_context)``.

    Refused, nothing clipped: through :class:`agentax.RLib`, a reward or a context that is not
    finite in float32 raises :class:`~agentax.errors.ObservationError` (also when an extension
    computes it), and an update that would make the state non-finite (e.g. features so large that
    their outer products overflow) :class:`~agentax.errors.NonFiniteStateError`.

    Args:
      n_arms: number of arms.
      n_features: length of each arm's feature vector.
      network: a flax module mapping ``(batch, n_features)`` to ``(batch, n_arms)``; default
        :class:`RewardNetwork`. A stochastic module draws from the ``'agentax'`` stream.
      optimizer: an optax optimizer; default Adam with learning rate 1e-3.
      experience_replay_buffer_size: how many past plays are kept.
      experience_replay_batch_size: plays per gradient step, at most the buffer size.
      experience_replay_steps: gradient steps per update.
      e: initial exploration probability, in [0, 1].
      e_min: lower bound of the decayed epsilon, in [0, e].
      e_decay: factor applied to epsilon after each update, in [0, 1].

    Reference:
      C. Riquelme, G. Tucker, J. Snoek, "Deep Bayesian bandits showdown: an empirical comparison of
      Bayesian deep networks for Thompson sampling", ICLR 2018 (the neural greedy baseline, with
      epsilon-greedy exploration as in R. S. Sutton, A. G. Barto, *Reinforcement Learning: An
      Introduction*, 2nd ed., 2018, section 2.2).
    """

    PARAMETERS = {
        "n_arms": Int(),
        "n_features": Int(),
        "experience_replay_buffer_size": Int(),
        "experience_replay_batch_size": Int(1, "experience_replay_buffer_size"),
        "experience_replay_steps": Int(),
        "e": Real(0.0, 1.0),
        "e_min": Real(0.0, "e"),
        "e_decay": Real(0.0, 1.0),
    }

    def __init__(
        self,
        n_arms: int,
        n_features: int,
        network: nn.Module | None = None,
        optimizer: optax.GradientTransformation | None = None,
        experience_replay_buffer_size: int = 10_000,
        experience_replay_batch_size: int = 64,
        experience_replay_steps: int = 5,
        e: Scalar = 0.1,
        e_min: Scalar = 0.0,
        e_decay: Scalar = 1.0,
    ) -> None:
        p = validate(
            self.PARAMETERS,
            n_arms=n_arms,
            n_features=n_features,
            experience_replay_buffer_size=experience_replay_buffer_size,
            experience_replay_batch_size=experience_replay_batch_size,
            experience_replay_steps=experience_replay_steps,
            e=e,
            e_min=e_min,
            e_decay=e_decay,
        )
        self.n_arms, self.n_features = p["n_arms"], p["n_features"]
        network = RewardNetwork(self.n_arms) if network is None else network
        optimizer = optax.adam(1e-3) if optimizer is None else optimizer
        if not isinstance(network, nn.Module):
            raise ValueError(f"network must be a flax.linen.Module, got {network!r}")
        if not isinstance(optimizer, optax.GradientTransformation):
            raise ValueError(
                f"optimizer must be an optax.GradientTransformation, got {optimizer!r}"
            )
        check_network_output(
            "network",
            network,
            (jnp.zeros((1, self.n_features), jnp.float32),),
            lambda shape: shape == (1, self.n_arms),
            f"(1, n_arms) = {(1, self.n_arms)}",
        )
        er = agent_replay(
            buffer_size=p["experience_replay_buffer_size"],
            batch_size=p["experience_replay_batch_size"],
            obs_shape=(self.n_features,),
            act_shape=(),
            act_dtype=jnp.int32,
        )
        e = p["e"]
        step = partial(
            apply_gradient, optimizer=optimizer, loss_fn=partial(_squared_error, network=network)
        )
        self.init = jax.jit(
            partial(
                self.init,
                network=network,
                optimizer=optimizer,
                er=er,
                n_features=self.n_features,
                e=e,
            )
        )
        self.update = jax.jit(
            partial(
                self.update,
                er=er,
                step=step,
                experience_replay_steps=p["experience_replay_steps"],
                e_min=p["e_min"],
                e_decay=p["e_decay"],
            )
        )
        self.sample = jax.jit(partial(self.sample, network=network))
        self.action_probabilities = jax.jit(partial(self.action_probabilities, network=network))

    @staticmethod
    def init(
        key: PRNGKey,
        network: nn.Module,
        optimizer: optax.GradientTransformation,
        er: ExperienceReplay,
        n_features: int,
        e: float,
    ) -> NeuralEGreedyState:
        """A freshly initialised network, an empty buffer and the initial epsilon."""
        return NeuralEGreedyState(
            network=init_network(
                network, optimizer, key, jnp.zeros((1, n_features), jnp.float32), target=False
            ),
            replay_buffer=er.init(),
            e=jnp.asarray(e, dtype=jnp.float32),
        )

    @staticmethod
    def update(
        state: NeuralEGreedyState,
        key: PRNGKey,
        action: Array,
        reward: Scalar,
        action_context: Array,
        er: ExperienceReplay,
        step: Callable,
        experience_replay_steps: int,
        e_min: float,
        e_decay: float,
    ) -> NeuralEGreedyState:
        """Store the play, train on replayed plays once there is a batch of them, decay epsilon."""
        buffer = er.append(
            state.replay_buffer, action_context, action, reward, False, action_context
        )

        def one_step(network: NetworkState, keys: PRNGKey) -> NetworkState:
            return step(network, key=keys[0], batch=er.sample(buffer, keys[1]))[0]

        def train(network: NetworkState) -> NetworkState:
            return gradient_steps(
                one_step, network, jax.random.split(key, (experience_replay_steps, 2))
            )

        network = jax.lax.cond(er.is_ready(buffer), train, lambda n: n, state.network)
        return NeuralEGreedyState(
            network=network, replay_buffer=buffer, e=decayed(state.e, e_decay, e_min)
        )

    @staticmethod
    def sample(
        state: NeuralEGreedyState, key: PRNGKey, context: Array, network: nn.Module
    ) -> Array:
        r"""A random arm with probability epsilon, else the arm with the highest predicted reward.

        One uniform draw :math:`u` does both: explore when :math:`u < \epsilon`, and then
        :math:`u / \epsilon` is uniform on [0, 1) and picks the arm.
        """
        draw_key, network_key = jax.random.split(key)
        return epsilon_greedy(
            predicted_rewards(state, network_key, context, network), state.e, draw_key
        )

    @staticmethod
    def action_probabilities(
        state: NeuralEGreedyState, key: PRNGKey, context: Array, network: nn.Module
    ) -> Array:
        r"""The exact distribution of :meth:`sample` for this key's network pass: :math:`\epsilon / K`
        on every arm plus :math:`1 - \epsilon` on the (first) arm of highest predicted reward."""
        predicted = predicted_rewards(state, jax.random.split(key)[1], context, network)
        n_arms = predicted.shape[0]
        return state.e / n_arms + (1.0 - state.e) * (jnp.arange(n_arms) == jnp.argmax(predicted))


def predicted_rewards(
    state: NeuralEGreedyState, key: PRNGKey, context: Array, network: nn.Module
) -> Array:
    r"""Each arm's predicted reward :math:`f_\phi(x_a)_a`, shape ``(n_arms,)``."""
    outputs, _ = apply_network(network, state.network, key, jnp.asarray(context, jnp.float32))
    return jnp.diagonal(outputs)


def _squared_error(
    params: dict, key: PRNGKey, net_state: dict, batch: Batch, *, network: nn.Module
):
    """Mean squared error of the played arms' predictions, and the network's new state."""
    outputs, net_state = forward(network, params, net_state, key, batch.observations)
    predicted = jnp.take_along_axis(outputs, batch.actions[:, None], axis=1)[:, 0]
    return jnp.mean((predicted - batch.rewards) ** 2), net_state
