"""DDPG learns to swing up and balance Pendulum-v1, then plays greedy evaluation episodes.

Run: ``python examples/pendulum_ddpg.py [--episodes 50] [--seed 0]``.

The ``Gymnasium`` extension reads the observation shape and the action bounds from the
environment and passes ``env.step``'s tuple to the agent. A progress bar shows the mean return
of the last 20 episodes of 200 steps; a random policy averages about -1200, a good one about -150.
"""

from __future__ import annotations

import argparse

import gymnasium as gym

from agentax import RLib
from agentax.agents.deep import DDPG, DDPGActor, DDPGCritic
from agentax.extensions import Gymnasium
from agentax.training import evaluate, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=50, help="training episodes of 200 steps")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    env = gym.make("Pendulum-v1")
    low, high = env.action_space.low, env.action_space.high
    rl = RLib(
        agent_type=DDPG,
        agent_params={
            "q_network": DDPGCritic(),
            "a_network": DDPGActor(env.action_space.shape, low, high),
        },
        ext_type=Gymnasium,
        ext_params={"env_id": "Pendulum-v1"},
    )
    rl.init(args.seed)

    stats = train(rl, env, args.episodes * 200, seed=args.seed)
    print(
        f"trained on {stats.env_steps} steps ({stats.steps_per_second:.0f} steps/s), {len(stats.returns)} episodes; "
        f"mean return of the last 10: {stats.mean_return(10):.1f}"
    )
    greedy = evaluate(rl, env, 10, seed=args.seed + 1)
    print(
        f"greedy evaluation (no exploration noise): mean return {greedy.mean_return():.1f} over 10 episodes"
    )
    env.close()


if __name__ == "__main__":
    main()
