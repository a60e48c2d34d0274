"""Transition amplitudes K(x_i, x_f; β) = ⟨x_f| e^{−βH/ħ} |x_i⟩, on the lattice and in the continuum.

The amplitude is the path integral with both ends pinned (Hashimoto et al. eqs. 3.1–3.3, in
Euclidean time; the free particle eqs. 3.13–3.17). On the lattice of :mod:`nnqm_ppl.physics`
(N = ``slices`` steps of a = β/N, trapezoid split of the action) it is

.. math::

    K_{\\rm lat}(x_i, x_f) = [T^N](x_i, x_f)
      = \\Big(\\frac{m}{2\\pi\\hbar a}\\Big)^{N/2} \\int \\prod_{n=1}^{N-1} dx_n\\, e^{-S_E[x]/\\hbar},
      \\qquad x_0 = x_i,\\ x_N = x_f,

with T the transfer kernel of :mod:`nnqm_ppl.exact.transfer` (its prefactor sqrt(m/2πħa) per step
is the normalisation that makes T^N the amplitude). Exact values:

- **constant V = c_0** (the free particle): T(x, x') = e^{−ac_0/ħ} × a normalised Gaussian of
  variance ħa/m in x − x', and N such Gaussians convolve to one of variance Nħa/m = ħβ/m, so

  .. math:: K_{\\rm lat} = \\sqrt{\\frac{m}{2\\pi\\hbar\\beta}}\\,
            e^{-m(x_f - x_i)^2/2\\hbar\\beta}\\, e^{-\\beta c_0/\\hbar},

  the continuum free kernel *exactly*, at every a (:func:`free_log_kernel`);
- **quadratic V = c_0 + c_1 x + c_2 x²**: S_E = ½ xᵀAx − bᵀx + s_0 over the N − 1 interior sites,
  A = (m/a)(2·1 − S − Sᵀ) + 2c_2 a·1 (S the shift), b = −c_1 a 1 + (m/a)(x_i e_1 + x_f e_{N−1}),
  s_0 = m(x_i² + x_f²)/2a + a(V(x_i) + V(x_f))/2 + (N − 1) a c_0, and the Gaussian integral gives

  .. math:: K_{\\rm lat} = \\Big(\\frac{m}{2\\pi\\hbar a}\\Big)^{N/2} (2\\pi\\hbar)^{(N-1)/2}
            \\det(A)^{-1/2}\\, e^{-(s_0 - b^{\\mathsf T} A^{-1} b/2)/\\hbar}

  (:func:`gaussian_log_amplitude`);
- **any V**: [T^N](x_i, y) = h Σ_n ũ_n λ_n^{N−2} ṽ_n(y) from the eigenpairs of the quadrature
  transfer matrix M = hT = UΛUᵀ, ũ = Uᵀ T(x_i, ·), ṽ(y) = Uᵀ T(·, y) (:func:`transfer_log_amplitude`).

Continuum: the free kernel; Mehler's kernel for the oscillator (:func:`mehler_log_kernel`);
otherwise Σ_n ψ_n(x_i) ψ_n(x_f) e^{−βE_n/ħ} over the complete sinc-DVR eigenbasis of
:mod:`nnqm_ppl.exact.diagonalize` (:func:`diagonalized_amplitude`).

**Thermodynamic integration** in the coupling (the estimator of
:func:`nnqm_ppl.observables.amplitude.thermodynamic_integration`): along V_λ = λV,
d log K_λ/dλ = −⟨S_V⟩_λ/ħ with S_V = a Σ'_n V(x_n) the potential part of the lattice action (weight ½
at the two pinned ends), so

.. math:: \\log K_V = \\log K_0 - \\int_0^1 f(\\lambda)\\, d\\lambda,\\qquad
          f(\\lambda) = \\Big\\langle \\frac{a}{\\hbar} \\sum_n{}' V(x_n) \\Big\\rangle_{\\lambda V},

and the n-point Gauss–Legendre rule replaces the integral. :func:`ti_exact` gives the exact f at
the nodes (the transfer matrix of λV on the same lattice), the exact log ratio and the rule applied
to the exact f: their difference is the quadrature's own systematic.

**The end density** of a half-line lattice (x_0 and x_N both free) conditioned on x_0 = x_i is
the normalised amplitude, p(y | x_i) = [T^N](x_i, y) / ∫ [T^N](x_i, y') dy' (the half-line weight of
(x_0, x_N) is [T^N](x_0, x_N), end weights included): :func:`end_density`, and in the continuum
K(x_i, y)/∫K(x_i, y')dy' (:func:`end_density_continuum`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nnqm_ppl.exact.diagonalize import Spectrum, diagonalize, semiclassical_box
from nnqm_ppl.exact.transfer import TransferMatrix, kernel, quadrature_spacing, transfer_matrix
from nnqm_ppl.physics import Lattice, Potential, quadratic_form

__all__ = [
    "free_log_kernel",
    "mehler_log_kernel",
    "gaussian_log_amplitude",
    "transfer_log_amplitude",
    "lattice_log_amplitude",
    "diagonalized_amplitude",
    "continuum_log_amplitude",
    "gauss_legendre",
    "scaled",
    "ti_integrand",
    "ti_exact",
    "end_density",
    "end_density_continuum",
]

Array = Any

#: margin of the continuum diagonalisation's box beyond the amplitude's end points, in units of
#: the free kernel's width sqrt(ħβ/m)
_END_MARGIN = 12.0


def free_log_kernel(x_ini: float, x_fin: Array, beta: float, mass: float = 1.0, hbar: float = 1.0) -> Array:
    """log K_0 = ½ log(m/2πħβ) − m(x_f − x_i)²/2ħβ, the free kernel (also exact on the lattice).

    Parameters
    ----------
    x_ini : float
    x_fin : float or array
    beta, mass, hbar : float

    Returns
    -------
    float or ndarray (shape of ``x_fin``)
    """
    d = np.asarray(x_fin, dtype=float) - x_ini
    return 0.5 * np.log(mass / (2.0 * np.pi * hbar * beta)) - mass * d**2 / (2.0 * hbar * beta)


def mehler_log_kernel(x_ini: float, x_fin: Array, beta: float, omega: float, mass: float = 1.0,
                      hbar: float = 1.0) -> Array:
    """Mehler's kernel of V = mω²x²/2 in Euclidean time (log):

    .. math:: K = \\sqrt{\\frac{m\\omega}{2\\pi\\hbar\\sinh\\omega\\beta}}
              \\exp\\Big(-\\frac{m\\omega\\,[(x_i^2 + x_f^2)\\cosh\\omega\\beta - 2x_i x_f]}
              {2\\hbar\\sinh\\omega\\beta}\\Big).
    """
    y = np.asarray(x_fin, dtype=float)
    s, c = np.sinh(omega * beta), np.cosh(omega * beta)
    return (0.5 * np.log(mass * omega / (2.0 * np.pi * hbar * s))
            - mass * omega * ((x_ini**2 + y**2) * c - 2.0 * x_ini * y) / (2.0 * hbar * s))


def _coeffs(potential: Potential) -> tuple[float, ...]:
    if potential.coeffs is None or potential.components != 1:
        raise ValueError("the amplitude is implemented for polynomial potentials of one coordinate")
    return potential.coeffs


def _ends(lattice: Lattice, x_fin: Array | None) -> tuple[float, np.ndarray]:
    if lattice.boundary != "fixed":
        raise ValueError(f"the amplitude needs a lattice with fixed ends, not {lattice.boundary!r}")
    return float(lattice.x_ini), np.atleast_1d(np.asarray(lattice.x_fin if x_fin is None else x_fin, dtype=float))


def _gaussian_form(lattice: Lattice, coeffs: tuple[float, ...], y: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A (N−1, N−1), b (len(y), N−1) and s_0 (len(y),) of S_E = ½xᵀAx − bᵀx + s_0 (module docstring)."""
    c0, c1, c2 = coeffs + (0.0,) * (3 - len(coeffs))
    x_i, n, a, m = float(lattice.x_ini), lattice.slices, lattice.a, lattice.mass
    size = n - 1
    lap = 2.0 * np.eye(size) - np.eye(size, k=1) - np.eye(size, k=-1)
    mat = (m / a) * lap + 2.0 * c2 * a * np.eye(size)
    b = np.full((y.size, size), -c1 * a)
    b[:, 0] += m * x_i / a
    b[:, -1] += m * y / a
    ends = np.array([x_i, *y])
    v = c0 + c1 * ends + c2 * ends**2
    s0 = m * (x_i**2 + y**2) / (2.0 * a) + 0.5 * a * (v[0] + v[1:]) + size * a * c0
    return mat, b, s0


