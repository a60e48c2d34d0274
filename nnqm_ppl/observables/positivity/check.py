"""The result of a positivity check and what every check shares: :class:`Check`, its
:data:`VERDICTS`, the validated draws on a symmetric time grid, row-wise delta-method errors and
per-draw lagged products (verdicts and error methods in :mod:`nnqm_ppl.observables.positivity`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from nnqm_ppl.observables.estimate import Estimate, mean_estimate

__all__ = ["VERDICTS", "Check"]


VERDICTS = ("violated", "no violation detected", "satisfied", "inconclusive")


@dataclass(frozen=True)
class Check:
    """Result of one check.

    Attributes
    ----------
    name : str
        Which check.
    statistic : Estimate
        The reported statistic (value ± error, possibly arrays).
    z : float
        Significance of the strongest violation, in units of its error (≤ 0: none).
    verdict : str
        One of :data:`VERDICTS` (module docstring).
    threshold : float
        Significance demanded, in σ.
    error_method : str
        How the error bar was obtained.
    detail : dict
        Check-specific extras (times, matrices, fitted weights, ...).
    """

    name: str
    statistic: Estimate
    z: float
    verdict: str
    threshold: float
    error_method: str
    detail: dict = field(default_factory=dict)


def _null_verdict(z: float, threshold: float) -> str:
    """``violated`` at ≥ threshold σ, else ``no violation detected`` (never a proof of the property)."""
    return "violated" if z >= threshold else "no violation detected"


def _draws(paths: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(chain, draw, n_times) float array and the validated symmetric uniform grid."""
    x = np.asarray(paths, dtype=float)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"paths must have shape (n_paths, n_times) or (chain, draw, n_times), "
                         f"got {np.shape(paths)}")
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.shape[0] != x.shape[-1] or t.shape[0] < 5:
        raise ValueError(f"times must be 1-D with length n_times = {x.shape[-1]} (>= 5)")
    a = np.diff(t)
    scale = max(abs(t[0]), abs(t[-1]))
    if np.any(a <= 0) or np.ptp(a) > 1e-9 * scale or np.max(np.abs(t + t[::-1])) > 1e-9 * scale:
        raise ValueError("times must be a uniform grid symmetric about 0 (t in [-T, T])")
    if x.shape[1] < 8:
        raise ValueError(f"need at least 8 draws per chain, got {x.shape[1]}")
    return x, t


def _anchors(lo: int, hi: int, n_points: int) -> np.ndarray:
    return np.unique(np.round(np.linspace(lo, hi, n_points)).astype(int))


def _lag_products(a: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Per-draw time averages ``mean_i a_i a_{i+k}`` (zero-padded FFT), (chain, draw, len(lags))."""
    n = a.shape[-1]
    spec = np.fft.rfft(a, 2 * n, axis=-1)
    acf = np.fft.irfft(spec * np.conj(spec), 2 * n, axis=-1)[..., :n]
    return acf[..., lags] / (n - lags)


def _delta_rows(f: Callable[[jnp.ndarray], jnp.ndarray], series: np.ndarray) -> Estimate:
    """Delta method row by row: ``f`` maps one row of means (m,) to a scalar; series (c, d, n, m).

    The same construction as :func:`~nnqm_ppl.observables.estimate.derived_estimate` (linearised
    series ``∇f(ȳ)·(y_t − ȳ)``, ArviZ MCSE of its mean) for ``n`` independent rows, with the
    block-diagonal Jacobian evaluated row-wise.
    """
    ybar = series.mean(axis=(0, 1))
    value = np.asarray(jax.jit(jax.vmap(f))(ybar))
    jac = np.asarray(jax.jit(jax.vmap(jax.jacfwd(f)))(ybar))
    est = mean_estimate(np.einsum("cdnm,nm->cdn", series - ybar, jac))
    return Estimate(value, np.atleast_1d(est.mcse), np.atleast_1d(est.ess))
