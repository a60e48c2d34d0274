"""Karhunen–Loève networks (Theorem 3): eigenpairs, sampled correlators, priors, validation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpyro import handlers

import nnqm_ppl  # noqa: F401  (float64)
from nnqm_ppl.networks.kkl import KERNELS, karhunen_loeve, kernel
from nnqm_ppl.observables.estimate import derived_estimate, mean_estimate

N = 20000
T = 3.0
GRID = jnp.linspace(0.0, T, 7)


@pytest.mark.parametrize("name", ["ou", "brownian", "bridge"])
def test_analytic_matches_nystrom(name):
    """Closed-form eigenvalues vs Nyström; systematic bound: the Nyström change n_quad 256 → 512."""
    exact = karhunen_loeve(name, T, 8, basis="analytic", rate=1.3, variance=0.7) if name == "ou" \
        else karhunen_loeve(name, T, 8, basis="analytic")
    kw = {"rate": 1.3, "variance": 0.7} if name == "ou" else {}
    coarse = karhunen_loeve(name, T, 8, n_quad=256, **kw)
    fine = karhunen_loeve(name, T, 8, n_quad=512, **kw)
    bound = 4 * np.abs(coarse.eigenvalues - fine.eigenvalues) + 1e-13
    assert np.all(np.abs(coarse.eigenvalues - exact.eigenvalues) <= bound)
    gram = (exact.vectors * exact.weights) @ exact.vectors.T  # orthonormal in L²[0, T]
    np.testing.assert_allclose(gram, np.eye(8), atol=1e-10)


def test_truncation_error_falls_with_k():
    missed = [1.0 - karhunen_loeve("ou", T, k).captured for k in (1, 2, 4, 8, 16, 32)]
    assert np.all(np.diff(missed) < 0) and missed[-1] > 0
    full = karhunen_loeve("ou", T, 256)
    for k, m in zip((1, 2, 4, 8, 16, 32), missed, strict=True):
        np.testing.assert_allclose(m * full.total_variance, np.sum(full.eigenvalues[k:]),
                                   rtol=1e-10, atol=1e-12)


def _g2(x):
    prod = (x[:, :, None] * x[:, None, :]).reshape(1, x.shape[0], -1)
    return mean_estimate(prod)


@pytest.mark.parametrize("name", ["gaussian", "ou", "exp_sum"])
def test_sampled_two_point_reproduces_kernel(name):
    """Sampled G2 = K within 4 MCSE + the truncation bound sup|K − K_K| (computed, not chosen)."""
    kw = {"weights": [0.5, 0.3], "rates": [1.0, 2.5]} if name == "exp_sum" else {}
    net = karhunen_loeve(name, T, 64, **kw)
    x = np.asarray(net.draw(jax.random.key(0), N, GRID))
    est = _g2(x)
    target = np.asarray(net.covariance(GRID[:, None], GRID[None, :])).ravel()
    systematic = np.abs(target - np.asarray(net.truncated_covariance(GRID, GRID)).ravel())
    assert np.all(np.abs(est.value - target) <= 4 * est.mcse + systematic)


def _g4c(x):
    """Connected ⟨x_t⁴⟩ − 3⟨x_t²⟩² at every t (zero-mean), delta method."""
    series = np.stack([x**4, x**2], axis=-1).reshape(1, x.shape[0], -1)
    n = x.shape[1]
    return derived_estimate(lambda y: y.reshape(n, 2)[:, 0] - 3 * y.reshape(n, 2)[:, 1] ** 2,
                            series)


def test_rademacher_same_two_point_different_four_point():
    pts = GRID[1:-1]
    gauss = karhunen_loeve("ou", T, 12, prior="gaussian")
    rade = karhunen_loeve("ou", T, 12, prior="rademacher")
    xg = np.asarray(gauss.draw(jax.random.key(1), N, pts))
    xr = np.asarray(rade.draw(jax.random.key(2), N, pts))
    exact2 = np.asarray(rade.truncated_covariance(pts, pts)).ravel()
    for x in (xg, xr):
        est = _g2(x)
        assert np.all(np.abs(est.value - exact2) < 4 * est.mcse)
    quad = jnp.repeat(pts[:, None], 4, axis=1)
    for net, x in ((gauss, xg), (rade, xr)):
        est = _g4c(x)
        assert np.all(np.abs(est.value - np.asarray(net.connected_four_point(quad))) < 4 * est.mcse)
    est_r = _g4c(xr)
    assert np.all(np.asarray(rade.connected_four_point(quad)) < -10 * est_r.mcse)  # clearly ≠ 0


def test_uniform_prior_four_point():
    net = karhunen_loeve("bridge", T, 10, prior="uniform", basis="analytic")
    pts = GRID[1:-1]
    est = _g4c(np.asarray(net.draw(jax.random.key(3), N, pts)))
    exact = np.asarray(net.connected_four_point(jnp.repeat(pts[:, None], 4, axis=1)))
    assert np.all(np.abs(est.value - exact) < 4 * est.mcse)


@pytest.mark.parametrize("prior", ["gaussian", "rademacher", "uniform"])
def test_numpyro_prior_and_forward(prior):
    net = karhunen_loeve("matern32", T, 5, prior=prior)
    tr = handlers.trace(handlers.seed(net.prior, 0)).get_trace()
    theta = tr["theta"]["value"]
    assert theta.shape == (5,)
    np.testing.assert_allclose(np.abs(theta) <= np.sqrt(3 * net.eigenvalues) + 1e-12, True)
    y = net.forward({"theta": theta}, GRID)
    assert y.shape == GRID.shape
    np.testing.assert_allclose(y, theta @ net.basis(GRID))


def test_custom_callable_kernel_and_mean():
    net = karhunen_loeve(lambda t, s: jnp.exp(-jnp.abs(t - s)), T, 4, mean=lambda t: 2.0 + t)
    x = net.draw(jax.random.key(0), 3, GRID)
    assert x.shape == (3, GRID.size) and net.name == "callable"
    np.testing.assert_allclose(net.forward({"theta": jnp.zeros(4)}, GRID), 2.0 + GRID)


def test_kernel_names():
    assert set(KERNELS) == {"ou", "brownian", "bridge", "gaussian", "matern32", "cauchy",
                            "exp_sum"}
    np.testing.assert_allclose(kernel("cauchy", length=2.0)(0.0, 2.0), 0.5)


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: karhunen_loeve(lambda t, s: jnp.cos(3 * (t - s)) - 0.5, 1.0, 3), "semidefinite"),
        (lambda: karhunen_loeve("ou", 1.0, 0), "n_modes"),
        (lambda: karhunen_loeve("ou", 0.0, 3), "horizon"),
        (lambda: karhunen_loeve("nope", 1.0, 3), "kernel"),
        (lambda: karhunen_loeve("ou", 1.0, 3, prior="cauchy"), "prior"),
        (lambda: karhunen_loeve("gaussian", 1.0, 3, basis="analytic"), "analytic"),
        (lambda: karhunen_loeve("exp_sum", 1.0, 3, weights=[1, -1], rates=[1, 2]), "exp_sum"),
        (lambda: karhunen_loeve("cauchy", 1.0, 3, alpha=3.0), "alpha"),
        (lambda: karhunen_loeve("ou", 1.0, 3, bogus=1.0), "ou"),
    ],
)
def test_refuses_bad_input(call, word):
    with pytest.raises(ValueError, match=word):
        call()
