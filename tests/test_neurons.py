"""Networks as NumPyro models: handlers, exact draws, and G2 of every architecture vs exact.

Every Monte Carlo comparison is |MC − exact| < 4 MCSE (+ a stated systematic where a quadrature
is involved). Sizes are reduced by default; NNQM_FULL=1 multiplies the number of networks by 10.
"""

from __future__ import annotations

import math
import os

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest
from numpyro import handlers
from numpyro.infer import Predictive
from scipy import stats as scipy_stats

import nnqm_ppl  # noqa: F401  (float64)
from nnqm_ppl.exact import analytic
from nnqm_ppl.networks import neurons as nn
from nnqm_ppl.observables.correlators import correlators
from nnqm_ppl.spec import NETWORK_FIT_PARAMETERS, NEURAL_ARCHITECTURES, NeuralFieldSpec
from nnqm_ppl.theories import neural_field as nf

SCALE = 10 if os.environ.get("NNQM_FULL") == "1" else 1
K = 4.0  # tolerance in MCSE
ROUND = 1e-12  # relative float64 rounding (entries the conditional estimator gets exactly)


def test_trace_shows_every_site_with_its_shape():
    net = nn.cosnet(7, 3)
    tr = handlers.trace(handlers.seed(net.prior, 0)).get_trace()
    shapes = {k: v["value"].shape for k, v in tr.items() if v["type"] == "sample"}
    assert shapes == {"a": (7,), "b": (7, 3), "c": (7,)}
    ib = handlers.trace(handlers.seed(nn.ib_cosnet(5, 2, epsilon=0.3).prior, 0)).get_trace()
    assert {k: ib[k]["value"].shape for k in ("a", "b_shared", "b_indep", "c")} == {
        "a": (5,), "b_shared": (2,), "b_indep": (5, 2), "c": (5,)}
    ml = handlers.trace(handlers.seed(nn.mlp(4, 2, "tanh").prior, 0)).get_trace()
    assert set(ml) >= {"a", "w", "b"}


def test_condition_fixes_the_parameters_and_forward_uses_them():
    net = nn.cosnet(3, 1)
    fixed = {"a": jnp.array([1.0, -2.0, 0.5]), "b": jnp.array([[0.3], [1.0], [-2.0]]),
             "c": jnp.array([0.1, 0.2, -0.4])}
    tr = handlers.trace(handlers.seed(handlers.condition(net.prior, fixed), 1)).get_trace()
    for k, v in fixed.items():
        np.testing.assert_array_equal(tr[k]["value"], v)
        assert tr[k]["is_observed"]
    x = jnp.array([[0.0], [0.7]])
    by_hand = np.array([np.sum(fixed["a"] * np.cos(fixed["b"][:, 0] * t + fixed["c"]))
                        for t in (0.0, 0.7)])
    np.testing.assert_allclose(net.forward(fixed, x), by_hand, rtol=1e-14)


def test_predictive_and_batched_forward():
    net = nn.gaussnet(4, 2, sigma_c=0.5)
    draws = Predictive(net.prior, num_samples=6)(jax.random.key(0))
    assert draws["a"].shape == (6, 4) and draws["b"].shape == (6, 4, 2)
    x = jnp.array([[0.0, 0.0], [0.3, -0.1], [1.0, 2.0]])
    batched = net.forward(draws, x)
    one = net.forward({k: v[2] for k, v in draws.items()}, x)
    assert batched.shape == (6, 3)
    np.testing.assert_allclose(batched[2], one, rtol=1e-13)


def test_same_seed_same_numbers_and_batching_invariance():
    net = nn.free_scalar(5, 2, mass=1.0, cutoff=3.0)
    x = np.array([[0.0, 0.0], [0.5, 0.5]])
    f1 = nn.sample_fields(net, jax.random.key(3), x, 50)
    f2 = nn.sample_fields(net, jax.random.key(3), x, 50)
    np.testing.assert_array_equal(f1, f2)
    assert not np.allclose(f1, nn.sample_fields(net, jax.random.key(4), x, 50))
    whole = nn.sample_params(net, jax.random.key(3), 20)
    tail = nn.sample_params(net, jax.random.key(3), 10, start=10)
    for k in whole:
        np.testing.assert_array_equal(whole[k][10:], tail[k])


