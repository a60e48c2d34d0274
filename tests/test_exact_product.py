"""Product-grid exact solvers for d-component paths: tensor-product transfer matrix and DVR.

Oracles are independent: the scalar transfer matrix and DVR on the same axis grid (d = 1 and every
factor of a separable V), the lattice normal modes of a quadratic field
(:func:`~nnqm_ppl.exact.vector.quadratic_correlator`), the oscillator's closed forms. Tolerances:
identities that hold exactly on the same grid are tested at 1e-9 (Lanczos converges to ~1e-13);
against closed forms the grid's own error is stated per test (measured, with a margin of 10-100).
The truncation bounds are tested by comparing a run with few states against a converged one.

Timings (2 cores shared with other jobs, one BLAS thread) for d = 3, V = r²/2 + r⁴/10, box ±5,
16 states, β = 8, N = 16: lattice n = 21 (9 261 points) 0.6 s, n = 32 7 s (+0.9 s for C(k),
k = 0..8), n = 41 3 s, n = 48 (110 592) 10 s (+1.3 s), 0.35 GB; continuum (Lanczos for the
smallest levels of H needs ~10x more matrix-vector products) n = 21 1.9 s, n = 32 39 s, n = 41
19 s (unloaded), n = 48 more than 6 CPU-minutes. φ⁴ on L = 3 sites (P = φ²/2 + φ⁴/4, Δx = 1,
β = 8, N = 16): the default grid (n = 66, 287 496 points) 21 s; n = 25 on ±3.5 1.9 s, the same
⟨φ²⟩ and gaps to 3e-14.
"""

import numpy as np
import pytest

import nnqm_ppl  # noqa: F401  (float64)
from nnqm_ppl.exact import harmonic as ho
from nnqm_ppl.exact.diagonalize import diagonalize
from nnqm_ppl.exact.product import product_transfer
from nnqm_ppl.exact.product_continuum import product_spectrum
from nnqm_ppl.exact.product_grid import fourier_vector
from nnqm_ppl.exact.transfer import transfer_matrix
from nnqm_ppl.exact.vector import component_lattice, quadratic_correlator
from nnqm_ppl.physics import Lattice, Potential

ANHARMONIC = Potential.from_coeffs([0.0, 0.0, 0.5, 0.0, 1.0])  # x²/2 + x⁴
OSCILLATOR_3D = Potential.radial_polynomial([0.0, 0.0, 0.5], 3)  # r²/2
QUARTIC_3D = Potential.radial_polynomial([0.0, 0.0, 0.5, 0.0, 0.1], 3)  # r²/2 + r⁴/10


def r2(x):
    return np.sum(x**2, axis=-1)


def same_grid_transfer(lattice, potential, axis):
    """The scalar transfer matrix on exactly the product's axis grid."""
    tm = transfer_matrix(lattice, potential, spacing=(axis[1] - axis[0]) * (1 + 1e-9), box=(axis[0], axis[-1]))
    np.testing.assert_allclose(tm.x, axis, rtol=0, atol=1e-12)
    return tm


def test_d1_is_the_scalar_transfer_matrix():
    lat = Lattice(beta=4.0, slices=20)
    tm, pt = transfer_matrix(lat, ANHARMONIC), product_transfer(lat, ANHARMONIC)
    np.testing.assert_array_equal(pt.grid.axis, tm.x)  # the same grid rule
    np.testing.assert_allclose(pt.energies[:8], tm.energies[:8], rtol=1e-10)
    assert pt.expect(lambda x: x**2) == pytest.approx(tm.expect(lambda x: x**2), abs=1e-10)
    assert pt.virial_energy() == pytest.approx(tm.virial_energy(), abs=1e-10)
    ks = np.arange(lat.slices + 1)
    np.testing.assert_allclose(pt.correlator(1.0, ks=ks), tm.correlator(ks), rtol=0, atol=1e-10)
    assert pt.truncation < 1e-10 and np.all(pt.correlator_bound(1.0, ks=ks) < 1e-10)


def test_d1_continuum_is_the_scalar_dvr():
    beta = 3.0
    s1 = diagonalize(ANHARMONIC, beta=beta)
    ps = product_spectrum(ANHARMONIC, beta=beta, n=s1.x.size, box=(s1.x[0], s1.x[-1]))
    np.testing.assert_allclose(ps.energies[:8], s1.energies[:8], rtol=1e-10)
    assert ps.expect(lambda x: x**2, beta) == pytest.approx(s1.expect(lambda x: x**2, beta), abs=1e-10)
    taus = np.linspace(0.0, beta, 7)
    np.testing.assert_allclose(ps.correlator(1.0, taus, beta), s1.correlator(taus, beta), atol=1e-10)
    np.testing.assert_allclose(ps.correlator(1.0, taus), s1.correlator(taus, np.inf), atol=1e-10)
    assert ps.truncation(beta) < 1e-10 and np.all(ps.correlator_bound(1.0, taus, beta) < 1e-10)


