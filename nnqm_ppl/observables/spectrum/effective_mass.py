"""Effective masses as smooth functions of the vector of correlator means: the log ratio
``ln(C(τ)/C(τ+a))/a`` and the cosh form of a periodic lattice (solved for ``m`` with a custom JVP),
with delta-method errors (:mod:`nnqm_ppl.observables.spectrum`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from nnqm_ppl.observables.estimate import Estimate, derived_estimate
from nnqm_ppl.windows import pair_means

__all__ = ["MassKind", "effective_mass", "effective_mass_curve"]


MassKind = Literal["log", "cosh"]


def _cosh_ratio(m: jnp.ndarray, h: jnp.ndarray) -> jnp.ndarray:
    """``cosh(m h)/cosh(m(h−1)) = cosh m + sinh m · tanh(m(h−1))``, increasing in m for h ≥ 1."""
    return jnp.cosh(m) + jnp.sinh(m) * jnp.tanh(m * (h - 1.0))


@jax.custom_jvp
def _cosh_mass(r: jnp.ndarray, h: jnp.ndarray) -> jnp.ndarray:
    """Solve ``cosh(m h)/cosh(m(h−1)) = r`` for ``m ≥ 0`` (lattice units); NaN unless ``r > 1``.

    The root lies in ``[ln r, arccosh r]`` because ``cosh m ≤ ratio ≤ e^m``; 100 bisection steps
    reach float64 resolution.
    """
    rs = jnp.where(r > 1.0, r, 2.0)

    def step(_: int, bracket: tuple[jnp.ndarray, jnp.ndarray]) -> tuple[jnp.ndarray, jnp.ndarray]:
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        above = _cosh_ratio(mid, h) > rs
        return jnp.where(above, lo, mid), jnp.where(above, mid, hi)

    lo, hi = jax.lax.fori_loop(0, 100, step, (jnp.log(rs), jnp.arccosh(rs)))
    return jnp.where(r > 1.0, 0.5 * (lo + hi), jnp.nan)


@_cosh_mass.defjvp
def _cosh_mass_jvp(primals: tuple, tangents: tuple) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Implicit derivative: ``dm = (dr − ∂_h R dh) / ∂_m R`` with ``R(m, h)`` the cosh ratio."""
    r, h = primals
    dr, dh = tangents
    m = _cosh_mass(r, h)
    u = m * (h - 1.0)
    dR_dm = jnp.sinh(m) + jnp.cosh(m) * jnp.tanh(u) + jnp.sinh(m) * (h - 1.0) / jnp.cosh(u) ** 2
    dR_dh = jnp.sinh(m) * m / jnp.cosh(u) ** 2
    return m, (dr - dR_dh * dh) / dR_dm


@functools.lru_cache(maxsize=64)
def _mass_function(
    kind: MassKind, a: float, n_tau: int, n_means: int, beta: float | None
) -> tuple[Callable[[jnp.ndarray], jnp.ndarray], np.ndarray]:
    """``f(ȳ) → m_eff(τ_n)`` (jitted, cached per lattice) and the ``τ_n``.

    ``ȳ = (C̄(τ_0 … τ_{n_tau−1}), ō_1 … ō_{n_means})``: no mean (``n_means = 0``), the one mean
    of a translation-invariant path (``1``: subtract ``ō²``) or the means at the ``M`` sites of
    an open window (``M``: subtract :func:`~nnqm_ppl.windows.pair_means`).
    """
    if kind == "log":
        n_t = n_tau - 1
    elif kind == "cosh":
        if beta is None:
            raise ValueError("the cosh effective mass needs beta")
        half = beta / (2.0 * a)
        n_t = min(n_tau - 1, int(np.floor(half - 1.0 + 1e-9)) + 1)
    else:
        raise ValueError(f"kind must be 'log' or 'cosh', got {kind!r}")
    if n_t < 1:
        raise ValueError("need at least two correlator values inside τ ≤ β/2")
    n = np.arange(n_t, dtype=np.float64)

    def f(v: jnp.ndarray) -> jnp.ndarray:
        if n_means == 1:
            c = v[:n_tau] - v[n_tau] ** 2
        elif n_means:
            c = v[:n_tau] - pair_means(v[n_tau:], n_tau)
        else:
            c = v[:n_tau]
        ratio = c[:n_t] / c[1 : n_t + 1]
        if kind == "log":
            return jnp.log(ratio) / a
        return _cosh_mass(ratio, jnp.asarray(half - n)) / a

    return jax.jit(f), n * a


