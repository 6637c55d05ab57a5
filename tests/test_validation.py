"""The parameter tables of agentax._validation: checks, conversions, derived spaces."""

import math

import gymnasium as gym
import numpy as np
import pytest

from agentax._validation import ArrayShape, Flag, Int, Real, Reals, parameter_space, validate

TABLE = {
    "flag": Flag(),
    "e": Real(0.0, 1.0),
    "e_min": Real(0.0, "e"),
    "lr": Real(0.0, low_open=True),
    "size": Int(),
    "index": Int(0, "size", high_open=True),
    "shape": ArrayShape(),
    "bounds": Reals(),
}


def test_values_come_back_converted_in_the_order_given():
    checked = validate(TABLE, shape=3, size=np.int64(4), e=1, flag=1, e_min=1.0, index=3)
    assert list(checked) == ["shape", "size", "e", "flag", "e_min", "index"]
    assert checked == {"shape": (3,), "size": 4, "e": 1.0, "flag": True, "e_min": 1.0, "index": 3}
    assert type(checked["size"]) is int and type(checked["e"]) is float


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"flag": 2}, "flag must be True or False, got 2"),
        ({"flag": np.array([1, 0])}, "flag must be True or False"),
        ({"e": 0.5, "e_min": 0.6}, r"e_min must lie in [0.0, 0.5], got 0.6"),
        ({"lr": 0.0}, "lr must lie in (0.0, inf), got 0.0"),
        ({"lr": math.inf}, "lr must lie in (0.0, inf), got inf"),
        ({"e": math.nan}, "e must lie in [0.0, 1.0], got nan"),
        ({"e": True}, "e must be a real number, got True"),
        ({"size": 0}, "size must be an integer >= 1, got 0"),
        ({"size": 3, "index": 3}, "index must be below size=3, got 3"),
        ({"shape": (2, 0)}, "shape must be a sequence of integers >= 1"),
        ({"tau": 1.0}, "no range declared for ['tau']"),
    ],
)
def test_out_of_range_names_the_parameter_and_the_range(arguments, message):
    with pytest.raises(ValueError) as error:
        validate(TABLE, **arguments)
    assert message in str(error.value)


def test_space_takes_a_named_bound_from_the_parameter_it_names():
    space = parameter_space(TABLE)
    assert space["e_min"] == gym.spaces.Box(0.0, 1.0, (1,), float)
    assert space["index"] == gym.spaces.Box(0, math.inf, (1,), int)
    assert space["flag"] == gym.spaces.MultiBinary(1)
    assert isinstance(space["shape"], gym.spaces.Sequence) and isinstance(
        space["bounds"], gym.spaces.Sequence
    )
