"""Deep expected Sarsa with a softmax (Boltzmann) policy."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import optax
from chex import Array, PRNGKey, Scalar, Shape, dataclass
from flax import linen as nn

from agentax._validation import Real, declared, validate
from agentax.agents.deep._value_based import QAgent, QState, TDLearning
from agentax.agents.deep.td import expected_sarsa

__all__ = ["ExpectedSarsa", "ExpectedSarsaState"]


@dataclass
class ExpectedSarsaState(QState):
    """State of :class:`ExpectedSarsa`: the fields of every value-based agent (see ``QState``)."""


class ExpectedSarsa(QAgent):
    r"""Deep expected Sarsa: the TD target averages the next values over the agent's own policy.

    The policy is a softmax of the online network's values with temperature :math:`\tau`,

    .. math::
        \pi(a \mid s) = \frac{e^{Q_\theta(s, a)/\tau}}{\sum_b e^{Q_\theta(s, b)/\tau}}, \qquad
        \delta = r + \gamma\,(1 - \text{terminal}) \sum_{a'} \pi(a' \mid s')\, Q_{\theta^-}(s', a')
                 - Q_\theta(s, a),

    where :math:`\theta^-` are the target network's parameters, copied from :math:`\theta` every
    ``target_update_freq`` gradient steps (1: bootstrap from the online network itself, as
    reinforced-lib does). Each ``update`` stores the transition, then, once the replay buffer
    holds a batch, takes ``experience_replay_steps`` gradient steps on the mean Huber or L2 loss of
    :math:`\delta`. ``sample`` draws an action from :math:`\pi(\cdot \mid s)`.

    Observations and episode boundaries are those of :class:`agentax.agents.deep.DQN`:
    ``update(env_state, action, reward, terminal, truncated)``, ``sample(env_state)``; after an
    episode ends, the next ``update`` brings the new episode's first observation.

    Refused, nothing clipped: through :class:`agentax.RLib`, an observation or reward that is not
    finite in float32, and a flag other than ``True``/``False`` (or 0/1), raise
    :class:`~agentax.errors.ObservationError` (also when an extension computes them); an update
    that would make a network, optimizer or buffer entry non-finite raises
    :class:`~agentax.errors.NonFiniteStateError`. Either way the instance is kept as it was.

    Args:
      q_network: a flax module mapping observations ``(B, *obs_space_shape)`` to action values
        ``(B, act_space_size)``; it may draw from the random stream ``'agentax'`` (or ``'rlib'``).
      obs_space_shape: shape of one observation (an integer ``n`` means ``(n,)``).
      act_space_size: number of discrete actions.
      optimizer: optax optimizer of the online network; ``None`` means Adam with step size 1e-3.
      experience_replay_buffer_size: capacity of the replay buffer, in transitions.
      experience_replay_batch_size: transitions per gradient step, at most the capacity.
      experience_replay_steps: gradient steps per ``update`` once the buffer holds a batch.
      discount: discount factor :math:`\gamma` in [0, 1].
      tau: softmax temperature :math:`\tau > 0` (small: nearly greedy; large: nearly uniform).
      target_update_freq: gradient steps between copies of the online network to the target.
      loss: ``"huber"`` or ``"l2"``.

    The defaults learn CartPole-v1 with a 2 x 64 ReLU network; see ``examples/cartpole_dqn.py``.

    References:
      H. van Seijen, H. van Hasselt, S. Whiteson, M. Wiering, "A Theoretical and Empirical
      Analysis of Expected Sarsa", IEEE ADPRL 2009.
    """

    PARAMETERS = {**QAgent.PARAMETERS, "tau": Real(0.0, low_open=True)}

    def __init__(
        self,
        q_network: nn.Module,
        obs_space_shape: Shape | int,
        act_space_size: int,
        optimizer: optax.GradientTransformation | None = None,
        experience_replay_buffer_size: int = 50000,
        experience_replay_batch_size: int = 64,
        experience_replay_steps: int = 1,
        discount: Scalar = 0.99,
        tau: Scalar = 1.0,
        target_update_freq: int = 100,
        loss: str = "l2",
    ) -> None:
        p = validate(self.PARAMETERS, **declared(self.PARAMETERS, locals()))
        tau = p["tau"]
        shared = self.bind_td_learning(
            q_network,
            p,
            optimizer=optimizer,
            loss=loss,
            td_error=partial(self.td_error, tau=tau),
            target_tau=1.0,  # a copy every target_update_freq steps
        )
        self.init = jax.jit(partial(self.init, shared=shared))
        self.update = jax.jit(partial(self.update, shared=shared))
        self.sample = jax.jit(partial(self.sample, shared=shared, tau=tau))

    @staticmethod
    def td_error(
        q_tm1: Array,
        a_tm1: Array,
        r_t: Array,
        discount_t: Array,
        q_t_target: Array,
        q_t_online: Array,
        tau: float,
    ) -> Array:
        """Expected Sarsa's TD error under the softmax of the online values at the next state."""
        return expected_sarsa(
            q_tm1, a_tm1, r_t, discount_t, q_t_target, jax.nn.softmax(q_t_online / tau)
        )

    @staticmethod
    def init(key: PRNGKey, shared: TDLearning) -> ExpectedSarsaState:
        """Online and target networks equal, an empty buffer."""
        return ExpectedSarsaState(**shared.init(key))

    @staticmethod
    def update(
        state: ExpectedSarsaState,
        key: PRNGKey,
        env_state: Array,
        action: Array,
        reward: Scalar,
        terminal: Array,
        truncated: Array,
        shared: TDLearning,
        episode_start: Array = False,
    ) -> ExpectedSarsaState:
        """Store the transition, take the gradient steps, refresh the target.

        ``episode_start`` (optional) flags ``env_state`` as the first observation of an episode.
        """
        return shared.learn(
            state, key, env_state, action, reward, terminal, truncated, episode_start=episode_start
        )

    @staticmethod
    def sample(
        state: ExpectedSarsaState, key: PRNGKey, env_state: Array, shared: TDLearning, tau: float
    ) -> Array:
        """An action drawn from the softmax of the online values with temperature ``tau``."""
        network_key, action_key = jax.random.split(key)
        q = shared.q_values(state, network_key, env_state)
        return jax.random.categorical(action_key, q / tau).astype(jnp.int32)
