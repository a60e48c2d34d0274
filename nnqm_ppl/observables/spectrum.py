r"""Energy gaps from Euclidean correlators: effective masses, plateau fits, GEVP.

On a lattice of spacing ``a`` the correlator of an operator ``O`` is a sum over eigenstates of the
transfer matrix ``T = e^{−a H_a}`` with eigenvalues ``λ_0 > λ_1 > …``; at ``β → ∞``

.. math:: C(τ_n) = \sum_k |⟨0|O|k⟩|^2 (λ_k/λ_0)^n ,

so in the plateau the log-ratio effective mass ``ln(C(τ)/C(τ+a))/a`` measures the transfer-matrix
gap ``−ln(λ_1/λ_0)/a`` *exactly*, not the continuum ``E_1 − E_0``; the two differ by ``O(a²)``
(harmonic oscillator: ``cosh(a ω_lat) = 1 + a²ω²/2``). Compare with the exact lattice value at
the same ``a`` and ``β`` and treat the continuum as a separate limit.

Errors: every quantity here is a smooth function of the means of per-draw series (translation-
averaged correlators from :mod:`nnqm_ppl.observables.lattice`), so its MCSE is the delta-method
error of :func:`~nnqm_ppl.observables.estimate.derived_estimate` — the linearised per-draw series
with ArviZ MCSE, which includes autocorrelation between draws and correlation between ``τ``
values. No jackknife is used.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import solve_triangular

from nnqm_ppl.observables.estimate import Estimate, derived_estimate
from nnqm_ppl.observables.lattice import cross_correlator_series, window
from nnqm_ppl.windows import Boundary, is_periodic, pair_means

__all__ = [
    "PlateauFit",
    "GEVPResult",
    "effective_mass",
    "plateau_fit",
    "plateau_gap",
    "gevp",
    "effective_mass_curve",
    "gevp_energy_function",
    "gevp_input",
]

MassKind = Literal["log", "cosh"]


@dataclass(frozen=True)
class PlateauFit:
    """A gap read off the plateau of an effective mass.

    Attributes
    ----------
    gap : Estimate
        Weighted mean of the effective mass over the window, with its delta-method MCSE.
    window : tuple of float
        ``(τ_min, τ_max)``, both included, in units of Euclidean time.
    tau : ndarray
        The ``τ`` at which the effective mass is given.
    effective_mass : Estimate
        The effective mass at every ``τ`` in ``tau`` (NaN where it is undefined).
    """

    gap: Estimate
    window: tuple[float, float]
    tau: np.ndarray
    effective_mass: Estimate


@dataclass(frozen=True)
class GEVPResult:
    """Energies above the ground state from a generalised eigenvalue problem.

    Attributes
    ----------
    tau : ndarray, shape (n_t,)
        ``τ`` at which ``E_n(τ) = ln(λ_n(τ)/λ_n(τ+a))/a`` is given (``τ ≥ τ_0``).
    energies : Estimate
        ``E_n − E_0`` for ``n = 1 … K`` at every ``τ``; value and MCSE of shape ``(n_t, K)``,
        column ``n − 1`` from the ``n``-th largest generalised eigenvalue.
    gaps : tuple of PlateauFit
        A plateau fit of each column: ``gaps[0].gap`` is ``E_1 − E_0``, ``gaps[1].gap`` is
        ``E_2 − E_0``, …
    """

    tau: np.ndarray
    energies: Estimate
    gaps: tuple[PlateauFit, ...]


# --------------------------------------------------------------------------------------------------
# effective masses as functions of the vector of means


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


# --------------------------------------------------------------------------------------------------
# plateau


def plateau_fit(
    f: Callable[[jnp.ndarray], jnp.ndarray],
    series: np.ndarray,
    tau: np.ndarray,
    *,
    nsigma: float = 2.0,
    min_points: int = 3,
    max_rel_error: float = 0.1,
) -> PlateauFit:
    r"""Automatic plateau of an effective mass ``m(τ) = f(ȳ)`` and its weighted mean.

    Window rule:

    1. a point is *usable* when ``m(τ)`` and its MCSE are finite, ``m > 0`` and
       ``mcse ≤ max_rel_error · m`` (the signal-to-noise cut);
    2. ``τ_min`` is the earliest usable point that starts a run of at least ``min_points``
       usable points and whose difference ``m(τ) − m(τ+a)`` to the next point is within
       ``nsigma`` of its own delta-method MCSE (for correlators from paths the noise is strongly
       correlated across ``τ``, so a difference is more precise than either point);
    3. ``τ_max`` is the end of that run of usable points.

    Estimate: the *uncorrelated* weighted mean ``Σ w_τ m(τ)`` with weights ``w_τ ∝ 1/mcse_τ²``
    held fixed; its error is *correlated*: the delta method applied to ``ȳ ↦ Σ w_τ f_τ(ȳ)`` on the
    full per-draw series, so correlations between ``τ`` values and between draws are included
    (no ``1/sqrt(Σ 1/σ²)`` underestimate).

    The MCSE is statistical only. Contamination by excited states that the window rule cannot
    resolve biases the result by at most the contamination ``m(τ_min) − E`` at the window start
    (``m`` decreases to its plateau for a positive spectral decomposition); with strong, slowly
    decaying contamination this can be a few MCSE. Use a better operator basis (:func:`gevp`) or
    compare windows when that matters.

    Parameters
    ----------
    f : callable
        JAX map from the vector of means of ``series`` to ``m(τ)`` for every ``τ`` in ``tau``.
    series : ndarray, shape (chain, draw, K)
        The per-draw series whose means feed ``f``.
    tau : ndarray
        Euclidean times of the outputs of ``f``.
    nsigma, min_points, max_rel_error
        Window rule, above.

    Returns
    -------
    PlateauFit

    Raises
    ------
    ValueError
        When no window of ``min_points`` usable, mutually consistent points exists.
    """
    if min_points < 2 or len(tau) < min_points:
        raise ValueError(f"a plateau needs 2 ≤ min_points ≤ {len(tau)}, got {min_points}")
    meff = derived_estimate(f, series)
    m = np.atleast_1d(meff.value)
    s = np.atleast_1d(meff.mcse)
    diff = derived_estimate(lambda v: f(v)[:-1] - f(v)[1:], series)
    d, sd = np.atleast_1d(diff.value), np.atleast_1d(diff.mcse)
    with np.errstate(invalid="ignore"):
        usable = np.isfinite(m) & np.isfinite(s) & (m > 0) & (s <= max_rel_error * m)
        flat = np.abs(d) <= nsigma * sd  # False where NaN
    # run_end[t]: last index of the run of usable points starting at t (t − 1 if t is unusable)
    n_m = len(m)
    run_end = np.arange(n_m) - 1
    for t in range(n_m - 1, -1, -1):  # over τ values, not draws
        if usable[t]:
            run_end[t] = run_end[t + 1] if t + 1 < n_m and usable[t + 1] else t
    flat = np.append(flat, False)
    start = next((t for t in range(n_m) if run_end[t] - t + 1 >= min_points and flat[t]), None)
    if start is None:
        raise ValueError(
            f"no plateau: no run of {min_points} usable effective masses (relative error ≤ "
            f"{max_rel_error}) starts with a step consistent with zero within {nsigma} sigma"
        )
    stop = run_end[start]
    weights = np.zeros_like(m)
    weights[start : stop + 1] = 1.0 / s[start : stop + 1] ** 2
    weights /= weights.sum()
    w = jnp.asarray(weights)
    sel = np.zeros(len(m), dtype=bool)
    sel[start : stop + 1] = True

    def mean_mass(v: jnp.ndarray) -> jnp.ndarray:
        return jnp.sum(jnp.where(sel, w * f(v), 0.0))

    gap = derived_estimate(mean_mass, series)
    return PlateauFit(gap, (float(tau[start]), float(tau[stop])), np.asarray(tau), meff)


def plateau_gap(
    series: np.ndarray,
    a: float,
    *,
    kind: MassKind = "log",
    beta: float | None = None,
    mean_series: np.ndarray | None = None,
    nsigma: float = 2.0,
    min_points: int = 3,
    max_rel_error: float = 0.1,
) -> PlateauFit:
    """The gap ``E_1 − E_0`` from the plateau of :func:`effective_mass` (see :func:`plateau_fit`).

    Parameters are those of :func:`effective_mass` and of :func:`plateau_fit`. Use
    ``kind="cosh"`` on a periodic lattice whose ``β`` is not much larger than the window, and
    ``mean_series`` unless ``⟨x⟩ = 0`` by symmetry (then the subtraction only adds noise); with
    fixed ends or on a half line give the paths' window (per-site means, see
    :func:`effective_mass`).
    """
    y, n_means = _stack_means(series, mean_series)
    f, tau = _mass_function(kind, a, y.shape[2] - n_means, n_means, beta)
    return plateau_fit(f, y, tau.copy(), nsigma=nsigma, min_points=min_points, max_rel_error=max_rel_error)


# --------------------------------------------------------------------------------------------------
# GEVP


@functools.lru_cache(maxsize=16)
def gevp_energy_function(
    n_tau: int, k: int, t0: int, a: float, sites: int = 1
) -> Callable[[jnp.ndarray], jnp.ndarray]:
    r"""The GEVP energies as a jitted function of the vector of means (for the delta method).

    ``ȳ = (vec C̄(τ_n)_{ik}, ō) ↦ E_n(τ) = ln(λ_n(τ)/λ_n(τ+a))/a`` for ``τ = t0 … n_tau − 2``,
    with λ_n(τ) the generalised eigenvalues of ``C(τ) v = λ C(τ_0) v`` (connected matrices).
    The disconnected part subtracted from the window-averaged ``C̄(τ_n)`` is ``ō ōᵀ`` for one
    mean per operator (``sites = 1``), else the average over the same ``M − n`` pairs as the
    correlator of the per-site means,

    .. math:: D_{ik}(n) = \frac{1}{2(M − n)} \sum_j \bigl[ō^i_{j+n} ō^k_j + ō^k_{j+n} ō^i_j\bigr]

    (:func:`gevp_input`), which cancels each path's own mean exactly in every pair.

    Parameters
    ----------
    n_tau : int
        Number of correlator times in ``ȳ``.
    k : int
        Number of operators.
    t0 : int
        Index of the reference time τ_0.
    a : float
        Time spacing.
    sites : int
        ``1``: ``ō`` is one mean per operator; ``M ≥ n_tau``: the means at the ``M`` window sites,
        site-major (shape ``(M, K)`` flattened).

    Returns
    -------
    callable
        ``f(ȳ)`` of shape (n_t, K): column n − 1 is E_n − E_0 (connected correlators).
    """

    def f(v: jnp.ndarray) -> jnp.ndarray:
        o = v[n_tau * k * k :].reshape(sites, k)
        if sites == 1:
            disc = jnp.outer(o[0], o[0])[None]
        else:
            disc = jnp.stack([o[n:].T @ o[: sites - n] / (sites - n) for n in range(n_tau)])
            disc = 0.5 * (disc + jnp.swapaxes(disc, -1, -2))
        c = v[: n_tau * k * k].reshape(n_tau, k, k) - disc
        chol = jnp.linalg.cholesky(c[t0])
        half = solve_triangular(chol, c[t0:], lower=True)  # L⁻¹ C(τ)
        m = solve_triangular(chol, jnp.swapaxes(half, -1, -2), lower=True)  # L⁻¹ C(τ) L⁻ᵀ
        lam = jnp.linalg.eigvalsh(0.5 * (m + jnp.swapaxes(m, -1, -2)))[:, ::-1]
        return jnp.log(lam[:-1] / lam[1:]) / a

    return jax.jit(f)


def gevp_input(
    x: np.ndarray, powers: tuple[int, ...], n_tau: int | None, *, boundary: Boundary, skip: int | None = None
) -> tuple[np.ndarray, int]:
    """Per-draw series for :func:`gevp_energy_function`: the correlator matrices of ``x^p`` and
    the operator means.

    Periodic paths carry one mean per operator. On every other window (open, fixed ends, half
    line) the means are per site, so that the disconnected part is averaged over the same pairs
    as the correlator: a single window mean leaves in every per-draw product a term
    ``2⟨O⟩ × (the path's pair-window mean − its site-window mean)``, which for an operator with a
    large mean swamps the connected signal (measured: deep NN-QM at σ_w = 0.5, ⟨y⟩ = −0.94 and
    sd 0.074, level-1 MCSE 1.9 with one mean, 0.008 with per-site means).

    Parameters
    ----------
    x : array_like, shape (chain, draw, L)
        Paths.
    powers : tuple of int
        Exponents ``p_i`` of the operators ``O_i = x^{p_i}``.
    n_tau : int or None
        Separations, as in :func:`~nnqm_ppl.observables.lattice.cross_correlator_series`.
    boundary, skip
        See :func:`~nnqm_ppl.observables.lattice.window`.

    Returns
    -------
    (ndarray, int)
        The series, shape (chain, draw, n_tau·K² + sites·K), and ``sites`` (1 or ``M``).
    """
    ops = np.asarray(x, dtype=np.float64)[..., None] ** np.asarray(powers)
    c = cross_correlator_series(ops, n_tau, boundary=boundary, skip=skip)
    w = window(ops, boundary, skip)
    means = w.mean(axis=2, keepdims=True) if is_periodic(boundary) else w
    series = np.concatenate([c.reshape(*c.shape[:2], -1), means.reshape(*means.shape[:2], -1)], axis=-1)
    return series, means.shape[2]


def gevp(
    x: np.ndarray,
    a: float,
    *,
    powers: tuple[int, ...] = (1, 2, 3),
    t0: int = 1,
    n_tau: int | None = None,
    boundary: Boundary = "periodic",
    skip: int | None = None,
    nsigma: float = 2.0,
    min_points: int = 3,
    max_rel_error: float = 0.1,
) -> GEVPResult:
    r"""Excited-state gaps from the GEVP of connected correlators of ``O_i = x^{p_i}``.

    With ``C_{ik}(τ) = ⟨O_i(τ) O_k(0)⟩ − ⟨O_i⟩⟨O_k⟩`` (translation-averaged, symmetrised; see
    :func:`~nnqm_ppl.observables.lattice.cross_correlator_series`) solve

    .. math:: C(τ) v_n = λ_n(τ) C(τ_0) v_n, \qquad E_n − E_0 = \ln[λ_n(τ)/λ_n(τ+a)]/a,

    by Cholesky ``C(τ_0) = L Lᵀ`` and the symmetric eigenproblem of ``L⁻¹ C(τ) L⁻ᵀ``, eigenvalues
    sorted in decreasing order at each ``τ``. With ``K`` operators the first ``K`` states that the
    operators reach are resolved, up to corrections ``e^{−(E_{K+1} − E_n) τ}``. For an even
    potential ``x`` and ``x³`` are odd and reach ``E_1, E_3, …``; ``x²`` is even and, once its
    vacuum part is subtracted (the connected correlator), reaches ``E_2, E_4, …``; so
    ``{x, x², x³}`` yields ``E_1 − E_0``, ``E_2 − E_0``, ``E_3 − E_0``. On the lattice these are
    transfer-matrix gaps (module docstring). Errors: delta method (eigenvalues are differentiated
    by JAX) on the per-draw correlator matrices and operator means, MCSE from ArviZ. Each level
    is then fitted by :func:`plateau_fit`.

    Parameters
    ----------
    x : array_like, shape (chain, draw, L)
        Lattice paths.
    a : float
        Lattice spacing.
    powers : tuple of int
        Exponents ``p_i`` of the operators.
    t0 : int
        Reference time ``τ_0 = t0·a`` (``C(τ_0)`` must be positive definite).
    n_tau : int, optional
        Correlators for ``τ = 0 … (n_tau − 1) a``; default as in
        :func:`~nnqm_ppl.observables.lattice.cross_correlator_series` (at most ``β/2`` periodic).
    boundary, skip
        See :func:`~nnqm_ppl.observables.lattice.window`.
    nsigma, min_points, max_rel_error
        Plateau window rule of :func:`plateau_fit`.

    Returns
    -------
    GEVPResult

    Raises
    ------
    ValueError
        When a level has no plateau (see :func:`plateau_fit`).
    """
    k = len(powers)
    y, sites = gevp_input(x, powers, n_tau, boundary=boundary, skip=skip)
    n = (y.shape[2] - sites * k) // (k * k)
    if not 0 <= t0 < n - 2:
        raise ValueError(f"t0={t0} leaves no τ > τ0 among {n} separations")
    f = gevp_energy_function(n, k, t0, a, sites)
    tau = a * np.arange(t0, n - 1, dtype=np.float64)
    energies = derived_estimate(f, y)
    gaps = tuple(
        plateau_fit(
            lambda v, i=i: f(v)[:, i],
            y,
            tau,
            nsigma=nsigma,
            min_points=min_points,
            max_rel_error=max_rel_error,
        )
        for i in range(k)
    )
    return GEVPResult(tau, energies, gaps)
