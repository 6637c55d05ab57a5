"""Bandits that detect changes of each arm's mean and restart that arm: CUSUM-UCB and GLR-klUCB."""

from __future__ import annotations

from functools import partial

import gymnasium as gym
import jax
import jax.numpy as jnp
from chex import Array, PRNGKey, Scalar, dataclass

from agentax._validation import Int, Real, validate
from agentax.agents._arms import (
    greedy_probabilities,
    one_hot,
    pick_tied_max,
    ucb_indices,
    uniform_arm,
)
from agentax.agents.base import AgentState
from agentax.agents.mab._common import RewardBandit
from agentax.agents.mab.change_detection import CUSUM, GLR, CUSUMState, GLRState, _forget
from agentax.agents.mab.kl_ucb import UNIT_REWARD_SPACE, klucb_indices

__all__ = ["CUSUMUCB", "CUSUMUCBState", "GLRklUCB", "GLRklUCBState"]


def _learn_and_detect(state, detector, action: Array, reward: Scalar):
    """Statistics and detector after a reward; an alarm forgets the pulled arm in both.

    Returns the new ``R``, ``N``, detector state and the alarm.
    """
    reward = jnp.asarray(reward, jnp.float32)
    chosen = one_hot(action, state.N.size)
    detector_state, alarm = detector.update(state.detector, action, reward)
    changed = (chosen == 1) & alarm
    R = _forget(state.R + chosen * reward, changed)
    N = _forget(state.N + chosen, changed)
    return R, N, detector.reset(detector_state, changed), alarm


@dataclass
class CUSUMUCBState(AgentState):
    """State of :class:`CUSUMUCB`.

    Attributes:
      R: sum of each arm's rewards since its last restart, shape ``(n_arms,)``.
      N: number of its pulls since then, shape ``(n_arms,)``.
      detector: the per-arm :class:`~agentax.agents.mab.CUSUMState`.
      restarts: number of alarms so far.
    """

    R: Array
    N: Array
    detector: CUSUMState
    restarts: Array


class CUSUMUCB(RewardBandit):
    r"""CUSUM-UCB: UCB with a two-sided CUSUM test on each arm; an alarm restarts that arm.

    Update, after arm :math:`A` gave reward :math:`r`: add it to :math:`R_A, N_A` and feed it to
    arm :math:`A`'s :class:`~agentax.agents.mab.CUSUM` test; on an alarm, forget arm
    :math:`A`'s rewards, pulls and test (a *local restart*).

    Sampling, from one uniform draw: with probability :math:`\alpha` a uniformly random arm
    (forced exploration, so that changes of neglected arms are seen), otherwise an arm with
    :math:`N_a = 0` if any, else

    .. math::
        \arg\max_a \; \frac{R_a}{N_a} + c \sqrt{\frac{\ln n_t}{N_a}}, \qquad n_t = \sum_b N_b.

    For a horizon :math:`T` with :math:`\Upsilon` changes the paper suggests
    :math:`h = \ln(T/\Upsilon)` and :math:`\alpha = \sqrt{(\Upsilon/T) \ln(T/\Upsilon)}`.

    Args:
      n_arms: number of arms.
      h: CUSUM alarm threshold, :math:`h > 0`.
      alpha: forced exploration probability in [0, 1].
      epsilon: CUSUM drift allowance :math:`\varepsilon \ge 0`.
      m: rewards of an arm that set its reference mean after a restart, at least 1.
      c: UCB exploration weight :math:`c \ge 0` (:math:`\sqrt 2` is UCB1 for rewards in [0, 1]).

    Reference:
      F. Liu, J. Lee, N. Shroff, *A Change-Detection based Framework for Piecewise-stationary
      Multi-Armed Bandit Problem*, AAAI 2018 (arXiv:1711.03539).
    """

    PARAMETERS = {"n_arms": Int(), **CUSUM.PARAMETERS, "alpha": Real(0.0, 1.0), "c": Real(0.0)}

    def __init__(
        self,
        n_arms: int,
        h: Scalar,
        alpha: Scalar,
        epsilon: Scalar = 0.05,
        m: int = 50,
        c: Scalar = 2.0**0.5,
    ) -> None:
        self.n_arms, alpha, c = validate(self.PARAMETERS, n_arms=n_arms, alpha=alpha, c=c).values()
        detector = CUSUM(h, epsilon, m)
        self.init = jax.jit(partial(self.init, n_arms=self.n_arms, detector=detector))
        self.update = jax.jit(partial(self.update, detector=detector))
        self.sample = jax.jit(partial(self.sample, alpha=alpha, c=c))
        self.action_probabilities = jax.jit(partial(self.action_probabilities, alpha=alpha, c=c))

    @staticmethod
    def init(key: PRNGKey, n_arms: int, detector: CUSUM) -> CUSUMUCBState:
        """No rewards, no pulls, fresh tests."""
        zeros = jnp.zeros(n_arms, jnp.float32)
        return CUSUMUCBState(
            R=zeros, N=zeros, detector=detector.init(n_arms), restarts=jnp.int32(0)
        )

    @staticmethod
    def update(
        state: CUSUMUCBState, key: PRNGKey, action: Array, reward: Scalar, detector: CUSUM
    ) -> CUSUMUCBState:
        """Add the reward, test the arm, and restart it on an alarm."""
        R, N, detector_state, alarm = _learn_and_detect(state, detector, action, reward)
        return CUSUMUCBState(R=R, N=N, detector=detector_state, restarts=state.restarts + alarm)

    @staticmethod
    def sample(state: CUSUMUCBState, key: PRNGKey, alpha: float, c: float) -> Array:
        """A random arm with probability ``alpha``, else the arm of highest UCB index.

        From one uniform draw ``u``: ``u < alpha`` explores arm ``floor(u / alpha * n)``;
        otherwise ``(u - alpha) / (1 - alpha)`` breaks ties between best indices.
        """
        u = jax.random.uniform(key)
        explore = u < alpha
        random_arm = uniform_arm(u / jnp.where(explore, alpha, 1.0), state.N.size)
        best_arm = pick_tied_max(
            ucb_indices(state.R, state.N, c), (u - alpha) / jnp.where(explore, 1.0, 1.0 - alpha)
        )
        return jnp.where(explore, random_arm, best_arm)

    @staticmethod
    def action_probabilities(state: CUSUMUCBState, key: PRNGKey, alpha: float, c: float) -> Array:
        r"""The exact distribution of :meth:`sample`: :math:`\alpha / K` on every arm plus
        :math:`1 - \alpha` shared by the arms of highest index."""
        return alpha / state.N.size + (1.0 - alpha) * greedy_probabilities(
            ucb_indices(state.R, state.N, c)
        )


