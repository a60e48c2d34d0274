"""Potentials, lattices, boundary conditions and the lattice action."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nnqm_ppl  # noqa: F401  (float64)
from nnqm_ppl.physics import Lattice, Potential, action, full_path, n_free
from nnqm_ppl.spec import PathIntegralSpec
from nnqm_ppl.theories.path_integral import lattice_from_spec

ANHARMONIC = Potential.from_coeffs([0.0, 0.0, 0.5, 0.0, 1.0, 0.0])


def test_polynomial_values_and_derivative():
    x = np.array([-1.5, 0.0, 0.3, 2.0])
    assert ANHARMONIC.degree == 4 and ANHARMONIC.is_even
    np.testing.assert_allclose(ANHARMONIC(x), 0.5 * x**2 + x**4, rtol=1e-15)
    np.testing.assert_allclose(ANHARMONIC.derivative(x), x + 4 * x**3, rtol=1e-15)
    tilted = Potential.from_coeffs([1.0, 0.5, 0.0, 0.0, 2.0])
    assert not tilted.is_even
    np.testing.assert_allclose(tilted.derivative(x), 0.5 + 8 * x**3, rtol=1e-15)


def test_callable_potential_derivative_by_grad():
    v = Potential.from_callable(lambda x: jnp.cosh(x) + 0.1 * x**4)
    x = np.linspace(-2, 2, 7)
    np.testing.assert_allclose(v(x), np.cosh(x) + 0.1 * x**4, rtol=1e-14)
    np.testing.assert_allclose(v.derivative(x), np.sinh(x) + 0.4 * x**3, rtol=1e-13, atol=1e-15)
    assert v.degree is None


@pytest.mark.parametrize(
    "coeffs", [[0.0, 0.0, -1.0], [0.0, 0.0, 1.0, 1.0], [1.0, 2.0], [0.0, 0.0, 1.0, 0.0, -0.1]]
)
def test_unbounded_potentials_refused(coeffs):
    with pytest.raises(ValueError, match="potential"):
        Potential.from_coeffs(coeffs)


def test_lattice_validation_and_from_spec():
    spec = PathIntegralSpec(network="fourier", potential=(0.0, 0.0, 0.5), beta=8.0, slices=32,
                            mass=2.0, hbar=0.5)
    lat = lattice_from_spec(spec)
    assert (lat.a, lat.mass, lat.hbar, lat.boundary) == (0.25, 2.0, 0.5, "periodic")
    np.testing.assert_allclose(lat.taus, 0.25 * np.arange(32))
    assert Lattice(8.0, 32, boundary="half_line").taus.shape == (33,)
    with pytest.raises(ValueError, match="x_ini"):
        Lattice(8.0, 32, boundary="fixed")
    with pytest.raises(ValueError, match="x_ini"):
        Lattice(8.0, 32, x_ini=0.0)
    with pytest.raises(ValueError, match="boundary"):
        Lattice(8.0, 32, boundary="open")


def _hand_action(x, a, m, v):
    """S = Σ_n m (x_{n+1}-x_n)²/(2a) + a (V(x_n) + V(x_{n+1}))/2, written out site by site."""
    s = 0.0
    for n in range(len(x) - 1):
        s += m * (x[n + 1] - x[n]) ** 2 / (2 * a) + a * (v(x[n]) + v(x[n + 1])) / 2
    return s


def v_hand(x):
    return 0.5 * x**2 + x**4


@pytest.mark.parametrize(
    ("boundary", "free", "path"),
    [
        ("periodic", [0.1, -0.4, 0.7, 0.2], [0.1, -0.4, 0.7, 0.2, 0.1]),
        ("fixed", [-0.4, 0.7, 0.2], [0.3, -0.4, 0.7, 0.2, -0.5]),
        ("half_line", [0.1, -0.4, 0.7, 0.2, 0.9], [0.1, -0.4, 0.7, 0.2, 0.9]),
    ],
)
def test_action_matches_hand_computation(boundary, free, path):
    ends = {"x_ini": 0.3, "x_fin": -0.5} if boundary == "fixed" else {}
    lat = Lattice(beta=2.0, slices=4, mass=1.5, boundary=boundary, **ends)
    assert n_free(lat) == len(free)
    full = full_path(jnp.array(free), lat)
    expected = _hand_action(path, 0.5, 1.5, v_hand)
    np.testing.assert_allclose(float(action(full, lat, ANHARMONIC)), expected, rtol=1e-14)
    # batched free sites give the per-row actions
    batch = jnp.stack([jnp.array(free), 2 * jnp.array(free)])
    s = action(full_path(batch, lat), lat, ANHARMONIC)
    assert s.shape == (2,)
    np.testing.assert_allclose(s[0], expected, rtol=1e-14)


def test_periodic_action_is_the_site_form():
    """With x_N ≡ x_0 the trapezoid split is Σ_n [m(x_{n+1}-x_n)²/(2a) + a V(x_n)]."""
    x = np.random.default_rng(0).normal(size=16)
    lat = Lattice(beta=4.0, slices=16, mass=0.7)
    site_form = np.sum(0.7 * (np.roll(x, -1) - x) ** 2 / (2 * 0.25) + 0.25 * v_hand(x))
    np.testing.assert_allclose(float(action(x, lat, ANHARMONIC)), site_form, rtol=1e-13)


def test_action_gradient_is_the_lattice_equation_of_motion():
    """∂S/∂x_n = m(2x_n - x_{n+1} - x_{n-1})/a + a V'(x_n) on the periodic lattice."""
    x = jnp.asarray(np.random.default_rng(1).normal(size=12))
    lat = Lattice(beta=3.0, slices=12, mass=1.3)
    grad = jax.grad(lambda f: action(full_path(f, lat), lat, ANHARMONIC))(x)
    a = lat.a
    expected = 1.3 * (2 * x - jnp.roll(x, -1) - jnp.roll(x, 1)) / a + a * ANHARMONIC.derivative(x)
    np.testing.assert_allclose(grad, expected, rtol=1e-12)
    # jit and vmap work on the same function
    f = jax.jit(jax.vmap(lambda f: action(full_path(f, lat), lat, ANHARMONIC)))
    np.testing.assert_allclose(f(jnp.stack([x, -x]))[0], action(x, lat, ANHARMONIC), rtol=1e-14)
