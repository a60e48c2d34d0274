"""Exact solvers: continuum diagonalisation, lattice transfer matrix and closed forms.

Tolerances: the DVR energies are converged to 1e-10 (checked by the solver's own refinement and
re-checked here on an independent grid); the transfer-matrix quadrature error is ≈ 1e-12 by
construction (trapezoid rule on a Gaussian kernel with h = σ/1.2), so identities that hold
exactly on the lattice are tested at 1e-9; discretisation effects are tested through their
scaling in a (the symmetric split has errors c₂a² + c₄a⁴).
"""

import json

import jax.numpy as jnp
import numpy as np
import pytest

import nnqm_ppl  # noqa: F401  (float64)
from nnqm_ppl.exact import diagonalize, path_integral_exact, transfer_matrix
from nnqm_ppl.exact import harmonic as ho
from nnqm_ppl.physics import Lattice, Potential

ANHARMONIC = Potential.from_coeffs([0.0, 0.0, 0.5, 0.0, 1.0])  # x²/2 + x⁴
DOUBLE_WELL = Potential.from_coeffs([4.0, 0.0, -4.0, 0.0, 1.0])  # (x² - 2)², Creutz–Freedman


def x(v):
    return v


def x2(v):
    return v**2


def x3(v):
    return v**3


@pytest.fixture(scope="module")
def anharmonic():
    return diagonalize(ANHARMONIC)


# ------------------------------------------------------------------ continuum diagonalisation


def test_harmonic_spectrum_and_thermal_closed_forms():
    m, hbar, omega, beta = 0.5, 0.7, 2.0, 1.5
    s = diagonalize(Potential.from_coeffs([0.0, 0.0, 0.5 * m * omega**2]), m, hbar, beta=beta)
    np.testing.assert_allclose(s.energies[:6], ho.continuum_energies(omega, hbar, 6), rtol=1e-9)
    assert s.expect(x2, beta) == pytest.approx(ho.continuum_x2(beta, omega, m, hbar), rel=1e-9)
    assert s.p2(beta) == pytest.approx(ho.continuum_p2(beta, omega, m, hbar), rel=1e-9)
    taus = np.linspace(0.0, beta, 7)
    np.testing.assert_allclose(
        s.correlator(taus, beta), ho.continuum_correlator(taus, beta, omega, m, hbar), rtol=1e-9
    )
    # ⟨0|x|1⟩ = sqrt(ħ/2mω) and ⟨0|x|2⟩ = 0
    xm = s.x_matrix(3)
    assert abs(xm[0, 1]) == pytest.approx(np.sqrt(hbar / (2 * m * omega)), rel=1e-9)
    assert abs(xm[0, 2]) < 1e-10


def test_anharmonic_reference_values(anharmonic):
    """V = x²/2 + x⁴: E1 - E0 = 1.934122 and ⟨x²⟩_0 = 0.257150 (given to 6 decimals)."""
    s = anharmonic
    assert float(s.gaps(1)[0]) == pytest.approx(1.934122, abs=1e-6)
    assert s.expect(x2) == pytest.approx(0.257150, abs=1e-6)
    # virial theorem ⟨p²⟩/m = ⟨x V'⟩ holds only for eigenstates of a converged H
    assert s.p2() == pytest.approx(s.expect(lambda v: v * ANHARMONIC.derivative(v)), rel=1e-9)
    # ψ0 > 0 and ∫ψ0² = 1 on an independent fine grid
    grid = np.linspace(-4.0, 4.0, 4001)
    psi0 = np.asarray(s.wavefunction(0, grid))
    assert psi0.min() > 0
    assert np.trapezoid(psi0**2, grid) == pytest.approx(1.0, abs=1e-9)


def test_diagonalisation_is_converged(anharmonic):
    """Doubling the resolution and widening the box changes the low levels by < 1e-9."""
    s = anharmonic
    assert s.error < 1e-10
    lo, hi = float(s.x[0]), float(s.x[-1])
    fine = diagonalize(ANHARMONIC, box=(1.5 * lo, 1.5 * hi), spacing=s.dx / 2)
    np.testing.assert_allclose(fine.energies[:8], s.energies[:8], rtol=1e-9)


