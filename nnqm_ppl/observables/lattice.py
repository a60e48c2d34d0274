"""Euclidean time correlators of lattice paths, averaged over translations.

Paths arrive as an array ``x`` of shape ``(chain, draw, L)``: ``L = N`` sites ``x_0 … x_{N−1}``
for a periodic lattice (``τ_n = n a``, ``x_N ≡ x_0``), ``L = N + 1`` sites for fixed ends or the
half-line.

Which sites enter an average is decided once, by :func:`nnqm_ppl.windows.window_sites` (used by
:func:`window` here and by the exact window averages of :mod:`nnqm_ppl.exact.window`, so the two
cannot drift apart):

* ``"periodic"`` — every site; the correlator averages over all ``N`` translations (exact circular
  correlation by FFT).
* ``"open"`` — a stationary open segment (e.g. Ornstein–Uhlenbeck samples): every site, products
  ``O_{j+n} O_j`` averaged over the ``M − n`` pairs that fit inside the segment.
* ``"fixed"`` / ``"half_line"`` — the ends are not in equilibrium (pinned ends; the free end of the
  half-line carries ``ψ0`` rather than ``|ψ0|²``), so ``skip`` sites are dropped at each end
  (default ``L // 4``) and the interior window is treated as an open segment. The window is
  still not translation invariant (``⟨x_j⟩``, ``⟨x_j x_{j+n}⟩`` depend on ``j``): its averages
  estimate the window averages of the site values, which is what the exact column reports, and
  its connected correlator subtracts ``⟨x_j⟩⟨x_{j+n}⟩`` pair by pair (:func:`connected_correlator`).

A per-draw translation average is an unbiased estimator of the correlator for that draw's
distribution, so its mean over draws is the estimate and its ArviZ MCSE the error.
"""

from __future__ import annotations

import numpy as np

from nnqm_ppl.observables.estimate import Estimate, derived_estimate, mean_estimate
from nnqm_ppl.windows import Boundary, is_periodic, pair_means, window_sites

__all__ = [
    "window",
    "site_mean_series",
    "correlator_series",
    "cross_correlator_series",
    "correlator",
    "connected_correlator",
]

def window(x: np.ndarray, boundary: Boundary = "periodic", skip: int | None = None) -> np.ndarray:
    """The sites of each path that enter translation averages (those of :func:`window_sites`).

    Parameters
    ----------
    x : array_like, shape (chain, draw, L)
        Lattice paths (trailing axes after ``L`` are carried along).
    boundary, skip
        See :func:`~nnqm_ppl.windows.window_sites`.

    Returns
    -------
    ndarray, shape (chain, draw, M)
        ``x[..., skip : L − skip]`` as float64 (all ``L`` sites for a periodic path).
    """
    a = np.asarray(x, dtype=np.float64)
    if a.ndim < 3:
        raise ValueError("paths need shape (chain, draw, L)")
    sites = window_sites(a.shape[2], boundary, skip)
    return a[:, :, sites.start : sites.stop]


def _default_n_tau(m: int, periodic: bool) -> int:
    return m // 2 + 1 if periodic else m // 2


def _check_n_tau(n_tau: int | None, m: int, periodic: bool) -> int:
    n = _default_n_tau(m, periodic) if n_tau is None else int(n_tau)
    if not 1 <= n <= m - (0 if periodic else 1):
        raise ValueError(f"n_tau={n} does not fit a window of {m} sites")
    return n


def _lagged_means(ops: np.ndarray, n_tau: int, periodic: bool) -> np.ndarray:
    """Translation averages ``(1/#pairs) Σ_j O^i_{j+n} O^k_j`` for all operator pairs.

    ``ops`` has shape (chain, draw, M, K); the result (chain, draw, n_tau, K, K). Circular
    correlation by FFT for a periodic path; zero-padded FFT (linear correlation) divided by the
    ``M − n`` pairs for an open segment.
    """
    m = ops.shape[2]
    size = m if periodic else 2 * m
    f = np.fft.rfft(ops, n=size, axis=2)
    prod = f[..., :, None] * np.conj(f[..., None, :])
    lagged = np.fft.irfft(prod, n=size, axis=2)[:, :, :n_tau]
    pairs = np.full(n_tau, m, dtype=np.float64) if periodic else m - np.arange(n_tau, dtype=float)
    return lagged / pairs[:, None, None]


def cross_correlator_series(
    ops: np.ndarray,
    n_tau: int | None = None,
    *,
    boundary: Boundary = "periodic",
    skip: int | None = None,
) -> np.ndarray:
    r"""Per-draw, translation-averaged matrix of correlators of several operators.

    .. math::
        c_{ik}(n) = \frac{1}{2P_n} \sum_j \bigl[O^i_{j+n} O^k_j + O^k_{j+n} O^i_j\bigr],

    the sum running over the ``P_n`` pairs of the window (``P_n = N`` periodic, ``M − n`` open).
    Symmetrising in ``i ↔ k`` averages ``τ`` and ``−τ``, which time-reversal symmetry of the
    Euclidean theory makes equal in expectation.

    Parameters
    ----------
    ops : array_like, shape (chain, draw, L, K)
        Local operators ``O^i_j`` on every site (e.g. ``x^p`` for a few powers ``p``).
    n_tau : int, optional
        Number of separations ``n = 0 … n_tau − 1``. Default ``N//2 + 1`` periodic, ``M//2`` open.
    boundary, skip
        See :func:`window`.

    Returns
    -------
    ndarray, shape (chain, draw, n_tau, K, K)
    """
    o = np.asarray(ops, dtype=np.float64)
    if o.ndim != 4:
        raise ValueError("operators need shape (chain, draw, L, K)")
    w = window(o, boundary, skip)
    periodic = is_periodic(boundary)
    n = _check_n_tau(n_tau, w.shape[2], periodic)
    c = _lagged_means(w, n, periodic)
    return 0.5 * (c + np.swapaxes(c, -1, -2))


