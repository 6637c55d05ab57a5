"""Multi-armed bandit agents, with the parameters and observation names of reinforced-lib."""

from agentax.agents.mab.change_detection import (
    CUSUM,
    GLR,
    CUSUMState,
    GLRState,
    Restarting,
    RestartingState,
)
from agentax.agents.mab.detecting import CUSUMUCB, CUSUMUCBState, GLRklUCB, GLRklUCBState
from agentax.agents.mab.e_greedy import EGreedy, EGreedyState
from agentax.agents.mab.exp3 import Exp3, Exp3State
from agentax.agents.mab.kl_ucb import KLUCB, KLUCBState
from agentax.agents.mab.lognormal_thompson_sampling import LogNormalThompsonSampling
from agentax.agents.mab.masked import Masked, MaskedState
from agentax.agents.mab.normal_thompson_sampling import (
    NormalThompsonSampling,
    NormalThompsonSamplingState,
)
from agentax.agents.mab.schedulers import (
    RandomScheduler,
    RandomSchedulerState,
    RoundRobinScheduler,
    RoundRobinSchedulerState,
)
from agentax.agents.mab.softmax import Softmax, SoftmaxState
from agentax.agents.mab.sw_ucb import SWUCB, SWUCBState
from agentax.agents.mab.thompson_sampling import ThompsonSampling, ThompsonSamplingState
from agentax.agents.mab.ucb import UCB, UCBState

__all__ = [
    "CUSUM",
    "CUSUMState",
    "CUSUMUCB",
    "CUSUMUCBState",
    "EGreedy",
    "EGreedyState",
    "Exp3",
    "Exp3State",
    "GLR",
    "GLRklUCB",
    "GLRklUCBState",
    "GLRState",
    "KLUCB",
    "KLUCBState",
    "LogNormalThompsonSampling",
    "Masked",
    "MaskedState",
    "NormalThompsonSampling",
    "NormalThompsonSamplingState",
    "RandomScheduler",
    "RandomSchedulerState",
    "Restarting",
    "RestartingState",
    "RoundRobinScheduler",
    "RoundRobinSchedulerState",
    "Softmax",
    "SoftmaxState",
    "SWUCB",
    "SWUCBState",
    "ThompsonSampling",
    "ThompsonSamplingState",
    "UCB",
    "UCBState",
]
