"""Vector-valued paths x_n ∈ R^d: the scalar case unchanged, the action, exact draws, NUTS.

Monte Carlo checks compare with exact values within 4 MCSE (ArviZ, via ``mean_estimate``); the
systematic error of the exact values is the transfer matrix's quadrature error (~1e-12, see
:mod:`nnqm_ppl.exact.transfer`) or round-off of the closed forms (~1e-14), both far below the
MCSE, so no allowance is added for it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nnqm_ppl.exact.vector import quadratic_correlator, quadratic_mean, separable_transfer_matrices
from nnqm_ppl.networks.modes import _dct1_alpha, dct1, dst1, mode_eigenvalues, rfft_synthesis
from nnqm_ppl.networks.paths import NETWORKS, path_network
from nnqm_ppl.observables.estimate import mean_estimate
from nnqm_ppl.physics import Lattice, Potential, action
from nnqm_ppl.sampling import run_mcmc
from nnqm_ppl.spec import SamplerSpec
from nnqm_ppl.theories.path_integral import path_theory

K_SIGMA = 4.0
ANHARMONIC = Potential.from_coeffs([0.0, 0.0, 0.5, 0.0, 1.0])
QUADRATIC = Potential.from_coeffs([0.1, 0.2, 0.5])
BOUNDARIES = ("periodic", "fixed", "half_line")
CASES = [(b, n) for b in BOUNDARIES for n in NETWORKS if (n, b) != ("relu", "periodic")]
# Two oscillators coupled by κ x_1 x_2 (κ = 0.3), with a linear term: mean x̄ = -H⁻¹b ≠ 0.
COUPLED = Potential.separable([[0.0, 0.2, 0.5], [0.0, -0.1, 1.0]], 2, coupling=[[0.0, 0.3], [0.3, 0.0]])
FREE_FIELD = Potential.lattice_field([0.0, 0.0, 0.5], sites=3, dx=0.8)  # m² = 1 on 3 spatial sites


def lattice(boundary: str, slices: int = 9, components: int = 1, beta: float = 4.0) -> Lattice:
    ends = {"x_ini": 0.3, "x_fin": -0.2} if boundary == "fixed" else {}
    if boundary == "fixed" and components > 1:
        ends = {"x_ini": tuple(0.3 - 0.1 * c for c in range(components)), "x_fin": -0.2}
    return Lattice(beta=beta, slices=slices, boundary=boundary, components=components, **ends)


# ------------------------------------------------------------------------------------------------
# d = 1: the scalar code, bit for bit (oracle: the scalar formulas as written before vector paths)
# ------------------------------------------------------------------------------------------------


def scalar_full_path(free: jax.Array, lat: Lattice) -> jax.Array:
    if lat.boundary != "fixed":
        return free
    shape = free.shape[:-1] + (1,)
    return jnp.concatenate([jnp.full(shape, lat.x_ini), free, jnp.full(shape, lat.x_fin)], axis=-1)


def scalar_action(x: jax.Array, lat: Lattice, potential: Potential) -> jax.Array:
    if lat.boundary == "periodic":
        x = jnp.concatenate([x, x[..., :1]], axis=-1)
    kinetic = jnp.sum(jnp.diff(x, axis=-1) ** 2, axis=-1) * (lat.mass / (2.0 * lat.a))
    v = potential(x)
    return kinetic + lat.a * (jnp.sum(v, axis=-1) - 0.5 * (v[..., 0] + v[..., -1]))


def scalar_forward(name: str, theta: jax.Array, lat: Lattice, potential: Potential) -> jax.Array:
    if name == "position":
        return scalar_full_path(theta, lat)
    if name == "fourier":
        ref = path_network(lat, potential, "fourier").reference
        lam = mode_eigenvalues(lat, ref.omega0)
        c = jnp.asarray(np.sqrt(lat.hbar / lam)) * theta
        if lat.boundary == "periodic":
            return ref.center + rfft_synthesis(c)
        if lat.boundary == "half_line":
            return ref.center + jnp.asarray(1.0 / _dct1_alpha(lat.slices)) * dct1(c)
        m, a = lat.mass, lat.a
        source = np.full(lat.slices - 1, a * m * ref.omega0**2 * ref.center)
        source[0] += m / a * lat.x_ini
        source[-1] += m / a * lat.x_fin
        return scalar_full_path(dst1(dst1(jnp.asarray(source)) / jnp.asarray(lam)) + dst1(c), lat)
    if lat.boundary == "fixed":
        anchor, rates = jnp.full(theta.shape[:-1] + (1,), lat.x_ini), theta
    else:
        anchor, rates = theta[..., :1], theta[..., 1:]
    velocity = rates if name == "step" else jnp.cumsum(rates, axis=-1)
    x = anchor + lat.a * jnp.concatenate([jnp.zeros_like(anchor), jnp.cumsum(velocity, axis=-1)], axis=-1)
    return scalar_full_path(x[..., 1:], lat) if lat.boundary == "fixed" else x


@pytest.mark.parametrize(("boundary", "network"), CASES)
@pytest.mark.parametrize("potential", [ANHARMONIC, QUADRATIC], ids=["anharmonic", "quadratic"])
def test_scalar_paths_are_bit_for_bit_the_scalar_code(boundary: str, network: str, potential: Potential) -> None:
    lat = lattice(boundary)
    assert lat.components == 1 and lat.value_shape == ()
    net = path_network(lat, potential, network)
    theta = jnp.asarray(np.random.default_rng(7).normal(size=(3, net.n_params)))
    x = net.forward(theta)
    np.testing.assert_array_equal(x, scalar_forward(network, theta, lat, potential))
    np.testing.assert_array_equal(action(x, lat, potential), scalar_action(x, lat, potential))
    assert net.param_shape == (net.n_params,) and x.shape == (3, lat.slices + (boundary != "periodic"))


# ------------------------------------------------------------------------------------------------
# Vector potentials and the vector action
# ------------------------------------------------------------------------------------------------


def loop_action(x: np.ndarray, lat: Lattice, v: Callable[[np.ndarray], float]) -> float:
    """S_E by hand: a loop over time slices and components (x: full path (sites, d))."""
    path = list(x) + ([x[0]] if lat.boundary == "periodic" else [])
    s = 0.0
    for n in range(len(path) - 1):
        for c in range(lat.components):
            s += lat.mass * (path[n + 1][c] - path[n][c]) ** 2 / (2.0 * lat.a)
        s += lat.a * (v(path[n]) + v(path[n + 1])) / 2.0
    return s


def v_coupled(y: np.ndarray) -> float:
    p = [[0.0, 0.2, 0.5], [0.0, -0.1, 1.0]]
    return sum(sum(c * y[i] ** k for k, c in enumerate(p[i])) for i in range(2)) + 0.3 * y[0] * y[1]


def v_field(y: np.ndarray) -> float:
    n = len(y)
    return sum((y[(s + 1) % n] - y[s]) ** 2 / (2 * 0.8**2) + 0.5 * y[s] ** 2 for s in range(n))


def v_radial(y: np.ndarray) -> float:
    r2 = sum(c**2 for c in y)
    return 0.5 * r2 + 0.1 * r2**2


CUBIC_WELLS = [0.0, 0.0, -1.0, 0.0, 0.2]  # a double well per component


def v_separable(y: np.ndarray) -> float:
    return sum(sum(c * y[i] ** k for k, c in enumerate(CUBIC_WELLS)) for i in range(len(y)))


POTENTIALS = {
    "coupled": (COUPLED, v_coupled),
    "field": (FREE_FIELD, v_field),
    "radial": (Potential.radial_polynomial([0.0, 0.0, 0.5, 0.0, 0.1], 3), v_radial),
    "separable": (Potential.separable(CUBIC_WELLS, 3), v_separable),
    "callable": (Potential.from_callable(lambda y: 0.5 * jnp.sum(y**2) + 0.1 * jnp.sum(y**2) ** 2, 3), v_radial),
}


@pytest.mark.parametrize(("boundary", "name"), list(itertools.product(BOUNDARIES, POTENTIALS)))
def test_vector_action_is_the_double_loop(boundary: str, name: str) -> None:
    potential, v = POTENTIALS[name]
    lat = lattice(boundary, slices=5, components=potential.components)
    net = path_network(lat, potential, "position")
    theta = np.random.default_rng(3).normal(size=(2,) + net.param_shape)
    x = np.asarray(net.forward(theta))
    assert x.shape == (2, lat.slices + (boundary != "periodic"), lat.components)
    if boundary == "fixed":
        np.testing.assert_array_equal(x[:, 0], np.broadcast_to(lat.x_ini, (2, lat.components)))
    s = np.asarray(action(x, lat, potential))
    np.testing.assert_allclose(s, [loop_action(xi, lat, v) for xi in x], rtol=1e-13)
    # ∇V against the hand-written V by central differences.
    y = x[0, 1]
    grad = [(v(y + h) - v(y - h)) / 2e-6 for h in 1e-6 * np.eye(lat.components)]
    np.testing.assert_allclose(potential.derivative(y), grad, atol=1e-7)


def test_vector_potentials_refuse_what_is_not_confining() -> None:
    with pytest.raises(ValueError, match="not confining"):
        Potential.separable([0.0, 0.0, 0.5], 2, coupling=[[0.0, 1.5], [1.5, 0.0]])  # H eigenvalues -0.5, 2.5
    with pytest.raises(ValueError, match="not confining"):
        Potential.lattice_field([0.0, 0.0, 0.0], sites=4, dx=1.0)  # massless: the zero mode is free
    with pytest.raises(ValueError, match="symmetric"):
        Potential.separable([0.0, 0.0, 0.5], 2, coupling=[[0.0, 1.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="odd powers"):
        Potential.radial_polynomial([0.0, 0.0, 0.5, 0.1, 0.1], 3)
    with pytest.raises(ValueError, match="odd"):
        Potential.separable([0.0, 0.0, 0.5, 1.0], 2)
    with pytest.raises(ValueError, match="components"):
        path_network(lattice("periodic", components=3), COUPLED, "position")
    # d = 1 forms are the scalar polynomial; one lattice site is quantum mechanics.
    assert Potential.lattice_field([0.0, 0.0, 0.5, 0.0, 1.0], sites=1, dx=1.0) == ANHARMONIC
    assert Potential.radial_polynomial([0.0, 0.0, 0.5, 0.0, 1.0], 1) == ANHARMONIC


# ------------------------------------------------------------------------------------------------
# Quadratic vector potentials: exact whitening and exact draws
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("potential", [COUPLED, FREE_FIELD], ids=["coupled", "field"])
def test_fourier_whitens_coupled_quadratic_action_exactly(boundary: str, potential: Potential) -> None:
    """Per-normal-mode reference: constant factor, mean = classical path, covariance ħ K^{-1}."""
    lat = lattice(boundary, slices=7, components=potential.components)
    net = path_network(lat, potential, "fourier")
    z = jax.random.normal(jax.random.key(2), (3,) + net.param_shape)
    w = net.log_weight(z, net.forward(z))
    np.testing.assert_allclose(w, w[0], atol=1e-11)
    inner = slice(1, -1) if boundary == "fixed" else slice(None)

    def s_free(free: jax.Array) -> jax.Array:
        x = net.forward(jnp.zeros(net.param_shape)).at[inner].set(free.reshape(-1, lat.components))
        return action(x, lat, potential)

    mean = net.forward(jnp.zeros(net.param_shape))[inner].ravel()
    np.testing.assert_allclose(jax.jit(jax.grad(s_free))(mean), 0.0, atol=1e-12)
    basis = np.asarray(jax.jit(jax.jacfwd(net.forward))(z[0]))[inner].reshape(mean.size, mean.size)
    cov = lat.hbar * np.linalg.inv(np.asarray(jax.jit(jax.hessian(s_free))(mean)))
    np.testing.assert_allclose(basis @ basis.T, cov, atol=1e-13)
    assert np.linalg.slogdet(basis)[1] == pytest.approx(net.log_jacobian, abs=1e-9)


def lagged_products(x: np.ndarray, ks: tuple[int, ...]) -> np.ndarray:
    """Per-draw site averages of x_{n,c} x_{n+k,c'} on a periodic path (draw, sites, d) -> (draw, k, d, d)."""
    return np.stack([np.einsum("...nc,...nd->...cd", x, np.roll(x, -k, axis=-2)) / x.shape[-2] for k in ks], -3)


@pytest.mark.parametrize("potential", [COUPLED, FREE_FIELD], ids=["coupled", "field"])
def test_exact_draws_match_the_normal_mode_closed_form(potential: Potential) -> None:
    lat = lattice("periodic", slices=10, components=potential.components)
    theory = path_theory(lat, potential, "position")
    ks = (0, 1)
    x = np.asarray(theory.draw_exact(jax.random.key(3), 20000)["x"])
    est = mean_estimate(lagged_products(x, ks)[None])
    mean = quadratic_mean(potential)
    g = quadratic_correlator(lat, potential)
    exact = g[list(ks)] + np.outer(mean, mean)
    assert np.all(np.abs(est.pull(exact)) < K_SIGMA), est.pull(exact)
    # The check has power: the same oscillators without their coupling are rejected.
    curvature = np.diag(np.asarray(jax.hessian(potential)(jnp.zeros(potential.components))))
    uncoupled = Potential.separable([[0.0, 0.0, 0.5 * h] for h in curvature], potential.components)
    wrong = quadratic_correlator(lat, uncoupled)[list(ks)] + np.outer(mean, mean)
    assert np.max(np.abs(est.pull(wrong))) > 3 * K_SIGMA


def test_separable_quadratic_transfer_matrix_equals_the_closed_form() -> None:
    """Two exact routes agree: per-component transfer matrices and the normal-mode closed form."""
    lat = lattice("periodic", slices=8, components=2)
    potential = Potential.separable([[0.0, 0.0, 0.5], [0.0, 0.0, 1.2]], 2)
    g = quadratic_correlator(lat, potential)
    for c, tm in enumerate(separable_transfer_matrices(lat, potential)):
        np.testing.assert_allclose(tm.correlator([0, 1, 3]), g[[0, 1, 3], c, c], rtol=1e-9)
    np.testing.assert_allclose(g[:, 0, 1], 0.0, atol=1e-15)


# ------------------------------------------------------------------------------------------------
# NUTS on a separable anharmonic system against the scalar transfer matrix
# ------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("network", ["fourier", "position"])
def test_nuts_on_separable_anharmonic_matches_the_scalar_transfer_matrix(network: str) -> None:
    """V = Σ_c P_c(x_c), d = 2, two different anharmonic P_c: ⟨x_c²⟩ per component."""
    lat = lattice("periodic", slices=12, components=2)
    potential = Potential.separable([[0.0, 0.0, 0.5, 0.0, 1.0], [0.0, 0.0, -1.0, 0.0, 0.5]], 2)
    theory = path_theory(lat, potential, network)
    assert not theory.can_sample_exactly
    sampler = SamplerSpec(chains=2, warmup=300, samples=1000, target_accept=0.9)
    x = run_mcmc(theory.model, sampler, jax.random.key(4), progress=False).posterior["x"].values
    est = mean_estimate(np.mean(x**2, axis=-2))  # (chain, draw, d): site-averaged x_c²
    exact = np.array([tm.correlator([0])[0] for tm in separable_transfer_matrices(lat, potential)])
    assert np.all(np.abs(est.pull(exact)) < K_SIGMA), (est.value, est.mcse, exact)
    assert abs(exact[0] - exact[1]) > 10 * np.max(est.mcse)  # the components are told apart
