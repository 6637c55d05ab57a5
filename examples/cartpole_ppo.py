"""PPO learns CartPole-v1 from 8 environments stepped together, then plays evaluation episodes.

Run: ``python examples/cartpole_ppo.py [--num-envs 8] [--steps 150000] [--seed 0]``.

The ``GymnasiumVectorized`` extension reads the observation shape, the number of actions and the
number of environments from a ``gymnasium`` vector environment, and passes ``env.step``'s tuple
of batched values to the agent; the agent's actions are one per environment. A progress bar
shows the mean return of the last 20 episodes (CartPole-v1 caps a return at 500; 475 counts as
solved).
"""

from __future__ import annotations

import argparse

import gymnasium as gym

from agentax import RLib
from agentax.agents.deep import DiscreteActorCritic, PPODiscrete
from agentax.extensions import GymnasiumVectorized
from agentax.training import evaluate, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=8, help="environments stepped together")
    parser.add_argument(
        "--steps", type=int, default=150_000, help="environment steps to learn from, all copies"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rl = RLib(
        agent_type=PPODiscrete,
        agent_params={
            "network": DiscreteActorCritic(act_space_size=2)
        },  # other hyperparameters: defaults
        ext_type=GymnasiumVectorized,
        ext_params={"env_id": "CartPole-v1", "num_envs": args.num_envs},
    )
    rl.init(args.seed)
    env = gym.make_vec("CartPole-v1", num_envs=args.num_envs, vectorization_mode="sync")

    stats = train(rl, env, args.steps, seed=args.seed)
    print(
        f"trained on {stats.env_steps} steps ({stats.steps_per_second:.0f} steps/s), {len(stats.returns)} episodes; "
        f"mean return of the last 20: {stats.mean_return(20):.1f}"
    )
    for greedy in (True, False):
        result = evaluate(rl, env, 20, seed=args.seed + 1, greedy=greedy)
        policy = "greedy (most likely action)" if greedy else "sampled (as in training)"
        print(f"evaluation, {policy}: mean return {result.mean_return(20):.1f} over 20 episodes")
    env.close()


if __name__ == "__main__":
    main()
