"""Closed forms for the harmonic oscillator V = m ω² x²/2: periodic lattice and continuum.

On the periodic lattice the action is the quadratic form S = x^T A x / 2 with the circulant
A = (m/a)(2 - shift - shift^T) + a m ω², whose eigenvalues are

.. math::

    A_k = \\frac{m}{a}\\Big(2 - 2\\cos\\frac{2\\pi k}{N}\\Big) + a m \\omega^2,
    \\qquad \\langle x_n x_0 \\rangle = \\hbar (A^{-1})_{n0}
    = \\frac{\\hbar}{N} \\sum_{k=0}^{N-1} \\frac{\\cos(2\\pi k n / N)}{A_k}.

The transfer matrix e^{-aV/2ħ} e^{-aK/ħ} e^{-aV/2ħ} has the levels E_n = ħ ω_lat (n + 1/2) with
cosh(a ω_lat) = 1 + a² ω²/2 (from Π_k a A_k / m = 2 cosh(N a ω_lat) - 2).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnqm_ppl.physics import Lattice

__all__ = [
    "lattice_omega",
    "lattice_energies",
    "lattice_correlator",
    "lattice_x2",
    "lattice_p2",
    "continuum_correlator",
    "continuum_x2",
    "continuum_p2",
    "continuum_energies",
]

Array = Any


def lattice_omega(omega: float, a: float) -> float:
    """ω_lat from cosh(a ω_lat) = 1 + a² ω²/2 (→ ω as a → 0)."""
    return float(np.arccosh(1.0 + 0.5 * (a * omega) ** 2) / a)


def lattice_energies(omega: float, a: float, hbar: float = 1.0, n: int = 4) -> Array:
    """Transfer-matrix levels E_k = ħ ω_lat (k + 1/2), k = 0..n-1."""
    return hbar * lattice_omega(omega, a) * (np.arange(n) + 0.5)


def lattice_correlator(lattice: Lattice, omega: float) -> Array:
    """⟨x_n x_0⟩ = (ħ/N) Σ_k cos(2πkn/N)/A_k for n = 0..N on the periodic lattice.

    Parameters
    ----------
    lattice : Lattice
        A periodic lattice (β, N, m, ħ).
    omega : float
        Oscillator frequency ω.

    Returns
    -------
    array (N + 1,)
    """
    if lattice.boundary != "periodic":
        raise ValueError("the closed form is for the periodic lattice")
    n, a, m = lattice.slices, lattice.a, lattice.mass
    k = np.arange(n)
    theta = 2.0 * np.pi * k / n
    a_k = (m / a) * (2.0 - 2.0 * np.cos(theta)) + a * m * omega**2
    phase = np.cos(np.outer(np.arange(n + 1), theta))
    return lattice.hbar * (phase @ (1.0 / a_k)) / n


def lattice_x2(lattice: Lattice, omega: float) -> float:
    """⟨x²⟩ = (ħ/N) Σ_k 1/A_k on the periodic lattice."""
    return float(lattice_correlator(lattice, omega)[0])


def lattice_p2(lattice: Lattice, omega: float) -> float:
    """Point-split ⟨p²⟩ = mħ/a - m²⟨(x_1 - x_0)²⟩/a², with ⟨(x_1 - x_0)²⟩ = 2(G_0 - G_1)."""
    g = lattice_correlator(lattice, omega)
    a, m = lattice.a, lattice.mass
    return float(m * lattice.hbar / a - m**2 * 2.0 * (g[0] - g[1]) / a**2)


def continuum_correlator(tau: Array, beta: float, omega: float, mass: float = 1.0,
                         hbar: float = 1.0) -> Array:
    """C(τ) = (ħ/2mω) cosh(ω(β/2 - τ)) / sinh(ωβ/2) (thermal, weight e^{-βH/ħ})."""
    tau = np.asarray(tau, dtype=float)
    return hbar / (2 * mass * omega) * np.cosh(omega * (beta / 2 - tau)) / np.sinh(omega * beta / 2)


def continuum_x2(beta: float, omega: float, mass: float = 1.0, hbar: float = 1.0) -> float:
    """⟨x²⟩_β = (ħ/2mω) coth(ωβ/2)."""
    return float(hbar / (2 * mass * omega) / np.tanh(omega * beta / 2))


def continuum_p2(beta: float, omega: float, mass: float = 1.0, hbar: float = 1.0) -> float:
    """⟨p²⟩_β = (mħω/2) coth(ωβ/2)."""
    return float(mass * hbar * omega / 2 / np.tanh(omega * beta / 2))


def continuum_energies(omega: float, hbar: float = 1.0, n: int = 4) -> Array:
    """E_k = ħω (k + 1/2), k = 0..n-1."""
    return hbar * omega * (np.arange(n) + 0.5)
