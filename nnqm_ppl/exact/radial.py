"""Continuum truth for a particle in three dimensions with a radial potential V(r), r = |x|.

Hashimoto et al. §3.4 (Fig. 2 left) put one network on each coordinate of x(τ) ∈ R³. For a
radial V the Hamiltonian H = p²/2m + V(r) separates in spherical coordinates, ψ = u(r)/r Y_lm,
and each angular momentum l is a one-dimensional problem on the half line,

.. math::

    H_l u = -\\frac{\\hbar^2}{2m} u'' + \\Big[\\frac{\\hbar^2 l(l+1)}{2 m r^2} + V(r)\\Big] u,
    \\qquad u(0) = 0,

whose levels E_{n,l} are (2l + 1)-fold degenerate.

**Basis.** V is a polynomial in r² (odd powers are refused, :meth:`nnqm_ppl.physics.Potential.radial_polynomial`).
H_l is diagonalised in the first n_b radial eigenfunctions of the isotropic oscillator of length
b (frequency ω_b = ħ/(m b²)), t = r²/b², α = l + 1/2,

.. math::

    \\phi_{k l}(r) = \\sqrt{2/b}\\; t^{(l+1)/2} e^{-t/2} p^{\\alpha}_k(t),

with p^α_k the orthonormal Laguerre polynomials of weight t^α e^{-t}. Kinetic and centrifugal
energy are exact in it: H_l = diag(ħω_b (2k + l + 3/2)) + [V(r) − m ω_b² r²/2], and the
polynomial remainder is integrated exactly by the Gauss–Laguerre rule of n_b + deg_t V nodes
(Golub–Welsch: its eigenvector matrix Q has Q_{kj} = √w_j p_k(t_j)). This is a Galerkin
(variational) method: every level converges from above, for every l alike (a sine grid in r
converges only algebraically for odd l, whose u(r) ∝ r^{l+1} is not odd in r). b minimises the
energy of the oscillator ground state in V; n_b grows by 1.3 until the thermally relevant levels
agree to ``tol``.

**Radial matrix elements.** With L^α_k = L^{α+1}_k − L^{α+1}_{k−1} the dipole integral between the
bases of l and l + 1 is exact and bidiagonal,

.. math::

    \\int_0^\\infty \\phi_{k l}\\, r\\, \\phi_{k' l+1}\\, dr
      = b\\,\\big[\\sqrt{k + \\alpha + 1}\\;\\delta_{k k'} - \\sqrt{k}\\;\\delta_{k-1, k'}\\big].

**Wigner–Eckart.** Summed over the three components of x and over m, m′,
Σ_{m,m'} |⟨n l m|x|n' l' m'⟩|² = (l + 1) R² for l' = l + 1 and l R² for l' = l − 1, with
R = ∫ u_{nl} r u_{n'l'} dr. So the thermal correlator (weight e^{−βH/ħ}) is

.. math::

    \\langle x(\\tau)\\cdot x(0)\\rangle_\\beta = \\frac{1}{Z} \\sum_{l} (l + 1) \\sum_{n n'} R_{nl,n'l+1}^2
      \\big[e^{-(\\beta-\\tau)E_{nl} - \\tau E_{n'l+1}} + e^{-(\\beta-\\tau)E_{n'l+1} - \\tau E_{nl}}\\big]/\\hbar,

Z = Σ_{n,l} (2l + 1) e^{−βE_{nl}/ħ}; its lowest line above the ground state is the l = 1 level,
E_{0,1} − E_{0,0}. The radial density of x is 4πr²ρ(r) = Σ_{n,l} (2l + 1) e^{−βE_{nl}/ħ} u_{nl}(r)²/Z.

:func:`isotropic_oscillator_levels` gives the closed form of V = m ω² r²/2, E = ħω(N + 3/2) with
degeneracy (N + 1)(N + 2)/2 (1, 3, 6, …); :func:`gaussian_radial_bins` the bin averages of the
radial density of an isotropic Gaussian (the oscillator's, thermal or on the lattice).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import linalg, special

from nnqm_ppl.physics import Potential

__all__ = [
    "RadialSpectrum",
    "radial_spectrum",
    "radial_coefficients",
    "oscillator_length",
    "isotropic_oscillator_levels",
    "gaussian_radial_bins",
    "bin_average",
]

Array = Any

_THERMAL_DEPTH = 40.0  # levels with β(E − E0)/ħ beyond this carry weight < e^-40
_GAUSS_PER_BIN = 12  # Gauss–Legendre points per histogram bin (the densities are smooth)


def radial_coefficients(potential: Potential) -> np.ndarray:
    """The coefficients c_j of V = Σ_j c_j t^j in t = r² of a radial polynomial potential (d = 3)."""
    if potential.radial is None or potential.components != 3:
        raise ValueError("a radial spectrum needs Potential.radial_polynomial(..., components=3)")
    return np.asarray(potential.radial[::2], dtype=float)


def _gaussian_moments(j: np.ndarray, b: float) -> np.ndarray:
    """⟨r^{2j}⟩ of the 3-D oscillator ground state of length b: b^{2j} Γ(j + 3/2)/Γ(3/2)."""
    return b ** (2 * j) * np.exp(special.gammaln(j + 1.5) - special.gammaln(1.5))


def oscillator_length(potential: Potential, mass: float = 1.0, hbar: float = 1.0) -> float:
    """The length b minimising ⟨H⟩ in the oscillator ground state of length b (a Gaussian trial).

    ⟨H⟩(b) = 3ħ²/(4 m b²) + Σ_j c_j b^{2j} Γ(j + 3/2)/Γ(3/2); minimised over ln b on a grid and
    refined by golden section.
    """
    c = radial_coefficients(potential)
    j = np.arange(c.size)

    def energy(logb: np.ndarray) -> np.ndarray:
        b = np.exp(np.asarray(logb, dtype=float))[..., None]
        return 0.75 * hbar**2 / (mass * b[..., 0] ** 2) + np.sum(c * _gaussian_moments(j, b), axis=-1)

    grid = np.linspace(-12.0, 12.0, 481)
    i = int(np.argmin(energy(grid)))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    g = 0.5 * (np.sqrt(5.0) - 1.0)
    for _ in range(80):
        m1, m2 = hi - g * (hi - lo), lo + g * (hi - lo)
        lo, hi = (lo, m2) if energy(m1) < energy(m2) else (m1, hi)
    return float(np.exp(0.5 * (lo + hi)))


def _laguerre_rule(alpha: float, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Laguerre nodes t_j of weight t^α e^{-t} and Q_{kj} = ±√w_j p^α_k(t_j) (Golub–Welsch)."""
    k = np.arange(nodes)
    off = -np.sqrt(k[1:] * (k[1:] + alpha))
    t, q = linalg.eigh(np.diag(2.0 * k + alpha + 1.0) + np.diag(off, 1) + np.diag(off, -1))
    return t, q  # every use is quadratic in a column (Q diag(f) Qᵀ): its sign does not matter


