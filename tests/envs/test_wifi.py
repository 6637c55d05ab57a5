"""The 802.11ax simulator: hand-computed channel numbers, purity, jit/vmap, contention, mobility."""

from operator import itemgetter

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax.agents.mab import ThompsonSampling
from agentax.envs import wifi
from agentax.simulate import simulate_wifi

PARAMS = wifi.WifiParams()


def test_snr_follows_log_distance_path_loss():
    # 16.0206 dBm - (46.6777 + 30 log10(10)) dB - (-93.97 dBm) = 33.3129 dB; 20 m: 9.0309 dB less.
    np.testing.assert_allclose(wifi.snr_db(PARAMS, 1.0), 63.3129, atol=1e-4)
    np.testing.assert_allclose(wifi.snr_db(PARAMS, 10.0), 33.3129, atol=1e-4)
    np.testing.assert_allclose(wifi.snr_db(PARAMS, 20.0), 33.3129 - 9.0309, atol=1e-4)


def test_success_probability_is_a_normal_cdf_around_the_threshold():
    theta7, sigma = PARAMS.snr_thresholds_db[7], PARAMS.snr_spread_db
    np.testing.assert_allclose(wifi.success_probability(PARAMS, theta7, 7), 0.5, atol=1e-6)
    # Phi(1) = 0.841345, Phi(-2) = 0.022750
    np.testing.assert_allclose(
        wifi.success_probability(PARAMS, theta7 + sigma, 7), 0.841345, atol=1e-5
    )
    np.testing.assert_allclose(
        wifi.success_probability(PARAMS, theta7 - 2 * sigma, 7), 0.022750, atol=1e-5
    )
    # Higher MCS need more SNR: at one SNR the success probability never rises with the MCS.
    assert np.all(np.diff(wifi.success_probability(PARAMS, 20.0, jnp.arange(12))) <= 0)


def test_ampdu_sizes_fill_the_longest_ppdu():
    # MCS 0: (5.484 - 0.044) ms x 8.6029 Mb/s / (1544 x 8 bits) = 46,800 / 12,352 = 3.79 -> 3 frames;
    # MCS 7: 5.44e-3 x 86.029e6 / 12,352 = 37.9 -> 37; MCS 11: 63.1 -> 63 (under the window of 64).
    frames = np.asarray(wifi.ampdu_frames(PARAMS))
    assert (frames[0], frames[7], frames[11]) == (3, 37, 63)
    assert np.all(np.diff(frames) >= 0)
    assert wifi.ampdu_frames(PARAMS._replace(max_ampdu_frames=20))[11] == 20
    # MCS 0 airtime: 44 us preamble + 3 x 12,352 / 8.6029e6 s (4.3074 ms) + 91 us = 4.4424 ms.
    np.testing.assert_allclose(wifi.txop_duration(PARAMS)[0], 4.4424e-3, rtol=1e-4)


def test_collision_probability_grows_with_stations():
    tau = PARAMS.attempt_probability
    p = wifi.collision_probability(PARAMS, jnp.array([1, 2, 3, 10]))
    np.testing.assert_allclose(p, [0.0, tau, 1 - (1 - tau) ** 2, 1 - (1 - tau) ** 9], rtol=1e-5)


def test_expected_throughput_by_hand():
    # MCS 0 at 1 m never fails: 3 x 11,776 bits per (7.5 slots x 9 us + 4.4424 ms) = 7.834 Mb/s.
    by_hand = 3 * 11776 / (67.5e-6 + 4.4424e-3) / 1e6
    np.testing.assert_allclose(wifi.expected_throughput(PARAMS, 1.0)[0], by_hand, rtol=1e-4)


def test_static_and_moving_distance_over_time():
    static = wifi.Station(20.0)
    moving = wifi.Station(5.0, velocity_mps=2.0)
    approaching = wifi.Station(5.0, velocity_mps=-1.0)
    np.testing.assert_allclose(wifi.distance_at(static, 7.0), 20.0)
    np.testing.assert_allclose(wifi.distance_at(moving, 10.0), 25.0)
    np.testing.assert_allclose(wifi.distance_at(approaching, 3.0), 2.0)
    np.testing.assert_allclose(wifi.distance_at(approaching, 4.5), 1.0)  # never closer than 1 m
    records = wifi.run_fixed_mcs(moving, 0, 200, jax.random.key(0))
    start = np.asarray(records.time - records.duration)
    np.testing.assert_allclose(records.distance, 5.0 + 2.0 * start, rtol=1e-5)
    assert records.distance[-1] > 5.0 + 2.0 * 0.8  # 200 TXOPs of >= 4.4 ms: at least 0.88 s


