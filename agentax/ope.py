r"""Off-policy evaluation: the value of a target policy estimated from what another policy logged.

A log holds, for each round :math:`i`, the action :math:`a_i` the logging policy took, its
probability :math:`p_i = \pi_0(a_i \mid x_i)` (the *propensity*), the reward :math:`r_i` and,
for contextual problems, the context :math:`x_i`. Given the target policy's probabilities
:math:`\pi(a \mid x_i)` and, for the model-based estimators, predicted rewards
:math:`\hat q(x_i, a)`, with importance weights :math:`w_i = \pi(a_i \mid x_i) / p_i`:

.. math::
    \hat V_{\mathrm{IPS}} = \frac1n \sum_i w_i r_i, \qquad
    \hat V_{\mathrm{SNIPS}} = \frac{\sum_i w_i r_i}{\sum_i w_i}, \qquad
    \hat V_{\mathrm{DM}} = \frac1n \sum_i \sum_a \pi(a \mid x_i)\, \hat q(x_i, a),

.. math::
    \hat V_{\mathrm{DR}} = \frac1n \sum_i \Big[\sum_a \pi(a \mid x_i)\, \hat q(x_i, a)
        + w_i \big(r_i - \hat q(x_i, a_i)\big)\Big].

IPS, DM and DR are means of per-round terms; their confidence intervals are the normal
(central limit) intervals of those means. SNIPS is a ratio; its interval uses the delta method,
with terms :math:`w_i (r_i - \hat V_{\mathrm{SNIPS}}) / \bar w`. The intervals describe the
sampling noise of the log only: a biased reward model shifts DM beyond its interval.

The estimators follow the definitions of Open Bandit Pipeline (``obp``), with which they agree
to float32 precision (tested on stored outputs of obp 0.5.7).

References:
  M. Dudík, J. Langford, L. Li, *Doubly Robust Policy Evaluation and Learning*, ICML 2011;
  A. Swaminathan, T. Joachims, *The Self-Normalized Estimator for Counterfactual Learning*,
  NeurIPS 2015; Y. Saito, S. Aihara, M. Matsutani, Y. Narita, *Open Bandit Dataset and
  Pipeline*, NeurIPS Datasets and Benchmarks 2021.
"""

from __future__ import annotations

import csv
import json
import os
from collections import defaultdict
from itertools import pairwise
from statistics import NormalDist
from typing import NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
from chex import Array, PRNGKey

from agentax.agents._arms import ACTION_PROBABILITY_DRAWS, sampled_probabilities
from agentax.agents.base import AgentState, BaseAgent
from agentax.errors import AgentaxError

__all__ = [
    "Estimate",
    "LoggedData",
    "direct_method",
    "doubly_robust",
    "evaluate_agent",
    "fit_linear_rewards",
    "ips",
    "read_csv_log",
    "snips",
    "target_probabilities",
]


class LoggedData(NamedTuple):
    """What a logging policy recorded, one entry per round along the leading axis.

    Attributes:
      action: the action taken, shape ``(n,)``, integers.
      reward: the reward it gave, shape ``(n,)``.
      propensity: the logging policy's probability of that action, shape ``(n,)``, in (0, 1].
      context: what the target policy's ``sample`` receives as ``context`` in each round
        (e.g. every arm's features, shape ``(n, n_arms, n_features)``), or ``None``.
    """

    action: Array
    reward: Array
    propensity: Array
    context: Array | None = None


class Estimate(NamedTuple):
    """A policy value estimate with its confidence interval.

    Attributes:
      value: the estimate.
      std_error: its standard error.
      lower, upper: the bounds of the confidence interval.
    """

    value: Array
    std_error: Array
    lower: Array
    upper: Array


def _interval(value: Array, terms: Array, level: float) -> Estimate:
    """``value`` with the normal interval of the mean of ``terms`` (standard error ``std(terms) / sqrt(n)``)."""
    std_error = jnp.std(terms, ddof=1) / jnp.sqrt(terms.shape[0])
    half = NormalDist().inv_cdf(0.5 + level / 2) * std_error
    return Estimate(value=value, std_error=std_error, lower=value - half, upper=value + half)


def _weights(log: LoggedData, target: Array) -> Array:
    """Importance weights :math:`w_i = \\pi(a_i \\mid x_i) / p_i`."""
    return (
        jnp.take_along_axis(target, log.action[:, None].astype(jnp.int32), axis=1)[:, 0]
        / log.propensity
    )