def gaussian_log_amplitude(lattice: Lattice, potential: Potential, x_fin: Array | None = None) -> np.ndarray:
    """log K_lat of a quadratic V on a fixed-ends lattice: the Gaussian integral (module docstring).

    Parameters
    ----------
    lattice : Lattice
        ``fixed``; x_i = ``lattice.x_ini``.
    potential : Potential
        c_0 + c_1 x + c_2 x² (c_2 = 0 allowed: then this is the free kernel times e^{−βc_0/ħ}).
    x_fin : float or array, optional
        End points (default ``lattice.x_fin``).

    Returns
    -------
    ndarray, shape (len(x_fin),)
    """
    if quadratic_form(potential) is None:
        raise ValueError("gaussian_log_amplitude needs a quadratic potential")
    _, y = _ends(lattice, x_fin)
    n, a, m, hbar = lattice.slices, lattice.a, lattice.mass, lattice.hbar
    mat, b, s0 = _gaussian_form(lattice, _coeffs(potential), y)
    _, logdet = np.linalg.slogdet(mat)
    quad = np.einsum("yi,yi->y", b, np.linalg.solve(mat, b.T).T)
    return (0.5 * n * np.log(m / (2.0 * np.pi * hbar * a)) + 0.5 * (n - 1) * np.log(2.0 * np.pi * hbar)
            - 0.5 * logdet - (s0 - 0.5 * quad) / hbar)


