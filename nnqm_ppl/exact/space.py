"""Exact values of a particle in three dimensions (geometry ``"space"``), on the lattice and in the continuum.

The paths x_n ∈ R³ of a periodic lattice (a = β/N) with a radial V(r) = Σ_k c_k r^k (even k) are
the lattice path integral of :mod:`nnqm_ppl.physics`; the Monte Carlo estimates (per site,
averaged over the N sites of each path):

- ``r2`` = ⟨r²⟩;
- ``E0`` = ⟨V + x·∇V/2⟩ = ⟨V(r) + r V'(r)/2⟩, the virial estimator: in the continuum its thermal
  value is ⟨H⟩_β (the virial theorem holds in every eigenstate), → E_0 as β → ∞; on the lattice it
  is the expectation of that function in the lattice ensemble, which differs from the lattice
  ground energy by O(a²) and from E_0 by thermal terms O(e^{−β(E_1−E_0)/ħ});
- ``correlator`` = ⟨x_n·x_{n+k}⟩, k = 0..N/2, summed over the three components;
- ``gap``: the lowest level the correlator sees above the ground state, the l = 1 triplet;
- ``psi0_squared``: the radial density 4πr²ρ(r) as a histogram of r = |x_n|; its exact value is
  the bin average (1/Δ_b)∫_b 4πr²ρ(r) dr, exactly what the histogram estimates (no bin-width
  systematic), ρ the density of one site on the lattice (thermal at β in the continuum).

**Lattice.** A quadratic V = c_0 + c_2 r² (the isotropic oscillator, ω² = 2c_2/m) is three
independent scalar lattice oscillators (:mod:`nnqm_ppl.exact.harmonic`): ⟨r²⟩ = 3G(0),
⟨x_n·x_{n+k}⟩ = 3G(k) with G the scalar lattice two-point function, levels
E_N = c_0 + ħω_lat(N + 3/2) (cosh aω_lat = 1 + a²ω²/2) of degeneracy (N + 1)(N + 2)/2, gap ħω_lat,
x_n ~ N(0, G(0)·1₃) so the radial density is the Maxwell law
(:func:`~nnqm_ppl.exact.radial.gaussian_radial_bins`) and ⟨r^{2j}⟩ = (2j + 1)!! G(0)^j. Any
other V uses the tensor-product transfer matrix (:func:`nnqm_ppl.exact.product.product_transfer`:
three 1-D kinetic kernels and a diagonal potential, matrix-free): its thermal ⟨f(x)⟩, the
correlator Σ_c C_c(k), the gap to the lowest state with ⟨0|x_1|i⟩ ≠ 0, and the site density by
the Nyström extension (:func:`lattice_radial_density`).

**Continuum.** :func:`nnqm_ppl.exact.radial.radial_spectrum` (diagonalisation per l), thermal at
β, plus the ground-state values.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from scipy import special

from nnqm_ppl.exact.harmonic import lattice_correlator, lattice_omega
from nnqm_ppl.exact.product import ProductTransfer, product_transfer
from nnqm_ppl.exact.radial import (
    RadialSpectrum,
    bin_average,
    gaussian_radial_bins,
    isotropic_oscillator_levels,
    radial_coefficients,
    radial_spectrum,
)
from nnqm_ppl.exact.transfer import kernel_matrix, quadrature_spacing
from nnqm_ppl.physics import Lattice, Potential

__all__ = ["space_exact", "oscillator_lattice", "product_grid", "product_lattice", "lattice_radial_density",
           "continuum_values", "virial_coefficients", "default_edges", "LEVELS"]

Array = Any

#: number of levels listed
LEVELS = 6


def virial_coefficients(potential: Potential) -> np.ndarray:
    """The coefficients of r^k of the virial function V + x·∇V/2 = Σ_k c_k (1 + k/2) r^k."""
    c = np.asarray(potential.radial, dtype=float)
    return c * (1.0 + 0.5 * np.arange(c.size))


def _check(lattice: Lattice, potential: Potential) -> None:
    radial_coefficients(potential)
    if lattice.boundary != "periodic" or lattice.components != 3:
        raise ValueError("a particle in space: needs a periodic lattice with components = 3")


def oscillator_lattice(lattice: Lattice, potential: Potential, edges: Array) -> dict:
    """Exact lattice values of the isotropic oscillator V = c_0 + c_2 r² (closed forms, module doc).

    Parameters
    ----------
    lattice : Lattice
        Periodic, ``components = 3``.
    potential : Potential
        ``Potential.radial_polynomial([c_0, 0, c_2], 3)``, c_2 > 0.
    edges : array (B + 1,)
        Histogram edges of r.

    Returns
    -------
    dict
        ``r2``, ``E0``, ``gap``, ``levels``, ``correlator`` (k = 0..N/2), ``psi0_squared``.
    """
    _check(lattice, potential)
    c = np.asarray(potential.radial, dtype=float)
    if c.size != 3:
        raise ValueError("oscillator_lattice: needs a quadratic V = c_0 + c_2 r²")
    omega = float(np.sqrt(2.0 * c[2] / lattice.mass))
    g = lattice_correlator(replace(lattice, components=1), omega)
    sigma2 = float(g[0])
    virial = virial_coefficients(potential)
    moments = np.array([sigma2**j * special.factorial2(2 * j + 1) for j in range(virial.size // 2 + 1)])
    w_lat = lattice.hbar * lattice_omega(omega, lattice.a)
    return {
        "r2": 3.0 * sigma2,
        "E0": float(virial[::2] @ moments),
        "gap": w_lat,
        "levels": [{"energy": c[0] + lv["energy"] * w_lat / (lattice.hbar * omega), "degeneracy": lv["degeneracy"]}
                   for lv in isotropic_oscillator_levels(omega, lattice.hbar, LEVELS)],
        "correlator": (3.0 * g[: lattice.slices // 2 + 1]).tolist(),
        "psi0_squared": _curve(edges, gaussian_radial_bins(sigma2, edges)),
    }


def lattice_radial_density(pt: ProductTransfer, r: Array) -> np.ndarray:
    """4πr²ρ(r) of one site of the lattice, ρ the site density of the product transfer matrix.

    ρ(y) = Σ_i λ_i^N φ_i(y)² / Σ_i λ_i^N with the Nyström extension of the eigenfunctions,
    √(h³) φ_i(y) = e^{−aV(y)/2ħ} Σ_j Π_c K(y_c, x_{j,c}) e^{−aV(x_j)/2ħ} v_{ji} / λ_i
    (K(y, x) = h √(m/2πħa) e^{−m(y−x)²/2ħa}, v_i the grid eigenvectors), evaluated on the ray
    y = (r, 0, 0): the lattice theory of a radial V is rotation invariant, so ρ depends on r only.

    Parameters
    ----------
    pt : ProductTransfer
        Of a radial V on a periodic lattice with ``components = 3``.
    r : array
        Radii ≥ 0.
    """
    lat, axis = pt.lattice, pt.grid.axis
    h, n = pt.grid.h, pt.grid.n
    zero = np.zeros(axis.size)

    def row(y: np.ndarray) -> np.ndarray:
        k = kernel_matrix(y, axis, np.zeros(y.size), zero, lat.a, lat.mass, lat.hbar)
        return h * np.asarray(k)

    r = np.asarray(r, dtype=float).ravel()
    k0 = row(np.zeros(1))[0]
    weighted = (pt.half[:, None] * pt.vectors).reshape(n, n, n, -1)
    plane = np.einsum("j,k,ijks->is", k0, k0, weighted)  # the two transverse axes at y = 0
    y = np.stack([r, np.zeros(r.size), np.zeros(r.size)], axis=-1)
    num = np.exp(-lat.a * np.asarray(pt.potential(y)) / (2.0 * lat.hbar))[:, None] * (row(r) @ plane)
    ratio = pt.eigenvalues / pt.eigenvalues[0]  # ρ = Σ r_i^{N−2} num_i² / (λ_0² h³ Σ r_i^N)
    n_sl = lat.slices
    rho = (num**2 @ ratio ** (n_sl - 2)) / (np.sum(ratio**n_sl) * h**3 * pt.eigenvalues[0] ** 2)
    return 4.0 * np.pi * r**2 * rho


def product_grid(lattice: Lattice, spectrum: RadialSpectrum) -> dict:
    """The axis grid of the product transfer matrix for a particle in space: ``box`` and ``spacing``.

    The scalar rule (:func:`~nnqm_ppl.exact.transfer.quadrature_spacing`: h = min(σ/1.2, πħ/(3p)),
    σ = √(ħa/m)) with p = √(2m(E_0 + 25ħ/β − V_min)), the largest momentum of the states with
    Boltzmann weight above e^{−25}, and the box [−R, R] holding the thermal radial density of the
    continuum down to 1e-13 of its peak (R = 1.1 × that radius). The generic rule of
    :func:`~nnqm_ppl.exact.product_grid.product_axis` (10 states, tunnelling depth 25) gives ~80³
    points here, this one 20³–40³. Measured (β = 8, N = 16 and 32): the oscillator's closed forms to
    ≤ 1e-9 (tests/test_particle_3d.py); V = r²/2 + λr⁴, λ = 0.1, 0.5, 1, within 3e-9 of a grid 1.6
    times finer and 20 % wider (⟨r²⟩, virial E0, gap, correlator, radial bins).
    """
    r = np.linspace(0.0, 12.0 * spectrum.b, 2401)
    dens = spectrum.radial_density(r, lattice.beta)
    big = 1.1 * float(r[np.nonzero(dens > 1e-13 * np.max(dens))[0][-1]])
    v_min = float(np.min(np.asarray(Potential.from_coeffs(spectrum.potential.radial)(r))))
    e_cut = spectrum.ground_energy + 25.0 * lattice.hbar / lattice.beta
    p_max = float(np.sqrt(2.0 * lattice.mass * (e_cut - v_min)))
    return {"box": (-big, big), "spacing": quadrature_spacing(lattice, p_max)}


def product_lattice(lattice: Lattice, potential: Potential, edges: Array, pt: ProductTransfer | None = None) -> dict:
    """Exact lattice values of any radial V from the tensor-product transfer matrix (module doc).

    Parameters
    ----------
    lattice, potential, edges
        As in :func:`oscillator_lattice` (any radial V).
    pt : ProductTransfer, optional
        The product transfer matrix of ``lattice`` and ``potential``; default on the grid of
        :func:`product_grid`.

    Returns
    -------
    dict
        The keys of :func:`oscillator_lattice`, plus ``truncation`` (the discarded Boltzmann
        weight bound of the product transfer matrix).
    """
    _check(lattice, potential)
    if pt is None:
        spectrum = radial_spectrum(potential, lattice.mass, lattice.hbar, beta=lattice.beta)
        pt = product_transfer(lattice, potential, **product_grid(lattice, spectrum))
    virial = np.polynomial.Polynomial(virial_coefficients(potential))
    ks = np.arange(lattice.slices // 2 + 1)
    corr = sum(pt.correlator(e, ks=ks) for e in np.eye(3))
    x1 = pt.grid.points()[:, 0]
    overlap = (pt.vectors[:, 0] * x1) @ pt.vectors
    first = int(np.nonzero(overlap**2 > 1e-10 * np.max(overlap**2))[0][0])
    e = pt.energies
    return {
        "r2": pt.expect(lambda x: np.sum(x**2, axis=-1)),
        "E0": pt.expect(lambda x: virial(np.sqrt(np.sum(x**2, axis=-1)))),
        "gap": float(e[first] - e[0]),
        "levels": [{"energy": en, "degeneracy": d} for en, d in pt.levels()[:LEVELS]],
        "correlator": np.asarray(corr).tolist(),
        "psi0_squared": _curve(edges, bin_average(lambda r: lattice_radial_density(pt, r), edges)),
        "truncation": pt.truncation,
    }


def _curve(edges: Array, values: Array) -> dict:
    e = np.asarray(edges, dtype=float)
    return {"x": (0.5 * (e[1:] + e[:-1])).tolist(), "value": np.asarray(values, dtype=float).tolist()}


def default_edges(spectrum: RadialSpectrum, bins: int = 40) -> np.ndarray:
    """Bins on [0, r_max], r_max where the thermal radial density falls below 1e-8 of its peak."""
    r = np.linspace(0.0, 12.0 * spectrum.b, 1201)
    p = spectrum.radial_density(r, spectrum.beta)
    r_max = r[np.nonzero(p > 1e-8 * np.max(p))[0][-1]]
    return np.linspace(0.0, float(r_max), bins + 1)


def continuum_values(spectrum: RadialSpectrum, lattice: Lattice, edges: Array) -> dict:
    """Continuum values at the lattice's β (thermal) and at β → ∞ (``ground_state``)."""
    beta = lattice.beta
    ks = np.arange(lattice.slices // 2 + 1)
    virial = np.polynomial.Polynomial(virial_coefficients(spectrum.potential))
    return {
        "r2": spectrum.expect(lambda r: r**2, beta),
        "E0": spectrum.energy(beta),
        "virial": spectrum.expect(virial, beta),
        "gap": spectrum.gap,
        "levels": spectrum.levels(LEVELS),
        "correlator": spectrum.correlator(ks * lattice.a, beta).tolist(),
        "psi0_squared": _curve(edges, spectrum.bin_density(edges, beta)),
        "ground_state": {"E0": spectrum.ground_energy, "r2": spectrum.expect(lambda r: r**2)},
    }


def space_exact(lattice: Lattice, potential: Potential, edges: Array | None = None) -> dict[str, dict]:
    """Exact lattice and continuum values of a particle in space (JSON-ready; module doc).

    Parameters
    ----------
    lattice : Lattice
        Periodic, ``components = 3``.
    potential : Potential
        ``Potential.radial_polynomial(c, 3)``.
    edges : array, optional
        Histogram edges of r for ``psi0_squared`` (default :func:`default_edges`).

    Returns
    -------
    dict
        ``{"lattice": {...}, "continuum": {...}}``: ``r2``, ``E0``, ``gap``, ``levels``,
        ``correlator`` (k = 0..N/2; τ = ka), ``psi0_squared`` (bin averages at the bin centres
        ``x``); the lattice adds ``method`` (closed form or product transfer matrix), the
        continuum ``ground_state`` and ``virial`` (= ``E0``: the virial theorem, a check).
    """
    _check(lattice, potential)
    spectrum = radial_spectrum(potential, lattice.mass, lattice.hbar, beta=lattice.beta)
    edges = default_edges(spectrum) if edges is None else np.asarray(edges, dtype=float)
    if len(potential.radial) == 3:
        lat = {"method": "closed form (three scalar lattice oscillators)"} | oscillator_lattice(lattice, potential,
                                                                                               edges)
    else:
        pt = product_transfer(lattice, potential, **product_grid(lattice, spectrum))
        lat = {"method": "tensor-product transfer matrix"} | product_lattice(lattice, potential, edges, pt)
    return {"lattice": lat, "continuum": continuum_values(spectrum, lattice, edges)}
