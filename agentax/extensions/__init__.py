"""Extensions: turn raw environment observations into the observations an agent needs."""

from agentax.extensions.base import BaseExt, ObservationInfo, ParameterInfo, observation, parameter
from agentax.extensions.basic_mab import BasicMab
from agentax.extensions.gymnasium import Gymnasium, GymnasiumVectorized
from agentax.extensions.wifi import IEEE_802_11_ax_RA

__all__ = [
    "BaseExt",
    "BasicMab",
    "Gymnasium",
    "GymnasiumVectorized",
    "IEEE_802_11_ax_RA",
    "ObservationInfo",
    "ParameterInfo",
    "observation",
    "parameter",
]