def _basis_values(r: Array, l: int, nb: int, b: float) -> np.ndarray:
    """φ_{kl}(r) for k < nb at the points r, shape (len(r), nb), by the normalised recurrence."""
    t = (np.asarray(r, dtype=float).ravel() / b) ** 2
    alpha = l + 0.5
    out = np.empty((t.size, nb))
    out[:, 0] = np.sqrt(2.0 / b) * t ** ((l + 1) / 2) * np.exp(-t / 2 - 0.5 * special.gammaln(alpha + 1.0))
    if nb > 1:
        out[:, 1] = (alpha + 1.0 - t) * out[:, 0] / np.sqrt(alpha + 1.0)
    for k in range(1, nb - 1):  # over basis functions, not samples
        out[:, k + 1] = ((2 * k + alpha + 1.0 - t) * out[:, k] - np.sqrt(k * (k + alpha)) * out[:, k - 1]) / np.sqrt(
            (k + 1) * (k + alpha + 1))
    return out


def _dipole(l: int, nb: int, b: float) -> np.ndarray:
    """⟨φ_{k l}| r |φ_{k' l+1}⟩ = b [√(k + α + 1) δ_{kk'} − √k δ_{k−1,k'}], α = l + 1/2 (module doc)."""
    k = np.arange(nb)
    return b * (np.diag(np.sqrt(k + l + 1.5)) - np.diag(np.sqrt(k[1:]), -1))


