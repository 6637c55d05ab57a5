"""A logger that sends values to Weights & Biases (the optional extra ``agentax[wandb]``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from agentax.loggers._text import scalar_items, to_json
from agentax.loggers.base import BaseLogger, LogBlock, Source

__all__ = ["WeightsAndBiasesLogger"]


class WeightsAndBiasesLogger(BaseLogger):
    """Logs to a Weights & Biases run, with the same tags as :class:`TensorboardLogger`.

    Every logged value carries its step as ``global_step`` (the run's step metric): an
    instance's step for sources, the count of values of that name for custom values.
    Dictionaries and other objects are logged as JSON text. Pass ``wandb_kwargs={"mode":
    "offline", "dir": ...}`` to write the run to disk only (``wandb sync`` uploads it later).

    Args:
      wandb_sync_steps: accepted for compatibility with reinforced-lib; every value is already
        logged at its instance's step.
      wandb_kwargs: keyword arguments of ``wandb.init`` (project, name, mode, dir, config, ...).
    """

    def __init__(
        self, wandb_sync_steps: bool = False, wandb_kwargs: dict | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        try:
            import wandb
        except ModuleNotFoundError as error:
            raise ModuleNotFoundError(
                "WeightsAndBiasesLogger needs the wandb package: pip install 'agentax[wandb]'"
            ) from error
        self.run = wandb.init(**(wandb_kwargs or {}))
        self.run.define_metric("*", step_metric="global_step")
        self._custom_steps: dict[str, int] = {}
        self._open = True

    def init(self, sources: list[Source]) -> None:
        self._names = {source: self.source_to_name(source) for source in sources}

    def log_block(self, block: LogBlock) -> None:
        for source, column in block.values.items():
            for tag, value, step in scalar_items(self._names[source], block, column):
                self.run.log({"global_step": step, tag: value})

    def log_scalar(self, source: Source, value: float, custom: bool) -> None:
        self._log_custom(source, {"": value})

    def log_array(self, source: Source, value: Any, custom: bool) -> None:
        self._log_custom(
            source, {f"/{i}": element for i, element in enumerate(np.ravel(value).tolist())}
        )

    def log_dict(self, source: Source, value: dict, custom: bool) -> None:
        self.log_other(source, value, custom)

    def log_other(self, source: Source, value: Any, custom: bool) -> None:
        self._log_custom(source, {"": to_json(value)})

    def _log_custom(self, source: Source, values: dict[str, Any]) -> None:
        name = self.source_to_name(source)
        self._custom_steps[name] = self._custom_steps.get(name, 0) + 1
        self.run.log(
            {
                "global_step": self._custom_steps[name],
                **{name + suffix: v for suffix, v in values.items()},
            }
        )

    def finish(self) -> None:
        """Finish the run (once)."""
        if self._open:
            self._open = False
            self.run.finish()
