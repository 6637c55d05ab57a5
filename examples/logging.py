"""Watch bandit agents learn: CSV, TensorBoard and plots written by the facade's loggers.

Four instances of a UCB agent play the same three Bernoulli arms, all stepped in one call per
round. Every round the loggers receive each instance's action, reward, cumulative reward and
per-arm pull counts (the state field ``N``); the regret is logged as a custom value.

Run: ``python examples/logging.py [LOG_DIR]``, then ``tensorboard --logdir LOG_DIR/tensorboard``.
"""

import sys
from pathlib import Path

import numpy as np

from agentax import RLib
from agentax.agents.mab import UCB
from agentax.extensions import BasicMab
from agentax.loggers import CsvLogger, PlotsLogger, SourceType, TensorboardLogger

SUCCESS_PROBABILITIES = np.array([0.2, 0.5, 0.8])


def main(
    log_dir: str | Path = "logs", n_instances: int = 4, n_rounds: int = 300, seed: int = 0
) -> dict:
    """Play ``n_rounds`` rounds of ``n_instances`` instances; return where the logs went."""
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    # [loggers]
    with RLib(
        agent_type=UCB,
        agent_params={"c": 1.0},
        ext_type=BasicMab,
        ext_params={"n_arms": 3},
        logger_types=[CsvLogger, TensorboardLogger, PlotsLogger],
        logger_sources=["action", "reward", "cumulative", ("N", SourceType.STATE)],
        logger_params={
            "csv_path": log_dir / "bandit.csv",
            "tb_log_dir": str(log_dir / "tensorboard"),
            "plots_dir": log_dir,
            "plots_ext": "png",
        },
    ) as rl:
        ids = [rl.init(seed + i) for i in range(n_instances)]
        reward, regret = np.zeros(n_instances), 0.0
        for _ in range(n_rounds):
            action = rl.sample(
                reward=reward, agent_id=ids
            )  # one compiled call, one row per instance
            reward = (rng.random(n_instances) < SUCCESS_PROBABILITIES[action]).astype(np.float32)
            regret += float(np.sum(SUCCESS_PROBABILITIES.max() - SUCCESS_PROBABILITIES[action]))
            rl.log(
                "regret", regret / n_instances
            )  # a custom value: mean regret per instance so far
    # [/loggers]  leaving the with block finished the loggers: the files are complete
    plots = sorted(log_dir.glob("agentax-plot-*.png"))
    print(
        f"CSV: {log_dir / 'bandit.csv'}; TensorBoard: {log_dir / 'tensorboard'}; {len(plots)} plots"
    )
    return {
        "csv": log_dir / "bandit.csv",
        "tensorboard": log_dir / "tensorboard",
        "plots": plots,
        "regret": regret / n_instances,
    }


if __name__ == "__main__":
    main(*sys.argv[1:2])