@dataclass
class GLRklUCBState(AgentState):
    """State of :class:`GLRklUCB`.

    Attributes:
      R: sum of each arm's rewards since its last restart, shape ``(n_arms,)``.
      N: number of its pulls since then, shape ``(n_arms,)``.
      detector: the per-arm :class:`~agentax.agents.mab.GLRState`.
      age: steps since each arm's restart (or since the start), the time of its KL-UCB index.
      since_restart: steps since the last alarm (of any arm), which paces forced exploration.
      restarts: number of alarms so far.
    """

    R: Array
    N: Array
    detector: GLRState
    age: Array
    since_restart: Array
    restarts: Array


class GLRklUCB(RewardBandit):
    r"""GLR-klUCB: KL-UCB with a Bernoulli GLR test on each arm; an alarm restarts that arm.

    For rewards in [0, 1]. Update, after arm :math:`A` gave reward :math:`r`: add it to
    :math:`R_A, N_A` and feed it to arm :math:`A`'s :class:`~agentax.agents.mab.GLR` test; on an
    alarm forget arm :math:`A`'s rewards, pulls and test (the paper's *local restart*; for a
    global restart around any agent see :class:`~agentax.agents.mab.Restarting`).

    Sampling, with :math:`n` the steps since the last alarm and :math:`p = \lfloor K/\alpha \rfloor`:
    if :math:`n \bmod p < K`, arm :math:`n \bmod p` (deterministic forced exploration, a share
    :math:`\alpha` of the steps); otherwise an arm with :math:`N_a = 0` if any, else the arm of highest
    KL-UCB index of :class:`~agentax.agents.mab.KLUCB` computed on the pulls since each arm's
    restart, with each arm's own time :math:`t_a = t - \tau_a` (the steps since its restart
    :math:`\tau_a`, as in the paper's local restarts) in the exploration level
    :math:`\ln t_a + c \ln\ln t_a`, ties broken uniformly at random. An arm that did not change keeps
    its long time, so its index stays wide enough to notice that another arm's restart made it
    the best.

    For a horizon :math:`T` with :math:`\Upsilon` changes the paper suggests
    :math:`\delta = 1/\sqrt{\Upsilon T}` and :math:`\alpha = \sqrt{\Upsilon K \ln T / T}`.

    Args:
      n_arms: number of arms.
      delta: confidence level of the GLR test, in (0, 1).
      alpha: share of forced exploration in [0, 1]; 0 disables it.
      history: recent rewards per arm in which the GLR test looks for a change, at least 2.
      c: weight of the :math:`\ln\ln t_a` term of the KL-UCB index, :math:`c \ge 0`; 3 is that of
        kl-UCB's analysis (Cappé et al. 2013), and on the study's abrupt Bernoulli scenario it
        explores enough to see an arm improve while neglected (see :doc:`/nonstationary`).
      n_iterations: bisection steps of the KL-UCB index, at least 1.

    Reference:
      L. Besson, E. Kaufmann, O.-A. Maillard, J. Seznec, *Efficient Change-Point Detection for
      Tackling Piecewise-Stationary Bandits*, Journal of Machine Learning Research 23(77), 2022.
    """

    PARAMETERS = {
        "n_arms": Int(),
        **GLR.PARAMETERS,
        "alpha": Real(0.0, 1.0),
        "c": Real(0.0),
        "n_iterations": Int(),
    }

    def __init__(
        self,
        n_arms: int,
        delta: Scalar,
        alpha: Scalar,
        history: int = 256,
        c: Scalar = 3.0,
        n_iterations: int = 20,
    ) -> None:
        self.n_arms, alpha, c, n_iterations = validate(
            self.PARAMETERS, n_arms=n_arms, alpha=alpha, c=c, n_iterations=n_iterations
        ).values()
        detector = GLR(delta, history)
        period = int(self.n_arms / alpha) if alpha > 0 else 0
        self.init = jax.jit(partial(self.init, n_arms=self.n_arms, detector=detector))
        self.update = jax.jit(partial(self.update, detector=detector))
        self.sample = jax.jit(partial(self.sample, period=period, c=c, n_iterations=n_iterations))
        self.action_probabilities = jax.jit(
            partial(self.action_probabilities, period=period, c=c, n_iterations=n_iterations)
        )

    @property
    def update_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict(
            {"action": gym.spaces.Discrete(self.n_arms), "reward": UNIT_REWARD_SPACE}
        )

    @staticmethod
    def init(key: PRNGKey, n_arms: int, detector: GLR) -> GLRklUCBState:
        """No rewards, no pulls, fresh tests."""
        zeros = jnp.zeros(n_arms, jnp.float32)
        return GLRklUCBState(
            R=zeros,
            N=zeros,
            detector=detector.init(n_arms),
            age=zeros,
            since_restart=jnp.int32(0),
            restarts=jnp.int32(0),
        )

    @staticmethod
    def update(
        state: GLRklUCBState, key: PRNGKey, action: Array, reward: Scalar, detector: GLR
    ) -> GLRklUCBState:
        """Add the reward, test the arm, and restart it on an alarm."""
        R, N, detector_state, alarm = _learn_and_detect(state, detector, action, reward)
        since_restart = jnp.where(alarm, 0, state.since_restart + 1).astype(jnp.int32)
        age = _forget(state.age + 1.0, (one_hot(action, N.size) == 1) & alarm)
        return GLRklUCBState(
            R=R,
            N=N,
            detector=detector_state,
            age=age,
            since_restart=since_restart,
            restarts=state.restarts + alarm,
        )

    @staticmethod
    def sample(
        state: GLRklUCBState, key: PRNGKey, period: int, c: float, n_iterations: int
    ) -> Array:
        """The forced-exploration arm if it is its turn, else the arm of highest KL-UCB index."""
        u = jax.random.uniform(key)
        best_arm = pick_tied_max(klucb_indices(state.R, state.N, c, n_iterations, state.age), u)
        if period == 0:
            return best_arm
        turn = state.since_restart % period
        return jnp.where(turn < state.N.size, turn, best_arm).astype(best_arm.dtype)

    @staticmethod
    def action_probabilities(
        state: GLRklUCBState, key: PRNGKey, period: int, c: float, n_iterations: int
    ) -> Array:
        """The exact distribution of :meth:`sample`: the forced arm on its turn, else uniform over the best indices."""
        best = greedy_probabilities(klucb_indices(state.R, state.N, c, n_iterations, state.age))
        if period == 0:
            return best
        turn = state.since_restart % period
        return jnp.where(
            turn < state.N.size, (jnp.arange(state.N.size) == turn).astype(best.dtype), best
        )