def test_separable_d2_is_the_scalar_theory_per_component():
    v = Potential.separable([[0.0, 0.0, 0.5, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0, 0.25]], 2)
    lat = Lattice(beta=3.0, slices=12, components=2)
    pt = product_transfer(lat, v)
    scalar = [same_grid_transfer(component_lattice(lat, c), Potential.from_coeffs(p), pt.grid.axis)
              for c, p in enumerate(v.site)]
    ks = np.arange(lat.slices + 1)
    for c, tm in enumerate(scalar):
        unit = np.eye(2)[c]
        assert pt.expect(lambda x, c=c: x[:, c] ** 2) == pytest.approx(tm.expect(lambda x: x**2), abs=1e-10)
        np.testing.assert_allclose(pt.correlator(unit, ks=ks), tm.correlator(ks), atol=1e-10)
    np.testing.assert_allclose(pt.correlator([1.0, 0.0], [0.0, 1.0], ks=ks), 0.0, atol=1e-12)
    sums = np.sort(np.add.outer(scalar[0].energies[:6], scalar[1].energies[:6]).ravel())[:6]  # T = T_1 ⊗ T_2
    np.testing.assert_allclose(pt.energies[:6], sums, rtol=1e-10)
    # the same V as a callable: the axis-restriction profile gives the same grid and levels
    fn = Potential.from_callable(lambda x: 0.5 * x[0] ** 2 + x[0] ** 4 + x[1] ** 2 + 0.25 * x[1] ** 4, components=2)
    as_callable = product_transfer(lat, fn)
    np.testing.assert_array_equal(as_callable.grid.axis, pt.grid.axis)
    np.testing.assert_allclose(as_callable.energies[:6], pt.energies[:6], rtol=1e-10)


def test_free_lattice_field_is_its_normal_modes():
    """φ on L = 3 sites, P = φ²/2, Δx = 1 (g = 0): Φ, the k = 1 modes and a mixed pair."""
    field = Potential.lattice_field([0.0, 0.0, 0.5], 3, dx=1.0)
    lat = Lattice(beta=4.0, slices=8, components=3)
    pt = product_transfer(lat, field, n=28, box=(-6.0, 6.0))
    g = quadratic_correlator(lat, field)  # (N + 1, 3, 3)
    ks = np.arange(lat.slices + 1)
    for u in (fourier_vector(3, 0), fourier_vector(3, 1, "cos"), fourier_vector(3, 1, "sin")):
        np.testing.assert_allclose(pt.correlator(u, ks=ks), np.einsum("c,ncd,d->n", u, g, u), rtol=0, atol=1e-9)
    np.testing.assert_allclose(pt.correlator(np.eye(3)[0], np.eye(3)[1], ks=ks), g[:, 0, 1], atol=1e-9)
    # the mass gap is the zero mode's lattice frequency (ω_0 = m = 1)
    assert pt.gaps(1)[0] == pytest.approx(ho.lattice_omega(1.0, lat.a), abs=1e-9)


def test_isotropic_oscillator_levels_degeneracies_and_lattice_r2():
    """Continuum levels 3/2, 5/2, 7/2 with 1, 3, 6 states (grid error at n = 24, h = 0.52: ~1e-11)."""
    ps = product_spectrum(OSCILLATOR_3D, n=24, box=(-6.0, 6.0), states=24)
    levels = ps.levels(1e-8)
    assert [g for _, g in levels[:3]] == [1, 3, 6]
    np.testing.assert_allclose([e for e, _ in levels[:3]], [1.5, 2.5, 3.5], atol=1e-9)
    assert ps.expect(r2) == pytest.approx(1.5, abs=1e-9)
    taus = np.array([0.0, 0.5, 1.0, 2.0])
    np.testing.assert_allclose(ps.correlator([1.0, 0.0, 0.0], taus), 0.5 * np.exp(-taus), atol=1e-9)
    beta = 4.0
    thermal = ps.expect(r2, beta)
    assert abs(thermal - 3 * ho.continuum_x2(beta, 1.0)) <= ps.expect_bound(r2, beta) + 1e-9
    # the lattice: T = T_1^{⊗3} exactly, so ⟨r²⟩ is 3 × the scalar lattice value on the same grid
    lat = Lattice(beta=8.0, slices=16, components=3)
    pt = product_transfer(lat, OSCILLATOR_3D, n=24, box=(-6.0, 6.0))
    tm = same_grid_transfer(component_lattice(lat, 0), Potential.from_coeffs([0.0, 0.0, 0.5]), pt.grid.axis)
    assert pt.expect(r2) == pytest.approx(3 * tm.expect(lambda x: x**2), abs=1e-10)
    assert pt.expect(r2) == pytest.approx(3 * ho.lattice_x2(component_lattice(lat, 0), 1.0), abs=1e-8)
    assert [g for _, g in pt.levels(1e-6)[:2]] == [1, 3]
    assert pt.gaps(1)[0] == pytest.approx(ho.lattice_omega(1.0, lat.a), abs=1e-9)


