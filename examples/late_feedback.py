"""Regret of bandit agents whose rewards arrive late: a table of regret against the delay D.

Each decision's reward arrives D decisions later; the agent keeps deciding meanwhile (the facade
test, ``tests/test_late_feedback.py``, adds random delays and shuffled arrivals). The whole
experiment (every seed, every step) is one compiled program of the agents' pure functions under
``lax.scan``.

Joulani, György & Szepesvári (2013), *Online learning under delayed feedback* (ICML), show that
for UCB-type agents delay adds to the regret instead of multiplying it: at most about
:math:`\\sum_a \\Delta_a\\,\\mathbb{E}[\\text{outstanding decisions}] \\le D \\sum_a \\Delta_a` more than
without delay, since each arm can be tried at most D more times before its feedback arrives.
Algorithms that keep no confidence bound (epsilon-greedy) pay for a delay in the same additive way
while their estimates are young.

Run: ``python examples/late_feedback.py``.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from agentax.agents.mab import KLUCB, UCB, EGreedy, ThompsonSampling

MEANS = (0.3, 0.5, 0.7)  # Bernoulli arms; the last is best


def delayed_regret(
    agent, means, delay: int, n_steps: int, n_seeds: int, seed: int = 0, counts=False
) -> np.ndarray:
    """Per seed, the pseudo-regret :math:`\\sum_t (\\mu^* - \\mu_{a_t})` when each reward arrives
    ``delay`` decisions late.

    Decisions wait in a ring of ``delay + 1`` slots: after deciding at step ``t``, the agent learns
    from the decision of step ``t - delay``. ``counts=True`` is for Thompson sampling: the reward
    is given as Bernoulli counts and sampling reads a context of ones.
    """
    means = jnp.asarray(means, jnp.float32)
    slots = delay + 1
    context = {"context": jnp.ones(means.size)} if counts else {}

    def learn(state, key, action, reward):
        if counts:
            success = reward.astype(jnp.int32)
            return agent.update(
                state,
                key,
                action=action,
                n_successful=success,
                n_failed=1 - success,
                delta_time=jnp.float32(1.0),
            )
        return agent.update(state, key, action=action, reward=reward)

    def step(carry, t):
        state, key, ring = carry
        key, sample_key, reward_key, update_key = jax.random.split(key, 4)
        action = agent.sample(state, sample_key, **context)
        reward = (jax.random.uniform(reward_key) < means[action]).astype(jnp.float32)
        ring = jax.tree.map(lambda x, v: x.at[t % slots].set(v), ring, (action, reward))
        arrived = (t + 1) % slots  # the slot of step t - delay
        new = learn(state, update_key, ring[0][arrived], ring[1][arrived])
        state = jax.tree.map(lambda n, o: jnp.where(t >= delay, n, o), new, state)
        return (state, key, ring), means.max() - means[action]

    def run(key):
        init_key, key = jax.random.split(key)
        ring = (jnp.zeros(slots, jnp.int32), jnp.zeros(slots, jnp.float32))
        _, regret = jax.lax.scan(step, (agent.init(init_key), key, ring), jnp.arange(n_steps))
        return regret.sum()

    keys = jax.random.split(jax.random.PRNGKey(seed), n_seeds)
    return np.asarray(jax.jit(jax.vmap(run))(keys))


def agents(n_arms: int = len(MEANS)) -> dict[str, tuple]:
    """The agents of the table, with whether they take Bernoulli counts."""
    return {
        "UCB": (UCB(n_arms, c=math.sqrt(2.0)), False),
        "KLUCB": (KLUCB(n_arms), False),
        "ThompsonSampling": (ThompsonSampling(n_arms, decay=0.0), True),
        "EGreedy(0.05)": (EGreedy(n_arms, e=0.05), False),
    }


def table(
    delays=(0, 10, 50, 200), n_steps: int = 2000, n_seeds: int = 100
) -> dict[str, list[tuple[float, float]]]:
    """Per agent, ``(mean regret, 95% half-width)`` for each delay."""
    rows = {}
    for name, (agent, counts) in agents().items():
        run = partial(delayed_regret, agent, MEANS, n_steps=n_steps, n_seeds=n_seeds, counts=counts)
        regrets = [run(d) for d in delays]
        rows[name] = [
            (float(r.mean()), float(1.96 * r.std(ddof=1) / math.sqrt(r.size))) for r in regrets
        ]
    return rows


def main(delays=(0, 10, 50, 200), n_steps: int = 2000, n_seeds: int = 100) -> dict:
    rows = table(delays, n_steps, n_seeds)
    gaps = sum(max(MEANS) - m for m in MEANS)
    print(
        f"regret after {n_steps} steps, {n_seeds} seeds, arms {MEANS}, each reward D decisions late"
    )
    print(f"{'agent':18}" + "".join(f"{'D=' + str(d):>16}" for d in delays))
    for name, cells in rows.items():
        print(f"{name:18}" + "".join(f"{m:9.1f} ± {h:4.1f}" for m, h in cells))
    print(f"{'D * sum of gaps':18}" + "".join(f"{d * gaps:16.1f}" for d in delays))
    return {"delays": list(delays), "rows": rows, "gaps": gaps}


if __name__ == "__main__":
    main()