def test_uniform_ball_support_and_density():
    d = nn.UniformBall(3, 2.0)
    s = d.sample(jax.random.key(0), (20000,))
    r = np.linalg.norm(s, axis=-1)
    assert r.max() <= 2.0
    # P(|b| < Λ/2) = 1/8 for the uniform 3-ball; 4 binomial standard errors
    p = np.mean(r < 1.0)
    assert abs(p - 0.125) < K * math.sqrt(0.125 * 0.875 / s.shape[0])
    assert np.isclose(float(d.log_prob(jnp.zeros(3))), -math.log(analytic.ball_volume(3, 2.0)))
    assert float(d.log_prob(jnp.array([3.0, 0.0, 0.0]))) == -np.inf


def test_mixture_prior_is_even_and_bimodal():
    a = nn.a_distribution(4, 1.0, "mixture", modes=2.0)
    s = np.asarray(a.sample(jax.random.key(0), (40000,)))
    se = s.std() / math.sqrt(s.size)
    assert abs(s.mean()) < K * se
    assert np.mean(np.abs(s) < 0.25) < 0.01  # almost no mass between the modes at ±1
    m2 = nf.moments(NeuralFieldSpec("cosnet", 4, a_prior="mixture", a_modes=2.0))[0]
    assert abs(4 * np.mean(s**2) - m2) < K * 4 * np.std(s**2) / math.sqrt(s.size)


def test_user_F_and_b_distribution():
    """A user cosine network: F(b) = |b|, b ~ Laplace(0, 1) in d = 1 (E[b² cos(bτ)] known)."""
    net = nn.cosine_network(6, 1, dist.Laplace(0.0, 1.0), F=lambda b: jnp.abs(b[..., 0]))
    taus = np.array([0.0, 0.5, 1.5])
    r = correlators(net, jax.random.key(5), taus, 40000 * SCALE, orders=(2,))
    # E[b² cos(bτ)] for Laplace(0,1) = −d²/dτ² 1/(1+τ²) = (2 − 6τ²)/(1+τ²)³ ; G2 = ½ that
    dt = taus[:, None] - taus[None]
    exact = 0.5 * (2 - 6 * dt**2) / (1 + dt**2) ** 3
    assert np.all(np.abs(r.G2.value - exact) <= K * r.G2.mcse + ROUND * np.abs(exact))


SPECS = [
    NeuralFieldSpec("cosnet", 5, dim=2, sigma_a=1.3, sigma_b=1.5),
    NeuralFieldSpec("cosnet", 5, dim=2, a_prior="mixture", a_modes=1.5),
    NeuralFieldSpec("gaussnet", 5, dim=2, sigma_b=1.0, sigma_c=0.3),
    NeuralFieldSpec("ib_cosnet", 5, dim=2, epsilon=0.7),
    NeuralFieldSpec("free_scalar", 5, dim=1, mass=1.0, cutoff=5.0),
    NeuralFieldSpec("free_scalar", 5, dim=2, mass=1.0, cutoff=5.0),
    NeuralFieldSpec("free_scalar", 5, dim=3, mass=0.7, cutoff=4.0),
    NeuralFieldSpec("cauchy", 5, mass=0.8),
    NeuralFieldSpec("nnft_ho", 5, mass=1.2, cutoff=8.0),
    NeuralFieldSpec("cos_theta", 1),
    NeuralFieldSpec("cos_theta", 3),
    NeuralFieldSpec("mlp", 5, dim=2, activation="erf", sigma_w=1.5, sigma_b=0.5),
    NeuralFieldSpec("mlp", 5, dim=2, activation="relu"),
    NeuralFieldSpec("mlp", 5, dim=2, activation="tanh", sigma_w=2.0),
]