def transfer_log_amplitude(tm: TransferMatrix, x_ini: float, ys: Array, steps: int | None = None) -> np.ndarray:
    """log [T^steps](x_i, y) from the eigenpairs of the quadrature transfer matrix (module docstring).

    Parameters
    ----------
    tm : TransferMatrix
        Its grid must hold the paths' interior sites (its lattice's default box does).
    x_ini : float
    ys : float or array
    steps : int, optional
        Number of transfer steps (default ``tm.lattice.slices``, ≥ 2).

    Returns
    -------
    ndarray, shape (len(ys),)
    """
    steps = tm.lattice.slices if steps is None else int(steps)
    if steps < 2:
        raise ValueError("transfer_log_amplitude needs at least 2 steps")
    ys = np.atleast_1d(np.asarray(ys, dtype=float))
    u = tm.vectors.T @ kernel(np.array([x_ini]), tm.x, tm.lattice, tm.potential)[0]
    v = tm.vectors.T @ kernel(tm.x, ys, tm.lattice, tm.potential)
    lam0 = tm.eigenvalues[0]
    r = tm.eigenvalues / lam0
    total = (u * r ** (steps - 2)) @ v
    return np.log(tm.h) + (steps - 2) * np.log(lam0) + np.log(total)


def lattice_log_amplitude(lattice: Lattice, potential: Potential, x_fin: Array | None = None,
                          tm: TransferMatrix | None = None) -> np.ndarray:
    """log K_lat(x_i, x_f) on a fixed-ends lattice: the closed forms where V is constant or quadratic,
    else [T^N] from the transfer matrix ``tm`` (built if not given).

    Returns
    -------
    ndarray, shape (len(x_fin),)
    """
    x_i, y = _ends(lattice, x_fin)
    c = _coeffs(potential)
    if len(c) == 1:
        return free_log_kernel(x_i, y, lattice.beta, lattice.mass, lattice.hbar) - lattice.beta * c[0] / lattice.hbar
    if quadratic_form(potential) is not None:
        return gaussian_log_amplitude(lattice, potential, y)
    tm = transfer_matrix(lattice, potential) if tm is None else tm
    return transfer_log_amplitude(tm, x_i, y)


def diagonalized_amplitude(spectrum: Spectrum, x_ini: float, ys: Array, beta: float) -> np.ndarray:
    """K(x_i, y; β) = Σ_n ψ_n(x_i) ψ_n(y) e^{−βE_n/ħ} over every sinc-DVR eigenstate (continuum).

    The spectrum must be diagonalised for thermal traces at β (``diagonalize(..., beta=β)``) on a
    box that holds x_i and y.
    """
    ys = np.atleast_1d(np.asarray(ys, dtype=float))
    states = np.arange(spectrum.energies.size)
    boltzmann = np.exp(-beta * spectrum.energies / spectrum.hbar)
    return (spectrum.wavefunction(states, ys) * boltzmann) @ spectrum.wavefunction(states, np.array([x_ini]))[0]


