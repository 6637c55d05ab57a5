"""Helpers shared by the neural agents: networks, replay and rollout buffers, advantage estimation."""

from agentax.utils.experience_replay import Batch, ExperienceReplay, ReplayBuffer, experience_replay
from agentax.utils.jax_utils import RNG_STREAM, GradientStep, forward, gradient_step, init
from agentax.utils.rollout_buffer import (
    Rollout,
    RolloutBatch,
    RolloutBuffer,
    generalized_advantage_estimation,
    rollout_buffer,
)

__all__ = [
    "Batch",
    "ExperienceReplay",
    "GradientStep",
    "RNG_STREAM",
    "ReplayBuffer",
    "experience_replay",
    "forward",
    "gradient_step",
    "init",
    "Rollout",
    "RolloutBatch",
    "RolloutBuffer",
    "generalized_advantage_estimation",
    "rollout_buffer",
]