def _points(dim: int) -> np.ndarray:
    base = np.array([[0.0, 0.0, 0.0], [0.4, -0.2, 0.1], [1.1, 0.3, -0.5], [-0.6, 0.9, 0.2]])
    return base[:, :dim]


def _nngp(spec: NeuralFieldSpec) -> dict:
    """The NNGP kernel's parameters of an ``mlp`` spec."""
    return {"m2": nf.moments(spec)[0], "activation": spec.activation, "sigma_w": spec.sigma_w,
            "sigma_b": spec.sigma_b, "dim": spec.dim}


def _free(spec: NeuralFieldSpec) -> dict:
    """The free-scalar closed form's parameters of a ``free_scalar`` or ``nnft_ho`` spec."""
    return {"m2": nf.moments(spec)[0], "mass": spec.mass, "cutoff": spec.cutoff, "dim": spec.dim}


def test_architecture_registry_matches_spec():
    """One architecture in one place: the registry's names are the spec's, and so are its fits."""
    assert tuple(nf.ARCHITECTURES) == NEURAL_ARCHITECTURES
    fits = {(name, obs): f.parameters for name, arch in nf.ARCHITECTURES.items() for obs, f in arch.fits.items()}
    assert fits == NETWORK_FIT_PARAMETERS


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.architecture}-d{s.dim}-{s.a_prior}"
                         f"-{s.activation if s.architecture == 'mlp' else s.width}")
def test_g2_matches_closed_form(spec):
    pts = _points(spec.dim)
    net = nf.network_from_spec(spec)
    r = correlators(net, jax.random.key(11), pts, 20000 * SCALE, orders=(2,))
    if spec.architecture == "mlp" and spec.activation == "tanh":
        exact = np.array([[analytic.nngp_g2_quadrature(x, y, **_nngp(spec)) for y in pts] for x in pts])
        systematic = 1e-10  # Gauss-Hermite, order 100, smooth integrand
    else:
        exact = nf.g2(spec, pts[:, None], pts[None])
        systematic = 0.0
        if spec.architecture in ("free_scalar", "nnft_ho"):
            # quadrature systematic: change when the number of nodes is halved
            coarse = analytic.free_scalar_g2(pts[:, None], pts[None], **_free(spec), quad_nodes=2000)
            systematic = np.abs(exact - coarse).max()
            assert systematic < 1e-8
    assert exact.shape == (len(pts), len(pts))
    tol = K * r.G2.mcse + systematic + ROUND * np.abs(exact)
    assert np.all(np.abs(r.G2.value - exact) <= tol), r.G2.pull(exact)
    # the ensemble is Z2 symmetric: <φ> = 0 (exactly 0 for the conditional estimator)
    assert np.all(np.abs(r.G1.value) <= K * r.G1.mcse)


def test_free_scalar_large_cutoff_approaches_continuum_propagator():
    """For Λ r ≫ 1 the finite-Λ quadrature approaches (2π)^d G_free(r) (eq. 30), d = 1, 2, 3."""
    for d in (1, 2, 3):
        spec = NeuralFieldSpec("free_scalar", 1, dim=d, mass=1.0, cutoff=400.0)
        x, y = np.zeros(d), np.full(d, 1.0 / math.sqrt(d))  # r = 1
        finite = analytic.free_scalar_g2(x, y, **_free(spec), quad_nodes=40000)
        cont = analytic.free_scalar_g2(x, y, **_free(spec), kmax=math.inf)
        # tail ∫_Λ^∞ is O(1/(Λ r)) (d = 1: O(1/Λ²)); 1% at Λ r = 400
        assert abs(finite / cont - 1) < 1e-2