@dataclass(frozen=True)
class _Sector:
    """One angular momentum l: its levels E_{nl} (ascending) and eigenvectors in the oscillator basis
    (columns, of arbitrary sign: every quantity here is quadratic in them)."""

    l: int
    energies: np.ndarray
    vectors: np.ndarray


def _sector(c: np.ndarray, l: int, nb: int, b: float, mass: float, hbar: float) -> _Sector:
    """Diagonalise H_l in the first nb oscillator functions of length b (module doc)."""
    omega_b = hbar / (mass * b**2)
    nodes = nb + c.size
    t, q = _laguerre_rule(l + 0.5, nodes)
    rest = np.polyval(c[::-1], b**2 * t) - 0.5 * mass * omega_b**2 * b**2 * t
    qb = q[:nb]
    h = np.diag(hbar * omega_b * (2.0 * np.arange(nb) + l + 1.5)) + (qb * rest) @ qb.T
    e, v = linalg.eigh(h)  # SciPy's driver: NumPy's is ~40x slower on these small matrices
    return _Sector(l, e, v)


@dataclass(frozen=True)
class RadialSpectrum:
    """The levels and eigenfunctions of H = p²/2m + V(r) in three dimensions, sector by sector in l.

    Attributes
    ----------
    potential : Potential
        The radial potential (d = 3).
    mass, hbar : float
    b : float
        Length of the oscillator basis.
    size : int
        Basis functions per l (n_b).
    sectors : tuple
        l = 0, 1, …, l_max: every l with a level within the thermal depth at β, and at least 0..2.
    beta : float or None
        The inverse temperature the sectors were chosen for (None: the ground state).
    error : float
        Largest relative change of the relevant levels at the last refinement of n_b.
    """

    potential: Potential
    mass: float
    hbar: float
    b: float
    size: int
    sectors: tuple[_Sector, ...]
    beta: float | None
    error: float

    @property
    def ground_energy(self) -> float:
        """E_{0,0}, the ground state (the l = 0 sector's lowest level)."""
        return float(self.sectors[0].energies[0])

    def energies(self, l: int) -> np.ndarray:
        """E_{n,l}, n = 0, 1, … (all basis levels of the sector; the high ones are not converged)."""
        return self.sectors[l].energies

    def levels(self, count: int = 6, tol: float = 1e-8) -> list[dict]:
        """The lowest ``count`` distinct levels: energy, degeneracy Σ(2l + 1) and the l's sharing it.

        Levels within ``tol``·max(1, |E|) of each other count as one (the oscillator's accidental
        degeneracy of l = N, N − 2, …).
        """
        pairs = sorted((float(e), s.l) for s in self.sectors for e in s.energies[:count])
        out: list[dict] = []
        for e, l in pairs:
            if out and abs(e - out[-1]["energy"]) <= tol * max(1.0, abs(e)):
                out[-1]["degeneracy"] += 2 * l + 1
                out[-1]["l"].append(l)
            else:
                out.append({"energy": e, "degeneracy": 2 * l + 1, "l": [l]})
        return out[:count]

    @property
    def gap(self) -> float:
        """E_{0,1} − E_{0,0}: the lowest level x connects to the ground state (l = 1)."""
        return float(self.sectors[1].energies[0] - self.sectors[0].energies[0])

    def _weights(self, beta: float | None) -> list[np.ndarray]:
        """Per sector (2l + 1) e^{−β(E_{nl} − E_0)/ħ}/Z (β = None: the ground state alone)."""
        e0 = self.ground_energy
        if beta is None:
            return [(np.arange(s.energies.size) == 0) * float(s.l == 0) for s in self.sectors]
        w = [(2 * s.l + 1) * np.exp(-beta * (s.energies - e0) / self.hbar) for s in self.sectors]
        z = sum(float(np.sum(x)) for x in w)
        return [x / z for x in w]

    def energy(self, beta: float | None = None) -> float:
        """⟨H⟩: E_0 (β = None) or thermal Σ (2l + 1) e^{−βE/ħ} E / Z (= the virial ⟨V + r V'/2⟩)."""
        return float(sum(np.sum(w * s.energies) for w, s in zip(self._weights(beta), self.sectors, strict=True)))

    def expect(self, f: Callable[[Array], Array], beta: float | None = None) -> float:
        """⟨f(r)⟩ in the ground state or thermally: Σ_{nl} w_{nl} ⟨nl|f(r)|nl⟩.

        The diagonal elements are Gauss–Laguerre sums (exact for a polynomial f of r² of degree
        up to deg V).
        """
        total = 0.0
        for w, s in zip(self._weights(beta), self.sectors, strict=True):
            t, q = _laguerre_rule(s.l + 0.5, self.size + radial_coefficients(self.potential).size)
            qb = q[: self.size]
            fm = (qb * np.asarray(f(self.b * np.sqrt(t)), dtype=float)) @ qb.T
            total += float(np.sum(w * np.einsum("kn,kj,jn->n", s.vectors, fm, s.vectors)))
        return total

    def _dipoles(self) -> list[np.ndarray]:
        """R^l_{nn'} = ∫ u_{nl} r u_{n'l+1} dr between consecutive sectors (eigenbases)."""
        return [a.vectors.T @ _dipole(a.l, self.size, self.b) @ c.vectors
                for a, c in zip(self.sectors[:-1], self.sectors[1:], strict=True)]

    def correlator(self, taus: Array, beta: float | None = None) -> np.ndarray:
        """⟨x(τ)·x(0)⟩ summed over the three components (formula in the module doc).

        Parameters
        ----------
        taus : array
            Euclidean times, 0 ≤ τ ≤ β.
        beta : float, optional
            Inverse temperature; None gives the ground state, Σ_{n'} R_{00,n'1}² e^{−τ(E_{n'1} − E_0)/ħ}.
        """
        taus = np.asarray(taus, dtype=float)
        e0, hb = self.ground_energy, self.hbar
        if beta is None:
            r = self._dipoles()[0][0]
            return (np.exp(-np.outer(taus, self.sectors[1].energies - e0) / hb) @ r**2).reshape(taus.shape)
        z = sum((2 * s.l + 1) * float(np.sum(np.exp(-beta * (s.energies - e0) / hb))) for s in self.sectors)
        out = np.zeros(taus.size)
        for r, a, c in zip(self._dipoles(), self.sectors[:-1], self.sectors[1:], strict=True):
            ea, ec = (a.energies - e0) / hb, (c.energies - e0) / hb
            for i, tau in enumerate(taus.ravel()):  # over a few times, not samples
                left = np.exp(-(beta - tau) * ea)[:, None] * np.exp(-tau * ec)[None, :]
                right = np.exp(-tau * ea)[:, None] * np.exp(-(beta - tau) * ec)[None, :]
                out[i] += (a.l + 1) * float(np.sum(r**2 * (left + right)))
        return (out / z).reshape(taus.shape)

    def radial_density(self, r: Array, beta: float | None = None) -> np.ndarray:
        """4πr²ρ(r) = Σ_{nl} (2l + 1) e^{−βE_{nl}/ħ} u_{nl}(r)²/Z, the density of |x| (∫ = 1)."""
        r = np.asarray(r, dtype=float)
        out = np.zeros(r.size)
        for w, s in zip(self._weights(beta), self.sectors, strict=True):
            keep = w > 0.0
            u = _basis_values(r, s.l, self.size, self.b) @ s.vectors[:, keep]
            out += u**2 @ w[keep]
        return out.reshape(r.shape)

    def bin_density(self, edges: Array, beta: float | None = None) -> np.ndarray:
        """The bin averages (1/Δ_b) ∫_b 4πr²ρ(r) dr: what a histogram of |x| estimates (:func:`bin_average`)."""
        return bin_average(lambda r: self.radial_density(r, beta), edges)


