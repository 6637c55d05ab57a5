"""Conformance cases of PPO and DDPG: tiny networks, observations drawn from the agents' spaces.

The cases fix the episode flags (drawn flags end an episode at almost every step, and the step
after an episode's end stores nothing): the first update records the first observation, the next
ones store transitions, so that PPO's rollout of two rows fills and DDPG's buffer holds a batch
of two within the suite's four steps, and the training rounds run under jit, scan and vmap.
"""

import jax.numpy as jnp
import optax
import pytest

from agentax.agents.deep import (
    DDPG,
    DDPGActor,
    DDPGCritic,
    DiscreteActorCritic,
    GaussianActorCritic,
    PPOContinuous,
    PPODiscrete,
)
from agentax.testing import example_observations


def no_episode_end(agent):
    """``agent`` with four drawn update observations whose episode flags are all off."""
    update = example_observations(agent.update_observation_space, 4)
    for flag in set(update) & {"terminal", "terminals", "truncated"}:
        update[flag] = jnp.zeros_like(update[flag])
    return agent, update, None


_PPO = dict(rollout_length=2, batch_size=2, num_epochs=2, optimizer=optax.sgd(0.01))
_DDPG = dict(
    experience_replay_buffer_size=4,
    experience_replay_batch_size=2,
    q_optimizer=optax.sgd(0.01),
    a_optimizer=optax.sgd(0.01),
)

CASES = [
    pytest.param(
        lambda: no_episode_end(
            PPODiscrete(DiscreteActorCritic(3, (8,)), (4,), 3, num_envs=2, **_PPO)
        ),
        id="PPODiscrete",
    ),
    pytest.param(
        lambda: no_episode_end(
            PPODiscrete(
                DiscreteActorCritic(2, (8,)),
                3,
                2,
                num_envs=1,
                clip_value=False,
                normalize_advantage=False,
                clip_grad=None,
                **_PPO,
            )
        ),
        id="PPODiscrete-one-env-no-clipping",
    ),
    pytest.param(
        lambda: no_episode_end(
            PPOContinuous(
                GaussianActorCritic((2,), (8,)), (3,), (2,), -1.0, [1.0, 2.0], num_envs=2, **_PPO
            )
        ),
        id="PPOContinuous",
    ),
    pytest.param(
        lambda: no_episode_end(
            DDPG(
                DDPGCritic((8,)),
                DDPGActor((2,), -1.0, 1.0, (8,)),
                (3,),
                (2,),
                -1.0,
                1.0,
                experience_replay_steps=2,
                tau=0.5,
                **_DDPG,
            )
        ),
        id="DDPG",
    ),
]