def test_double_well_tunnelling_gap():
    """m = 1/2, V = (x² - 2)²: a tunnelling doublet well below the next level; the transfer
    matrix at a, a/2, a/4 Richardson-extrapolates to the same gap (an independent method)."""
    s = diagonalize(DOUBLE_WELL, mass=0.5)
    gaps = s.gaps(2)
    assert 0 < gaps[0] < 0.15 * (gaps[1] - gaps[0])
    grid = np.array([-1.4, 1.4])
    np.testing.assert_allclose(s.wavefunction(0, grid), s.wavefunction(0, grid[::-1]), rtol=1e-8)
    np.testing.assert_allclose(s.wavefunction(1, grid), -s.wavefunction(1, grid[::-1]), rtol=1e-8)
    g = np.array([
        float(transfer_matrix(Lattice(10.0, n, mass=0.5), DOUBLE_WELL).gaps(1)[0])
        for n in (100, 200, 400)
    ])
    r1, r2 = (4 * g[1] - g[0]) / 3, (4 * g[2] - g[1]) / 3
    # r2's error is O(a⁴) ≈ |r2 - r1|/15; we allow the full |r2 - r1|
    assert abs(r2 - gaps[0]) < abs(r2 - r1)


# ------------------------------------------------------------------ transfer matrix


def test_transfer_matrix_equals_harmonic_closed_form():
    m, hbar, omega = 1.3, 0.8, 1.5
    lat = Lattice(beta=6.0, slices=24, mass=m, hbar=hbar)
    tm = transfer_matrix(lat, Potential.from_coeffs([0.0, 0.0, 0.5 * m * omega**2]))
    g = ho.lattice_correlator(lat, omega)
    np.testing.assert_allclose(tm.correlator(), g, rtol=1e-8)
    np.testing.assert_allclose(tm.energies[:4], ho.lattice_energies(omega, lat.a, hbar), rtol=1e-8)
    assert tm.expect(x2) == pytest.approx(ho.lattice_x2(lat, omega), rel=1e-8)
    assert tm.p2() == pytest.approx(ho.lattice_p2(lat, omega), rel=1e-8)
    assert tm.virial_energy() == pytest.approx(m * omega**2 * float(g[0]), rel=1e-8)
    # Wick: ⟨x²(τ) x²(0)⟩_c = 2 C(τ)², and ⟨x(τ) x²(0)⟩ = 0 by parity
    c = tm.connected_matrix([x, x2], jnp.arange(lat.slices + 1))
    np.testing.assert_allclose(c[:, 1, 1], 2 * g**2, rtol=1e-8)
    assert float(jnp.max(jnp.abs(c[:, 0, 1]))) < 1e-10


@pytest.mark.parametrize(
    "lattice",
    [
        Lattice(beta=4.0, slices=16),
        Lattice(beta=4.0, slices=16, boundary="half_line"),
        Lattice(beta=4.0, slices=16, boundary="fixed", x_ini=0.4, x_fin=-0.2),
    ],
    ids=["periodic", "half_line", "fixed"],
)
def test_schwinger_dyson_commutator(lattice):
    """⟨x_n ∂S/∂x_n⟩ = ħ gives m⟨x_n(x_{n+1}-x_n) - (x_n-x_{n-1})x_n⟩/a = -ħ + a⟨xV'⟩."""
    tm = transfer_matrix(lattice, ANHARMONIC)
    site = lattice.slices // 2 + 1
    sd = -lattice.hbar + lattice.a * tm.expect(lambda v: v * ANHARMONIC.derivative(v), site)
    assert tm.commutator(site) == pytest.approx(sd, abs=1e-9)
    assert abs(sd + lattice.hbar) > 0.1  # the O(a) term is really there at a = 0.25


