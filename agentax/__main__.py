"""``python -m agentax``: the bandit demo (see :mod:`agentax.cli`); ``python -m agentax nonstationary``:
the non-stationary study (see :mod:`agentax.nonstationary_study`); ``python -m agentax sweep``: a
hyperparameter sweep (see :mod:`agentax.sweep`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from agentax import cli

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """The study or the sweep if the first argument names it, else the demo; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["nonstationary"]:
        from agentax.nonstationary_study import main as study

        return study(argv[1:])
    if argv[:1] == ["sweep"]:
        from agentax.sweep import main as sweep

        return sweep(argv[1:])
    return cli.main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
