"""IEEE 802.11ax rate adaptation: the observations a rate manager gets from a Wi-Fi station.

A station transmits an A-MPDU (a burst of frames) at the modulation and coding scheme (MCS) its
agent chose, and learns how many frames got through. :class:`IEEE_802_11_ax_RA` turns those
counts into what bandit and deep agents need: the reward (throughput estimate), the time since
the instance's previous transmission, the data rates as a context, and a state vector.
"""

from __future__ import annotations

import gymnasium as gym
import jax.numpy as jnp
import numpy as np

from agentax.envs.wifi import HE_RATES_MBPS
from agentax.extensions.base import BaseExt, observation, parameter

__all__ = ["IEEE_802_11_ax_RA"]


_N_MCS = len(HE_RATES_MBPS)
_ENV_STATE_SIZE = 6
_COUNT = gym.spaces.Box(0, np.inf, (1,), np.int32)
_TIME = gym.spaces.Box(0.0, np.inf, (1,), np.float32)
_SCALAR = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
_POSITIVE_INT = gym.spaces.Box(1, np.inf, (1,), np.int32)
_SHAPE = gym.spaces.Sequence(_POSITIVE_INT)
_FLAG = gym.spaces.Box(0, 1, (1,), bool)  # the episode flags of deep agents


class IEEE_802_11_ax_RA(BaseExt):
    r"""Rate adaptation for 802.11ax, 20 MHz, 1 spatial stream, 0.8 µs guard interval, 12 HE MCS.

    Raw observations, by name as in reinforced-lib (``rl.sample(**observations)``): ``time`` (s),
    ``n_successful`` and ``n_failed`` (frames of the last A-MPDU), ``n_wifi`` (stations in the
    network), ``power`` (transmit power, dBm), ``cw`` (contention window), ``mcs`` (the MCS the
    last A-MPDU used; the facade already knows the instance's last action, so it is accepted but
    not needed) and ``last_time`` (see below).

    Computed observations:

    * ``rates``, ``context``: the MCS data rates :data:`agentax.envs.wifi.HE_RATES_MBPS` (Mb/s); Thompson sampling
      weighs each arm's success probability by it, so it maximises the expected throughput;
    * ``reward``: the throughput estimate of the last A-MPDU,
      :math:`r = R_a \, s / (s + f)` for MCS :math:`a`, :math:`s` successes and :math:`f`
      failures, and 0 when nothing was sent (:math:`s + f = 0`);
    * ``delta_time`` :math:`= t - t_{last}`, the time since the instance's previous call;
    * ``env_state``: the vector :math:`(\Delta t, s, f, n_{wifi}, P, cw)` for deep agents;
    * ``terminal``, ``truncated``: always false (a station's traffic never ends an episode).

    **Per-instance time.** reinforced-lib keeps the previous ``time`` on the extension object,
    which is wrong as soon as one extension serves several stations, and impossible inside a
    compiled step. Here the caller gives ``last_time`` — the ``time`` it passed at this
    instance's previous call (0 at the first) — next to ``time``: a simulator knows both, and
    ``delta_time`` stays a pure function of the call, the same for one instance or ``K`` stepped
    together. Only agents that need ``delta_time`` or ``env_state`` require it; leaving it out
    for them raises :class:`~agentax.errors.MissingObservationError` naming ``last_time``.

    Parameters supplied to agents: ``n_arms`` = ``n_mcs`` = 12, ``default_power`` (16.0206 dBm,
    ns-3's default transmit power), ``obs_space_shape`` = ``(6,)``, ``act_space_shape`` =
    ``(1,)`` and ``act_space_size`` = 12 (for DQN and other deep agents).

    Reference:
      IEEE Std 802.11ax-2021, *Enhancements for High-Efficiency WLAN*, doi:10.1109/IEEESTD.2021.9442429;
      the extension of the same name in reinforced-lib (M. Wojnar et al., SoftwareX 2024).
    """

    observation_space = gym.spaces.Dict(
        {
            "time": _TIME,
            "n_successful": _COUNT,
            "n_failed": _COUNT,
            "n_wifi": _POSITIVE_INT,
            "power": _SCALAR,
            "cw": gym.spaces.Discrete(32767),
            "mcs": gym.spaces.Discrete(_N_MCS),
            "last_time": _TIME,
        }
    )

    @observation(observation_type=gym.spaces.Box(0.0, np.inf, (_N_MCS,), np.float32))
    def rates(self):
        return jnp.asarray(HE_RATES_MBPS)

    @observation(observation_type=gym.spaces.Box(-np.inf, np.inf, (_N_MCS,), np.float32))
    def context(self):
        return jnp.asarray(HE_RATES_MBPS)

    @observation(observation_type=_SCALAR)
    def reward(self, action, n_successful, n_failed):
        sent = n_successful + n_failed
        ratio = n_successful / jnp.maximum(sent, 1)
        return jnp.where(sent > 0, jnp.asarray(HE_RATES_MBPS)[action] * ratio, 0.0).astype(
            jnp.float32
        )

    @observation(observation_type=gym.spaces.Box(0.0, np.inf, (1,), np.float32))
    def delta_time(self, time, last_time):
        return jnp.asarray(time - last_time, jnp.float32)

    @observation(observation_type=gym.spaces.Box(-np.inf, np.inf, (_ENV_STATE_SIZE,), np.float32))
    def env_state(self, time, last_time, n_successful, n_failed, n_wifi, power, cw):
        values = (self.delta_time(time, last_time), n_successful, n_failed, n_wifi, power, cw)
        return jnp.stack([jnp.asarray(value, jnp.float32) for value in values])

    @observation(observation_type=_FLAG)
    def terminal(self):
        return jnp.bool_(False)

    @observation(observation_type=_FLAG)
    def truncated(self):
        return jnp.bool_(False)

    @parameter(parameter_type=_POSITIVE_INT)
    def n_mcs(self) -> int:
        return _N_MCS

    @parameter(parameter_type=_POSITIVE_INT)
    def n_arms(self) -> int:
        return _N_MCS

    @parameter(parameter_type=_SCALAR)
    def default_power(self) -> float:
        return 16.0206

    @parameter(parameter_type=_SHAPE)
    def obs_space_shape(self) -> tuple[int, ...]:
        return (_ENV_STATE_SIZE,)

    @parameter(parameter_type=_SHAPE)
    def act_space_shape(self) -> tuple[int, ...]:
        return (1,)

    @parameter(parameter_type=_POSITIVE_INT)
    def act_space_size(self) -> int:
        return _N_MCS
