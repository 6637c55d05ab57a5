"""``python -m agentax``: the bandit demo (see :mod:`agentax.cli`); ``python -m agentax nonstationary``:
the non-stationary study (see :mod:`agentax.nonstationary_study`)."""

import sys

from agentax.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    if sys.argv[1:2] == ["nonstationary"]:
        from agentax.nonstationary_study import main as study

        raise SystemExit(study(sys.argv[2:]))
    raise SystemExit(main())
