"""Energies above the ground state from a generalised eigenvalue problem on a matrix of
correlators of several operators, ``C(τ) v = λ(τ, τ_0) C(τ_0) v``, each level fitted on its
plateau (:mod:`nnqm_ppl.observables.spectrum`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import solve_triangular

from nnqm_ppl.observables.estimate import Estimate, derived_estimate
from nnqm_ppl.observables.lattice import cross_correlator_series, window
from nnqm_ppl.observables.spectrum.plateau import PlateauFit, plateau_fit
from nnqm_ppl.windows import Boundary, is_periodic

__all__ = ["GEVPResult", "gevp_energy_function", "gevp_input", "gevp"]


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