def bin_average(density: Callable[[np.ndarray], np.ndarray], edges: Array) -> np.ndarray:
    """(1/Δ_b) ∫_{e_b}^{e_{b+1}} p(r) dr for every bin, by Gauss–Legendre within each bin.

    Parameters
    ----------
    density : callable
        p(r) at an array of points.
    edges : array (B + 1,)
        Increasing bin edges.
    """
    e = np.asarray(edges, dtype=float)
    z, w = np.polynomial.legendre.leggauss(_GAUSS_PER_BIN)
    mid, half = 0.5 * (e[1:] + e[:-1]), 0.5 * np.diff(e)
    pts = mid[:, None] + half[:, None] * z[None, :]
    return (np.asarray(density(pts.ravel())).reshape(pts.shape) @ w) / 2.0


def _relevant(sector: _Sector, e0: float, cut: float, minimum: int) -> np.ndarray:
    """The levels of a sector that matter: the lowest ``minimum`` and all below E_0 + cut."""
    n = max(minimum, int(np.sum(sector.energies - e0 <= cut)))
    return sector.energies[:n]


def radial_spectrum(
    potential: Potential,
    mass: float = 1.0,
    hbar: float = 1.0,
    *,
    beta: float | None = None,
    n_states: int = 6,
    size: int = 40,
    tol: float = 1e-10,
    max_refinements: int = 8,
) -> RadialSpectrum:
    """Diagonalise H_l for every l that matters, refining the basis until the levels converge.

    Sectors l = 0, 1, … are added while their lowest level lies within 40ħ/β of E_0 (at least
    l = 0, 1, 2; β = None: l = 0, 1, 2 only). The basis grows by 1.3 until the lowest
    ``n_states`` levels of every sector and all its levels within 40ħ/β of E_0 agree with the
    previous basis to ``tol``·max(1, |E|) (``error``; ValueError if they never do).

    Parameters
    ----------
    potential : Potential
        ``Potential.radial_polynomial(c, 3)``.
    mass, hbar : float
    beta : float, optional
        Inverse temperature of the thermal traces.
    n_states : int
        Levels per sector that must converge.
    size : int
        Initial basis size n_b.
    tol : float
    max_refinements : int

    Returns
    -------
    RadialSpectrum
    """
    c = radial_coefficients(potential)
    b = oscillator_length(potential, mass, hbar)
    cut = np.inf if beta is None else _THERMAL_DEPTH * hbar / beta

    def solve(nb: int) -> list[_Sector]:
        sectors = [_sector(c, l, nb, b, mass, hbar) for l in range(3)]
        while beta is not None and sectors[-1].energies[0] - sectors[0].energies[0] <= cut:
            sectors.append(_sector(c, len(sectors), nb, b, mass, hbar))
        return sectors

    sectors, error = solve(size), np.inf
    for _ in range(max_refinements):
        size = int(np.ceil(1.3 * size))
        finer = solve(size)
        e0 = finer[0].energies[0]
        error = 0.0
        for old, new in zip(sectors, finer, strict=False):
            e_new = _relevant(new, e0, cut if beta is not None else -np.inf, n_states)
            e_old = old.energies[: e_new.size]
            error = max(error, float(np.max(np.abs(e_new - e_old) / np.maximum(1.0, np.abs(e_new)))))
        same_sectors, sectors = len(finer) == len(sectors), finer
        if error < tol and same_sectors:
            break
    else:
        raise ValueError(f"radial_spectrum: the levels did not converge (relative change {error:.1e})")
    return RadialSpectrum(potential, float(mass), float(hbar), b, size, tuple(sectors), beta, error)


