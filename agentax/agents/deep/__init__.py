"""Deep reinforcement-learning agents, with the parameters and observation names of reinforced-lib."""

from agentax.agents.deep.dqn import DDQN, DQN, DQNState
from agentax.agents.deep.expected_sarsa import ExpectedSarsa, ExpectedSarsaState
from agentax.agents.deep.ddpg import (
    DDPG,
    DDPGActor,
    DDPGCritic,
    DDPGState,
    ddpg_actor_loss,
    ddpg_critic_loss,
    ddpg_target,
)
from agentax.agents.deep.ppo import (
    DiscreteActorCritic,
    GaussianActorCritic,
    Policy,
    PPOContinuous,
    PPODiscrete,
    PPOState,
    categorical_policy,
    clipped_gaussian_log_prob,
    clipped_gaussian_policy,
    clipped_surrogate_loss,
    clipped_value_loss,
    ppo_loss,
)
from agentax.agents.deep._off_policy import NetworkState, twin_critic_loss
from agentax.agents.deep.sac import (
    SAC,
    SACActor,
    SACState,
    sac_actor_loss,
    sac_alpha_loss,
    sac_target,
    tanh_gaussian,
)
from agentax.agents.deep.td3 import TD3, TD3State, smoothed_target_action, td3_target
from agentax.agents.deep.td import double_q_learning, expected_sarsa, huber_loss, l2_loss, q_learning

__all__ = [
    "DDQN",
    "DQN",
    "DQNState",
    "ExpectedSarsa",
    "ExpectedSarsaState",
    "DDPG",
    "DDPGActor",
    "DDPGCritic",
    "DDPGState",
    "ddpg_actor_loss",
    "ddpg_critic_loss",
    "ddpg_target",
    "DiscreteActorCritic",
    "GaussianActorCritic",
    "Policy",
    "PPOContinuous",
    "PPODiscrete",
    "PPOState",
    "categorical_policy",
    "clipped_gaussian_log_prob",
    "clipped_gaussian_policy",
    "clipped_surrogate_loss",
    "clipped_value_loss",
    "ppo_loss",
    "NetworkState",
    "twin_critic_loss",
    "SAC",
    "SACActor",
    "SACState",
    "sac_actor_loss",
    "sac_alpha_loss",
    "sac_target",
    "tanh_gaussian",
    "TD3",
    "TD3State",
    "smoothed_target_action",
    "td3_target",
    "double_q_learning",
    "expected_sarsa",
    "huber_loss",
    "l2_loss",
    "q_learning",
]
