"""Conformance cases of the deep agents: small networks, observations drawn from the agents' spaces.

Drawn flags end an episode at almost every step, so the cases that must train fix ``terminal``,
``truncated`` and ``episode_start``: the first update records the first observation, the next two
store transitions (the buffer then holds a batch and training starts), the last one starts a new
episode after the terminal step.
"""

import jax
import jax.numpy as jnp
import optax
import pytest
from flax import linen as nn

from agentax.agents.deep import DDQN, DQN, ExpectedSarsa
from agentax.testing import example_observations


class _TinyQ(nn.Module):
    n_actions: int
    noise_stream: str | None = None  # a random stream the network draws from, as a user's might

    @nn.compact
    def __call__(self, x):  # x: (batch, *obs_shape)
        x = x.reshape(x.shape[0], -1)
        q = nn.Dense(self.n_actions)(nn.tanh(nn.Dense(8)(x)))
        if self.noise_stream:
            q = q + 0.01 * jax.random.normal(self.make_rng(self.noise_stream), q.shape)
        return q


# A buffer of 4 and batches of 2, so that the networks take gradient steps within the suite.
_SMALL = dict(
    experience_replay_buffer_size=4, experience_replay_batch_size=2, optimizer=optax.sgd(0.01)
)


def _training(agent):
    update = example_observations(agent.update_observation_space, 4)
    update["terminal"] = jnp.array([False, False, True, False])
    update["truncated"] = jnp.zeros(4, bool)
    update["episode_start"] = jnp.array([True, False, False, True])
    return agent, update, None


CASES = [
    pytest.param(lambda: DQN(_TinyQ(3), (5,), 3, **_SMALL), id="DQN-drawn-flags"),
    pytest.param(
        lambda: _training(
            DQN(
                _TinyQ(2),
                3,
                2,
                **_SMALL,
                experience_replay_steps=2,
                target_update_freq=3,
                tau=1.0,
                loss="l2",
                epsilon=0.5,
                epsilon_decay=0.9,
                epsilon_min=0.1,
            )
        ),
        id="DQN-hard-target-l2",
    ),
    pytest.param(
        lambda: _training(DDQN(_TinyQ(3, "agentax"), (2, 2), 3, **_SMALL)), id="DDQN-noisy-network"
    ),
    pytest.param(
        lambda: _training(
            ExpectedSarsa(_TinyQ(3, "rlib"), (5,), 3, **_SMALL, tau=0.5, target_update_freq=2)
        ),
        id="ExpectedSarsa",
    ),
]