def isotropic_oscillator_levels(omega: float, hbar: float = 1.0, count: int = 4) -> list[dict]:
    """E_N = ħω(N + 3/2) with degeneracy (N + 1)(N + 2)/2 and l = N, N − 2, …, N mod 2."""
    return [{"energy": hbar * omega * (n + 1.5), "degeneracy": (n + 1) * (n + 2) // 2,
             "l": list(range(n % 2, n + 1, 2))} for n in range(count)]


def gaussian_radial_bins(sigma2: float, edges: Array) -> np.ndarray:
    """Bin averages of the density of r = |x| for x ~ N(0, σ² 1₃) (the Maxwell distribution).

    (F(e_{b+1}) − F(e_b))/Δ_b with F(r) = erf(r/√(2σ²)) − √(2/π) (r/σ) e^{−r²/2σ²}.

    Parameters
    ----------
    sigma2 : float
        σ², the variance of each component: ħ/(2mω) coth(βω/2) in the continuum, the scalar
        lattice ⟨x²⟩ on the lattice.
    edges : array (B + 1,)
    """
    e = np.asarray(edges, dtype=float)
    s = np.sqrt(sigma2)
    cdf = special.erf(e / (np.sqrt(2.0) * s)) - np.sqrt(2.0 / np.pi) * (e / s) * np.exp(-(e**2) / (2.0 * sigma2))
    return np.diff(cdf) / np.diff(e)
