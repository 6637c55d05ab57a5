"""Conformance cases, one module per agent family; each module defines ``CASES``.

A case is ``pytest.param(factory, id=...)`` where ``factory()`` builds an agent, optionally
returning ``(agent, update_observations, sample_observations)`` with a leading step axis.
"""
