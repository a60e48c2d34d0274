"""Estimators of a scalar field on a periodic spatial lattice: per-draw series of field paths.

Field paths arrive as ``x`` of shape ``(chain, draw, N, L)``: φ_{i,n} on N periodic time slices
and L periodic spatial sites (:mod:`nnqm_ppl.physics`: components last). Every function returns
the per-draw series whose mean over draws is the estimate, averaged over all time translations
(and, through momentum or site averages, over all space translations), so that
:func:`~nnqm_ppl.observables.estimate.mean_estimate` gives the value and its ArviZ MCSE and
:mod:`~nnqm_ppl.observables.spectrum` the energies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np

__all__ = ["zero_momentum", "site_mean_series", "momentum_correlator_series", "virial_series"]

Array = Any


def _paths(x: Array) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 4:
        raise ValueError("field paths need shape (chain, draw, N, L)")
    return a


def zero_momentum(x: Array) -> np.ndarray:
    """Φ(τ_n) = (1/L) Σ_i φ_{i,n}, shape (chain, draw, N): a scalar path for the line's estimators."""
    return _paths(x).mean(axis=-1)


def site_mean_series(x: Array, power: int = 2) -> np.ndarray:
    """Per-draw (1/NL) Σ_{n,i} φ_{i,n}^p, shape (chain, draw): its mean is the site-averaged ⟨φ^p⟩."""
    return (_paths(x) ** power).mean(axis=(-2, -1))


def momentum_correlator_series(x: Array, n_tau: int | None = None) -> np.ndarray:
    """Per-draw momentum-resolved correlators c_k(τ_n), k = 0..⌊L/2⌋, n = 0..n_tau−1.

    .. math::

        c_k(n) = \\frac{1}{N L^2} \\sum_{t=0}^{N-1} \\mathrm{Re}\\big[\\tilde\\phi_k(t + n)\\,
                 \\tilde\\phi_k(t)^*\\big],\\qquad
        \\tilde\\phi_k(t) = \\sum_{j=0}^{L-1} \\phi_{j,t}\\, e^{-2\\pi i k j/L},

    with t + n taken mod N: the cos and sin modes of momentum k combined (Re[φ̃ φ̃*] is the sum
    of the products of their real and imaginary parts), averaged over the N time translations;
    the 1/L² makes c_0 the correlator of Φ = (1/L) Σ_j φ_j. Its mean is C_k(τ_n) of
    :mod:`nnqm_ppl.exact.field`. Computed by an FFT in space (rfft: k = 0..⌊L/2⌋) and a circular
    correlation in time by FFT.

    Parameters
    ----------
    x : array (chain, draw, N, L)
        Field paths.
    n_tau : int, optional
        Number of separations (default N//2 + 1).

    Returns
    -------
    ndarray (chain, draw, n_tau, ⌊L/2⌋ + 1)
    """
    phi = _paths(x)
    n, sites = phi.shape[2], phi.shape[3]
    n_tau = n // 2 + 1 if n_tau is None else int(n_tau)
    if not 1 <= n_tau <= n:
        raise ValueError(f"n_tau={n_tau} does not fit {n} time slices")
    modes = np.fft.rfft(phi, axis=-1)  # φ̃_k(t), k = 0..L//2
    spectrum = np.fft.fft(modes, axis=2)
    lagged = np.fft.ifft(spectrum * np.conj(spectrum), axis=2).real  # Σ_t Re φ̃(t+n) φ̃(t)* (both parts)
    return lagged[:, :, :n_tau] / (n * sites**2)


def virial_series(x: Array, potential: Callable[[Array], Array], gradient: Callable[[Array], Array]) -> np.ndarray:
    """Per-draw virial energy per site, (1/NL) Σ_n [V(φ_n) + φ_n·∇V(φ_n)/2], shape (chain, draw).

    In an energy eigenstate ⟨T⟩ = ⟨φ·∇V⟩/2 (virial theorem), so its mean estimates E_0/L once β
    is large enough that the paths are ground-state distributed, with O(a²) lattice corrections
    through the distribution of φ (as :func:`nnqm_ppl.observables.quantum.virial_energy` for one
    site).

    Parameters
    ----------
    x : array (chain, draw, N, L)
        Field paths.
    potential, gradient : callable
        V and ∇V on the last axis (L values -> a scalar, resp. L values).
    """
    phi = _paths(x)
    v = np.asarray(potential(jnp.asarray(phi)))
    dot = np.sum(phi * np.asarray(gradient(jnp.asarray(phi))), axis=-1)
    return (v + 0.5 * dot).mean(axis=-1) / phi.shape[-1]