def test_nnft_ho_is_hashimoto_eq_2_5():
    """4Λ G2/σ_a² equals ∫_{−Λ}^{Λ} cos(bτ)/(b² + ω²) db, → (π/ω) e^{−ω|τ|} as Λ → ∞."""
    spec = NeuralFieldSpec("nnft_ho", 1, mass=1.3, cutoff=2000.0)
    m2 = nf.moments(spec)[0]
    g = analytic.nnft_ho_g2(0.0, 0.8, m2=m2, omega=spec.mass, cutoff=spec.cutoff, quad_nodes=200000) * 4 * spec.cutoff
    assert abs(g - math.pi / 1.3 * math.exp(-1.3 * 0.8)) < 2e-3


def test_sincos_is_float64_accurate():
    """|error| ≤ 2^-53 (1 + |u|): within the rounding of the argument itself."""
    rng = np.random.default_rng(0)
    u = np.concatenate([rng.normal(0, s, 200_000) for s in (1.0, 30.0, 1e4)])
    u = np.concatenate([u, np.arange(-40, 41) * np.pi / 4, [0.0, -0.0, 1e-300]])
    s, c = (np.asarray(v) for v in jax.jit(nn.sincos)(jnp.asarray(u)))
    bound = 2.0**-53 * (1.0 + np.abs(u))
    assert np.all(np.abs(s - np.sin(u)) <= bound)
    assert np.all(np.abs(c - np.cos(u)) <= bound)
    # the single-output kernel cos(u − kπ/2) is bit for bit the matching sincos output
    uj = jnp.asarray(u)
    for k, want in enumerate((c, s, -c, -s)):
        np.testing.assert_array_equal(np.asarray(jax.jit(nn._cos_quarter)(uj, k)), want)


def test_box_muller_draws_are_unchanged():
    """Same numbers as the two-output formulation: (R cos Θ, R sin Θ) = sincos, concatenated."""

    def reference(key, size):
        half = (size + 1) // 2
        k = jax.random.bits(key, (2, half), jnp.uint64) >> 11
        u1 = (k[0] + 1).astype(jnp.float64) * 2.0**-53
        u2 = k[1].astype(jnp.float64) * 2.0**-53
        radius = jnp.sqrt(-2.0 * jnp.log(u1))
        s, c = nn.sincos(2.0 * math.pi * u2)
        return jnp.concatenate([radius * c, radius * s])[:size]

    d = nn.BoxMullerNormal(0.0, 1.0)
    for size in (1, 7, 2000):
        got = jax.jit(lambda k, size=size: d.sample(k, (size,)))(jax.random.key(size))
        want = jax.jit(reference, static_argnums=1)(jax.random.key(size), size)
        np.testing.assert_array_equal(got, want)


def test_box_muller_normal_is_exact_and_reproducible():
    d = nn.BoxMullerNormal(1.5, 2.0)
    n = 2_000_001  # odd: the last pair is cut
    draw = jax.jit(lambda k: d.sample(k, (n,)))
    z = np.asarray(draw(jax.random.key(0)))
    assert z.shape == (n,)
    np.testing.assert_array_equal(z, draw(jax.random.key(0)))  # same key, same numbers
    # eager and compiled agree to rounding (XLA may fuse the arithmetic differently)
    np.testing.assert_allclose(z, d.sample(jax.random.key(0), (n,)), rtol=1e-14, atol=1e-15)
    x = (z - 1.5) / 2.0
    # moments of N(0, 1) within 4 standard errors (Var x^k = (2k−1)!! − ((k−1)!!)^2 for even k)
    for k, mom, var in ((1, 0.0, 1.0), (2, 1.0, 2.0), (3, 0.0, 15.0), (4, 3.0, 96.0)):
        assert abs(np.mean(x**k) - mom) < K * math.sqrt(var / n), k
    assert scipy_stats.kstest(x, "norm").pvalue > 1e-3
    # the cos and sin halves are independent normals (Box–Muller pairs)
    half = n // 2
    assert abs(np.mean(x[:half] * x[half : 2 * half])) < K / math.sqrt(half)
    assert d.sample(jax.random.key(0), (3, 2)).shape == (3, 2)
    assert isinstance(nn.a_distribution(5), nn.BoxMullerNormal)
