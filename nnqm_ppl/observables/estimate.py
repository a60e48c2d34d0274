"""Monte Carlo estimates with standard errors from ArviZ.

Every observable in the suite is an :class:`Estimate`: a value and its Monte Carlo standard error.
Means of per-draw series get their MCSE from ``arviz_stats`` (which accounts for autocorrelation
through the effective sample size); smooth functions of several means (connected correlators,
ratios, effective masses, Δx·Δp) get theirs by the delta method: the linearised per-draw series
``∇f(ȳ) · (y_t − ȳ)`` is itself a series whose mean's MCSE is the error of ``f(ȳ)``. ESS is never
re-implemented here.

Draw arrays have shape ``(chain, draw, ...)``; trailing axes are independent observables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from arviz_stats.base import array_stats

__all__ = ["Estimate", "mean_estimate", "derived_estimate", "ess"]


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo value with its standard error (scalars or arrays of equal shape).

    Attributes
    ----------
    value : float or ndarray
        The estimate.
    mcse : float or ndarray
        Its Monte Carlo standard error.
    ess : float or ndarray or None
        Effective sample size of the underlying series, where one applies.
    """

    value: float | np.ndarray
    mcse: float | np.ndarray
    ess: float | np.ndarray | None = None

    def to_dict(self) -> dict:
        """JSON-ready ``{"value", "mcse"}`` (lists for arrays)."""
        return {"value": _jsonable(self.value), "mcse": _jsonable(self.mcse)}

    def pull(self, exact: float | np.ndarray) -> float | np.ndarray:
        """(value − exact) / mcse: how many standard errors from ``exact``."""
        return (np.asarray(self.value) - np.asarray(exact)) / np.asarray(self.mcse)


def _jsonable(x: float | np.ndarray) -> float | list:
    a = np.asarray(x, dtype=float)
    return a.tolist() if a.ndim else float(a)


def _as_draws(series: np.ndarray) -> np.ndarray:
    a = np.asarray(series, dtype=float)
    if a.ndim < 2:
        raise ValueError("draw arrays need shape (chain, draw, ...)")
    return a


def ess(series: np.ndarray, method: str = "bulk") -> np.ndarray:
    """ArviZ effective sample size of each trailing component of a ``(chain, draw, ...)`` array."""
    a = _as_draws(series)
    return np.asarray(array_stats.ess(a, chain_axis=0, draw_axis=1, method=method))


def mean_estimate(series: np.ndarray) -> Estimate:
    """Mean over chains and draws with its MCSE from ArviZ.

    Parameters
    ----------
    series : ndarray, shape (chain, draw, ...)
        Per-draw values of one or many observables.

    Returns
    -------
    Estimate
        Mean, MCSE (``arviz_stats`` method "mean") and bulk ESS, each of shape ``series.shape[2:]``.
    """
    a = _as_draws(series)
    value = a.mean(axis=(0, 1))
    mcse = np.asarray(array_stats.mcse(a, chain_axis=0, draw_axis=1, method="mean"))
    return Estimate(_squeeze(value), _squeeze(mcse), _squeeze(ess(a)))


def derived_estimate(f: Callable[[jnp.ndarray], jnp.ndarray], series: np.ndarray) -> Estimate:
    """Estimate ``f(E[y])`` for a smooth ``f`` of the means of several series (delta method).

    Parameters
    ----------
    f : callable
        JAX-differentiable map from the vector of means (length K) to a scalar or vector.
    series : ndarray, shape (chain, draw, K)
        Per-draw values whose means feed ``f``.

    Returns
    -------
    Estimate
        ``f(ȳ)`` with MCSE of the linearised series ``J(ȳ) (y_t − ȳ)``, whose mean's MCSE (from
        ArviZ, autocorrelation included) is the first-order error of ``f(ȳ)``.
    """
    a = _as_draws(series)
    ybar = a.mean(axis=(0, 1))
    value = np.asarray(f(jnp.asarray(ybar)))
    jac = np.asarray(jax.jacfwd(f)(jnp.asarray(ybar)))
    lin = np.tensordot(a - ybar, jac, axes=([-1], [-1]))  # (chain, draw, *out)
    mcse = np.asarray(array_stats.mcse(lin, chain_axis=0, draw_axis=1, method="mean"))
    return Estimate(_squeeze(value), _squeeze(mcse), _squeeze(ess(lin)))


def _squeeze(x: np.ndarray | float) -> float | np.ndarray:
    a = np.asarray(x, dtype=float)
    return float(a) if a.ndim == 0 else a