def test_transfer_gap_approaches_continuum_as_a_squared(anharmonic):
    """Gap errors at a = 0.25, 0.125, 0.0625: ratios → 4 with a⁴/a² corrections shrinking ×4."""
    exact = float(anharmonic.gaps(1)[0])
    err = np.array([
        float(transfer_matrix(Lattice(16.0, n), ANHARMONIC).gaps(1)[0]) - exact
        for n in (64, 128, 256)
    ])
    r1, r2 = err[0] / err[1], err[1] / err[2]
    assert abs(r2 - 4) < abs(r1 - 4) / 2 < 0.25


def test_half_line_marginal_approaches_psi0(anharmonic):
    """Density of y = x_0 on a half line → ψ0(y)/∫ψ0 (not |ψ0|²) with an O(a²) error."""
    y = np.linspace(-2.0, 2.0, 81)
    psi0 = anharmonic.wavefunction(0, y)
    psi0 = psi0 / (np.sqrt(anharmonic.dx) * jnp.sum(anharmonic.vectors[:, 0]))
    err = [
        float(jnp.max(jnp.abs(
            transfer_matrix(Lattice(10.0, n, boundary="half_line"), ANHARMONIC).density(y, 0)
            - psi0
        )))
        for n in (50, 100, 200)
    ]
    assert err[0] / err[1] > 3.5 and err[1] / err[2] > 3.5
    assert err[2] < 1e-3


def test_transfer_grid_is_converged():
    """Default quadrature vs a 1.5× finer, wider grid: far below 1e-4 relative (we ask 1e-9)."""
    lat = Lattice(beta=8.0, slices=32)
    tm = transfer_matrix(lat, ANHARMONIC)
    lo, hi = float(tm.x[0]), float(tm.x[-1])
    fine = transfer_matrix(lat, ANHARMONIC, spacing=tm.h / 1.5, box=(lo - 1.0, hi + 1.0))
    for f in (x2, lambda v: v**4, lambda v: ANHARMONIC(v)):
        assert tm.expect(f) == pytest.approx(fine.expect(f), rel=1e-9)
    np.testing.assert_allclose(tm.correlator(), fine.correlator(), rtol=1e-9)
    np.testing.assert_allclose(tm.energies[:4], fine.energies[:4], rtol=1e-9)
    c = tm.connected_matrix([x, x2, x3], [0, 4])
    np.testing.assert_allclose(c, fine.connected_matrix([x, x2, x3], [0, 4]), rtol=1e-9, atol=1e-13)


# ------------------------------------------------------------------ summary for reports


def test_path_integral_exact_summary():
    """JSON-ready; on the harmonic oscillator it reproduces both closed forms."""
    omega, lat = 1.0, Lattice(beta=8.0, slices=32)
    out = path_integral_exact(lat, Potential.from_coeffs([0.0, 0.0, 0.5]))
    json.dumps(out)
    lt, co = out["lattice"], out["continuum"]
    np.testing.assert_allclose(lt["correlator"], ho.lattice_correlator(lat, omega), rtol=1e-8)
    assert lt["x2"] == pytest.approx(ho.lattice_x2(lat, omega), rel=1e-8)
    assert lt["gap"] == pytest.approx(ho.lattice_omega(omega, lat.a), rel=1e-8)
    assert co["x2"] == pytest.approx(ho.continuum_x2(lat.beta, omega), rel=1e-9)
    np.testing.assert_allclose(co["gaps"], [1.0, 2.0, 3.0], rtol=1e-9)
    assert co["uncertainty"] == pytest.approx(0.5 / np.tanh(omega * lat.beta / 2), rel=1e-9)
    assert lt["commutator"] == pytest.approx(-1.0 + lat.a * lt["x2"], abs=1e-9)  # xV' = x²
    for key in ("psi0", "psi0_squared"):
        for d in (lt, co):
            xs, val = np.array(d[key]["x"]), np.array(d[key]["value"])
            assert np.trapezoid(val, xs) == pytest.approx(1.0, abs=1e-4)  # 101-point plot grid
