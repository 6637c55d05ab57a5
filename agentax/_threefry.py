"""Threefry lowered with its rounds unrolled on CPU, for the facade's steps and the export."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["unrolled_threefry"]


@contextlib.contextmanager
def unrolled_threefry() -> Iterator[bool]:
    """Lower Threefry for the CPU with its 20 rounds unrolled, as JAX does for GPUs, while it is active.

    On a CPU, JAX lowers the Threefry hash as a 5-iteration ``stablehlo.while`` loop (it compiles
    faster). IREE runs loops on the host, one dispatch per iteration with the loop condition read
    back, which made a key split cost about 6 times as much as unrolled (``benchmarks/export.py``);
    in XLA the unrolled rounds fuse with the draws that use them, which made the facade's step of
    1,000 instances cheaper (``benchmarks/README.md``). The unrolled rounds are the same integer
    operations, so every random bit is unchanged. This swaps a lowering rule in JAX's private
    tables; when they are not found (another JAX), the default lowering is kept and ``False`` is
    yielded.
    """
    try:
        from jax._src.interpreters import mlir
        from jax._src.random.threefry2x32 import threefry2x32_p

        cpu_rules, unrolled = (
            mlir._platform_specific_lowerings["cpu"],
            mlir._lowerings[threefry2x32_p],
        )
    except (ImportError, AttributeError, KeyError):
        yield False
        return
    rolled = cpu_rules.get(threefry2x32_p)
    cpu_rules[threefry2x32_p] = unrolled
    try:
        yield True
    finally:
        if rolled is None:
            cpu_rules.pop(threefry2x32_p, None)
        else:
            cpu_rules[threefry2x32_p] = rolled
