"""Deep reinforcement-learning agents, with the parameters and observation names of reinforced-lib.

The agents are built from a small core: :mod:`~agentax.agents.deep.core` (a network's state,
gradient and target updates, "k gradient steps", the episode-boundary rule),
:mod:`~agentax.agents.deep.networks`, :mod:`~agentax.agents.deep.policies`,
:mod:`~agentax.agents.deep.losses` and :mod:`~agentax.agents.deep.td` (TD errors).
"""

from agentax.agents.deep.core import (
    NetworkState,
    agent_replay,
    apply_gradient,
    apply_network,
    episode_boundary,
    gradient_steps,
    init_network,
    store_transition,
    train_when_ready,
    update_target,
)
from agentax.agents.deep.ddpg import DDPG, DDPGState
from agentax.agents.deep.dqn import DDQN, DQN, DQNState
from agentax.agents.deep.expected_sarsa import ExpectedSarsa, ExpectedSarsaState
from agentax.agents.deep.losses import (
    clipped_surrogate_loss,
    clipped_value_loss,
    ddpg_actor_loss,
    ddpg_critic_loss,
    ddpg_target,
    generalized_advantage_estimation,
    ppo_loss,
    rollout_advantages,
    sac_actor_loss,
    sac_alpha_loss,
    sac_target,
    smoothed_target_action,
    td3_target,
    td_loss,
    twin_critic_loss,
)
from agentax.agents.deep.networks import (
    DDPGActor,
    DDPGCritic,
    DiscreteActorCritic,
    GaussianActorCritic,
    SACActor,
    check_network_output,
    mlp,
)
from agentax.agents.deep.policies import (
    Policy,
    categorical_policy,
    clipped_gaussian_log_prob,
    clipped_gaussian_policy,
    epsilon_greedy,
    gaussian_exploration,
    tanh_gaussian,
    tanh_gaussian_actions,
)
from agentax.agents.deep.ppo import PPOContinuous, PPODiscrete, PPOState
from agentax.agents.deep.sac import SAC, SACState

# after the agents: the function expected_sarsa, not the module of that name
from agentax.agents.deep.td import (
    double_q_learning,
    expected_sarsa,
    huber_loss,
    l2_loss,
    q_learning,
)
from agentax.agents.deep.td3 import TD3, TD3State

__all__ = [
    # agents
    "DDQN",
    "DQN",
    "DQNState",
    "ExpectedSarsa",
    "ExpectedSarsaState",
    "DDPG",
    "DDPGState",
    "PPOContinuous",
    "PPODiscrete",
    "PPOState",
    "SAC",
    "SACState",
    "TD3",
    "TD3State",
    # core
    "NetworkState",
    "agent_replay",
    "apply_gradient",
    "apply_network",
    "episode_boundary",
    "store_transition",
    "train_when_ready",
    "gradient_steps",
    "init_network",
    "update_target",
    # networks
    "DDPGActor",
    "DDPGCritic",
    "DiscreteActorCritic",
    "GaussianActorCritic",
    "SACActor",
    "check_network_output",
    "mlp",
    # policies
    "Policy",
    "categorical_policy",
    "clipped_gaussian_log_prob",
    "clipped_gaussian_policy",
    "epsilon_greedy",
    "gaussian_exploration",
    "tanh_gaussian",
    "tanh_gaussian_actions",
    # losses
    "clipped_surrogate_loss",
    "clipped_value_loss",
    "ddpg_actor_loss",
    "ddpg_critic_loss",
    "ddpg_target",
    "generalized_advantage_estimation",
    "ppo_loss",
    "rollout_advantages",
    "td_loss",
    "sac_actor_loss",
    "sac_alpha_loss",
    "sac_target",
    "smoothed_target_action",
    "td3_target",
    "twin_critic_loss",
    "double_q_learning",
    "expected_sarsa",
    "huber_loss",
    "l2_loss",
    "q_learning",
]
