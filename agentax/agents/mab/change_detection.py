r"""Per-arm change detectors (CUSUM, Bernoulli GLR) and :class:`Restarting`, which restarts any bandit on an alarm.

A detector watches the rewards of each arm separately. Its state has a fixed size (per-arm
counters and, for the GLR test, a ring buffer of each arm's most recent rewards), and
``update(state, action, reward) -> (state, alarm)`` feeds it the reward of the pulled arm only.
``reset(state, arms)`` forgets the arms where ``arms`` is ``True``.

The detecting agents :class:`~agentax.agents.mab.CUSUMUCB` and
:class:`~agentax.agents.mab.GLRklUCB` restart only the arm that changed (local restarts), as in
their papers; :class:`Restarting` wraps any agent that learns from ``action`` and ``reward`` and
restarts all of it on an alarm (global restart, as in Besson et al. 2022 and the CD-UCB framework
of Liu et al. 2018, where any bandit runs between detections).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import gymnasium as gym
import jax
import jax.numpy as jnp
from chex import Array, PRNGKey, dataclass

from agentax._validation import Int, Real, validate
from agentax.agents._arms import one_hot, uniform_arm
from agentax.agents.base import AgentState, BaseAgent
from agentax.agents.mab._common import WrapperBandit
from agentax.agents.mab._kl import kl_bernoulli
from agentax.errors import UnsupportedAgentError

__all__ = ["CUSUM", "CUSUMState", "GLR", "GLRState", "Restarting", "RestartingState"]

_EXPLORE_STREAM = 0x52535452  # fold_in data of the forced-exploration draw of Restarting


def _forget(array: Array, arms: Array) -> Array:
    """``array`` with the rows of ``arms`` (booleans, shape ``(n_arms,)``) set to zero."""
    arms = arms.reshape(arms.shape + (1,) * (array.ndim - 1))
    return jnp.where(arms, jnp.zeros_like(array), array)


@dataclass
class CUSUMState(AgentState):
    """State of a :class:`CUSUM` detector, one entry per arm.

    Attributes:
      count: rewards seen since the arm's last reset.
      reference_sum: sum of the first ``m`` of them (the reference mean is its average).
      g_up: CUSUM statistic of an increase of the mean.
      g_down: CUSUM statistic of a decrease of the mean.
    """

    count: Array
    reference_sum: Array
    g_up: Array
    g_down: Array


class CUSUM:
    r"""Two-sided CUSUM test of each arm's mean (Page 1954), as used by CUSUM-UCB.

    The first :math:`M` rewards :math:`y_1..y_M` of an arm after a reset give the reference mean
    :math:`\hat u_0`; each later reward :math:`y_k` updates

    .. math::
        g^+_k = \max(0,\ g^+_{k-1} + y_k - \hat u_0 - \varepsilon), \qquad
        g^-_k = \max(0,\ g^-_{k-1} + \hat u_0 - y_k - \varepsilon)

    and raises an alarm when :math:`\max(g^+_k, g^-_k) > h`.

    Args:
      h: alarm threshold :math:`h > 0` (the paper suggests :math:`\ln(T/\Upsilon)` for a horizon
        :math:`T` with :math:`\Upsilon` changes).
      epsilon: drift allowance :math:`\varepsilon \ge 0`, in reward units (changes smaller than
        about :math:`\varepsilon` go undetected).
      m: :math:`M`, rewards that set the reference mean, at least 1.

    Reference:
      F. Liu, J. Lee, N. Shroff, *A Change-Detection based Framework for Piecewise-stationary
      Multi-Armed Bandit Problem*, AAAI 2018 (arXiv:1711.03539).
    """

    PARAMETERS = {"h": Real(0.0, low_open=True), "epsilon": Real(0.0), "m": Int()}

    def __init__(self, h: float, epsilon: float, m: int) -> None:
        self.h, self.epsilon, self.m = validate(self.PARAMETERS, h=h, epsilon=epsilon, m=m).values()

    def init(self, n_arms: int) -> CUSUMState:
        """Every arm freshly reset."""
        zeros = jnp.zeros(n_arms, jnp.float32)
        return CUSUMState(
            count=jnp.zeros(n_arms, jnp.int32), reference_sum=zeros, g_up=zeros, g_down=zeros
        )

    def update(self, state: CUSUMState, action: Array, reward: Array) -> tuple[CUSUMState, Array]:
        """Feed the pulled arm's reward; the alarm is ``True`` if that arm's mean changed."""
        chosen = one_hot(action, state.count.size).astype(bool)
        count = state.count + chosen
        reference = chosen & (count <= self.m)
        testing = chosen & (count > self.m)
        u0 = state.reference_sum / self.m
        g_up = jnp.where(
            testing, jnp.maximum(0.0, state.g_up + reward - u0 - self.epsilon), state.g_up
        )
        g_down = jnp.where(
            testing, jnp.maximum(0.0, state.g_down + u0 - reward - self.epsilon), state.g_down
        )
        state = CUSUMState(
            count=count,
            reference_sum=jnp.where(reference, state.reference_sum + reward, state.reference_sum),
            g_up=g_up,
            g_down=g_down,
        )
        return state, jnp.any(testing & (jnp.maximum(g_up, g_down) > self.h))

    def reset(self, state: CUSUMState, arms: Array) -> CUSUMState:
        """Forget the arms where ``arms`` is ``True``."""
        return jax.tree.map(lambda x: _forget(x, arms), state)


@dataclass
class GLRState(AgentState):
    """State of a :class:`GLR` detector, one row per arm.

    Attributes:
      count: rewards seen since the arm's last reset.
      total: their sum.
      recent: ring buffer of the arm's last ``history`` rewards, shape ``(n_arms, history)``.
      position: the slot of each arm's ring the next reward overwrites.
    """

    count: Array
    total: Array
    recent: Array
    position: Array


class GLR:
    r"""Bernoulli generalized likelihood ratio test of each arm's mean (Besson et al. 2022).

    After :math:`n` rewards of an arm since its reset, with :math:`\hat\mu_{i:j}` the mean of
    rewards :math:`i..j`, an alarm is raised when

    .. math::
        \max_{s} \; s \operatorname{kl}(\hat\mu_{1:s}, \hat\mu_{1:n})
            + (n - s) \operatorname{kl}(\hat\mu_{s+1:n}, \hat\mu_{1:n})
        \;\ge\; \beta(n, \delta) = \ln\frac{3 n^{3/2}}{\delta}

    with :math:`\operatorname{kl}` the Bernoulli divergence (rewards in [0, 1]). The state keeps
    each arm's count and sum since its reset exactly, and its last ``history`` rewards in a ring
    buffer, so the split :math:`s` ranges over the last ``history`` rewards: a change older than
    that many pulls of the arm is not looked for (it would have been detected long before, since
    the detection delay is far shorter). The cost of an update is :math:`O(\text{history})`.

    Args:
      delta: confidence level :math:`\delta \in (0, 1)` (the paper suggests
        :math:`1/\sqrt{\Upsilon T}`).
      history: number of recent rewards per arm in which a change point is searched, at least 2.

    Reference:
      L. Besson, E. Kaufmann, O.-A. Maillard, J. Seznec, *Efficient Change-Point Detection for
      Tackling Piecewise-Stationary Bandits*, Journal of Machine Learning Research 23(77), 2022.
    """

    PARAMETERS = {"delta": Real(0.0, 1.0, low_open=True, high_open=True), "history": Int(2)}

    def __init__(self, delta: float, history: int = 256) -> None:
        self.delta, self.history = validate(self.PARAMETERS, delta=delta, history=history).values()

    def init(self, n_arms: int) -> GLRState:
        """Every arm freshly reset."""
        return GLRState(
            count=jnp.zeros(n_arms, jnp.int32),
            total=jnp.zeros(n_arms, jnp.float32),
            recent=jnp.zeros((n_arms, self.history), jnp.float32),
            position=jnp.zeros(n_arms, jnp.int32),
        )

    def threshold(self, n: Array) -> Array:
        r""":math:`\beta(n, \delta) = \ln(3 n^{3/2} / \delta)`."""
        return jnp.log(3.0 / self.delta) + 1.5 * jnp.log(jnp.maximum(n, 1.0))

    def statistic(self, state: GLRState, arm: Array) -> Array:
        """The GLR statistic of ``arm``: the largest split's value, 0 with fewer than 2 rewards."""
        n = state.count[arm].astype(jnp.float32)
        total = state.total[arm]
        newest_first = jnp.roll(
            state.recent[arm][::-1], state.position[arm]
        )  # newest reward at index 0
        n_after = jnp.arange(1, self.history + 1, dtype=jnp.float32)
        sum_after = jnp.cumsum(newest_first)
        n_before = n - n_after
        valid = n_before >= 1
        mean_all = total / jnp.maximum(n, 1.0)
        mean_after = sum_after / n_after
        mean_before = (total - sum_after) / jnp.maximum(n_before, 1.0)
        glr = n_before * kl_bernoulli(mean_before, mean_all) + n_after * kl_bernoulli(
            mean_after, mean_all
        )
        return jnp.max(jnp.where(valid, glr, 0.0))

    def update(self, state: GLRState, action: Array, reward: Array) -> tuple[GLRState, Array]:
        """Feed the pulled arm's reward; the alarm is ``True`` if that arm's mean changed."""
        reward = jnp.asarray(reward, jnp.float32)
        chosen = one_hot(action, state.count.size)
        slot = state.position[action]
        state = GLRState(
            count=state.count + chosen,
            total=state.total + chosen * reward,
            recent=state.recent.at[action, slot].set(reward),
            position=jnp.where(chosen == 1, (slot + 1) % self.history, state.position),
        )
        n = state.count[action].astype(jnp.float32)
        return state, self.statistic(state, action) >= self.threshold(n)

    def reset(self, state: GLRState, arms: Array) -> GLRState:
        """Forget the arms where ``arms`` is ``True``."""
        return jax.tree.map(lambda x: _forget(x, arms), state)


