"""Run the README's quick start (its first two Python blocks) against the installed agentax.

Usage: ``python quick_start.py README.md``, from a directory outside the source tree, so that the
``agentax`` imported is the installed wheel. ``pull``, the environment the README leaves to the
reader, is a four-armed Bernoulli bandit here.
"""

import re
import sys
from pathlib import Path

import numpy as np

import agentax

blocks = re.findall(r"```python\n(.*?)```", Path(sys.argv[1]).read_text(), re.S)[:2]
source_tree = Path(sys.argv[1]).resolve().parent / "agentax"
if Path(agentax.__file__).resolve().parent == source_tree:
    sys.exit(f"agentax was imported from the source tree ({agentax.__file__}), not from the wheel")

rng = np.random.default_rng(0)
means = [0.1, 0.5, 0.8, 0.3]
namespace = {"pull": lambda action: float(rng.random() < means[int(action)])}
for block in blocks:
    exec(compile(block, "README.md", "exec"), namespace)

assert 0 <= int(namespace["action"]) < 4, namespace["action"]
trajectory = namespace["trajectory"]
assert trajectory.actions.shape == (1_000, 10_000), trajectory.actions.shape
regret = float(trajectory.regret.mean())
print(f"quick start ran from {Path(agentax.__file__).parent}: regret per step {regret:.4f}")