def ips(log: LoggedData, target: Array, level: float = 0.95) -> Estimate:
    """Inverse propensity scoring; ``target`` holds :math:`\\pi(a \\mid x_i)`, shape ``(n, n_actions)``."""
    terms = _weights(log, target) * log.reward
    return _interval(jnp.mean(terms), terms, level)


def snips(log: LoggedData, target: Array, level: float = 0.95) -> Estimate:
    """Self-normalised inverse propensity scoring (delta-method interval)."""
    w = _weights(log, target)
    value = jnp.sum(w * log.reward) / jnp.sum(w)
    return _interval(value, w * (log.reward - value) / jnp.mean(w), level)


def direct_method(target: Array, estimated_rewards: Array, level: float = 0.95) -> Estimate:
    """The direct method: the target's expected reward under the model ``estimated_rewards``.

    ``estimated_rewards`` has shape ``(n, n_actions)``.
    """
    terms = jnp.sum(target * estimated_rewards, axis=1)
    return _interval(jnp.mean(terms), terms, level)


def doubly_robust(
    log: LoggedData, target: Array, estimated_rewards: Array, level: float = 0.95
) -> Estimate:
    """Doubly robust: the direct method corrected by the importance-weighted residuals of the model."""
    logged = jnp.take_along_axis(estimated_rewards, log.action[:, None].astype(jnp.int32), axis=1)[
        :, 0
    ]
    terms = jnp.sum(target * estimated_rewards, axis=1) + _weights(log, target) * (
        log.reward - logged
    )
    return _interval(jnp.mean(terms), terms, level)


def target_probabilities(
    agent: BaseAgent, state: AgentState, log: LoggedData, key: PRNGKey
) -> Array:
    """``agent``'s probabilities of every action in each logged round, shape ``(n, n_actions)``.

    Uses the agent's ``action_probabilities`` (exact where the agent defines it), otherwise a
    Monte-Carlo estimate from ``ACTION_PROBABILITY_DRAWS`` draws of its ``sample``. Each round
    gets its own key split from ``key``; ``log.context`` is passed as ``context`` to agents whose
    ``sample`` takes one (a context-free bandit has the same policy in every round).
    """
    n_actions = int(agent.action_space.n)
    probabilities = getattr(agent, "action_probabilities", None)
    if probabilities is None:

        def probabilities(state, key, **observations):
            return sampled_probabilities(
                agent.sample, state, key, n_actions, ACTION_PROBABILITY_DRAWS, **observations
            )

    keys = jax.random.split(key, log.action.shape[0])
    space = agent.sample_observation_space
    if log.context is None or not (
        isinstance(space, gym.spaces.Dict) and "context" in space.spaces
    ):
        return jax.vmap(lambda k: probabilities(state, k))(keys)
    return jax.vmap(lambda k, context: probabilities(state, k, context=context))(keys, log.context)


def evaluate_agent(
    agent: BaseAgent,
    state: AgentState,
    log: LoggedData,
    key: PRNGKey,
    estimated_rewards: Array | None = None,
    level: float = 0.95,
) -> dict[str, Estimate]:
    """Every estimator's value of ``agent`` (in ``state``, not learning) as the target policy on ``log``.

    Returns ``{"ips": ..., "snips": ...}`` and, given a reward model's ``estimated_rewards``
    (shape ``(n, n_actions)``, e.g. from :func:`fit_linear_rewards`), ``"dm"`` and ``"dr"`` too.
    """
    target = target_probabilities(agent, state, log, key)
    estimates = {"ips": ips(log, target, level), "snips": snips(log, target, level)}
    if estimated_rewards is not None:
        estimates["dm"] = direct_method(target, estimated_rewards, level)
        estimates["dr"] = doubly_robust(log, target, estimated_rewards, level)
    return estimates


