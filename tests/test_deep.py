"""Deep NN-QM (Theorem 4) and the parameter-splitting network."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nnqm_ppl  # noqa: F401  (float64)
from nnqm_ppl.exact.processes import hermite_spectrum
from nnqm_ppl.networks.deep import DeepNetwork, ou_split
from nnqm_ppl.networks.processes import ou_paths
from nnqm_ppl.observables import positivity as P
from nnqm_ppl.observables.estimate import derived_estimate, mean_estimate

N = 20000
T = 2.0
TIMES = np.linspace(-T, T, 41)
LAGS = np.array([0, 2, 5, 10, 20])  # in grid steps of 0.1


def _connected_lags(y):
    """Cov(y_0, y_τ) at LAGS from the first time slice (delta method)."""
    series = np.concatenate([y[:, :1] * y[:, LAGS], y[:, :1], y[:, LAGS]], axis=1)[None]
    n = LAGS.size
    return derived_estimate(lambda m: m[:n] - m[n] * m[n + 1:], series)


def test_fixed_network_matches_hermite_formula():
    """One fixed θ on an OU input: Cov = Σ c_n² n! e^{−nγτ} within 4 MCSE + the Hermite tail."""
    net = DeepNetwork(depth=2, width=6, activation="tanh", rates=(1.5,))
    params = jax.tree.map(lambda a: a[0], net.draw_params(jax.random.key(0), 1))
    x = ou_paths(jax.random.key(1), N, TIMES, rate=1.5)
    y = np.asarray(net.forward(params, x))
    est = _connected_lags(y)
    spec = hermite_spectrum(lambda z: np.asarray(net.forward(params, jnp.asarray(z))), rate=1.5)
    tau = LAGS * (TIMES[1] - TIMES[0])
    assert np.all(np.abs(est.value - spec.covariance(tau)) <= 4 * est.mcse + spec.tail)
    np.testing.assert_allclose(spec.energies[:4], [0.0, 1.5, 3.0, 4.5])  # spectrum {nγ}


def test_theta_averaged_matches_mixture_weights():
    """θ drawn per path: Cov = Σ_n W_n e^{−nγτ}, W_n = E_θ[c_n² n!], W_0 = Var_θ c_0."""
    net = DeepNetwork(depth=1, width=4, activation="erf", sigma_b=0.5)
    y = np.asarray(net.draw(jax.random.key(2), N, TIMES))
    est = _connected_lags(y)
    params = net.draw_params(jax.random.key(3), 4000)
    spec = hermite_spectrum(lambda z: np.asarray(jax.vmap(net.forward, (0, None))(params, z)))
    w = mean_estimate(spec.theta_average_series()[None])
    tau = LAGS * (TIMES[1] - TIMES[0])
    basis = np.exp(-np.outer(tau, spec.energies))
    theory, theory_err = basis @ w.value, np.sqrt((basis**2) @ w.mcse**2)
    tail = float(spec.tail.mean() + 4 * spec.tail.std() / np.sqrt(spec.tail.size))
    assert np.all(np.abs(est.value - theory) <= 4 * np.hypot(est.mcse, theory_err) + tail)


@pytest.mark.parametrize(
    "net",
    [
        DeepNetwork(depth=1, width=8, activation="tanh", sigma_b=0.0),
        DeepNetwork(depth=2, width=6, activation="relu"),
        DeepNetwork(depth=1, width=8, activation="sin", rates=(0.7, 2.0)),
    ],
    ids=["tanh-nobias", "relu-deep", "sin-vector-input"],
)
def test_deep_network_is_reflection_positive(net):
    y = np.asarray(net.draw(jax.random.key(4), N, TIMES))
    for family in ("linear", "general"):
        check = P.reflection_positivity(y, TIMES, family=family)
        assert check.verdict == "no violation detected" and check.detail["detectable"] <= 0.1, (family, check)


@pytest.mark.parametrize("prior", ["gaussian", "rademacher"])
def test_split_network_reflection_positive_and_ou_like(prior):
    net = ou_split(T, 40, rate=1.0, variance=0.5, prior_pm=prior)
    x = np.asarray(net.draw(jax.random.key(5), N, TIMES))
    for family in ("linear", "general"):
        check = P.reflection_positivity(x, TIMES, family=family)
        assert check.verdict == "no violation detected" and check.detail["detectable"] <= 0.1, (family, check)
    # two-point function across t = 0: ⟨x(t)x(−t)⟩ = θ⁰ part only = σ² e^{−2γt} exactly
    c = mean_estimate((x * x[:, ::-1])[None])
    exact = 0.5 * np.exp(-2.0 * np.abs(TIMES))
    assert np.all(np.abs(c.value - exact) < 4 * c.mcse)


def test_prior_sites_and_forward_shapes():
    net = DeepNetwork(depth=2, width=3, rates=(1.0, 2.0))
    p = net.draw_params(jax.random.key(0), 5)
    assert set(p) == {"w0", "b0", "w1", "b1", "w_out", "b_out"}
    assert p["w0"].shape == (5, 3, 2) and p["w1"].shape == (5, 3, 3)
    x = net.inputs(jax.random.key(1), 5, TIMES)
    assert jax.vmap(net.forward)(p, x).shape == (5, TIMES.size)


@pytest.mark.parametrize(
    "kwargs",
    [{"depth": 0}, {"width": 0}, {"activation": "gelu"}, {"sigma_w": 0.0}, {"sigma_b": -1.0},
     {"rates": ()}, {"rates": (1.0, -1.0)}, {"diffusion": 0.0}],
)
def test_deep_refuses_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        DeepNetwork(**kwargs)


def test_split_refuses_bad_arguments():
    with pytest.raises(ValueError):
        ou_split(T, 4, prior_pm="cauchy")
    with pytest.raises(ValueError):
        ou_split(T, 4, rate=0.0)
