"""A gap read off the plateau of an effective mass: the window rule and the weighted mean with its
delta-method MCSE (:class:`PlateauFit`, :func:`plateau_fit`, :func:`plateau_gap`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from nnqm_ppl.observables.estimate import Estimate, derived_estimate
from nnqm_ppl.observables.spectrum.effective_mass import MassKind, _mass_function, _stack_means

__all__ = ["PlateauFit", "plateau_fit", "plateau_gap", "window_contamination"]


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


def window_contamination(fit: PlateauFit, exact_mass: np.ndarray, exact_gap: float) -> float:
    """The excited-state contamination of a plateau's window: the systematic of its gap.

    .. math:: \\Big|\\sum_{τ \\in W} w_τ\\, m_{\\rm exact}(τ) - E_{\\rm exact}\\Big|,
              \\qquad w_τ ∝ 1/\\mathrm{mcse}_τ^2,

    the same weighted mean as :func:`plateau_fit`'s, applied to the exact lattice effective mass
    (:func:`~nnqm_ppl.observables.spectrum.effective_mass_curve` of the exact correlator on the
    same lattice) instead of the measured one, minus the exact gap.

    Parameters
    ----------
    fit : PlateauFit
    exact_mass : ndarray
        The exact effective mass at ``fit.tau`` (at least that many points).
    exact_gap : float
        The exact energy the plateau estimates.
    """
    in_win = (fit.tau >= fit.window[0]) & (fit.tau <= fit.window[1])
    w = 1.0 / np.asarray(fit.effective_mass.mcse)[in_win] ** 2
    return abs(float(np.sum(w * np.asarray(exact_mass)[: len(fit.tau)][in_win]) / np.sum(w)) - exact_gap)
