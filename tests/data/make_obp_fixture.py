"""Store Open Bandit Pipeline's estimates on fixed inputs, for tests/test_ope.py.

Run with the Python of obp's own environment (``make obp-fixture``, which builds it with
``make obp-venv``); it writes ``tests/data/obp_estimates.json``: the inputs (drawn from a fixed
NumPy seed) and obp 0.5.7's IPS, SNIPS, DM and DR estimates on them.
"""

import json
import os
import tempfile
from importlib.metadata import version
from pathlib import Path

import numpy as np
from obp.ope import (
    DirectMethod,
    DoublyRobust,
    InverseProbabilityWeighting,
    SelfNormalizedInverseProbabilityWeighting,
)

N_ROUNDS, N_ACTIONS = 300, 4


def main() -> None:
    rng = np.random.default_rng(0)
    logging = rng.dirichlet(np.ones(N_ACTIONS), N_ROUNDS)
    action = np.array([rng.choice(N_ACTIONS, p=p) for p in logging])
    pscore = logging[np.arange(N_ROUNDS), action]
    reward = rng.binomial(1, 0.3 + 0.1 * action).astype(float)
    action_dist = rng.dirichlet(np.ones(N_ACTIONS), N_ROUNDS)
    estimated_rewards = rng.uniform(0, 1, (N_ROUNDS, N_ACTIONS))
    dist, q = (
        action_dist[:, :, None],
        estimated_rewards[:, :, None],
    )  # obp's (n, actions, positions)
    estimates = {
        "ips": InverseProbabilityWeighting().estimate_policy_value(
            reward=reward, action=action, pscore=pscore, action_dist=dist
        ),
        "snips": SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(
            reward=reward, action=action, pscore=pscore, action_dist=dist
        ),
        "dm": DirectMethod().estimate_policy_value(
            action_dist=dist, estimated_rewards_by_reg_model=q
        ),
        "dr": DoublyRobust().estimate_policy_value(
            reward=reward,
            action=action,
            pscore=pscore,
            action_dist=dist,
            estimated_rewards_by_reg_model=q,
        ),
    }
    fixture = {
        "obp_version": version("obp"),
        "inputs": {
            "action": action.tolist(),
            "reward": reward.tolist(),
            "pscore": pscore.tolist(),
            "action_dist": action_dist.tolist(),
            "estimated_rewards": estimated_rewards.tolist(),
        },
        "estimates": {name: float(value) for name, value in estimates.items()},
    }
    path = Path(__file__).parent / "obp_estimates.json"
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
        json.dump(fixture, tmp)
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, path)  # atomic
    print(f"wrote {path}: {fixture['estimates']}")


if __name__ == "__main__":
    main()
