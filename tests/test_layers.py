"""The package's layers: a lower layer imported alone does not import the layers above it."""

from __future__ import annotations

import subprocess
import sys

import pytest

# What importing each module alone may not pull in (a prefix of module names).
LAYERS = [
    ("agentax.utils", "agentax.agents"),
    ("agentax.envs", "agentax.extensions"),
    ("agentax.envs", "agentax.agents"),
]


@pytest.mark.parametrize(("module", "forbidden"), LAYERS)
def test_importing_a_layer_does_not_import_the_layers_above(module, forbidden):
    below = f"m == {forbidden!r} or m.startswith({forbidden!r} + '.')"
    code = f"import sys, {module}\nprint('\\n'.join(m for m in sys.modules if {below}))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.split() == [], f"importing {module} imported {result.stdout.split()}"


def test_the_facade_is_still_one_attribute_away():
    result = subprocess.run(
        [sys.executable, "-c", "import agentax; print(agentax.RLib.__module__)"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == "agentax.rlib"
