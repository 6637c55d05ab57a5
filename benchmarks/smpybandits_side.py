"""The SMPyBandits side of the non-stationary study, run in SMPyBandits' own virtual environment.

It imports SMPyBandits (never agentax), reads one JSON request from standard input::

    {"means": [[...], ...], "starts": [...], "n_steps": 5000, "seeds": [0, 1, ...],
     "policies": {"UCB": {...}, ...}}

(a piecewise-stationary Bernoulli problem, the seeds of the runs, and each policy's settings) and
prints ``{"version": ..., "final_regret": {"UCB": [...], ...}}`` on one line of standard output:
each policy's cumulative expected regret (the best arm's mean minus the chosen arm's, summed over
steps) at the last step of each run. SMPyBandits' own messages go to standard error. The change
detectors run with SMPyBandits' defaults otherwise (forced exploration tuned from the horizon and
the number of changes, and its "lazy" tests every 10 steps, without which a 5,000-step run of
GLR-klUCB takes minutes in pure Python).
"""

from __future__ import annotations

import contextlib
import json
import sys
from importlib.metadata import version

import numpy as np
from SMPyBandits.Policies import (
    SWUCB,
    UCB,
    BernoulliGLR_IndexPolicy_WithDeterministicExploration,
    CUSUM_IndexPolicy,
    klUCB,
    klUCB_forGLR,
)


def build(name: str, n_arms: int, settings: dict, n_steps: int, n_changes: int):
    """The SMPyBandits policy named ``name`` with the study's settings."""
    if name == "UCB":
        return UCB(n_arms)
    if name == "KLUCB":
        return klUCB(n_arms)
    if name == "SWUCB":
        return SWUCB(n_arms, tau=settings["window"], alpha=settings["c"] ** 2)
    if name == "CUSUMUCB":
        return CUSUM_IndexPolicy(
            n_arms,
            horizon=n_steps,
            max_nb_random_events=n_changes,
            policy=UCB,
            epsilon=settings["epsilon"],
            min_number_of_observation_between_change_point=settings["m"],
        )
    if name == "GLRklUCB":
        return BernoulliGLR_IndexPolicy_WithDeterministicExploration(
            n_arms,
            horizon=n_steps,
            max_nb_random_events=n_changes,
            policy=klUCB_forGLR,
            delta=settings["delta"],
            per_arm_restart=True,
        )
    raise ValueError(f"no SMPyBandits counterpart for {name!r}")


def final_regret(policy, means: np.ndarray, starts: np.ndarray, n_steps: int, seed: int) -> float:
    """One run of ``policy`` on the Bernoulli problem; its cumulative expected regret."""
    rng = np.random.default_rng(seed)
    policy.startGame()
    regret = 0.0
    for t in range(n_steps):
        mu = means[np.searchsorted(starts, t, side="right") - 1]
        arm = policy.choice()
        policy.getReward(arm, float(rng.random() < mu[arm]))
        regret += mu.max() - mu[arm]
    return regret


def main() -> None:
    request = json.loads(sys.stdin.readline())
    means, starts = np.asarray(request["means"]), np.asarray(request["starts"])
    answer = {}
    with contextlib.redirect_stdout(sys.stderr):
        for name, settings in request["policies"].items():
            answer[name] = [
                final_regret(
                    build(name, means.shape[1], settings, request["n_steps"], len(starts) - 1),
                    means,
                    starts,
                    request["n_steps"],
                    seed,
                )
                for seed in request["seeds"]
            ]
    print(json.dumps({"version": version("SMPyBandits"), "final_regret": answer}))


if __name__ == "__main__":
    main()
