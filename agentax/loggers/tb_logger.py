"""A logger that writes TensorBoard event files (through tensorboardX)."""

from __future__ import annotations

from typing import Any

import numpy as np

from agentax.loggers._text import scalar_items, to_json
from agentax.loggers.base import BaseLogger, LogBlock, Source

__all__ = ["TensorboardLogger"]


class TensorboardLogger(BaseLogger):
    """Writes scalars to TensorBoard, one curve per source and instance.

    A scalar source is tagged ``<source>/<agent_id>`` and plotted against the instance's step;
    element ``i`` of an array-valued source (a per-arm value) is tagged
    ``<source>/<agent_id>/<i>``. Custom values (``rl.log``) are tagged by their name and counted
    from step 1; dictionaries and other objects are written as JSON text.

    Args:
      tb_log_dir: the run directory (tensorboardX's default ``runs/<date>_<host>`` if ``None``).
      tb_comet_config: tensorboardX's Comet configuration (disabled if ``None``).
      tb_sync_steps: accepted for compatibility with reinforced-lib; every value is already
        plotted at its instance's step.
    """

    def __init__(
        self,
        tb_log_dir: str | None = None,
        tb_comet_config: dict | None = None,
        tb_sync_steps: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from tensorboardX import SummaryWriter  # imported here: `import agentax` stays light

        self._writer = SummaryWriter(
            log_dir=tb_log_dir, comet_config=tb_comet_config or {"disabled": True}
        )
        self.log_dir = self._writer.logdir
        self._custom_steps: dict[str, int] = {}
        self._open = True

    def init(self, sources: list[Source]) -> None:
        self._names = {source: self.source_to_name(source) for source in sources}

    def log_block(self, block: LogBlock) -> None:
        for source, column in block.values.items():
            for tag, value, step in scalar_items(self._names[source], block, column):
                self._writer.add_scalar(tag, value, step)

    def log_scalar(self, source: Source, value: float, custom: bool) -> None:
        name = self.source_to_name(source)
        self._writer.add_scalar(name, float(value), self._next_step(name))

    def log_array(self, source: Source, value: Any, custom: bool) -> None:
        name = self.source_to_name(source)
        step = self._next_step(name)
        for index, element in enumerate(np.ravel(value).tolist()):
            self._writer.add_scalar(f"{name}/{index}", element, step)

    def log_dict(self, source: Source, value: dict, custom: bool) -> None:
        self.log_other(source, value, custom)

    def log_other(self, source: Source, value: Any, custom: bool) -> None:
        name = self.source_to_name(source)
        self._writer.add_text(name, to_json(value), self._next_step(name))

    def _next_step(self, name: str) -> int:
        self._custom_steps[name] = self._custom_steps.get(name, 0) + 1
        return self._custom_steps[name]

    def finish(self) -> None:
        """Flush and close the event file (once)."""
        if self._open:
            self._open = False
            self._writer.close()
