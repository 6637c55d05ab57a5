# The agent template of the reinforced-lib custom-agent guide, verbatim but for the import of
# BaseAgent and AgentState (reinforced_lib.agents -> agentax.agents). Do not edit: the tests
# check that agentax keeps running code written against that contract.
from functools import partial

import gymnasium as gym
import jax
import jax.numpy as jnp
from chex import Array, PRNGKey, Scalar, dataclass

from agentax.agents import AgentState, BaseAgent


@dataclass
class EGreedyState(AgentState):
    Q: Array
    N: Array


class EGreedy(BaseAgent):
    def __init__(self, n_arms: int, e: Scalar) -> None:

        assert 0 <= e <= 1

        self.n_arms = n_arms

        self.init = jax.jit(partial(self.init, n_arms=n_arms))
        self.update = jax.jit(self.update)
        self.sample = jax.jit(partial(self.sample, e=e))

    @staticmethod
    def parameter_space() -> gym.spaces.Dict:
        return gym.spaces.Dict(
            {
                "n_arms": gym.spaces.Box(1, jnp.inf, (1,), int),
                "e": gym.spaces.Box(0.0, 1.0, (1,), float),
            }
        )

    @property
    def update_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict(
            {
                "action": gym.spaces.Discrete(self.n_arms),
                "reward": gym.spaces.Box(-jnp.inf, jnp.inf, (1,), float),
            }
        )

    @property
    def sample_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict({})

    @property
    def action_space(self) -> gym.spaces.Space:
        return gym.spaces.Discrete(self.n_arms)

    @staticmethod
    def init(key: PRNGKey, n_arms: int) -> EGreedyState:

        return EGreedyState(Q=jnp.zeros(n_arms), N=jnp.ones(n_arms, dtype=int))

    @staticmethod
    def update(state: EGreedyState, key: PRNGKey, action: int, reward: Scalar) -> EGreedyState:

        return EGreedyState(
            Q=state.Q.at[action].add((reward - state.Q[action]) / state.N[action]),
            N=state.N.at[action].add(1),
        )

    @staticmethod
    def sample(state: EGreedyState, key: PRNGKey, e: Scalar) -> int:

        epsilon_key, choice_key = jax.random.split(key)

        return jax.lax.cond(
            jax.random.uniform(epsilon_key) < e,
            lambda: jax.random.choice(choice_key, state.Q.size),
            lambda: jnp.argmax(state.Q),
        )