def _spectrum(potential: Potential, mass: float, hbar: float, beta: float, points: Array) -> Spectrum:
    """The DVR spectrum for thermal traces at β on a box that reaches ``_END_MARGIN`` free-kernel
    widths beyond the given points."""
    lo, hi, _ = semiclassical_box(potential, mass, hbar, beta=beta)
    reach = _END_MARGIN * math.sqrt(hbar * beta / mass)
    pts = np.asarray(points, dtype=float)
    return diagonalize(potential, mass, hbar, beta=beta,
                       box=(min(lo, float(pts.min()) - reach), max(hi, float(pts.max()) + reach)))


def continuum_log_amplitude(potential: Potential, x_ini: float, ys: Array, beta: float, mass: float = 1.0,
                            hbar: float = 1.0) -> np.ndarray:
    """log K(x_i, y; β) in the continuum: the free kernel (V constant), Mehler's kernel about the
    minimum x̄ = −c_1/2c_2 times e^{−βV(x̄)/ħ} (V quadratic, ω = sqrt(2c_2/m)), else the
    diagonalisation (:func:`diagonalized_amplitude`)."""
    ys = np.atleast_1d(np.asarray(ys, dtype=float))
    c = _coeffs(potential)
    if len(c) == 1:
        return free_log_kernel(x_ini, ys, beta, mass, hbar) - beta * c[0] / hbar
    if quadratic_form(potential) is not None:
        c0, c1, c2 = c
        centre = -c1 / (2.0 * c2)
        v_min = c0 - c1**2 / (4.0 * c2)
        return mehler_log_kernel(x_ini - centre, ys - centre, beta, math.sqrt(2.0 * c2 / mass), mass, hbar) - (
            beta * v_min / hbar)
    spec = _spectrum(potential, mass, hbar, beta, np.concatenate([[x_ini], ys]))
    return np.log(diagonalized_amplitude(spec, x_ini, ys, beta))


def gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes λ_j and weights w_j of the n-point Gauss–Legendre rule on [0, 1] (exact to degree 2n − 1)."""
    t, w = np.polynomial.legendre.leggauss(int(n))
    return 0.5 * (t + 1.0), 0.5 * w


def scaled(potential: Potential, lam: float) -> Potential:
    """λV for a polynomial V, with fixed ends (λ = 0: the free particle)."""
    return Potential.from_coeffs([lam * c for c in _coeffs(potential)], "fixed")


def _fixed_box(lattice: Lattice, potential: Potential) -> tuple[tuple[float, float], float]:
    """Grid of a fixed-ends transfer matrix: the semiclassical box of the lowest 10 states joined
    with 12 bridge widths sqrt(ħβ/4m) about each end, spacing min(σ/1.2, πħ/3p_max) with p_max that
    of the thermal states at β (:func:`~nnqm_ppl.exact.transfer.quadrature_spacing`).

    The paths run between the pinned ends and the well of V, so the default box of
    :func:`~nnqm_ppl.exact.transfer.transfer_matrix`, which holds every thermal state at β (for a
    weak λV, hundreds of points), is not needed.
    """
    lo, hi, _ = semiclassical_box(potential, lattice.mass, lattice.hbar)
    *_, p_max = semiclassical_box(potential, lattice.mass, lattice.hbar, beta=lattice.beta)
    reach = 12.0 * math.sqrt(lattice.hbar * lattice.beta / (4.0 * lattice.mass))
    ends = (float(lattice.x_ini), float(lattice.x_fin))
    return (min(lo, min(ends) - reach), max(hi, max(ends) + reach)), quadrature_spacing(lattice, p_max)


def ti_integrand(lattice: Lattice, potential: Potential, lams: Array) -> np.ndarray:
    """The exact f(λ) = ⟨(a/ħ) Σ'_n V(x_n)⟩_{λV} on the fixed-ends lattice (module docstring).

    Quadratic V: the Gaussian moments of λV, mean μ = A⁻¹b and covariance ħA⁻¹ (A, b of the
    module docstring at λV), so ⟨V(x_s)⟩ = c_0 + c_1 μ_s + c_2(μ_s² + ħ(A⁻¹)_ss). Otherwise the
    transfer matrix of λV on the same lattice gives ⟨V(x_s)⟩ at the N − 1 interior sites. The pinned
    ends add (a/2ħ)(V(x_i) + V(x_f)).
    """
    x_i, y = _ends(lattice, None)
    c = _coeffs(potential)
    ends = 0.5 * float(potential(x_i) + potential(y[0]))
    pots = [scaled(potential, float(lam)) for lam in np.atleast_1d(np.asarray(lams, dtype=float))]
    quadratic = quadratic_form(potential) is not None
    if not quadratic:  # one grid for every λ (the union of their boxes): one compilation of the kernel
        boxes, spacings = zip(*(_fixed_box(lattice, pot) for pot in pots), strict=True)
        box, spacing = (min(b[0] for b in boxes), max(b[1] for b in boxes)), min(spacings)
    out = []
    for pot in pots:
        if quadratic:
            mat, b, _ = _gaussian_form(lattice, pot.coeffs, y)
            inv = np.linalg.inv(mat)
            mean = inv @ b[0]
            c0, c1, c2 = c + (0.0,) * (3 - len(c))
            sites = c0 + c1 * mean + c2 * (mean**2 + lattice.hbar * np.diag(inv))
        else:
            tm = transfer_matrix(lattice, pot, box=box, spacing=spacing)
            sites = tm.site_values(potential, range(1, lattice.slices))
        out.append(float(np.sum(sites)) + ends)
    return lattice.a / lattice.hbar * np.asarray(out)


def ti_exact(lattice: Lattice, potential: Potential, nodes: int, tm: TransferMatrix | None = None) -> dict[str, Any]:
    """Exact values for thermodynamic integration with the ``nodes``-point Gauss–Legendre rule.

    Returns
    -------
    dict
        ``lambdas``, ``weights`` (the rule), ``integrand`` (exact f at the nodes), ``log_free``
        (log K_0, the start), ``log_exact`` (log K_lat of V, :func:`lattice_log_amplitude`),
        ``log_quadrature`` (log K_0 − Σ_j w_j f(λ_j): the rule on the exact integrand) and
        ``quadrature_error`` = |log_quadrature − log_exact|.
    """
    lams, weights = gauss_legendre(nodes)
    f = ti_integrand(lattice, potential, lams)
    log_free = float(free_log_kernel(lattice.x_ini, lattice.x_fin, lattice.beta, lattice.mass, lattice.hbar))
    log_exact = float(lattice_log_amplitude(lattice, potential, tm=tm)[0])
    log_quad = log_free - float(weights @ f)
    return {"lambdas": lams, "weights": weights, "integrand": f, "log_free": log_free, "log_exact": log_exact,
            "log_quadrature": log_quad, "quadrature_error": abs(log_quad - log_exact)}


def end_density(tm: TransferMatrix, x_ini: float, ys: Array) -> np.ndarray:
    """p(y | x_0 = x_i) = [T^N](x_i, y) / ∫[T^N](x_i, y')dy' on the lattice of ``tm`` (a half line).

    The normalisation is the trapezoid rule on the transfer matrix's own grid (exponentially
    accurate, as every quadrature of :mod:`nnqm_ppl.exact.transfer`).
    """
    grid = transfer_log_amplitude(tm, x_ini, tm.x)
    shift = float(np.max(grid))
    norm = tm.h * float(np.sum(np.exp(grid - shift)))
    return np.exp(transfer_log_amplitude(tm, x_ini, ys) - shift) / norm


def end_density_continuum(potential: Potential, x_ini: float, ys: Array, beta: float, mass: float = 1.0,
                          hbar: float = 1.0) -> np.ndarray:
    """K(x_i, y; β) / ∫K(x_i, y'; β) dy' in the continuum, by the diagonalisation.

    With ψ_n(y) = Σ_i c_in sinc((y − x_i)/dx)/sqrt(dx) the integral of ψ_n is sqrt(dx) Σ_i c_in.
    """
    ys = np.atleast_1d(np.asarray(ys, dtype=float))
    spec = _spectrum(potential, mass, hbar, beta, np.concatenate([[x_ini], ys]))
    states = np.arange(spec.energies.size)
    boltzmann = np.exp(-beta * (spec.energies - spec.energies[0]) / hbar)
    weights = boltzmann * spec.wavefunction(states, np.array([x_ini]))[0]
    norm = float(weights @ (np.sqrt(spec.dx) * np.sum(spec.vectors, axis=0)))
    return (spec.wavefunction(states, ys) @ weights) / norm
