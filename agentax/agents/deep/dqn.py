"""Deep Q-learning (DQN) and double deep Q-learning (DDQN) with epsilon-greedy exploration."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import optax
from chex import Array, PRNGKey, Scalar, Shape, dataclass
from flax import linen as nn

from agentax._validation import Real, declared, validate
from agentax.agents._arms import decayed
from agentax.agents.deep._value_based import QAgent, QState, TDLearning
from agentax.agents.deep.policies import epsilon_greedy
from agentax.agents.deep.td import double_q_learning, q_learning

__all__ = ["DQN", "DDQN", "DQNState"]


@dataclass
class DQNState(QState):
    """State of :class:`DQN` and :class:`DDQN`: the fields of every value-based agent and epsilon.

    Attributes:
      epsilon: the current exploration probability (``float32``). For greedy evaluation, sample
        from ``state.replace(epsilon=jnp.float32(0.0))``.
    """

    epsilon: Array


class DQN(QAgent):
    r"""Deep Q-learning with a target network, experience replay and epsilon-greedy exploration.

    Each ``update`` stores the transition that led to ``env_state`` in the replay buffer (see
    *Episode boundaries* below), then, once the buffer holds a batch, takes
    ``experience_replay_steps`` gradient steps on the mean loss :math:`\ell` (L2 or Huber) of the
    TD errors of sampled batches,

    .. math::
        \delta = r + \gamma\,(1 - \text{terminal}) \max_{a'} Q_{\theta^-}(s', a') - Q_\theta(s, a),

    where :math:`\theta^-` are the target network's parameters, refreshed every
    ``target_update_freq`` gradient steps by :math:`\theta^- \leftarrow \tau\theta + (1-\tau)\theta^-`
    (a copy when :math:`\tau = 1`, Polyak averaging when :math:`\tau` is small). Epsilon then
    decays: :math:`\epsilon \leftarrow \max(\epsilon\,\epsilon_{decay}, \epsilon_{min})`.

    ``sample`` returns a uniformly random action with probability :math:`\epsilon`, else
    :math:`\arg\max_a Q_\theta(s, a)`; ``sample_greedy`` always returns the latter (the facade's
    ``rl.sample(..., greedy=True)``), as does ``sample`` from ``state.replace(epsilon=jnp.float32(0.0))``.

    Observations: ``update(env_state, action, reward, terminal, truncated, episode_start)`` and
    ``sample(env_state)``, where ``env_state`` is the observation reached by ``action``,
    ``terminal`` / ``truncated`` are the flags gymnasium's ``env.step`` returns with it, and
    ``episode_start`` says that ``env_state`` is what ``env.reset()`` returned (optional with the
    pure functions; the ``Gymnasium`` extension sets it on ``rl.sample(*env.reset())``).

    Episode boundaries: a terminated transition does not bootstrap, a truncated one does. The
    first observation of an episode is recorded but joined to nothing: the agent knows it is one
    when ``episode_start`` says so, or when the previous step ended an episode (either flag),
    which it remembers in ``state.episode_ended``. A new agent's first ``update`` is such a start
    too (the facade calls ``update`` at an instance's first step for this). With the pure
    functions, after ``env.reset()``::

        state = agent.update(state, key, env_state=obs, action=0, reward=0.0, terminal=False, truncated=False,
                             episode_start=True)

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
      epsilon: initial exploration probability in [0, 1].
      epsilon_decay: factor applied to epsilon after each ``update``, in [0, 1].
      epsilon_min: lower bound of epsilon, in [0, epsilon].
      target_update_freq: gradient steps between target refreshes.
      tau: weight of the online parameters in a target refresh, in (0, 1].
      loss: ``"l2"`` (half the squared TD error) or ``"huber"`` (errors beyond 1 weigh linearly).
        L2 is the default because Huber weighs down the large errors of the terminal transitions,
        which carry most of the signal on tasks like CartPole.

    The defaults learn CartPole-v1 with a 2 x 64 ReLU network (``examples/cartpole_dqn.py``, tested
    in ``tests/agents/deep/test_learning.py``). The buffer's default, 10,000 transitions, learned
    CartPole as fast as 50,000 on the seeds measured (see that test) and is cheaper: a step through
    :class:`~agentax.RLib` copies the whole buffer, whose old value it keeps until the step is
    accepted.

    References:
      V. Mnih et al., "Human-level control through deep reinforcement learning", *Nature* 518,
      529-533, 2015.
    """

    PARAMETERS = {
        **QAgent.PARAMETERS,
        "epsilon": Real(0.0, 1.0),
        "epsilon_decay": Real(0.0, 1.0),
        "epsilon_min": Real(0.0, "epsilon"),
        "tau": Real(0.0, 1.0, low_open=True),
    }

    def __init__(
        self,
        q_network: nn.Module,
        obs_space_shape: Shape | int,
        act_space_size: int,
        optimizer: optax.GradientTransformation | None = None,
        experience_replay_buffer_size: int = 10000,
        experience_replay_batch_size: int = 64,
        experience_replay_steps: int = 1,
        discount: Scalar = 0.99,
        epsilon: Scalar = 1.0,
        epsilon_decay: Scalar = 0.999,
        epsilon_min: Scalar = 0.01,
        target_update_freq: int = 1,
        tau: Scalar = 0.005,
        loss: str = "l2",
    ) -> None:
        p = validate(self.PARAMETERS, **declared(self.PARAMETERS, locals()))
        shared = self.bind_td_learning(
            q_network,
            p,
            optimizer=optimizer,
            loss=loss,
            td_error=self.td_error,
            target_tau=p["tau"],
        )
        epsilon, epsilon_decay, epsilon_min = p["epsilon"], p["epsilon_decay"], p["epsilon_min"]
        self.init = jax.jit(partial(self.init, shared=shared, epsilon=epsilon))
        self.update = jax.jit(
            partial(
                self.update, shared=shared, epsilon_decay=epsilon_decay, epsilon_min=epsilon_min
            )
        )
        self.sample = jax.jit(partial(self.sample, shared=shared))

    @staticmethod
    def td_error(
        q_tm1: Array,
        a_tm1: Array,
        r_t: Array,
        discount_t: Array,
        q_t_target: Array,
        q_t_online: Array,
    ):
        """Q-learning's TD error, bootstrapping from the target network's best value."""
        return q_learning(q_tm1, a_tm1, r_t, discount_t, q_t_target)

    @staticmethod
    def init(key: PRNGKey, shared: TDLearning, epsilon: float) -> DQNState:
        """Online and target networks equal, an empty buffer, epsilon at its initial value."""
        return DQNState(**shared.init(key), epsilon=jnp.float32(epsilon))

    @staticmethod
    def update(
        state: DQNState,
        key: PRNGKey,
        env_state: Array,
        action: Array,
        reward: Scalar,
        terminal: Array,
        truncated: Array,
        shared: TDLearning,
        epsilon_decay: float,
        epsilon_min: float,
        episode_start: Array = False,
    ) -> DQNState:
        """Store the transition, take the gradient steps, refresh the target, decay epsilon.

        ``episode_start`` (optional) flags ``env_state`` as the first observation of an episode.
        """
        state = shared.learn(
            state, key, env_state, action, reward, terminal, truncated, episode_start=episode_start
        )
        return state.replace(epsilon=decayed(state.epsilon, epsilon_decay, epsilon_min))

    @staticmethod
    def sample(state: DQNState, key: PRNGKey, env_state: Array, shared: TDLearning) -> Array:
        """:func:`~agentax.agents.deep.epsilon_greedy` over the online network's action values."""
        network_key, explore_key = jax.random.split(key)
        return epsilon_greedy(
            shared.q_values(state, network_key, env_state), state.epsilon, explore_key
        )


class DDQN(DQN):
    r"""Double deep Q-learning: :class:`DQN` whose online network picks the next action and whose
    target network values it,

    .. math::
        \delta = r + \gamma\,(1 - \text{terminal})\,
                 Q_{\theta^-}\big(s', \arg\max_{a'} Q_\theta(s', a')\big) - Q_\theta(s, a),

    which removes Q-learning's overestimation from the max over noisy values. Everything else
    (parameters, observations, episode boundaries) is as in :class:`DQN`.

    References:
      H. van Hasselt, A. Guez, D. Silver, "Deep Reinforcement Learning with Double Q-learning",
      AAAI 2016.
    """

    @staticmethod
    def td_error(
        q_tm1: Array,
        a_tm1: Array,
        r_t: Array,
        discount_t: Array,
        q_t_target: Array,
        q_t_online: Array,
    ):
        """Double Q-learning's TD error: the online network selects, the target network values."""
        return double_q_learning(q_tm1, a_tm1, r_t, discount_t, q_t_target, q_t_online)
