"""Learning on a switching bandit: the detecting agents recover after a switch and beat stationary UCB."""

import math

import jax
import numpy as np
import pytest

from agentax.agents.mab import CUSUMUCB, GLR, UCB, GLRklUCB, Restarting
from agentax.envs import BanditProblem
from agentax.nonstationary_study import recovery_delays
from tests.agents.mab.helpers import run_seeds

pytestmark = pytest.mark.slow

# Arm 0 is best (0.8) for 5000 steps, then fails (0.2): arm 1 (0.5) is best; arms 1, 2 never change.
SWITCH, N_STEPS = 5000, 7000
PROBLEM = BanditProblem.switching([[0.8, 0.5, 0.3], [0.2, 0.5, 0.3]], [0, SWITCH])
H = math.log(N_STEPS)  # the papers' tuning for a horizon T = 7000 with one change
DETECTING = {
    "CUSUMUCB": lambda: CUSUMUCB(3, h=H, alpha=math.sqrt(H / N_STEPS), epsilon=0.05, m=50),
    "GLRklUCB": lambda: GLRklUCB(3, delta=1 / math.sqrt(N_STEPS), alpha=math.sqrt(3 * H / N_STEPS)),
    "UCB+GLR restarts": lambda: Restarting(
        UCB(3, c=math.sqrt(2.0)), GLR(delta=1 / math.sqrt(N_STEPS)), alpha=0.02
    ),
}


def _delays(trajectory) -> np.ndarray:
    """Per run, the recovery delay after the switch."""
    delays = jax.vmap(lambda optimal: recovery_delays(optimal, [0, SWITCH], N_STEPS))(
        jax.numpy.asarray(trajectory.optimal)
    )
    return np.asarray(delays)[:, 0]


@pytest.fixture(scope="module")
def ucb():
    return run_seeds(UCB(3, c=math.sqrt(2.0)), PROBLEM, N_STEPS)


def test_stationary_ucb_is_slow_to_leave_the_failed_arm(ucb):
    # By the switch UCB1 pulled arm 0 about 4,800 times at 0.8; its mean must fall to about
    # arm 1's index (0.5 plus a bonus of ~0.2) before arm 1 takes over: some 4800 * 0.1 / 0.5 =
    # 1,000 pulls at 0.2. Measured on these seeds: delays of 249 to 1926 steps, regret 573.
    assert np.median(_delays(ucb)) > 300


@pytest.mark.parametrize("name", list(DETECTING))
def test_detecting_agents_recover_after_a_switch_and_beat_ucb(name, ucb):
    # The drop of 0.6 on arm 0, which all three play most, is detected within tens of its pulls
    # (CUSUM: h / (0.6 - epsilon) = 16 pulls; GLR: about beta / kl(0.2, 0.5) = 13 / 0.19 = 70);
    # arm 0 (or the whole agent) then restarts and arm 1 wins. Measured on these seeds: delays
    # of 0 to 68 steps, regret 125 to 145 against UCB's 573.
    detecting = run_seeds(DETECTING[name](), PROBLEM, N_STEPS)
    delays = _delays(detecting)
    assert np.all(delays <= 150), delays
    assert detecting.regret.sum(axis=1).mean() < 0.5 * ucb.regret.sum(axis=1).mean()