def fit_linear_rewards(log: LoggedData, lam: float = 1.0) -> Array:
    r"""A reward model for DM and DR: per-action ridge regression on the logged rounds.

    ``log.context`` holds every action's features, shape ``(n, n_actions, n_features)``;
    :math:`\hat\theta_a = (\lambda I + \sum_{i: a_i = a} x_{i,a} x_{i,a}^\top)^{-1}
    \sum_{i: a_i = a} r_i x_{i,a}` (the disjoint linear model of LinUCB). Returns
    :math:`\hat q(x_i, a) = x_{i,a}^\top \hat\theta_a`, shape ``(n, n_actions)``.
    """
    context = jnp.asarray(log.context, jnp.float32)
    n_actions, n_features = context.shape[1], context.shape[2]
    chosen = (log.action[:, None] == jnp.arange(n_actions)).astype(jnp.float32)  # (n, A)
    features = context * chosen[:, :, None]  # each round's features on its logged action only
    gram = jnp.einsum("nad,nae->ade", features, features) + lam * jnp.eye(n_features)
    moment = jnp.einsum("nad,n->ad", features, jnp.asarray(log.reward, jnp.float32))
    theta = jnp.linalg.solve(gram, moment[:, :, None])[:, :, 0]
    return jnp.einsum("nad,ad->na", context, theta)


def read_csv_log(
    path: str | os.PathLike,
    *,
    late_feedback: bool = False,
    context: str | None = None,
    action: str = "action",
    reward: str = "reward",
    propensity: str = "propensity",
) -> LoggedData:
    """The :class:`LoggedData` of a facade run logged by :class:`~agentax.loggers.CsvLogger`.

    The run is one of ``RLib(..., record_propensity=True, logger_types=CsvLogger,
    logger_sources=["action", "reward", "propensity", ...])``. Rows of custom values are skipped;
    each instance's rows are read in step order. Reading parses numbers and JSON lists only.

    Args:
      path: the CSV file.
      late_feedback: ``False`` for a log of :meth:`~agentax.RLib.sample` calls, where the reward
        given with an instance's call is the outcome of its previous action: each action is paired
        with the reward of the instance's next row (an instance's last action, whose outcome never
        came, is left out). ``True`` for a log of :meth:`~agentax.RLib.decide` and
        :meth:`~agentax.RLib.learn` calls: the rows that hold a reward are ``learn`` rows, each
        with its decision's action, propensity and kept observations.
      context: the column of the observation to use as :attr:`LoggedData.context` (e.g.
        ``"context"``, logged as a source), or ``None``.
      action, reward, propensity: the columns of those values (the sources' names).

    Raises:
      agentax.errors.AgentaxError: a column is missing, or a value a logged round needs is empty or not a number.
    """
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    if not rows:
        raise AgentaxError(f"{os.fspath(path)} is empty; expected a CSV file written by CsvLogger")
    header, columns = rows[0], {"action": action, "reward": reward, "propensity": propensity}
    if context is not None:
        columns["context"] = context
    missing = [name for name in ("agent_id", "step", *columns.values()) if name not in header]
    if missing:
        raise AgentaxError(
            f"{os.fspath(path)} has no column {missing[0]!r}; its columns are {header}"
        )
    index = {
        field: header.index(name)
        for field, name in {"agent_id": "agent_id", "step": "step", **columns}.items()
    }
    runs = defaultdict(list)  # agent_id -> [(step, row)]
    for row in rows[1:]:
        if row[index["agent_id"]]:  # custom values have no agent_id
            runs[row[index["agent_id"]]].append((int(row[index["step"]]), row))
    rounds = []
    for run in runs.values():
        run = [row for _, row in sorted(run, key=lambda item: item[0])]
        if late_feedback:
            rounds += [(row, row) for row in run if row[index["reward"]]]
        else:
            rounds += list(pairwise(run))
    if not rounds:
        raise AgentaxError(f"{os.fspath(path)} holds no logged round with a reward")

    def values(field: str, which: int, dtype) -> np.ndarray:
        cells = [pair[which][index[field]] for pair in rounds]
        try:
            return np.asarray([json.loads(cell) for cell in cells], dtype)
        except (ValueError, TypeError) as error:
            raise AgentaxError(
                f"column {columns[field]!r} of {os.fspath(path)} has an empty or non-numeric value in a logged round "
                f"({error}); expected numbers (arrays as JSON lists)"
            ) from None

    return LoggedData(
        action=jnp.asarray(values("action", 0, np.int32)),
        reward=jnp.asarray(values("reward", 1, np.float32)),
        propensity=jnp.asarray(values("propensity", 0, np.float32)),
        context=jnp.asarray(values("context", 0, np.float32)) if context is not None else None,
    )
