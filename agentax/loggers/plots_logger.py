"""A logger that draws each source's curves with matplotlib and saves them when finished."""

from __future__ import annotations

import io
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from agentax.loggers._text import write_atomically
from agentax.loggers.base import BaseLogger, LogBlock, Source

__all__ = ["PlotsLogger"]

_FORMATS = ("png", "pdf", "svg")


class PlotsLogger(BaseLogger):
    r"""Saves one figure per source (and per custom value name) at :meth:`finish`.

    Each instance gets its own curve against its step (with more than ``plots_max_instances``
    instances, the mean over instances at each step is drawn instead); an array-valued source gets
    one curve per element. Line plots are smoothed with an exponential moving average,

    .. math:: \bar{x}_0 = x_0, \qquad \bar{x}_t = w\,\bar{x}_{t-1} + (1 - w)\,x_t,

    drawn over the raw values (faint). Files are named ``agentax-plot-<source>-<date>-<time>.<ext>``
    and written atomically; :attr:`files` lists them.

    Args:
      plots_dir: output directory (default: the current directory).
      plots_ext: ``"png"``, ``"pdf"`` or ``"svg"``.
      plots_smoothing: the weight :math:`w \in [0, 1)` of the moving average (0: no smoothing).
      plots_scatter: draw points instead of lines (not smoothed).
      plots_sync_steps: accepted for compatibility with reinforced-lib; every value is already
        drawn at its instance's step.
      plots_size: figure size in inches, ``(width, height)``.
      plots_dpi: dots per inch; a PNG is ``width * dpi`` by ``height * dpi`` pixels.
      plots_max_instances: at most this many instances get curves of their own.

    Reference: reinforced-lib's ``PlotsLogger`` (same parameters, plus size, dpi and instances).
    """

    def __init__(
        self,
        plots_dir: str | Path | None = None,
        plots_ext: str = "pdf",
        plots_smoothing: float = 0.6,
        plots_scatter: bool = False,
        plots_sync_steps: bool = False,
        plots_size: tuple[float, float] = (6.4, 4.8),
        plots_dpi: int = 100,
        plots_max_instances: int = 10,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if plots_ext not in _FORMATS:
            raise ValueError(f"plots_ext must be one of {_FORMATS}, got {plots_ext!r}")
        if not 0 <= plots_smoothing < 1:
            raise ValueError(f"plots_smoothing must lie in [0, 1), got {plots_smoothing!r}")
        if len(plots_size) != 2 or not all(size > 0 for size in plots_size):
            raise ValueError(
                f"plots_size must be (width, height) in inches, both > 0, got {plots_size!r}"
            )
        if not plots_dpi > 0:
            raise ValueError(f"plots_dpi must be > 0, got {plots_dpi!r}")
        self._dir = Path(plots_dir) if plots_dir is not None else Path.cwd()
        self._ext, self._smoothing, self._scatter = (
            plots_ext,
            float(plots_smoothing),
            bool(plots_scatter),
        )
        self._size, self._dpi, self._max_instances = (
            tuple(plots_size),
            plots_dpi,
            int(plots_max_instances),
        )
        self._series: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = defaultdict(list)
        self._finished = False
        self.files: list[Path] = []

    def log_block(self, block: LogBlock) -> None:
        for source, column in block.values.items():
            values = column.reshape(len(column), -1).astype(np.float64)
            self._series[self.source_to_name(source)].append((block.agent_id, block.step, values))

    def log_scalar(self, source: Source, value: float, custom: bool) -> None:
        self.log_array(source, np.asarray(value, np.float64), custom)

    def log_array(self, source: Source, value: Any, custom: bool) -> None:
        series = self._series[self.source_to_name(source)]
        step = 1 + sum(len(steps) for _, steps, _ in series)
        series.append((np.array([""]), np.array([step]), np.ravel(value).astype(np.float64)[None]))

    def finish(self) -> None:
        """Draw and save every figure (once)."""
        if self._finished:
            return
        self._finished = True
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for name, parts in self._series.items():
            path = self._dir / f"agentax-plot-{name.replace('/', '_')}-{stamp}.{self._ext}"
            write_atomically(path, [self._draw(name, parts)])
            self.files.append(path)

    def _draw(self, name: str, parts: list) -> bytes:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        agents = np.concatenate([p[0] for p in parts])
        steps = np.concatenate([p[1] for p in parts])
        values = np.concatenate([p[2] for p in parts])
        figure = Figure(figsize=self._size, dpi=self._dpi, layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.subplots()
        for label, x, y in self._curves(agents, steps, values):
            self._plot(axes, x, y, label)
        if axes.get_legend_handles_labels()[1]:
            axes.legend(fontsize="small")
        axes.set(title=name, xlabel="step")
        buffer = io.BytesIO()
        figure.savefig(buffer, format=self._ext, dpi=self._dpi)
        return buffer.getvalue()

    def _curves(self, agents: np.ndarray, steps: np.ndarray, values: np.ndarray):
        """``(label, steps, values)`` per curve: per instance, or the mean over many instances."""
        instances = np.unique(agents)
        if len(instances) > self._max_instances:
            unique_steps, position = np.unique(steps, return_inverse=True)
            sums = np.zeros((len(unique_steps), values.shape[1]))
            np.add.at(sums, position, values)
            groups = [
                (
                    f"mean of {len(instances)} instances",
                    unique_steps,
                    sums / np.bincount(position)[:, None],
                )
            ]
        else:
            groups = []
            for instance in instances:
                rows = agents == instance
                order = np.argsort(steps[rows], kind="stable")
                groups.append((str(instance), steps[rows][order], values[rows][order]))
        for label, x, y in groups:
            for element in range(y.shape[1]):
                suffix = f"[{element}]" if y.shape[1] > 1 else ""
                yield (f"{label}{suffix}" if label or suffix else None), x, y[:, element]

    def _plot(self, axes, x: np.ndarray, y: np.ndarray, label: str | None) -> None:
        if self._scatter:
            axes.scatter(x, y, s=4, label=label)
            return
        (line,) = axes.plot(x, _moving_average(y, self._smoothing), label=label)
        axes.plot(x, y, color=line.get_color(), alpha=0.25)


def _moving_average(values: np.ndarray, weight: float) -> np.ndarray:
    """Exponential moving average with ``weight`` on the past, as a first-order IIR filter."""
    from scipy.signal import lfilter

    smoothed, _ = lfilter([1 - weight], [1, -weight], values, zi=[weight * values[0]])
    return smoothed
