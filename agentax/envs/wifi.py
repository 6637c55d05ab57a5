r"""An 802.11ax rate-adaptation simulator in JAX: stations send A-MPDUs at the MCS an agent picks.

Each step is one transmission opportunity (TXOP) of one station: it waits a random backoff, sends
an A-MPDU of as many 1500-byte frames as fit in the maximum PPDU duration at the chosen MCS, and
learns how many frames got through. The model, with every number in :class:`WifiParams`:

* **channel** — log-distance path loss, :math:`L(d) = L_0 + 10\,n \log_{10} d` (d in m,
  :math:`d \ge 1`), so :math:`\mathrm{SNR}(d) = P_{tx} - L(d) - N`;
* **frame errors** — each frame of MCS :math:`m` gets through independently with probability
  :math:`p_m(\mathrm{SNR}) = \Phi((\mathrm{SNR} - \theta_m) / \sigma)`, a normal CDF around the
  SNR :math:`\theta_m` at which half the frames are lost;
* **A-MPDU size** — :math:`k_m = \min(k_{max}, \lfloor (T_{max} - T_{pre}) R_m / B \rfloor)`
  frames of :math:`B` bits at data rate :math:`R_m`;
* **contention** — the A-MPDU collides (every frame lost) with probability
  :math:`1 - (1 - \tau)^{n - 1}` when :math:`n` stations share the channel (Bianchi's
  per-slot attempt probability :math:`\tau`); the contention window doubles after a TXOP that
  delivered nothing and resets after one that delivered something; the other :math:`n - 1`
  stations take their turn, so one step lasts :math:`b\,T_{slot} + n\,T_{txop}`;
* **mobility** — a station starts at ``distance_m`` and moves away at ``velocity_mps``
  (towards the access point when negative): :math:`d(t) = \max(1, |d_0 + v t|)`.

:func:`reset` and :func:`step` are pure, so :func:`rollout` keeps a rate manager and a station in
one :func:`jax.lax.scan` and ``jax.vmap`` runs thousands of stations, scenarios and seeds at once.
:func:`agentax.simulate.simulate_wifi` runs an agent there, fed through
:class:`~agentax.extensions.IEEE_802_11_ax_RA` exactly as the facade would feed it.

References:
  G. Bianchi, *Performance analysis of the IEEE 802.11 distributed coordination function*, IEEE
  JSAC 18(3), 2000; the ns-3 802.11ax model (log-distance loss, default power and noise figure);
  the ``ra-sim`` example of reinforced-lib (M. Wojnar et al.), a simulator of the same kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from chex import Array, PRNGKey
from jax.scipy.stats import norm

__all__ = [
    "WifiParams",
    "Station",
    "StationState",
    "Record",
    "ampdu_frames",
    "collision_probability",
    "distance_at",
    "expected_throughput",
    "fit_snr_thresholds",
    "mean_throughput_mbps",
    "oracle_mcs",
    "reset",
    "rollout",
    "run_fixed_mcs",
    "run_oracle",
    "snr_db",
    "step",
    "success_probability",
    "txop_duration",
]


def _he_rates_mbps() -> np.ndarray:
    r"""HE-MCS 0-11 data rates for 20 MHz (242-tone RU), 1 spatial stream, 0.8 µs guard interval.

    .. math:: R = N_{SD} \, N_{BPSCS} \, r / T_{SYM}, \quad N_{SD} = 234, \;
       T_{SYM} = 12.8\,\mu s + 0.8\,\mu s

    with :math:`N_{BPSCS}` the coded bits per subcarrier (BPSK 1 ... 1024-QAM 10) and :math:`r`
    the coding rate (IEEE Std 802.11ax-2021, Table 27-64 ff.).
    """
    bits_per_subcarrier = np.array([1, 2, 2, 4, 4, 6, 6, 6, 8, 8, 10, 10])
    coding_rate = np.array(
        [1 / 2, 1 / 2, 3 / 4, 1 / 2, 3 / 4, 2 / 3, 3 / 4, 5 / 6, 3 / 4, 5 / 6, 3 / 4, 5 / 6]
    )
    return (234 * bits_per_subcarrier * coding_rate / 13.6).astype(np.float32)


HE_RATES_MBPS = _he_rates_mbps()
"""Data rates of HE-MCS 0-11 in Mb/s (20 MHz, 1 spatial stream, 0.8 µs GI): 8.6 ... 143.4."""


_FRAME_DRAWS = 64  # frames drawn per A-MPDU: the largest max_ampdu_frames the simulator takes


class WifiParams(NamedTuple):
    """Every number of the model, in one place (pytree leaves: they can be fitted and vmapped).

    Defaults follow ns-3's 802.11ax model (5 GHz log-distance loss, 16.0206 dBm transmit power,
    -93.97 dBm noise for 20 MHz with a 7 dB noise figure, 5.484 ms maximum HE PPDU) and the
    calibration against ns-3 3.37 in ``tests/data/ns3_ax_throughput.json``.

    Attributes:
      tx_power_dbm: transmit power :math:`P_{tx}`.
      noise_dbm: noise power :math:`N` over the 20 MHz channel.
      reference_loss_db: path loss :math:`L_0` at 1 m.
      path_loss_exponent: :math:`n`.
      snr_thresholds_db: :math:`\\theta_m`, SNR of 50% frame loss per MCS, shape ``(12,)``:
        fitted to ns-3 by :func:`fit_snr_thresholds` where the table crosses a transition (MCS
        4-11); MCS 0-3 never fail in the table and sit about 3 dB apart below MCS 4.
      snr_spread_db: :math:`\\sigma`, width of the frame-loss curves.
      payload_bits: application bits a delivered frame carries (a 1472-byte UDP payload).
      mpdu_bits: :math:`B`, bits one frame takes on the air: the payload with UDP, IP, LLC,
        QoS MAC headers, FCS and A-MPDU delimiter (1544 bytes).
      max_ppdu_s: :math:`T_{max}`, longest A-MPDU (PPDU) duration.
      max_ampdu_frames: :math:`k_{max}`, block-ack window (at most 64, ns-3's default).
      preamble_s: :math:`T_{pre}`, HE SU preamble.
      overhead_s: per-TXOP time besides preamble and data: AIFS (43 µs), SIFS (16 µs) and the
        block ack (32 µs).
      slot_s: :math:`T_{slot}`.
      cw_min, cw_max: contention window bounds (slots).
      attempt_probability: :math:`\\tau`, per-slot transmission probability of another station.
    """

    tx_power_dbm: Any = 16.0206
    noise_dbm: Any = -93.97
    reference_loss_db: Any = 46.6777
    path_loss_exponent: Any = 3.0
    snr_thresholds_db: Any = (
        1.5,
        4.5,
        7.0,
        9.5,
        12.04,
        16.45,
        17.78,
        18.8,
        23.21,
        24.32,
        32.0,
        33.52,
    )
    snr_spread_db: Any = 0.6
    payload_bits: Any = 1472 * 8
    mpdu_bits: Any = 1544 * 8
    max_ppdu_s: Any = 5.484e-3
    max_ampdu_frames: Any = 64
    preamble_s: Any = 44e-6
    overhead_s: Any = 91e-6
    slot_s: Any = 9e-6
    cw_min: Any = 15
    cw_max: Any = 1023
    attempt_probability: Any = 2 / 17


class Station(NamedTuple):
    """One station's scenario: where it starts, how it moves, how many stations share the channel.

    Attributes:
      distance_m: distance to the access point at time 0 (m).
      velocity_mps: speed away from the access point (m/s; 0 for a static station).
      n_wifi: stations contending for the channel, this one included.
    """

    distance_m: Any
    velocity_mps: Any = 0.0
    n_wifi: Any = 1


class StationState(NamedTuple):
    """What changes as a station transmits.

    Attributes:
      station: the scenario.
      time: simulated time (s) at the end of the last TXOP.
      cw: current contention window (slots).
    """

    station: Station
    time: Array
    cw: Array


class Record(NamedTuple):
    """What :func:`run` records at each step (leading axis: steps).

    Attributes:
      mcs: the MCS used.
      n_successful, n_failed: frames of the A-MPDU delivered and lost.
      time: simulated time at the end of the step (s).
      duration: the step's length (s).
      distance: the station's distance during the step (m).
      delivered_bits: application bits delivered.
    """

    mcs: Array
    n_successful: Array
    n_failed: Array
    time: Array
    duration: Array
    distance: Array
    delivered_bits: Array


def _rates_bps() -> Array:
    return jnp.asarray(HE_RATES_MBPS) * 1e6


def snr_db(params: WifiParams, distance: Array) -> Array:
    """:math:`P_{tx} - L_0 - 10\\,n \\log_{10} d - N` (dB) at ``distance`` m."""
    loss = params.reference_loss_db + 10.0 * params.path_loss_exponent * jnp.log10(distance)
    return params.tx_power_dbm - loss - params.noise_dbm


def success_probability(params: WifiParams, snr: Array, mcs: Array) -> Array:
    """Probability that one frame of ``mcs`` gets through at ``snr`` dB."""
    thresholds = jnp.asarray(params.snr_thresholds_db, jnp.float32)
    return norm.cdf((snr - thresholds[mcs]) / params.snr_spread_db)


def ampdu_frames(params: WifiParams) -> Array:
    """Frames per A-MPDU for each MCS, shape ``(12,)``: as many as fit in the longest PPDU."""
    fit = jnp.floor((params.max_ppdu_s - params.preamble_s) * _rates_bps() / params.mpdu_bits)
    return jnp.clip(fit, 1, params.max_ampdu_frames).astype(jnp.int32)


def txop_duration(params: WifiParams) -> Array:
    """Airtime of one TXOP for each MCS, backoff excluded (s), shape ``(12,)``."""
    data = ampdu_frames(params) * params.mpdu_bits / _rates_bps()
    return params.preamble_s + data + params.overhead_s


def collision_probability(params: WifiParams, n_wifi: Array) -> Array:
    """:math:`1 - (1 - \\tau)^{n - 1}`: some other of the ``n_wifi`` stations picks the same slot."""
    return 1.0 - (1.0 - params.attempt_probability) ** (jnp.asarray(n_wifi, jnp.float32) - 1.0)


def distance_at(station: Station, time: Array) -> Array:
    """:math:`\\max(1, |d_0 + v t|)`: the station's distance (m) at ``time`` s."""
    return jnp.maximum(1.0, jnp.abs(station.distance_m + station.velocity_mps * time))


def expected_throughput(params: WifiParams, distance: Array, n_wifi: Array = 1) -> Array:
    """Mean application throughput (Mb/s) of one station at a fixed MCS, for each MCS, shape ``(12,)``.

    Delivered bits per TXOP over the TXOP's mean length with the minimum contention window:
    :math:`k_m p_m (1 - p_c) B_{app} / (T_{slot} cw_{min} / 2 + n\\,T_{txop,m})`.
    """
    mcs = jnp.arange(len(HE_RATES_MBPS))
    delivered = ampdu_frames(params) * success_probability(params, snr_db(params, distance), mcs)
    delivered = delivered * (1.0 - collision_probability(params, n_wifi)) * params.payload_bits
    mean_step = params.slot_s * params.cw_min / 2 + n_wifi * txop_duration(params)
    return delivered / mean_step / 1e6


def oracle_mcs(params: WifiParams, state: StationState) -> Array:
    """The MCS of highest expected throughput at the station's current distance."""
    distance = distance_at(state.station, state.time)
    return jnp.argmax(expected_throughput(params, distance, state.station.n_wifi)).astype(jnp.int32)


def _observation(params, state, last_time, mcs, n_successful, n_failed) -> dict[str, Array]:
    """The raw observations of :class:`~agentax.extensions.IEEE_802_11_ax_RA`."""
    return {
        "time": state.time,
        "last_time": jnp.asarray(last_time, jnp.float32),
        "n_successful": jnp.asarray(n_successful, jnp.int32),
        "n_failed": jnp.asarray(n_failed, jnp.int32),
        "n_wifi": jnp.asarray(state.station.n_wifi, jnp.int32),
        "power": jnp.asarray(params.tx_power_dbm, jnp.float32),
        "cw": state.cw,
        "mcs": jnp.asarray(mcs, jnp.int32),
    }


def reset(params: WifiParams, station: Station) -> tuple[StationState, dict[str, Array]]:
    """A station at time 0 with the minimum contention window, and its first observations."""
    station = Station(
        jnp.asarray(station.distance_m, jnp.float32),
        jnp.asarray(station.velocity_mps, jnp.float32),
        jnp.asarray(station.n_wifi, jnp.int32),
    )
    state = StationState(station, jnp.float32(0.0), jnp.asarray(params.cw_min, jnp.int32))
    return state, _observation(params, state, 0.0, 0, 0, 0)


def step(
    params: WifiParams, state: StationState, mcs: Array, key: PRNGKey
) -> tuple[StationState, dict[str, Array], Record]:
    """One TXOP at ``mcs``: backoff, A-MPDU, outcome.

    Returns:
      The new state, the raw observations after the TXOP (``time``, ``last_time``, the frame
      counts, ...) and the step's :class:`Record`.
    """
    backoff_key, collision_key, frames_key = jax.random.split(key, 3)
    mcs = jnp.asarray(mcs, jnp.int32)
    distance = distance_at(state.station, state.time)
    n_frames = ampdu_frames(params)[mcs]
    p_frame = success_probability(params, snr_db(params, distance), mcs)
    collided = jax.random.uniform(collision_key) < collision_probability(
        params, state.station.n_wifi
    )
    delivered = _binomial(frames_key, n_frames, p_frame)
    n_successful = jnp.where(collided, 0, delivered)
    backoff = jax.random.randint(backoff_key, (), 0, state.cw + 1)
    duration = backoff * params.slot_s + state.station.n_wifi * txop_duration(params)[mcs]
    doubled = jnp.minimum(2 * state.cw + 1, params.cw_max)
    cw = jnp.where(n_successful > 0, jnp.asarray(params.cw_min, jnp.int32), doubled)
    new_state = StationState(
        state.station, (state.time + duration).astype(jnp.float32), cw.astype(jnp.int32)
    )
    observation = _observation(
        params, new_state, state.time, mcs, n_successful, n_frames - n_successful
    )
    record = Record(
        mcs=mcs,
        n_successful=n_successful,
        n_failed=n_frames - n_successful,
        time=new_state.time,
        duration=jnp.asarray(duration, jnp.float32),
        distance=distance,
        delivered_bits=n_successful * jnp.asarray(params.payload_bits, jnp.float32),
    )
    return new_state, observation, record


def _binomial(key: PRNGKey, n: Array, p: Array) -> Array:
    """Frames delivered out of ``n <= 64``: a Bernoulli draw per frame (exact, no rejection loop)."""
    draws = jax.random.uniform(key, (_FRAME_DRAWS,)) < p
    return jnp.sum(draws & (jnp.arange(_FRAME_DRAWS) < n), dtype=jnp.int32)


_Start = Callable[[PRNGKey, dict], tuple[Any, Array]]
_Choose = Callable[[Any, PRNGKey, dict, Array, StationState], tuple[Any, Array]]
Policy = tuple[_Start, _Choose]  # first (state, MCS); then the next from the last TXOP's outcome


def rollout(
    params: WifiParams, station: Station, n_steps: int, key: PRNGKey, policy: Policy
) -> Record:
    """``n_steps`` TXOPs of one station, the MCS chosen by ``policy = (start, next)`` in one scan."""
    start, choose = policy
    first_key, key = jax.random.split(key)
    env_state, observation = reset(params, station)
    policy_state, action = start(first_key, observation)

    def body(carry, _):
        policy_state, env_state, action, key = carry
        key, env_key, policy_key = jax.random.split(key, 3)
        env_state, observation, record = step(params, env_state, action, env_key)
        policy_state, action = choose(policy_state, policy_key, observation, action, env_state)
        return (policy_state, env_state, action, key), record

    _, records = jax.lax.scan(body, (policy_state, env_state, action, key), None, length=n_steps)
    return records


def fit_snr_thresholds(params: WifiParams, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
    """SNR thresholds that reproduce measured constant-MCS throughputs at the transitions.

    For each row ``{"mcs", "distance_m", "throughput_mbps"}`` whose throughput is a fraction
    :math:`0.01 < q < 0.99` of that MCS's best in ``rows`` (frames partly lost), the threshold
    that gives frame success probability :math:`q` at the row's SNR is
    :math:`\\theta = \\mathrm{SNR}(d) - \\sigma\\,\\Phi^{-1}(q)`; an MCS's thresholds are averaged.
    MCS without such rows keep ``params``' value.
    """
    thresholds = np.asarray(params.snr_thresholds_db, np.float64).copy()
    best = {}
    for row in rows:
        best[row["mcs"]] = max(best.get(row["mcs"], 0.0), row["throughput_mbps"])
    fitted: dict[int, list[float]] = {}
    for row in rows:
        share = row["throughput_mbps"] / best[row["mcs"]] if best[row["mcs"]] > 0 else 0.0
        if 0.01 < share < 0.99:
            snr = float(snr_db(params, row["distance_m"]))
            fitted.setdefault(row["mcs"], []).append(
                snr - float(params.snr_spread_db) * float(norm.ppf(share))
            )
    for mcs, values in fitted.items():
        thresholds[mcs] = np.mean(values)
    return thresholds


def run_fixed_mcs(
    station: Station, mcs: Array, n_steps: int, key: PRNGKey, params: WifiParams = WifiParams()
) -> Record:
    """The same station at one MCS throughout, as ns-3's ``ConstantRateWifiManager`` runs it."""
    mcs = jnp.asarray(mcs, jnp.int32)
    return rollout(
        params, station, n_steps, key, (lambda key, obs: ((), mcs), lambda *_: ((), mcs))
    )


def run_oracle(
    station: Station, n_steps: int, key: PRNGKey, params: WifiParams = WifiParams()
) -> Record:
    """The same station driven by :func:`oracle_mcs`, which knows the channel: the best a rate manager can do."""

    def start(key, observation):
        return (), oracle_mcs(params, reset(params, station)[0])

    def choose(state, key, observation, action, env_state):
        return (), oracle_mcs(params, env_state)

    return rollout(params, station, n_steps, key, (start, choose))


def mean_throughput_mbps(records: Record) -> Array:
    """Delivered application bits over simulated time (Mb/s) of a run (reduces the last axis)."""
    return records.delivered_bits.sum(-1) / records.time[..., -1] / 1e6
