"""Where a deep agent's facade step goes: DQN, DDPG and PPO, each against its own floors.

For each agent, in alternating rounds of the same run (medians, in microseconds per call):

* ``agent call``: the agent's ``update`` then ``sample`` in one jitted call with its state donated,
  called once per step from Python: what a hand-written loop pays per step, without the facade;
* ``facade``: one step of :func:`agentax.training.train` (``rl.sample`` with the Gymnasium
  extension, plus the environment's step and the episode bookkeeping);
* ``env``: the Gymnasium environment's own step.

The issue-9 target is ``facade <= 2 * (agent call + env)``; the ratio is printed. DQN runs on
CartPole-v1 (the benchmark's network, batch and buffer, see ``dqn_cartpole.py``), DDPG on
Pendulum-v1, PPO on eight CartPole-v1 copies (one call steps all eight)::

    python benchmarks/deep_step_costs.py            # 5 rounds of 400 steps
    python benchmarks/deep_step_costs.py --quick    # seconds: checks every path works
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from pathlib import Path

import gymnasium as gym
import jax

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dqn_cartpole import ENV_ID, make_rlib

from agentax import RLib
from agentax.agents.deep import DDPG, DDPGActor, DDPGCritic, DiscreteActorCritic, PPODiscrete
from agentax.extensions import Gymnasium, GymnasiumVectorized
from agentax.spaces import example
from agentax.training import train


def ddpg() -> tuple[RLib, gym.Env]:
    rl = RLib(
        agent_type=DDPG,
        agent_params={"q_network": DDPGCritic(), "a_network": DDPGActor((1,), -2.0, 2.0)},
        ext_type=Gymnasium,
        ext_params={"env_id": "Pendulum-v1"},
    )
    rl.init(0)
    return rl, gym.make("Pendulum-v1")


def ppo() -> tuple[RLib, gym.Env]:
    rl = RLib(
        agent_type=PPODiscrete,
        agent_params={"network": DiscreteActorCritic(2)},
        ext_type=GymnasiumVectorized,
        ext_params={"env_id": ENV_ID, "num_envs": 8},
    )
    rl.init(0)
    return rl, gym.make_vec(ENV_ID, num_envs=8, vectorization_mode="sync")


AGENTS = {"DQN": lambda: (make_rlib(0), gym.make(ENV_ID)), "DDPG": ddpg, "PPO": ppo}


def agent_call(rl: RLib):
    """A function timing one donated ``update`` + ``sample`` call of the facade's agent, on valid example values."""
    agent = rl._agent  # the very agent the facade runs
    update_values, sample_values = (
        example(agent.update_observation_space),
        example(agent.sample_observation_space),
    )

    @functools.partial(jax.jit, donate_argnums=0)
    def step(state, key):
        update_key, sample_key = jax.random.split(key)
        state = agent.update(state, update_key, **update_values)
        return state, agent.sample(state, sample_key, **sample_values)

    box = [rl.state(0), jax.random.PRNGKey(0)]
    box[0] = jax.tree.map(lambda x: x.copy(), box[0])

    def run() -> float:
        started = time.perf_counter()
        box[0], action = step(*box)
        jax.device_get(action)
        return time.perf_counter() - started

    run()
    return run


def env_step(env) -> float:
    """Seconds of one environment step (a vector environment steps every copy)."""
    action = env.action_space.sample()
    started = time.perf_counter()
    _, _, terminal, truncated, _ = env.step(action)
    seconds = time.perf_counter() - started
    if not hasattr(env, "num_envs") and (terminal or truncated):
        env.reset()
    return seconds


def measure(name: str, rounds: int, steps: int) -> dict:
    rl, env = AGENTS[name]()
    calls_per_step = getattr(env, "num_envs", 1)
    train(
        rl, env, max(steps, 300) * calls_per_step, seed=0, progress=False
    )  # compiled, buffer ready
    call = agent_call(rl)
    probe = AGENTS[name]()[1]
    probe.action_space.seed(0)
    probe.reset(seed=0)
    figures = {"agent call": [], "facade": [], "env": []}
    for r in range(rounds):
        figures["agent call"].append(statistics.median(call() for _ in range(steps)))
        stats = train(rl, env, steps * calls_per_step, seed=r + 1, progress=False)
        figures["facade"].append(stats.seconds / (stats.env_steps / calls_per_step))
        figures["env"].append(statistics.median(env_step(probe) for _ in range(steps)))
    return {k: statistics.median(v) * 1e6 for k, v in figures.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 round of 50 steps")
    parser.add_argument("--agents", nargs="+", default=list(AGENTS), choices=list(AGENTS))
    args = parser.parse_args(argv)
    rounds, steps = (1, 50) if args.quick else (5, 400)
    print(
        f"{'agent':<6} {'agent call µs':>14} {'env µs':>8} {'facade µs':>10} {'facade / (call + env)':>22}"
    )
    for name in args.agents:
        f = measure(name, rounds, steps)
        ratio = f["facade"] / (f["agent call"] + f["env"])
        print(
            f"{name:<6} {f['agent call']:>14.1f} {f['env']:>8.1f} {f['facade']:>10.1f} {ratio:>22.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
