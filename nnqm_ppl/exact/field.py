"""Exact values of a scalar field on a periodic spatial lattice: φ⁴ in 1+1 dimensions.

The field φ_{i,n} lives on L spatial sites i (spacing Δx, periodic) and N Euclidean time slices n
(spacing a = β/N, periodic). Its lattice action is the one of :mod:`nnqm_ppl.physics` with
d = L components and V = :meth:`~nnqm_ppl.physics.Potential.lattice_field`,

.. math::

    S_E = \\sum_{n}\\sum_{i} a\\Big[\\frac{m(\\phi_{i,n+1} - \\phi_{i,n})^2}{2a^2}
          + \\frac{(\\phi_{i+1,n} - \\phi_{i,n})^2}{2\\Delta x^2} + P(\\phi_{i,n})\\Big],

P(φ) = Σ_k c_k φ^k the on-site polynomial (Hashimoto et al. eq. 3.22: P = m²φ²/2 + gφ⁴ is
``[0, 0, m²/2, 0, g]``). This is the symmetric trapezoid split in time, whose transfer matrix
e^{-aV/2ħ} e^{-aK/ħ} e^{-aV/2ħ} reproduces it exactly. The paper's eq. 3.25 evaluates the
potential and the gradient term at the time midpoint (φ_{i,n} + φ_{i,n−1})/2 instead; the two
actions differ at O(a²), so their lattice values differ at O(a²) and agree in the continuum.

**Free field** (P quadratic, g = 0; :func:`free_field_exact`). The Hessian of V is
K + 2c₂ with K the lattice Laplacian, diagonal in the spatial Fourier modes e^{2πikj/L}, so the
field is L independent lattice oscillators (normal modes w_k) of frequencies

.. math::

    m\\,\\omega_k^2 = 2c_2 + \\frac{4}{\\Delta x^2}\\sin^2\\frac{\\pi k}{L}
    \\qquad (m = 1,\\ c_2 = m_\\phi^2/2:\\ \\omega_k^2 = m_\\phi^2 + \\tfrac{4}{\\Delta x^2}\\sin^2\\tfrac{\\pi k}{L}),

about the uniform minimum φ̄ = −c₁/2c₂. Each mode is the scalar lattice oscillator of
:mod:`nnqm_ppl.exact.harmonic` (one formula, one place): two-point function G_{ω_k}(n), transfer-
matrix level spacing ħω_lat(ω_k) with cosh(aω_lat) = 1 + a²ω²/2 on the time lattice, ħω_k in the
continuum in time. The momentum-resolved correlator, with φ̃_k(τ) = Σ_j φ_j(τ) e^{−2πikj/L},

.. math::

    C_k(\\tau) = \\frac{1}{L^2}\\,\\mathrm{Re}\\,\\langle \\tilde\\phi_k(\\tau)\\,\\tilde\\phi_k(0)^*\\rangle
               = \\frac{G_{\\omega_k}(\\tau)}{L} + \\delta_{k0}\\,\\bar\\phi^2

(cos and sin modes combined; k = 0 is the zero-momentum field Φ = (1/L)Σ_j φ_j), and E(k) is the
energy of the lowest state of momentum k above the vacuum: ħω_lat(ω_k) on the lattice, ħω_k in
the continuum.

**Interacting field** (g > 0, L ≤ :data:`MAX_INTERACTING_SITES`; :func:`interacting_field_exact`):
the tensor-product transfer matrix on the same lattice (:mod:`nnqm_ppl.exact.product`: thermal
traces over its largest eigenpairs at β = Na, correlators of the linear observables u·φ) and the
product-grid Hamiltonian H = Σ_i [p_i²/2m + P(φ_i)] + Σ_i (φ_{i+1} − φ_i)²/2Δx² in the continuum
in time (:mod:`nnqm_ppl.exact.product_continuum`, Lanczos). C_k = ⟨A_c A_c⟩ + ⟨A_s A_s⟩ with
A_{c,s} = (1/L) Σ_j φ_j cos/sin(2πkj/L) (:func:`~nnqm_ppl.exact.product_grid.fourier_vector`),
and E(k) is the lowest computed level j > 0 with Σ_{c,s} |⟨j|A|0⟩|² above 10⁻⁸ ⟨0|A²|0⟩ (the
state the plateau of C_k reaches), minus E_0. The product grid (:func:`field_grid`) has
n^L points, hence the limit on L.

Every value is per the quantity the Monte Carlo estimates (:mod:`nnqm_ppl.tasks.sample_field`):
``x2`` the site average ⟨φ²⟩, ``E0`` the virial ⟨V + φ·∇V/2⟩ of the L-site system divided by
L, at the lattice's β (continuum: thermal ⟨H⟩/L at β, its β → ∞ value under ``ground_state``),
``gap`` the mass gap (lowest state of zero momentum coupling to Φ), ``correlator`` C_0(τ) and
``dispersion`` (E(k) and C_k(τ), k = 0..L/2).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from nnqm_ppl.exact.diagonalize import semiclassical_box
from nnqm_ppl.exact.harmonic import continuum_correlator, lattice_correlator, lattice_omega
from nnqm_ppl.exact.product import product_transfer
from nnqm_ppl.exact.product_continuum import product_spectrum
from nnqm_ppl.exact.product_grid import fourier_vector
from nnqm_ppl.exact.transfer import quadrature_spacing
from nnqm_ppl.physics import Lattice, Potential

__all__ = [
    "MAX_INTERACTING_SITES",
    "momenta",
    "free_frequencies",
    "free_field_exact",
    "field_grid",
    "interacting_field_exact",
    "field_exact",
]

#: the most sites of an interacting field solved exactly (its product grid has n^L points; P = φ²/2 +
#: φ⁴/10, β = 8, N = 32 on the shared 2-core box: L = 3, n = 23, 3-15 s; L = 4, n = 23 (280 000
#: points), 4 min, most of it the continuum Hamiltonian's Lanczos)
MAX_INTERACTING_SITES = 4

#: a level couples to A|0⟩ when Σ|⟨j|A|0⟩|² exceeds this fraction of ⟨0|A²|0⟩
_COUPLING = 1e-8

Array = Any


def momenta(sites: int) -> np.ndarray:
    """The momenta k = 0..⌊L/2⌋ of the dispersion (k and L − k are equal by parity)."""
    return np.arange(sites // 2 + 1)


def _quadratic(coeffs: tuple[float, ...]) -> tuple[float, float, float]:
    c = [float(v) for v in coeffs]
    while len(c) > 3 and c[-1] == 0.0:
        c.pop()
    if len(c) > 3 or len(c) < 3 or c[2] <= 0.0:
        raise ValueError("the free field needs a quadratic on-site polynomial c0 + c1 φ + c2 φ² with c2 > 0")
    return c[0], c[1], c[2]


def free_frequencies(coeffs: tuple[float, ...], sites: int, dx: float, mass: float = 1.0) -> np.ndarray:
    """ω_k, k = 0..L−1, of the free lattice field: m ω_k² = 2c₂ + (4/Δx²) sin²(πk/L).

    Parameters
    ----------
    coeffs : tuple of float
        The on-site polynomial c0 + c1 φ + c2 φ² (c2 > 0).
    sites : int
        L.
    dx : float
        Δx.
    mass : float
        m of the kinetic term m φ̇²/2 (1 for the field of eq. 3.22).

    Returns
    -------
    ndarray (L,)
    """
    _, _, c2 = _quadratic(coeffs)
    k = np.arange(sites)
    return np.sqrt((2.0 * c2 + 4.0 / dx**2 * np.sin(np.pi * k / sites) ** 2) / mass)


def free_field_exact(lattice: Lattice, coeffs: tuple[float, ...], sites: int, dx: float) -> dict[str, dict[str, Any]]:
    """Exact lattice and continuum values of the free field (formulas in the module docstring).

    Parameters
    ----------
    lattice : Lattice
        Periodic, β, N, m, ħ (``components`` is not used: the field has ``sites`` of them).
    coeffs : tuple of float
        The quadratic on-site polynomial.
    sites : int
        L ≥ 1.
    dx : float
        Δx.

    Returns
    -------
    dict
        ``{"lattice": {...}, "continuum": {...}}`` with ``x2``, ``E0``, ``gap``, ``correlator``,
        ``correlator_connected`` (τ = 0..N/2), ``momenta``, ``energies`` (E(k), k = 0..L/2),
        ``momentum_correlators`` (C_k(τ), k × τ) and ``frequencies`` (ω_k); the continuum adds
        ``ground_state`` (``E0`` and ``x2`` at β = ∞).
    """
    if lattice.boundary != "periodic":
        raise ValueError("the free field's closed forms are for the periodic lattice")
    c0, c1, c2 = _quadratic(coeffs)
    m, hbar, beta, a = lattice.mass, lattice.hbar, lattice.beta, lattice.a
    mean = -c1 / (2.0 * c2)
    p_mean = c0 + c1 * mean + c2 * mean**2
    omega = free_frequencies(coeffs, sites, dx, m)
    scalar = replace(lattice, components=1)
    n_tau = lattice.slices // 2 + 1
    taus = a * np.arange(n_tau)
    g_lat = np.stack([lattice_correlator(scalar, float(w))[:n_tau] for w in omega])  # (L, n_tau)
    g_con = np.stack([continuum_correlator(taus, beta, float(w), m, hbar) for w in omega])
    ks = momenta(sites)

    def values(g: np.ndarray, energies: np.ndarray) -> dict[str, Any]:
        c_k = g[ks] / sites
        c_k[0] += mean**2
        return {
            "x2": float(mean**2 + np.mean(g[:, 0])),
            "E0": float(p_mean + np.mean(m * omega**2 * g[:, 0])),
            "gap": float(energies[0]),
            "correlator": c_k[0].tolist(),
            "correlator_connected": (c_k[0] - mean**2).tolist(),
            "momenta": ks.tolist(),
            "energies": energies[ks].tolist(),
            "momentum_correlators": c_k.tolist(),
            "frequencies": omega[ks].tolist(),
        }

    lat = values(g_lat, hbar * np.array([lattice_omega(float(w), a) for w in omega]))
    con = values(g_con, hbar * omega)
    con["ground_state"] = {"E0": float(p_mean + np.mean(hbar * omega / 2.0)),
                           "x2": float(mean**2 + np.mean(hbar / (2.0 * m * omega)))}
    return {"lattice": lat, "continuum": con}


def field_grid(lattice: Lattice, coeffs: tuple[float, ...]) -> tuple[tuple[float, float], float, float]:
    """The axis grid of the interacting field's product-grid solvers: box and the two spacings.

    Box: :func:`~nnqm_ppl.exact.diagonalize.semiclassical_box` of the one-site theory P(φ) for
    its 3 lowest states with tunnelling depth 8 (their amplitude below e^{-8}, their density below
    e^{-16} ≈ 1e-7 at the ends). A site of the field is narrower than the one-site theory, since
    the gradient term only adds confinement (free field: ⟨φ²⟩ = (1/L)Σ_k ħ/2mω_k ≤ ħ/2mω_0), and
    the solvers report the largest weight of a state on the outermost grid planes
    (``edge``) as a check. Spacings: the transfer kernel's quadrature rule min(σ/1.2, πħ/3p_max),
    σ = sqrt(ħa/m) (:func:`~nnqm_ppl.exact.transfer.quadrature_spacing`; trapezoid error of the
    Gaussian kernel ≈ 1e-12), and the sinc-DVR's πħ/(3p_max) for the Hamiltonian. On L = 3 sites
    (P = φ²/2 + φ⁴/10, β = 8, N = 32: n = 23 on ±3.96) ⟨φ²⟩ and the gap agree with those of
    finer grids (n = 32 on ±3.5, and on ±6.0) to 1e-10.

    Returns
    -------
    box : (float, float)
    spacing_lattice, spacing_continuum : float
    """
    lo, hi, p_max = semiclassical_box(Potential.from_coeffs(coeffs), lattice.mass, lattice.hbar, n_states=3,
                                      decay=8.0)
    return (lo, hi), quadrature_spacing(lattice, p_max), np.pi * lattice.hbar / (3.0 * p_max)


def _virial(potential: Potential, sites: int):
    """(V(φ) + φ·∇V(φ)/2)/L on grid points (..., L): the virial energy per site."""

    def f(x: Array) -> np.ndarray:
        grad = np.asarray(potential.derivative(x))
        return (np.asarray(potential(x)) + 0.5 * np.sum(x * grad, axis=-1)) / sites

    return f


def _site_square(x: Array) -> np.ndarray:
    return np.mean(np.asarray(x) ** 2, axis=-1)


def _channel_energy(solver: Any, parts: list[np.ndarray]) -> float:
    """E_j − E_0 of the lowest computed level j > 0 that the operators u·φ (``parts``) reach from
    the ground state |0⟩: Σ_u |⟨j|u·φ|0⟩|² > :data:`_COUPLING` Σ_u ⟨0|(u·φ)²|0⟩."""
    points, ground = solver.grid.points(), solver.vectors[:, 0]
    weight, total = np.zeros(solver.vectors.shape[1]), 0.0
    for u in parts:
        a = points @ u
        weight += (solver.vectors.T @ (a * ground)) ** 2
        total += float((a**2) @ ground**2)
    coupled = np.nonzero(weight[1:] > _COUPLING * total)[0]
    if coupled.size == 0:
        raise ValueError("no computed level couples to the momentum mode: raise the number of states")
    return float(solver.energies[coupled[0] + 1] - solver.energies[0])


def interacting_field_exact(lattice: Lattice, coeffs: tuple[float, ...], sites: int, dx: float, *,
                            states: int = 16) -> dict[str, dict[str, Any]]:
    """Exact lattice and continuum values of an interacting field on few sites (module docstring).

    Parameters
    ----------
    lattice : Lattice
        Periodic, β, N, m, ħ, with ``components = sites``.
    coeffs : tuple of float
        The on-site polynomial P(φ).
    sites : int
        L ≤ :data:`MAX_INTERACTING_SITES`.
    dx : float
        Δx.
    states : int
        Eigenpairs the solvers start with (they add states until the discarded Boltzmann weight
        is below 1e-10).

    Returns
    -------
    dict
        As :func:`free_field_exact` (without ``frequencies``), plus per entry ``grid`` (points per
        axis, box), ``truncation`` (discarded Boltzmann weight) and ``edge`` (the box check).
    """
    if sites > MAX_INTERACTING_SITES:
        raise ValueError(f"no exact values for an interacting field on {sites} > {MAX_INTERACTING_SITES} sites "
                         "(the product grid has n^L points)")
    potential = Potential.lattice_field(coeffs, sites, dx)
    lattice = replace(lattice, components=sites)
    box, h_lat, h_con = field_grid(lattice, coeffs)
    n_tau = lattice.slices // 2 + 1
    ks = momenta(sites)
    modes = [[fourier_vector(sites, int(k), "cos")] + ([fourier_vector(sites, int(k), "sin")] if 0 < 2 * k < sites
                                                       else []) for k in ks]
    virial, mean = _virial(potential, sites), (lambda x: np.mean(np.asarray(x), axis=-1))
    pt = product_transfer(lattice, potential, spacing=h_lat, box=box, states=states)
    ps = product_spectrum(potential, lattice.mass, lattice.hbar, beta=lattice.beta, spacing=h_con, box=box,
                          states=states)
    beta, taus = lattice.beta, lattice.a * np.arange(n_tau)

    def values(solver: Any, expect, correlator) -> dict[str, Any]:
        c_k = np.array([sum(correlator(u) for u in parts) for parts in modes])
        energies = [_channel_energy(solver, parts) for parts in modes]
        phi_bar = expect(mean)
        return {
            "x2": expect(_site_square),
            "E0": expect(virial),
            "gap": energies[0],
            "correlator": c_k[0].tolist(),
            "correlator_connected": (c_k[0] - phi_bar**2).tolist(),
            "momenta": ks.tolist(),
            "energies": energies,
            "momentum_correlators": c_k.tolist(),
            "grid": {"n": solver.grid.n, "box": list(box)},
            "edge": solver.edge,
        }

    lat = values(pt, pt.expect, lambda u: pt.correlator(u, ks=np.arange(n_tau)))
    lat["truncation"] = pt.truncation
    con = values(ps, lambda f: ps.expect(f, beta), lambda u: ps.correlator(u, taus, beta))
    con["truncation"] = ps.truncation(beta)
    con["ground_state"] = {"E0": float(ps.energies[0]) / sites, "x2": ps.expect(_site_square)}
    return {"lattice": lat, "continuum": con}


def field_exact(lattice: Lattice, coeffs: tuple[float, ...], sites: int, dx: float) -> dict[str, Any]:
    """Exact values of the field observables: closed forms for g = 0, the product grid for g > 0.

    Parameters
    ----------
    lattice : Lattice
        Periodic (β, N, m, ħ).
    coeffs : tuple of float
        The on-site polynomial P(φ).
    sites : int
        L.
    dx : float
        Δx.

    Returns
    -------
    dict
        ``{"lattice": {...}, "continuum": {...}}`` (:func:`free_field_exact`,
        :func:`interacting_field_exact`); beyond the exact solvers (g > 0 on more than
        :data:`MAX_INTERACTING_SITES` sites) both are empty and ``note`` says why.
    """
    c = list(coeffs)
    while c and c[-1] == 0.0:
        c.pop()
    if len(c) <= 3:
        return free_field_exact(lattice, coeffs, sites, dx)
    if sites > MAX_INTERACTING_SITES:
        return {"lattice": {}, "continuum": {},
                "note": f"no exact values for an interacting field on {sites} > {MAX_INTERACTING_SITES} sites "
                        "(the exact solvers' product grid has n^L points)"}
    return interacting_field_exact(lattice, coeffs, sites, dx)