def test_grid_convergence_when_the_spacing_is_halved():
    """r²/2 + r⁴/10, box ±5: h = 0.5 -> 0.25 changes nothing above 1e-8 (measured ≤ 1e-10)."""
    lat = Lattice(beta=8.0, slices=16, components=3)
    coarse, fine = (product_transfer(lat, QUARTIC_3D, n=n, box=(-5.0, 5.0)) for n in (21, 41))
    assert fine.expect(r2) == pytest.approx(coarse.expect(r2), abs=1e-8)
    np.testing.assert_allclose(fine.gaps(4), coarse.gaps(4), atol=1e-8)
    u = [1.0, 0.0, 0.0]
    np.testing.assert_allclose(fine.correlator(u), coarse.correlator(u), atol=1e-8)
    quartic_2d = Potential.radial_polynomial([0.0, 0.0, 0.5, 0.0, 0.1], 2)  # continuum, d = 2 (d = 3: 20 s)
    coarse, fine = (product_spectrum(quartic_2d, n=n, box=(-5.0, 5.0), states=10) for n in (21, 41))
    np.testing.assert_allclose(fine.energies[:9], coarse.energies[:9], atol=1e-8)
    assert fine.expect(r2) == pytest.approx(coarse.expect(r2), abs=1e-8)
    assert [g for _, g in fine.levels(1e-6)[:3]] == [1, 2, 2]  # l = 0, ±1, ±2 (no accidental degeneracy)


def test_truncation_bounds_hold():
    """Few states at a high temperature against a converged run: the error stays within the bound."""
    v = Potential.separable([0.0, 0.0, 0.5, 0.0, 1.0], 2)
    lat = Lattice(beta=1.0, slices=6, components=2)
    grid = {"n": 24, "box": (-3.5, 3.5)}
    loose = product_transfer(lat, v, states=4, tol=1e-2, **grid)
    full = product_transfer(lat, v, tol=1e-12, **grid)
    assert loose.eigenvalues.size < full.eigenvalues.size and loose.truncation > 1e-6
    err = abs(loose.expect(r2) - full.expect(r2))
    assert 1e-8 < err <= loose.expect_bound(r2)
    u = [1.0, 0.0]
    err = np.abs(loose.correlator(u, ks=range(7)) - full.correlator(u, ks=range(7)))
    assert np.all(err <= loose.correlator_bound(u, ks=range(7)))
    few = product_spectrum(v, beta=1.0, states=4, tol=1.0, **grid)
    many = product_spectrum(v, beta=1.0, tol=1e-12, **grid)
    err = abs(few.expect(r2, 1.0) - many.expect(r2, 1.0))
    assert 1e-8 < err <= few.expect_bound(r2, 1.0)
    taus = np.linspace(0.0, 1.0, 5)
    err = np.abs(few.correlator(u, taus, 1.0) - many.correlator(u, taus, 1.0))
    assert np.all(err <= few.correlator_bound(u, taus, 1.0))


def test_refusals():
    lat = Lattice(beta=2.0, slices=4, components=3)
    with pytest.raises(ValueError, match="periodic"):
        product_transfer(Lattice(2.0, 4, boundary="half_line", components=3), OSCILLATOR_3D)
    with pytest.raises(ValueError, match="components"):
        product_transfer(Lattice(2.0, 4, components=2), OSCILLATOR_3D)
    with pytest.raises(ValueError, match="exceeds"):
        product_transfer(lat, OSCILLATOR_3D, n=200)
    with pytest.raises(ValueError, match="u must have 3"):
        product_transfer(lat, OSCILLATOR_3D, n=12).correlator([1.0, 0.0])
    with pytest.raises(ValueError, match="part"):
        fourier_vector(3, 1, "tan")
