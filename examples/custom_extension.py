"""A custom extension: choose which ad to show so that revenue, not clicks, is maximised.

Each round an ad is shown ``impressions`` times and collects ``clicks``. The environment knows
nothing about bandits; the ``AdRevenue`` extension turns those two counts, together with the ad
that was shown (the last action, supplied by the facade), into what a bandit agent learns from:

* ``reward``: revenue per impression, ``price[action] * clicks / impressions``;
* ``n_successful`` / ``n_failed``: clicks and impressions without a click, for agents that
  count successes (Thompson sampling);
* the agent's constructor parameter ``n_arms``: the number of ads.

The cheapest ad gets the most clicks, but the dearest one earns the most: an agent driven by
click-through rate settles on ad 0, the same agent driven by revenue on ad 2.

Run: ``python examples/custom_extension.py``
"""

import math

import gymnasium as gym
import jax.numpy as jnp
import numpy as np

from agentax import RLib
from agentax.agents.mab import EGreedy
from agentax.extensions import BaseExt, observation, parameter

CLICK_THROUGH_RATES = np.array([0.08, 0.05, 0.03])
PRICES = np.array([1.0, 2.0, 4.0])  # paid per click; revenue per impression: 0.08, 0.10, 0.12
IMPRESSIONS_PER_ROUND = 1000


# [extension]
class AdRevenue(BaseExt):
    """Bandit observations from ad-serving counts.

    Args:
      prices: price paid per click of each ad; one arm per ad.
    """

    observation_space = gym.spaces.Dict(
        {
            "clicks": gym.spaces.Box(0, jnp.inf, (1,), int),
            "impressions": gym.spaces.Box(1, jnp.inf, (1,), int),
        }
    )

    def __init__(self, prices) -> None:
        super().__init__()
        prices = np.asarray(prices, dtype=float)
        if prices.ndim != 1 or prices.size == 0:
            raise ValueError(f"prices must be a non-empty list, got {prices.tolist()!r}")
        if not all(0.0 < price < math.inf for price in prices):
            raise ValueError(f"prices must be positive, finite, got {prices.tolist()!r}")
        self.prices = jnp.asarray(prices, dtype=jnp.float32)

    @parameter(parameter_type=gym.spaces.Box(1, jnp.inf, (1,), int))
    def n_arms(self) -> int:
        return self.prices.shape[0]

    @observation(observation_type=gym.spaces.Box(0.0, jnp.inf, (1,), float))
    def reward(self, clicks, impressions, action):
        return self.prices[action] * clicks / impressions

    @observation(observation_type=gym.spaces.Box(0, jnp.inf, (1,), int))
    def n_successful(self, clicks):
        return clicks

    @observation(observation_type=gym.spaces.Box(0, jnp.inf, (1,), int))
    def n_failed(self, clicks, impressions):
        return impressions - clicks


# [/extension]


def serve_ads(prices, n_rounds: int = 400, seed: int = 0) -> dict:
    """Let an epsilon-greedy agent pick the ad for ``n_rounds`` rounds, rewarded through ``AdRevenue``."""
    rng = np.random.default_rng(seed)
    # [loop]
    rl = RLib(
        agent_type=EGreedy,
        agent_params={"e": 0.1},
        ext_type=AdRevenue,
        ext_params={"prices": prices},
    )
    clicks, shown = 0, []
    for _ in range(n_rounds):
        ad = rl.sample(clicks=clicks, impressions=IMPRESSIONS_PER_ROUND)
        clicks = rng.binomial(IMPRESSIONS_PER_ROUND, CLICK_THROUGH_RATES[ad])
        shown.append(int(ad))
    # [/loop]
    shown = np.array(shown)
    return {
        "shown": shown,
        "estimates": np.asarray(rl.state(0).Q),
        "favourite": int(np.bincount(shown).argmax()),
    }


def main() -> dict:
    by_clicks = serve_ads(
        prices=[1.0, 1.0, 1.0]
    )  # every click worth the same: reward = click-through rate
    by_revenue = serve_ads(prices=PRICES)
    for name, run, truth in (
        ("clicks", by_clicks, CLICK_THROUGH_RATES),
        ("revenue", by_revenue, CLICK_THROUGH_RATES * PRICES),
    ):
        share = np.mean(run["shown"] == run["favourite"])
        print(
            f"rewarded by {name:7}: shows ad {run['favourite']} in {share:.0%} of rounds; "
            f"estimates {np.round(run['estimates'], 3)}, true {np.round(truth, 3)}"
        )
    return {"by_clicks": by_clicks, "by_revenue": by_revenue}


if __name__ == "__main__":
    main()
