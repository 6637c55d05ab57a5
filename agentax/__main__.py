"""``python -m agentax``: the bandit demo (see :mod:`agentax.cli`)."""

from agentax.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
