"""Continuum truth: exact diagonalisation of H = -(ħ²/2m) d²/dx² + V(x) on a sinc-DVR grid.

The Colbert–Miller sinc discrete-variable representation (J. Chem. Phys. 96, 1982 (1992)) on a
uniform grid x_i = x_lo + i·dx has the kinetic matrix

.. math::

    K_{ij} = \\frac{\\hbar^2}{2 m\\, dx^2} \\begin{cases} \\pi^2/3 & i = j \\\\
             2 (-1)^{i-j} / (i - j)^2 & i \\neq j \\end{cases}

and a diagonal potential V(x_i). Its eigenvalues converge exponentially fast in 1/dx and in the
box size. The box is chosen semiclassically (:func:`semiclassical_box`): it covers the classically
allowed region of a reference energy E_ref above the states that matter (the lowest
``n_states`` and, at inverse temperature β, every state with e^{-β(E-E_0)/ħ} > e^{-40}) plus a
WKB tunnelling depth of ``decay`` on each side. :func:`diagonalize` then checks convergence by
re-solving on a larger and finer grid until the low energies agree to ``tol``.

Functions of x are diagonal in the DVR, so thermal traces use the complete grid eigenbasis:
⟨f⟩_β = Σ_n e^{-βE_n/ħ} ⟨n|f|n⟩ / Z.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np

from nnqm_ppl.physics import Potential

__all__ = ["Spectrum", "diagonalize", "semiclassical_box", "dvr_hamiltonian", "dvr_kinetic"]

Array = Any

_THERMAL_DEPTH = 40.0  # states with β(E - E0)/ħ beyond this carry weight < e^-40


def semiclassical_box(
    potential: Potential,
    mass: float = 1.0,
    hbar: float = 1.0,
    *,
    n_states: int = 10,
    beta: float | None = None,
    decay: float = 25.0,
) -> tuple[float, float, float]:
    """A box [x_lo, x_hi] and momentum scale p_max for the states that matter (WKB).

    E_ref solves the Bohr–Sommerfeld count ∫ p dx / (πħ) = n_states (p = sqrt(2m(E - V))₊),
    raised to E_0 + 40ħ/β at inverse temperature β. The box ends where the tunnelling exponent
    ∫ sqrt(2m(V - E_ref)) dx / ħ beyond the turning points reaches ``decay`` (so the states that
    matter are below e^{-decay} there).

    Parameters
    ----------
    potential : Potential
        A confining potential.
    mass, hbar : float
    n_states : int
        Number of low states that must be resolved.
    beta : float, optional
        Inverse temperature (Euclidean extent) for thermal traces.
    decay : float
        Tunnelling depth (amplitude e^{-decay}) at the box ends.

    Returns
    -------
    (x_lo, x_hi, p_max) : tuple of float
        p_max = sqrt(2m(E_ref - V_min)), the largest classical momentum of the states kept.
    """
    r = 1.0
    for _ in range(40):
        x = np.linspace(-r, r, 8001)
        dx = x[1] - x[0]
        v = np.asarray(potential(x))
        vmin = v.min()

        def count(e: float, v: np.ndarray = v, dx: float = dx) -> float:
            return float(np.sum(np.sqrt(2 * mass * np.clip(e - v, 0, None))) * dx / (np.pi * hbar))

        def level(n: float, vmin: float = vmin, vmax: float = v.max()) -> float:
            lo, hi = vmin, vmax
            for _ in range(100):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if count(mid) < n else (lo, mid)
            return hi

        e_ref = level(n_states)
        if beta is not None:
            e_ref = max(e_ref, level(0.5) + _THERMAL_DEPTH * hbar / beta)
        allowed = np.nonzero(v < e_ref)[0]
        kappa = np.sqrt(2 * mass * np.clip(v - e_ref, 0, None)) * dx / hbar
        left = np.cumsum(kappa[: allowed[0]][::-1])
        right = np.cumsum(kappa[allowed[-1] + 1 :])
        if e_ref < v.max() and left.size and right.size and left[-1] > decay < right[-1]:
            lo = x[allowed[0] - 1 - np.searchsorted(left, decay)]
            hi = x[allowed[-1] + 1 + np.searchsorted(right, decay)]
            return float(lo), float(hi), float(np.sqrt(2 * mass * (e_ref - vmin)))
        r *= 2.0
    raise ValueError("semiclassical_box: the potential does not confine within |x| < 2^40")


def dvr_kinetic(x: Array, mass: float, hbar: float) -> Array:
    """The sinc-DVR kinetic matrix K_ij on the uniform grid ``x`` (formula in the module doc)."""
    x = np.asarray(x, dtype=float)
    dx = x[1] - x[0]
    d = np.arange(x.size)[:, None] - np.arange(x.size)[None, :]
    off = 2.0 * (-1.0) ** d / np.where(d == 0, 1, d) ** 2
    return np.where(d == 0, np.pi**2 / 3.0, off) * hbar**2 / (2.0 * mass * dx**2)


def dvr_hamiltonian(x: Array, potential: Potential, mass: float, hbar: float) -> Array:
    """The sinc-DVR Hamiltonian matrix on the uniform grid ``x``: :func:`dvr_kinetic` + diag V."""
    x = np.asarray(x, dtype=float)
    return dvr_kinetic(x, mass, hbar) + np.diag(np.asarray(potential(x)))


@dataclass(frozen=True)
class Spectrum:
    """Eigen-decomposition of H on a DVR grid.

    Attributes
    ----------
    x : array (n,)
        The grid.
    energies : array (n,)
        E_n, ascending.
    vectors : array (n, n)
        Orthonormal columns c_{in} = sqrt(dx) ψ_n(x_i); sign fixed so that the first
        non-negligible entry is positive (hence ψ_0 > 0).
    mass, hbar : float
    potential : Potential
    error : float
        max |ΔE| of the lowest levels between this grid and the previous (coarser) one.
    """

    x: Array
    energies: Array
    vectors: Array
    mass: float
    hbar: float
    potential: Potential
    error: float

    @property
    def dx(self) -> float:
        """Grid spacing."""
        return float(self.x[1] - self.x[0])

    def gaps(self, n: int = 3) -> Array:
        """E_k - E_0 for k = 1..n."""
        return self.energies[1 : n + 1] - self.energies[0]

    def _basis(self, x: Array) -> Array:
        """Sinc basis functions sinc((x - x_i)/dx)/sqrt(dx) at the points x."""
        x = np.asarray(x, dtype=float)
        return np.sinc((x[..., None] - self.x) / self.dx) / np.sqrt(self.dx)

    def wavefunction(self, n: int, x: Array) -> Array:
        """ψ_n(x) at any points: the sinc interpolant Σ_i c_in sinc((x - x_i)/dx) / sqrt(dx)."""
        return self._basis(x) @ self.vectors[:, n]

    def matrix(self, f: Callable[[Array], Array], n: int | None = None) -> Array:
        """⟨k|f(x)|l⟩ for k, l < n (all grid states if ``n`` is None)."""
        c = self.vectors if n is None else self.vectors[:, :n]
        return c.T @ (np.asarray(f(self.x))[:, None] * c)

    def x_matrix(self, n: int = 6) -> Array:
        """Position matrix elements ⟨k|x|l⟩, k, l < n."""
        return self.matrix(lambda x: x, n)

    def weights(self, beta: float | None = None) -> Array:
        """Boltzmann weights e^{-βE_n/ħ}/Z (β = None: the ground state only)."""
        if beta is None:
            return (np.arange(self.energies.size) == 0).astype(float)
        w = np.exp(-beta * (self.energies - self.energies[0]) / self.hbar)
        return w / np.sum(w)

    def _grid_density(self, beta: float | None) -> Array:
        """Σ_n w_n c_in² (the density times dx at the grid points)."""
        return self.vectors**2 @ self.weights(beta)

    def density(self, x: Array, beta: float | None = None) -> Array:
        """Density of x at any points: Σ_n w_n |ψ_n(x)|² (β = None: |ψ_0(x)|²)."""
        return (self._basis(x) @ self.vectors) ** 2 @ self.weights(beta)

    def expect(self, f: Callable[[Array], Array], beta: float | None = None) -> float:
        """⟨f(x)⟩ in the ground state (β = None) or thermally: Tr(e^{-βH/ħ} f)/Z."""
        return float(np.sum(np.asarray(f(self.x)) * self._grid_density(beta)))

    def p2(self, beta: float | None = None) -> float:
        """⟨p²⟩ = 2m(⟨H⟩ - ⟨V⟩), from ⟨n|p²|n⟩ = 2m(E_n - ⟨n|V|n⟩)."""
        w = self.weights(beta)
        v_nn = np.sum(self.vectors**2 * np.asarray(self.potential(self.x))[:, None], axis=0)
        return float(2.0 * self.mass * np.sum(w * (self.energies - v_nn)))

    def energy(self, beta: float | None = None) -> float:
        """⟨H⟩: E_0 (β = None) or Σ_n w_n E_n (equal to the virial value ⟨V + xV'/2⟩)."""
        return float(np.sum(self.weights(beta) * self.energies))

    def correlator(
        self,
        taus: Array,
        beta: float,
        f: Callable[[Array], Array] = lambda x: x,
        g: Callable[[Array], Array] | None = None,
    ) -> Array:
        """Thermal C(τ) = Tr(e^{-(β-τ)H/ħ} f e^{-τH/ħ} g) / Z, for 0 ≤ τ ≤ β.

        Parameters
        ----------
        taus : array
            Euclidean times.
        beta : float
            Inverse temperature; ``np.inf`` gives the ground-state correlator
            ⟨0|f e^{-τ(H-E_0)/ħ} g|0⟩.
        f, g : callable
            Operators (functions of x); g defaults to f.
        """
        fm = self.matrix(f)
        gm = fm if g is None else self.matrix(g)
        de = (self.energies - self.energies[0]) / self.hbar
        taus = np.asarray(taus, dtype=float)[:, None]
        if np.isinf(beta):
            left = np.broadcast_to((np.arange(de.size) == 0).astype(float), (taus.size, de.size))
            z = 1.0
        else:
            left = np.exp(-(beta - taus) * de)
            z = np.sum(np.exp(-beta * de))
        right = np.exp(-taus * de)
        return np.sum((left @ (fm * gm.T)) * right, axis=1) / z


def _solve(potential: Potential, mass: float, hbar: float, lo: float, hi: float, dx: float):
    n = int(np.ceil((hi - lo) / dx)) + 1
    x = np.linspace(lo, hi, n)
    e, c = (np.asarray(a) for a in jnp.linalg.eigh(dvr_hamiltonian(x, potential, mass, hbar)))
    lead = np.argmax(np.abs(c) > 1e-3 * np.max(np.abs(c), axis=0), axis=0)
    c = c * np.sign(c[lead, np.arange(n)])
    return x, e, c


def diagonalize(
    potential: Potential,
    mass: float = 1.0,
    hbar: float = 1.0,
    *,
    n_states: int = 10,
    beta: float | None = None,
    box: tuple[float, float] | None = None,
    spacing: float | None = None,
    tol: float = 1e-10,
    max_refinements: int = 6,
) -> Spectrum:
    """Diagonalise H = p²/2m + V on a sinc-DVR grid, refined until the low energies converge.

    Each refinement widens the box by 15 % per side and divides the spacing by 1.3; the result is
    the finer grid of the first pair whose lowest ``n_states`` energies agree to
    ``tol·max(1, |E|)``. With both ``box`` and ``spacing`` given, that grid is used as is.

    Parameters
    ----------
    potential : Potential
    mass, hbar : float
    n_states : int
        Number of low levels that must be converged.
    beta : float, optional
        Widen the box for thermal traces at this inverse temperature.
    box : (float, float), optional
        Grid ends (default :func:`semiclassical_box`).
    spacing : float, optional
        Grid spacing (default πħ / (3 p_max)).
    tol : float
        Convergence tolerance of the lowest ``n_states`` energies.
    max_refinements : int

    Returns
    -------
    Spectrum
    """
    if box is None or spacing is None:
        lo, hi, p_max = semiclassical_box(potential, mass, hbar, n_states=n_states, beta=beta)
        box = box or (lo, hi)
        spacing = spacing or np.pi * hbar / (3.0 * p_max)
        fixed = False
    else:
        fixed = True
    lo, hi = box
    x, e, c = _solve(potential, mass, hbar, lo, hi, spacing)
    error = float("nan")
    for _ in range(0 if fixed else max_refinements):
        pad = 0.15 * (hi - lo)
        lo, hi, spacing = lo - pad, hi + pad, spacing / 1.3
        x, e_new, c = _solve(potential, mass, hbar, lo, hi, spacing)
        diff = np.abs(e_new[:n_states] - e[:n_states]) / np.maximum(1.0, np.abs(e_new[:n_states]))
        e, error = e_new, float(np.max(diff))
        if error < tol:
            break
    return Spectrum(x, e, c, float(mass), float(hbar), potential, error)