def correlator_series(
    x: np.ndarray,
    n_tau: int | None = None,
    *,
    boundary: Boundary = "periodic",
    skip: int | None = None,
    power: int = 1,
) -> np.ndarray:
    r"""Per-draw translation-averaged correlator ``c(n) = (1/P_n) Σ_j O_{j+n} O_j``, ``O = x^p``.

    The series whose mean is ``C(τ_n) = ⟨O(τ_n) O(0)⟩``: the input to effective masses and to
    gates that need a correlator per draw.

    Parameters
    ----------
    x : array_like, shape (chain, draw, L)
        Lattice paths.
    n_tau : int, optional
        Separations ``n = 0 … n_tau − 1`` (``τ = n a``); defaults as in
        :func:`cross_correlator_series`.
    boundary, skip
        See :func:`window`.
    power : int
        The operator is ``x^power``.

    Returns
    -------
    ndarray, shape (chain, draw, n_tau)
    """
    ops = np.asarray(x, dtype=np.float64)[..., None] ** power
    return cross_correlator_series(ops, n_tau, boundary=boundary, skip=skip)[..., 0, 0]


def correlator(
    x: np.ndarray,
    n_tau: int | None = None,
    *,
    boundary: Boundary = "periodic",
    skip: int | None = None,
) -> Estimate:
    """``C(τ_n) = ⟨x(τ_n) x(0)⟩`` for ``τ_n = n a``, ``n = 0 … n_tau − 1``, with ArviZ MCSE.

    Parameters are those of :func:`correlator_series`; the result's value and MCSE have shape
    ``(n_tau,)``.
    """
    return mean_estimate(correlator_series(x, n_tau, boundary=boundary, skip=skip))


def site_mean_series(
    x: np.ndarray, *, boundary: Boundary = "periodic", skip: int | None = None, power: int = 1
) -> np.ndarray:
    """Per-draw average of ``x^power`` over the sites of :func:`window`, shape (chain, draw)."""
    return (window(x, boundary, skip) ** power).mean(axis=2)


def connected_correlator(
    x: np.ndarray,
    power: int = 1,
    n_tau: int | None = None,
    *,
    boundary: Boundary = "periodic",
    skip: int | None = None,
) -> Estimate:
    r"""Connected correlator of ``O = x^power`` averaged over the window, by the delta method.

    On a periodic path every pair window is the whole path, so one mean ``⟨O⟩`` cancels each
    path's own mean exactly:

    .. math:: C_c(τ_n) = \overline{c(n)} - \bar{o}^{\,2},

    with ``c(n)`` from :func:`correlator_series` and ``o`` the per-draw site mean of ``O``. On any
    other window (open, fixed ends, half line) the connected correlator is the window average of
    ``⟨O_j O_{j+n}⟩ − ⟨O_j⟩⟨O_{j+n}⟩`` over the ``M − n`` pairs, with per-site means (sites with
    fixed ends or on a half line have their own means; on a stationary open path one window mean
    would leave ``2⟨O⟩ × (pair-window − site-window mean)`` in every product, the defect
    :func:`~nnqm_ppl.observables.spectrum.gevp_input` avoids the same way):

    .. math:: C_c(τ_n) = \overline{c(n)} - \frac{1}{M - n} \sum_j \bar{o}_j \bar{o}_{j+n}

    (:func:`~nnqm_ppl.windows.pair_means` of the per-site means). The error is the MCSE of the linearised series.

    Parameters
    ----------
    x : array_like, shape (chain, draw, L)
        Lattice paths.
    power : int
        ``1``, ``2``, ``3``, … for the connected correlators of ``x``, ``x²``, ``x³``.
    n_tau, boundary, skip
        As in :func:`correlator_series`.

    Returns
    -------
    Estimate
        Value and MCSE of shape ``(n_tau,)``.
    """
    c = correlator_series(x, n_tau, boundary=boundary, skip=skip, power=power)
    if is_periodic(boundary):
        o = site_mean_series(x, boundary=boundary, skip=skip, power=power)
        y = np.concatenate([c, o[..., None]], axis=-1)
        return derived_estimate(lambda v: v[:-1] - v[-1] ** 2, y)
    n = c.shape[-1]
    y = np.concatenate([c, window(x, boundary, skip) ** power], axis=-1)
    return derived_estimate(lambda v: v[:n] - pair_means(v[n:], n), y)
