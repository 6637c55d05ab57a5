"""Conformance cases of the contextual bandits.

The drawn-from-space observations suit these agents (features in [-10, 10]); each is also run on
explicit observations that play every arm in turn, with features of mixed scale.
"""

import jax.numpy as jnp
import numpy as np
import pytest

from agentax.agents.contextual import LinTS, LinUCB, NeuralEGreedy

N_STEPS = 4  # the conformance suite's default


def explicit(agent):
    """Arms played in turn with features of mixed scale, and contexts to choose from."""
    rng = np.random.default_rng(3)
    update = {
        "action": jnp.arange(N_STEPS, dtype=jnp.int32) % agent.n_arms,
        "reward": jnp.asarray(rng.normal(size=N_STEPS), jnp.float32),
        "action_context": jnp.asarray(
            rng.normal(size=(N_STEPS, agent.n_features)) * [0.01, 1.0, 100.0], jnp.float32
        ),
    }
    sample = {
        "context": jnp.asarray(
            rng.normal(size=(N_STEPS, agent.n_arms, agent.n_features)), jnp.float32
        )
    }
    return agent, update, sample


CASES = [
    pytest.param(lambda: LinUCB(n_arms=3, n_features=2), id="LinUCB"),
    pytest.param(lambda: explicit(LinUCB(3, 3, alpha=0.5, lam=0.1)), id="LinUCB-explicit"),
    pytest.param(lambda: LinTS(n_arms=3, n_features=2), id="LinTS"),
    pytest.param(lambda: explicit(LinTS(3, 3, v=0.3, lam=2.0)), id="LinTS-explicit"),
    # A buffer of 4 with batches of 2: the network trains from the second of the 4 steps on.
    pytest.param(
        lambda: NeuralEGreedy(
            3, 2, experience_replay_buffer_size=4, experience_replay_batch_size=2
        ),
        id="NeuralEGreedy",
    ),
    pytest.param(
        lambda: explicit(
            NeuralEGreedy(
                3,
                3,
                experience_replay_buffer_size=2,
                experience_replay_batch_size=1,
                experience_replay_steps=2,
                e=0.5,
                e_decay=0.9,
                e_min=0.1,
            )
        ),
        id="NeuralEGreedy-explicit",
    ),
]