def test_step_is_pure_and_jit_matches_eager():
    state, _ = wifi.reset(PARAMS, wifi.Station(30.0))
    key = jax.random.key(3)
    eager = wifi.step(PARAMS, state, 7, key)
    jitted = jax.jit(wifi.step)(PARAMS, state, 7, key)
    again = wifi.step(PARAMS, state, 7, key)
    chex.assert_trees_all_close(eager, jitted)
    chex.assert_trees_all_equal(eager, again)


def test_step_counts_and_contention_window():
    state, first = wifi.reset(PARAMS, wifi.Station(1.0))
    assert int(first["cw"]) == 15 and float(first["time"]) == 0.0
    # At 1 m MCS 5 never fails: all 30 frames (5.44 ms x 68.82 Mb/s / 12,352 bits = 30.3) delivered,
    # so the window stays at its minimum.
    state, obs, record = wifi.step(PARAMS, state, 5, jax.random.key(0))
    assert (int(obs["n_successful"]), int(obs["n_failed"]), int(obs["cw"])) == (30, 0, 15)
    assert float(obs["last_time"]) == 0.0 and float(obs["time"]) == pytest.approx(
        float(record.duration)
    )
    # At 100 m (SNR 3.3 dB) MCS 11 loses everything: the window doubles, 15 -> 31 -> 63.
    far, _ = wifi.reset(PARAMS, wifi.Station(100.0))
    far, obs, _ = wifi.step(PARAMS, far, 11, jax.random.key(1))
    assert (int(obs["n_successful"]), int(obs["n_failed"]), int(obs["cw"])) == (0, 63, 31)
    far, obs, _ = wifi.step(PARAMS, far, 11, jax.random.key(2))
    assert int(obs["cw"]) == 63


def test_vmap_over_stations_matches_one_at_a_time():
    agent = ThompsonSampling(12, sampler="normal")  # the cheaper sampler compiles faster
    stations = wifi.Station(jnp.array([5.0, 30.0]), jnp.array([0.0, 1.0]), jnp.array([1, 4]))
    keys = jax.random.split(jax.random.key(0), 2)

    def run(station, key):
        return simulate_wifi(agent, station, 50, key)

    batched = jax.jit(jax.vmap(run))(stations, keys)
    run_one = jax.jit(run)
    for i in range(2):
        one = run_one(jax.tree.map(itemgetter(i), stations), keys[i])
        chex.assert_trees_all_close(jax.tree.map(itemgetter(i), batched), one, rtol=1e-5)


def test_collisions_increase_with_the_number_of_stations():
    n_wifi = jnp.array([1, 5, 20])
    stations = wifi.Station(jnp.ones(3), jnp.zeros(3), n_wifi)
    records = jax.vmap(lambda s: wifi.run_fixed_mcs(s, 0, 2000, jax.random.key(0)))(stations)
    lost = np.asarray((records.n_successful == 0).mean(-1))
    # At 1 m nothing but collisions loses an A-MPDU: 0, 1 - (15/17)^4 = 0.394, 1 - (15/17)^19 = 0.907.
    np.testing.assert_allclose(lost, wifi.collision_probability(PARAMS, n_wifi), atol=0.03)
    per_station = np.asarray(wifi.mean_throughput_mbps(records))
    assert np.all(np.diff(per_station) < 0)


def test_oracle_picks_the_best_expected_mcs_and_beats_fixed_rates():
    state, _ = wifi.reset(PARAMS, wifi.Station(20.0))
    # At 20 m (24.28 dB) MCS 8's frames get through with Phi((24.28 - 23.21) / 0.6) = 0.963.
    assert int(wifi.oracle_mcs(PARAMS, state)) == int(
        jnp.argmax(wifi.expected_throughput(PARAMS, 20.0))
    )
    oracle = wifi.mean_throughput_mbps(wifi.run_oracle(wifi.Station(20.0), 500, jax.random.key(0)))

    def fixed_rate(mcs):
        return wifi.mean_throughput_mbps(
            wifi.run_fixed_mcs(wifi.Station(20.0), mcs, 500, jax.random.key(0))
        )

    fixed = jax.vmap(fixed_rate)(jnp.arange(12))
    assert float(oracle) >= float(fixed.max()) * 0.98


def test_agent_in_the_scan_learns_the_best_rate():
    agent = ThompsonSampling(12, sampler="normal")  # the cheaper sampler compiles faster
    records = jax.jit(lambda k: simulate_wifi(agent, wifi.Station(20.0), 1500, k))(
        jax.random.key(0)
    )
    best = int(jnp.argmax(wifi.expected_throughput(PARAMS, 20.0)))
    assert np.mean(np.asarray(records.mcs[-500:]) == best) > 0.8
