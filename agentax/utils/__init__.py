"""Helpers shared by the neural agents: networks, replay and rollout buffers.

Naming: a buffer's state is a ``...Buffer`` (:class:`ReplayBuffer`, :class:`RolloutBuffer`, as in
reinforced-lib) and the named tuple of its pure functions is named after what it does
(:class:`ExperienceReplay`, :class:`RolloutMemory`); the arrays are plural nouns.
"""

from agentax.utils.experience_replay import Batch, ExperienceReplay, ReplayBuffer, experience_replay
from agentax.utils.jax_utils import RNG_STREAM, GradientStep, forward, gradient_step, init
from agentax.utils.rollout_buffer import RolloutBatch, RolloutBuffer, RolloutMemory, rollout_buffer

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
    "RolloutBatch",
    "RolloutBuffer",
    "RolloutMemory",
    "rollout_buffer",
]
