"""Loggers: watch agents through the facade (``reinforced_lib.logs`` in reinforced-lib).

Pass ``logger_types``, ``logger_sources`` and ``logger_params`` to :class:`agentax.RLib`::

    rl = RLib(agent_type=UCB, agent_params={"c": 1.0}, ext_type=BasicMab, ext_params={"n_arms": 4},
              logger_types=[CsvLogger, TensorboardLogger],
              logger_sources=["reward", "cumulative", ("Q", SourceType.STATE)],
              logger_params={"csv_path": "run.csv", "tb_log_dir": "runs/ucb"})

The facade logs each source after every step (one row per stepped instance, tagged with its
``agent_id``), ``rl.log(name, value)`` logs a custom value, and ``rl.finish()`` (or leaving
``with RLib(...) as rl:``, or the interpreter's exit) closes the loggers.
"""

from agentax.loggers.base import BaseLogger, LogBlock, Source, SourceType
from agentax.loggers.csv_logger import CsvLogger
from agentax.loggers.observer import METRICS, LogsObserver
from agentax.loggers.plots_logger import PlotsLogger
from agentax.loggers.stdout_logger import StdoutLogger
from agentax.loggers.tb_logger import TensorboardLogger
from agentax.loggers.wandb_logger import WeightsAndBiasesLogger

__all__ = [
    "BaseLogger",
    "CsvLogger",
    "LogBlock",
    "LogsObserver",
    "METRICS",
    "PlotsLogger",
    "Source",
    "SourceType",
    "StdoutLogger",
    "TensorboardLogger",
    "WeightsAndBiasesLogger",
]
