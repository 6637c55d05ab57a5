"""reinforced-lib's own ra-sim loop, timed (run by ``wifi_study.py`` in ``.venv-rlib``).

Usage: ``python rlib_ra_sim_side.py RA_SIM_DIR N_STEPS REPEATS``; prints one JSON line with the
median agent-steps per second. ``RA_SIM_DIR`` is a checkout of reinforced-lib's
``examples/ra-sim`` (its ``sim.py`` defines ``RASimEnv``); the loop is the one its ``main.py``
runs: ``rl.sample(**state)`` then ``env.step(action)``. reinforced-lib 2.0.4 on PyPI lacks the
``IEEE_802_11_ax_RA`` extension ra-sim uses (it is only in the repository), so without it the
agent gets the same observations by name (``no_ext_mode``), computed in Python as that
extension does: ``delta_time`` from the last ``time``, the rates as ``context``.
"""

import json
import statistics
import sys
import time

import numpy as np
from reinforced_lib import RLib
from reinforced_lib.agents.mab import ThompsonSampling

try:
    from reinforced_lib.exts.wifi import IEEE_802_11_ax_RA
except ImportError:
    IEEE_802_11_ax_RA = None

# reinforced-lib's IEEE_802_11_ax_RA rates (Mb/s, 3200 ns GI), the context it gives the agent
RATES = np.array(
    [7.3, 14.6, 21.9, 29.3, 43.9, 58.5, 65.8, 73.1, 87.8, 97.5, 109.7, 121.9], np.float32
)


def make_sampler(seed: int):
    """``sample(state) -> action`` through reinforced-lib's facade, with or without its extension."""
    if IEEE_802_11_ax_RA is not None:
        rl = RLib(agent_type=ThompsonSampling, ext_type=IEEE_802_11_ax_RA)
        rl.init(seed)
        return lambda state: rl.sample(**state)
    rl = RLib(agent_type=ThompsonSampling, agent_params={"n_arms": 12}, no_ext_mode=True)
    rl.init(seed)
    last = {"time": 0.0}

    def sample(state):
        delta_time = float(state["time"]) - last["time"]
        last["time"] = float(state["time"])
        update = {
            "action": int(state["mcs"]),
            "n_successful": int(state["n_successful"]),
            "n_failed": int(state["n_failed"]),
            "delta_time": delta_time,
        }
        return rl.sample(update_observations=update, sample_observations={"context": RATES})

    return sample


def measure(sim, n_steps: int, seed: int) -> float:
    sample = make_sampler(seed)
    env = sim.RASimEnv()
    state, _ = env.reset(seed=seed + 1, options={"initial_position": 20.0, "velocity": 0.0})
    state, *_ = env.step(sample(state))  # compile outside the clock
    started = time.perf_counter()
    for _ in range(n_steps):
        state, *_ = env.step(sample(state))
    return n_steps / (time.perf_counter() - started)


def main() -> None:
    ra_sim_dir, n_steps, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sys.path.insert(0, ra_sim_dir)
    import sim

    rates = [measure(sim, n_steps, seed) for seed in range(repeats)]
    print(
        json.dumps(
            {
                "steps_per_second": statistics.median(rates),
                "extension": IEEE_802_11_ax_RA is not None,
            }
        )
    )


if __name__ == "__main__":
    main()
