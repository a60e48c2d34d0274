"""Exact samplers (OU, vector OU, Brownian) and the closed forms of nnqm_ppl.exact.processes."""

import jax
import numpy as np
import pytest

import nnqm_ppl  # noqa: F401  (float64)
from nnqm_ppl.exact.processes import brownian_covariance, hermite_spectrum, ou_covariance
from nnqm_ppl.networks.processes import brownian_paths, ou_paths, vector_ou_paths
from nnqm_ppl.observables.estimate import mean_estimate

N = 20000
TIMES = np.array([-1.0, -0.7, 0.0, 0.05, 0.9, 2.5])  # non-uniform: the AR(1) update is exact


def _second_moments(x):
    """E[x_i x_j] ± MCSE for zero-mean paths (n_paths, n_times)."""
    prod = (x[:, :, None] * x[:, None, :]).reshape(1, x.shape[0], -1)
    est = mean_estimate(prod)
    n = x.shape[1]
    return est.value.reshape(n, n), est.mcse.reshape(n, n)


def test_ou_exact_covariance():
    x = np.asarray(ou_paths(jax.random.key(0), N, TIMES, rate=1.7, diffusion=0.3))
    value, err = _second_moments(x)
    exact = ou_covariance(TIMES[:, None], TIMES[None, :], rate=1.7, diffusion=0.3)
    assert np.all(np.abs(value - exact) < 4 * err)
    assert x.shape == (N, TIMES.size)


def test_oscillator_ground_state_variance():
    """D = ħ/2m, γ = ω: stationary variance ħ/(2mω) (Nelson)."""
    hbar, m, omega = 1.0, 2.0, 0.5
    x = np.asarray(ou_paths(jax.random.key(1), N, TIMES, rate=omega, diffusion=hbar / (2 * m)))
    est = mean_estimate(x[None] ** 2)
    assert np.all(np.abs(est.value - hbar / (2 * m * omega)) < 4 * est.mcse)


def test_vector_ou_independent_components():
    rates = np.array([0.5, 3.0])
    x = np.asarray(vector_ou_paths(jax.random.key(2), N, TIMES, rates=rates, diffusion=[0.5, 1.0]))
    assert x.shape == (N, TIMES.size, 2)
    flat = x.reshape(N, -1)
    value, err = _second_moments(flat)
    var = np.array([0.5 / 0.5, 1.0 / 3.0])
    comp = np.tile([0, 1], TIMES.size)
    tt = np.repeat(TIMES, 2)
    exact = np.where(comp[:, None] == comp[None, :],
                     var[comp][:, None] * np.exp(-rates[comp][:, None] * np.abs(tt[:, None] - tt)),
                     0.0)
    assert np.all(np.abs(value - exact) < 4 * err)


def test_brownian_covariance_min():
    times = np.array([0.0, 0.3, 1.0, 2.0, 3.5])
    x = np.asarray(brownian_paths(jax.random.key(3), N, times))
    value, err = _second_moments(x[:, 1:])
    exact = brownian_covariance(times[1:, None], times[None, 1:])
    np.testing.assert_array_equal(exact, np.minimum(times[1:, None], times[None, 1:]))
    assert np.all(np.abs(value - exact) < 4 * err)
    assert np.all(x[:, 0] == 0.0)


def test_same_key_same_paths():
    a = ou_paths(jax.random.key(7), 5, TIMES)
    b = ou_paths(jax.random.key(7), 5, TIMES)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "call",
    [
        lambda: ou_paths(jax.random.key(0), 3, TIMES, rate=-1.0),
        lambda: ou_paths(jax.random.key(0), 0, TIMES),
        lambda: ou_paths(jax.random.key(0), 3, TIMES[::-1]),
        lambda: brownian_paths(jax.random.key(0), 3, TIMES, diffusion=0.0),
        lambda: vector_ou_paths(jax.random.key(0), 3, TIMES, rates=[1.0, 2.0], diffusion=[1, 2, 3]),
    ],
)
def test_bad_arguments(call):
    with pytest.raises(ValueError):
        call()


def test_hermite_polynomial_exact():
    """f = x³, s² = D/γ: c_1 = 3s³, c_3 = s³, so weights 9s⁶ (n=1), 6s⁶ (n=3); no tail."""
    spec = hermite_spectrum(lambda x: x**3, rate=2.0, diffusion=0.6, n_max=6, n_quad=20)
    s6 = (0.6 / 2.0) ** 3
    np.testing.assert_allclose(spec.weights[[1, 3]], [9 * s6, 6 * s6], rtol=1e-12)
    assert np.all(np.abs(np.delete(spec.weights, [1, 3])) < 1e-12 * s6)
    np.testing.assert_allclose(spec.variance, 15 * s6, rtol=1e-12)  # E x⁶ = 15 s⁶
    np.testing.assert_allclose(spec.energies[:3], [0.0, 2.0, 4.0])
    assert spec.tail < 1e-12


def test_hermite_tail_bounds_truncation():
    full = hermite_spectrum(np.tanh, n_max=60, n_quad=200)
    short = hermite_spectrum(np.tanh, n_max=5, n_quad=200)
    tau = np.linspace(0.0, 2.0, 9)
    gap = np.abs(full.covariance(tau) - short.covariance(tau))
    assert np.all(gap <= short.tail + full.tail + 1e-14)
    np.testing.assert_allclose(full.covariance(0.0), full.variance, atol=full.tail + 1e-14)
