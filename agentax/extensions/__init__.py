"""Extensions: turn raw environment observations into the observations an agent needs."""

from agentax.extensions.base import BaseExt, FunctionInfo, ObservationInfo, ParameterInfo, observation, parameter
from agentax.extensions.basic_mab import BasicMab
from agentax.extensions.gymnasium import Gymnasium, GymnasiumVectorized

__all__ = [
    "BaseExt",
    "BasicMab",
    "FunctionInfo",
    "Gymnasium",
    "GymnasiumVectorized",
    "ObservationInfo",
    "ParameterInfo",
    "observation",
    "parameter",
]
