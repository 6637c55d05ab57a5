"""Conformance cases of TD3 and SAC: tiny networks, no episode end within the suite's four steps
(so the buffer holds a batch of two and the training rounds run under jit, scan and vmap)."""

import optax
import pytest

from agentax.agents.deep import SAC, TD3, DDPGActor, DDPGCritic, SACActor
from tests.agents.cases.ppo_ddpg import no_episode_end

_SHARED = dict(
    experience_replay_buffer_size=4,
    experience_replay_batch_size=2,
    experience_replay_steps=3,
    tau=0.5,
    q_optimizer=optax.sgd(0.01),
    a_optimizer=optax.sgd(0.01),
)

CASES = [
    pytest.param(
        lambda: no_episode_end(
            TD3(
                DDPGCritic((8,)),
                DDPGActor((2,), -1.0, 1.0, (8,)),
                (3,),
                (2,),
                -1.0,
                1.0,
                policy_delay=2,
                **_SHARED,
            )
        ),
        id="TD3",
    ),
    pytest.param(
        lambda: no_episode_end(
            SAC(
                DDPGCritic((8,)),
                SACActor((2,), (8,)),
                (3,),
                (2,),
                -1.0,
                [1.0, 2.0],
                alpha_optimizer=optax.sgd(0.01),
                **_SHARED,
            )
        ),
        id="SAC",
    ),
    pytest.param(
        lambda: no_episode_end(
            SAC(
                DDPGCritic((8,)),
                SACActor((1,), (8,)),
                2,
                1,
                -2.0,
                2.0,
                alpha=0.1,
                autotune=False,
                **_SHARED,
            )
        ),
        id="SAC-fixed-alpha",
    ),
]