def _stack_means(series: np.ndarray, mean_series: np.ndarray | None) -> tuple[np.ndarray, int]:
    """``(ȳ series, number of mean columns)``; per-site means need at least ``n_tau`` sites."""
    s = np.asarray(series, dtype=np.float64)
    if s.ndim != 3 or s.shape[2] < 2:
        raise ValueError("correlator series need shape (chain, draw, n_tau) with n_tau ≥ 2")
    if mean_series is None:
        return s, 0
    o = np.asarray(mean_series, dtype=np.float64)
    if o.shape == s.shape[:2]:
        o = o[..., None]
    elif o.ndim != 3 or o.shape[:2] != s.shape[:2] or o.shape[2] < s.shape[2]:
        raise ValueError("mean_series needs shape (chain, draw) or (chain, draw, M) with M ≥ n_tau sites")
    return np.concatenate([s, o], axis=-1), o.shape[2]


def effective_mass(
    series: np.ndarray,
    a: float,
    *,
    kind: MassKind = "log",
    beta: float | None = None,
    mean_series: np.ndarray | None = None,
) -> tuple[np.ndarray, Estimate]:
    r"""Effective mass from a per-draw correlator series, with delta-method MCSE.

    ``kind="log"``: :math:`m(τ) = \ln[C(τ)/C(τ+a)]/a`, exact for one state at ``β → ∞``.

    ``kind="cosh"`` (periodic lattice, finite ``β``): the root of

    .. math:: \frac{C(τ)}{C(τ+a)} = \frac{\cosh m(β/2 − τ)}{\cosh m(β/2 − τ − a)},

    exact for one state propagating both ways round the circle (for the lattice harmonic
    oscillator it equals the lattice gap at every ``τ``). Defined for ``τ ≤ β/2 − a``.

    Parameters
    ----------
    series : array_like, shape (chain, draw, n_tau)
        Per-draw correlator ``c(τ_n)``, e.g. from
        :func:`~nnqm_ppl.observables.lattice.correlator_series`.
    a : float
        Lattice spacing.
    kind : {"log", "cosh"}
        Estimator.
    beta : float, optional
        ``β = N a``; required for ``"cosh"``.
    mean_series : array_like, shape (chain, draw) or (chain, draw, M), optional
        Per-draw site mean ``ō`` of the operator (a translation-invariant path): the connected
        correlator ``C̄(τ) − ō²`` is used. Or the operator at each of the ``M`` sites of an
        open window (fixed ends, half line; e.g. :func:`~nnqm_ppl.observables.lattice.window`
        of the paths): the connected correlator is the window average of
        ``⟨O_j O_{j+n}⟩ − ⟨O_j⟩⟨O_{j+n}⟩`` over the pairs of ``series``.

    Returns
    -------
    tau : ndarray
        ``τ_n = n a`` at which the mass is given.
    Estimate
        ``m(τ_n)`` (NaN where the ratio is not above 1 for ``"cosh"`` or not positive for
        ``"log"``) with MCSE.
    """
    y, n_means = _stack_means(series, mean_series)
    f, tau = _mass_function(kind, a, y.shape[2] - n_means, n_means, beta)
    return tau.copy(), derived_estimate(f, y)


def effective_mass_curve(
    correlator: np.ndarray, a: float, *, kind: MassKind = "log", beta: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The effective mass of a known (exact) correlator, by the same formula as :func:`effective_mass`.

    Parameters
    ----------
    correlator : array_like, shape (n_tau,)
        ``C(τ_n)`` at ``τ_n = n a`` (e.g. the transfer-matrix correlator).
    a, kind, beta
        As in :func:`effective_mass`.

    Returns
    -------
    tau, mass : ndarray
        ``τ_n`` and ``m(τ_n)``.
    """
    c = np.asarray(correlator, dtype=np.float64)
    f, tau = _mass_function(kind, a, c.shape[0], 0, beta)
    return tau.copy(), np.asarray(f(jnp.asarray(c)))