Detector = CUSUM | GLR


@dataclass
class RestartingState(AgentState):
    """State of :class:`Restarting`.

    Attributes:
      agent_state: the wrapped agent's state.
      detector: the detector's state.
      restarts: how many times the wrapped agent was restarted.
    """

    agent_state: AgentState
    detector: AgentState
    restarts: Array


class Restarting(WrapperBandit):
    r"""Wraps a bandit with a per-arm change detector; an alarm restarts the whole agent.

    ``update`` feeds the pulled arm's reward to ``detector`` (:class:`CUSUM` or :class:`GLR`),
    then updates the wrapped agent; on an alarm the wrapped agent's state is replaced by a fresh
    ``init`` and every arm's detector is reset (a *global restart*). ``sample`` explores a
    uniformly random arm with probability :math:`\alpha` (so that a change on an arm the agent
    stopped playing is still seen) and otherwise returns the wrapped agent's choice.

    This is the CD-UCB framework of Liu et al. (2018) and the global-restart variant of
    GLR-klUCB (Besson et al. 2022) around any bandit; :class:`~agentax.agents.mab.CUSUMUCB` and
    :class:`~agentax.agents.mab.GLRklUCB` are the papers' own local-restart agents. The wrapper
    keeps the wrapped agent's spaces and :meth:`parameter_space`.

    Args:
      agent: a constructed agent whose ``update`` takes ``action`` and ``reward`` and whose
        action space is :class:`gymnasium.spaces.Discrete`.
      detector: a :class:`CUSUM` or :class:`GLR` detector.
      alpha: forced exploration probability :math:`\alpha \in [0, 1]`.

    Raises:
      UnsupportedAgentError: ``agent`` is not such an agent, or ``detector`` is not a detector.
      ValueError: ``alpha`` is outside [0, 1].
    """

    #: The wrapper's own parameter; :meth:`parameter_space` is the wrapped agent's.
    PARAMETERS = {"alpha": Real(0.0, 1.0)}

    def __init__(self, agent: BaseAgent, detector: Detector, alpha: float = 0.0) -> None:
        space = agent.update_observation_space if isinstance(agent, BaseAgent) else None
        if (
            not isinstance(agent, BaseAgent)
            or not isinstance(agent.action_space, gym.spaces.Discrete)
            or not isinstance(space, gym.spaces.Dict)
            or not {"action", "reward"} <= set(space.spaces)
        ):
            raise UnsupportedAgentError(
                "Restarting",
                agent,
                "a constructed bandit (e.g. UCB(n_arms=4, c=1.0)) that learns from action and reward",
            )
        if not isinstance(detector, (CUSUM, GLR)):
            raise UnsupportedAgentError(
                "Restarting", detector, "a change detector: CUSUM(h, epsilon, m) or GLR(delta)"
            )
        self.agent = agent
        self.detector = detector
        self.n_arms = int(agent.action_space.n)
        self.alpha = alpha = validate(self.PARAMETERS, alpha=alpha)["alpha"]
        self.parameter_space = agent.parameter_space
        self.init = jax.jit(partial(self.init, agent=agent, detector=detector, n_arms=self.n_arms))
        self.update = jax.jit(partial(self.update, agent=agent, detector=detector))
        self.sample = jax.jit(partial(self.sample, agent=agent, alpha=alpha))

    @staticmethod
    def init(key: PRNGKey, agent: BaseAgent, detector: Detector, n_arms: int) -> RestartingState:
        """The wrapped agent's initial state and a fresh detector."""
        return RestartingState(
            agent_state=agent.init(key), detector=detector.init(n_arms), restarts=jnp.int32(0)
        )

    @staticmethod
    def update(
        state: RestartingState,
        key: PRNGKey,
        action: Array,
        reward: Array,
        agent: BaseAgent,
        detector: Detector,
        **observations: Any,
    ) -> RestartingState:
        """Detect, update the wrapped agent, and restart it (from ``key``) on an alarm."""
        update_key, restart_key = jax.random.split(key)
        detector_state, alarm = detector.update(state.detector, action, reward)
        updated = agent.update(
            state.agent_state, update_key, action=action, reward=reward, **observations
        )
        fresh = agent.init(restart_key)
        everything = jnp.ones_like(detector_state.count, dtype=bool)
        return RestartingState(
            agent_state=jax.tree.map(lambda new, old: jnp.where(alarm, new, old), fresh, updated),
            detector=detector.reset(detector_state, everything & alarm),
            restarts=state.restarts + alarm,
        )

    @staticmethod
    def sample(
        state: RestartingState,
        key: PRNGKey,
        *args: Any,
        agent: BaseAgent,
        alpha: float,
        **observations: Any,
    ) -> Array:
        """A uniformly random arm with probability ``alpha``, else the wrapped agent's."""
        arm = agent.sample(state.agent_state, key, *args, **observations)
        if alpha == 0.0:
            return arm
        u = jax.random.uniform(jax.random.fold_in(key, _EXPLORE_STREAM))
        n_arms = state.detector.count.size
        return jnp.where(u < alpha, uniform_arm(u / alpha, n_arms), arm).astype(arm.dtype)

    def action_probabilities(
        self, state: RestartingState, key: PRNGKey, **observations: Any
    ) -> Array:
        r"""The distribution of :meth:`sample`: :math:`\alpha / K` on every arm plus :math:`1 - \alpha`
        times the wrapped agent's ``action_probabilities`` (which it must have)."""
        inner = self.agent.action_probabilities(state.agent_state, key, **observations)
        return self.alpha / self.n_arms + (1.0 - self.alpha) * inner
