"""Streaming n-point functions: finite-N interactions, symmetries, independence breaking.

Every comparison with an exact value is |MC − exact| < 4 MCSE; comparisons of two Monte Carlo
values use the combined MCSE sqrt(s1² + s2²) (independent keys). NNQM_FULL=1 runs 10× more
networks. Both estimators are checked: ``plain`` (monomials of φ) and ``conditional`` (their
exact expectations given the neuron parameters; the default where a is Gaussian).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nnqm_ppl  # noqa: F401  (float64)
from nnqm_ppl.exact import analytic
from nnqm_ppl.networks import neurons as nn
from nnqm_ppl.observables import correlators as corr
from nnqm_ppl.spec import NeuralFieldSpec
from nnqm_ppl.theories import neural_field as nf

SCALE = 10 if os.environ.get("NNQM_FULL") == "1" else 1
K = 4.0
ROUND = 1e-12  # relative float64 rounding of a mean of ~10^6 sums of N terms

# four nearby points in d = 2 (large G4c relative to its noise)
PTS4 = np.array([[0.0, 0.0], [0.3, 0.1], [0.1, -0.25], [-0.2, 0.2]])


def _comb(e1, e2) -> float:
    return math.hypot(float(e1.mcse), float(e2.mcse))


def _agree(e1, e2) -> bool:
    """Two Monte Carlo estimates agree within K combined MCSE (+ rounding, for entries that the
    conditional estimator gets exactly, such as Cos-net's G2(x, x) = σ_a²/2)."""
    tol = K * np.hypot(e1.mcse, e2.mcse) + ROUND * (np.abs(e1.value) + np.abs(e2.value))
    return bool(np.all(np.abs(e1.value - e2.value) <= tol))


def _run(spec, pts, m, seed, orders=(2, 4), estimator="auto"):
    return corr.correlators(nf.network_from_spec(spec), jax.random.key(seed), pts, m,
                            orders=orders, estimator=estimator)


@pytest.mark.parametrize("arch", ["cosnet", "gaussnet"])
@pytest.mark.parametrize("estimator", ["plain", "conditional"])
def test_g4c_matches_closed_form_and_scales_as_one_over_n(arch, estimator):
    results = {}
    for n in (2, 5, 20):
        spec = NeuralFieldSpec(arch, n, dim=2, sigma_a=1.0, sigma_b=1.0, sigma_c=0.2)
        r = _run(spec, PTS4, 200_000 * SCALE, seed=n, estimator=estimator)
        assert r.estimator == estimator
        exact = nf.g4c(spec, *PTS4)
        assert abs(r.G4c.value - exact) < K * r.G4c.mcse, (n, r.G4c, exact)
        g2 = nf.g2(spec, PTS4[:, None], PTS4[None, :])
        # + rounding: the conditional Cos-net G2(x, x) = σ_a²/2 exactly, with MCSE ~ 1e-17
        assert np.all(np.abs(r.G2.value - g2) < K * r.G2.mcse + ROUND * np.abs(g2))
        results[n] = r.G4c
    # N G4c is N-independent; the decrease from N = 2 to N = 20 is resolved
    for n in (5, 20):
        diff = 2 * results[2].value - n * results[n].value
        assert abs(diff) < K * math.hypot(2 * results[2].mcse, n * results[n].mcse)
    assert results[2].value - results[20].value > 5 * _comb(results[2], results[20])


@pytest.mark.parametrize("arch", ["cosnet", "gaussnet"])
def test_conditional_agrees_with_plain_and_has_smaller_errors(arch):
    """Same M: both unbiased (agree within combined errors), the conditional MCSE is smaller."""
    pts = np.vstack([PTS4, [[0.4, -0.1], [-0.1, 0.35]]])
    spec = NeuralFieldSpec(arch, 5, dim=2, sigma_b=1.0, sigma_c=0.2)
    rp = _run(spec, pts, 50_000 * SCALE, 30, orders=(2, 4, 6), estimator="plain")
    rc = _run(spec, pts, 50_000 * SCALE, 40, orders=(2, 4, 6))
    assert rc.estimator == "conditional"
    assert rc.integrated == (("a", "c") if arch == "cosnet" else ("a",))
    assert rp.networks == rc.networks
    for name in ("G2", "G4c", "G6c"):
        ep, ec = getattr(rp, name), getattr(rc, name)
        assert _agree(ep, ec), name
        assert np.all(ec.mcse < ep.mcse), (name, ec.mcse, ep.mcse)
    g6c = nf.g6c(spec, *pts)
    if g6c is not None:
        assert abs(rc.G6c.value - g6c) < K * rc.G6c.mcse
    np.testing.assert_array_equal(rc.G1.value, 0.0)


def _brute_force_conditional(net, params, pts):
    """E[monomials | θ_h] of one network by exact quadrature: 6-node Gauss–Hermite per a_i
    (exact for the degree-≤6 polynomials in a) and, for cosine neurons, an 8-point uniform grid
    per phase c_i (exact for trigonometric polynomials of degree ≤ 6 in c_i)."""
    x_gh, w_gh = np.polynomial.hermite_e.hermegauss(6)
    w_gh = w_gh / w_gh.sum()
    n = net.width
    a_nodes = np.array(list(itertools.product(x_gh, repeat=n))) * net.readout_scale
    a_w = np.prod(np.array(list(itertools.product(w_gh, repeat=n))), axis=1)
    if net.phases is None:
        h = np.asarray(net.neurons(params, pts))[None]  # (1, N, P)
        c_w = np.ones(1)
    else:
        grid = -np.pi + 2 * np.pi * (np.arange(8) + 0.3) / 8
        cs = np.array(list(itertools.product(grid, repeat=n)))
        batch = {k: jnp.broadcast_to(v, (len(cs), *v.shape)) for k, v in params.items()}
        h = np.asarray(net.neurons(batch | {"c": jnp.asarray(cs)}, pts))
        c_w = np.full(len(cs), 1.0 / len(cs))
    phi = np.einsum("an,cnp->cap", a_nodes, h)  # (grid c, nodes a, P)
    w = c_w[:, None] * a_w[None, :]

    def e(idx):
        return np.sum(w * np.prod(phi[..., list(idx)], axis=-1))

    quads = list(itertools.combinations(range(6), 4))
    return {"phi2": np.einsum("ca,cap,caq->pq", w, phi, phi), "phi4": e(range(4)),
            "phi4_sub": np.array([e(q) for q in quads]), "phi6": e(range(6))}


@pytest.mark.parametrize("net", [nn.cosnet(2, 2, sigma_b=1.3), nn.gaussnet(2, 2, sigma_c=0.3),
                                 nn.free_scalar(2, 2, cutoff=3.0), nn.ib_cosnet(2, 2)],
                         ids=lambda net: net.name)
def test_conditional_expectations_are_exact_per_network(net):
    """The per-network conditional monomials equal exact quadrature over a (and c)."""
    pts = jnp.vstack([PTS4, jnp.array([[0.5, 0.5], [-0.3, -0.1]])])
    params = nn.sample_params(net, jax.random.key(3), 1)
    got = corr._conditional_stat(net, pts, 6)(params)
    want = _brute_force_conditional(net, {k: v[0] for k, v in params.items()}, pts)
    for k, v in want.items():
        np.testing.assert_allclose(got[k], v, rtol=1e-12, atol=1e-14, err_msg=k)
    if net.phases is not None:  # order <= 4 of cosine neurons: the sums-of-cosines path
        got4 = corr._conditional_cos_stat(net, pts, 4)(params)
        for k in ("phi2", "phi4"):
            np.testing.assert_allclose(got4[k], want[k], rtol=1e-12, atol=1e-14, err_msg=k)


@pytest.mark.parametrize("net", [nn.cosnet(50, 2, sigma_b=1.3), nn.free_scalar(40, 2, cutoff=3.0),
                                 nn.ib_cosnet(30, 2)], ids=lambda net: net.name)
def test_fused_cosine_paths_agree_with_the_generic_ones(net):
    """Per network: the sums-of-cosines conditional stat equals the complex-product one, and the
    fused field equals ``net.forward``, to float64 rounding (chunk of 8 networks, 5 points)."""
    pts = jnp.vstack([PTS4, jnp.array([[0.5, 0.5]])])
    params = nn.sample_params(net, jax.random.key(4), 8)
    fused = corr._conditional_cos_stat(net, pts, 4)(params)
    generic = corr._conditional_stat(net, pts, 4)(params)
    for k in ("phi", "phi2", "phi4"):
        np.testing.assert_allclose(fused[k], generic[k], rtol=1e-13, atol=1e-15, err_msg=k)
    np.testing.assert_allclose(corr._field(net, params, pts), net.forward(params, pts),
                               rtol=1e-13, atol=1e-14)


def test_cos_reduce_is_float64_accurate():
    """XLA's vectorised cosine inside the reduction: each sum within a few ulp of the exactly
    rounded sum of libm cosines (arguments up to ~50)."""
    rng = np.random.default_rng(1)
    omega = rng.normal(0.0, 3.0, (64, 16, 2))
    y = rng.normal(0.0, 2.0, (5, 2))
    shift, weight = rng.uniform(-np.pi, np.pi, (64, 16)), rng.normal(size=(64, 16))
    reduce = jax.jit(lambda o, c, w, y: corr._cos_reduce(o, c, w, y=y))
    got = np.asarray(reduce(*map(jnp.asarray, (omega, shift, weight, y))))
    u = np.einsum("bnd,kd->bkn", omega, y) + shift[:, None, :]
    terms = weight[:, None, :] * np.cos(u)
    want = np.array([[math.fsum(t) for t in row] for row in terms])
    bound = 16 * 2.0**-53 * np.sum(np.abs(weight)[:, None, :] * (1 + np.abs(u)), axis=-1)
    assert np.all(np.abs(got - want) <= bound)


def test_chunks_spread_over_host_devices_give_the_same_numbers(tmp_path):
    """Two host devices (half of the chunks each): the same networks, so the same series."""
    script = tmp_path / "two_devices.py"
    script.write_text(
        "import jax, numpy as np, nnqm_ppl\n"
        "from nnqm_ppl.networks import neurons as nn\n"
        "from nnqm_ppl.observables import correlators as corr\n"
        "assert jax.local_device_count() == 2\n"
        "pts = np.array([[0.0, 0.0], [0.3, 0.1], [0.1, -0.25], [-0.2, 0.2]])\n"
        "for est in ('plain', 'conditional'):\n"
        "    r = corr.correlators(nn.cosnet(6, 2), jax.random.key(0), pts, 1000, chunk=10,\n"
        "                         estimator=est)\n"
        "    np.save(f'{est}.npy', r.series['phi2'])\n")
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, check=True)
    for est in ("plain", "conditional"):
        r = corr.correlators(nn.cosnet(6, 2), jax.random.key(0), PTS4, 1000, chunk=10,
                             estimator=est)
        np.testing.assert_allclose(np.load(tmp_path / f"{est}.npy"), r.series["phi2"],
                                   rtol=1e-12, atol=1e-15)


def test_estimator_choice():
    r = corr.correlators(nn.cos_theta(3), jax.random.key(0), [0.0, 1.0], 200, orders=(2,))
    assert r.estimator == "plain" and r.integrated == ()
    spec = NeuralFieldSpec("cosnet", 3, dim=1, a_prior="mixture", a_modes=2.0)
    mixture = nf.network_from_spec(spec)
    assert mixture.readout_scale is None
    with pytest.raises(ValueError, match="Gaussian readout"):
        corr.correlators(mixture, jax.random.key(0), [0.0, 1.0], 200, orders=(2,),
                         estimator="conditional")
    with pytest.raises(ValueError, match="estimator"):
        corr.correlators(nn.cosnet(3), jax.random.key(0), [0.0, 1.0], 200, orders=(2,),
                         estimator="rb")


def test_translation_cosnet_invariant_gaussnet_not():
    shift = np.array([0.6, -0.4])
    m = 200_000 * SCALE
    cos = NeuralFieldSpec("cosnet", 3, dim=2)
    c0, c1 = _run(cos, PTS4, m, 1), _run(cos, PTS4 + shift, m, 2)
    assert abs(c0.G4c.value - c1.G4c.value) < K * _comb(c0.G4c, c1.G4c)
    gau = NeuralFieldSpec("gaussnet", 3, dim=2)
    g0, g1 = _run(gau, PTS4, m, 3), _run(gau, PTS4 + shift, m, 4)
    for r, p in ((g0, PTS4), (g1, PTS4 + shift)):
        assert abs(r.G4c.value - nf.g4c(gau, *p)) < K * r.G4c.mcse
    assert abs(g0.G4c.value - g1.G4c.value) > 5 * _comb(g0.G4c, g1.G4c)
    # while their two-point functions are both translation invariant
    for r0, r1 in ((c0, c1), (g0, g1)):
        assert _agree(r0.G2, r1.G2)


def test_large_n_duality_cosnet_gaussnet():
    """Cos-net and Gauss-net: dual at large N, different theories at finite N (Halverson S10-S15).

    Both have the two-point function S11 at every N; their connected four-point functions are
    each ∝ 1/N with different closed forms (S14, S15), so N (G4c_gauss − G4c_cos) is
    N-independent and the two theories become the same Gaussian process as N → ∞. Measured:
    G2 of each against S11, G4c of each against its closed form at N = 2 and N = 200, the
    difference resolved at N = 2 and equal (times N) at N = 200, and the full G4 of the two
    differing by the closed-form difference of their G4c.
    """
    pts = PTS4 + np.array([0.5, 0.5])  # off the origin: Gauss-net's G4c is 4x Cos-net's here
    diff = {}
    for n, m in ((2, 50_000 * SCALE), (200, 20_000 * SCALE)):
        res = {}
        for arch, seed in (("cosnet", 5), ("gaussnet", 6)):
            spec = NeuralFieldSpec(arch, n, dim=2)
            r = res[arch] = _run(spec, pts, m, seed + n)
            g2 = nf.g2(spec, pts[:, None], pts[None, :])
            assert np.all(np.abs(r.G2.value - g2) < K * r.G2.mcse + ROUND * np.abs(g2)), (arch, n)
            assert abs(r.G4c.value - nf.g4c(spec, *pts)) < K * r.G4c.mcse, (arch, n, r.G4c)
        c, g = res["cosnet"], res["gaussnet"]
        exact = nf.g4c(NeuralFieldSpec("gaussnet", n, dim=2), *pts) - nf.g4c(
            NeuralFieldSpec("cosnet", n, dim=2), *pts)
        diff[n] = (g.G4c.value - c.G4c.value, _comb(g.G4c, c.G4c), exact)
        # the full G4 of the two: equal up to the closed-form difference of their G4c
        assert abs(g.G4.value - c.G4.value - exact) < K * _comb(g.G4, c.G4), n
    (d2, s2, e2), (d200, s200, e200) = diff[2], diff[200]
    assert d2 > 5 * s2 and abs(d2 - e2) < K * s2  # different theories at finite N, ...
    # ... by exactly 1/N: the difference vanishes as N → ∞ (the duality)
    assert abs(d200 - e200) < K * s200 and abs(2 * d2 - 200 * d200) < K * math.hypot(2 * s2, 200 * s200)


def test_independence_breaking_g4c_survives_large_n():
    """Shared frequency component (ε = 0.9): G4c → I_IB ≠ 0, while Cos-net's → 0."""
    pts = np.array([0.0, 1.0, 0.1, 1.1])  # x1 − x2 ∥ x3 − x4: large I_IB
    m = 100_000 * SCALE
    vals = {}
    for n in (4, 40, 200):
        spec = NeuralFieldSpec("ib_cosnet", n, dim=1, sigma_b=1.5, epsilon=0.9)
        r = _run(spec, pts, m, seed=10 + n)
        assert abs(r.G4c.value - nf.g4c(spec, *pts)) < K * r.G4c.mcse
        vals[n] = r.G4c
    assert vals[200].value > 5 * vals[200].mcse  # non-zero at N = 200
    # ... and N G4c grows roughly ∝ N instead of staying constant
    assert 200 * vals[200].value > 10 * 4 * vals[4].value
    cos = NeuralFieldSpec("cosnet", 200, dim=1, sigma_b=1.5)
    rc = _run(cos, pts, m, seed=99)
    assert abs(rc.G4c.value - nf.g4c(cos, *pts)) < K * rc.G4c.mcse
    assert abs(rc.G4c.value) < vals[200].value - 5 * _comb(rc.G4c, vals[200])


def test_g6c_of_iid_cosine_neurons_scales_as_one_over_n_squared():
    pts = np.arange(6.0)  # d = 1, σ_b = 1: G6c(N = 1) ≈ 0.44
    m = 100_000 * SCALE  # conditional estimator (default): ~5x smaller MCSE than plain here
    res = {}
    for n in (1, 2, 4):
        spec = NeuralFieldSpec("cosnet", n, dim=1)
        r = _run(spec, pts, m, seed=20 + n, orders=(2, 4, 6))
        assert abs(r.G6c.value - nf.g6c(spec, *pts)) < K * r.G6c.mcse
        res[n] = r.G6c
    for n in (2, 4):  # N² G6c is N-independent
        a, b = res[1], res[n]
        assert abs(a.value - n**2 * b.value) < K * math.hypot(a.mcse, n**2 * b.mcse)
    assert res[1].value - res[4].value > 5 * _comb(res[1], res[4])
    assert res[4].value > 3 * res[4].mcse


def test_field_neuron_correlators():
    spec = NeuralFieldSpec("cosnet", 3, dim=2, sigma_b=1.2)
    x, y = PTS4[:2], PTS4[2:]
    r = corr.field_neuron_correlators(nf.network_from_spec(spec), jax.random.key(7), x, y,
                                      100_000 * SCALE, neuron=1)
    assert np.all(np.abs(r.phi_h.value) < K * r.phi_h.mcse)  # E[a] = 0
    exact = analytic.cosnet_field_neuron(
        x[:, None, None, None], x[None, :, None, None], y[None, None, :, None], y[None, None, None, :],
        m2=nf.moments(spec)[0], width=spec.width, sigma_b=spec.sigma_b, dim=spec.dim)
    assert np.all(np.abs(r.phi2_h2.value - exact) < K * r.phi2_h2.mcse)


def test_same_key_same_numbers_and_result_structure():
    net = nn.cosnet(4, 2)
    pts = np.vstack([PTS4, [[0.5, 0.5], [-0.3, -0.1]]])
    kw = {"orders": (2, 4, 6), "chunk": 50, "estimator": "plain"}
    r1 = corr.correlators(net, jax.random.key(0), pts, 1000, **kw)
    r2 = corr.correlators(net, jax.random.key(0), pts, 1000, **kw)
    assert r1.G4c.value == r2.G4c.value and r1.G6c.value == r2.G6c.value
    c1, c2 = (corr.correlators(net, jax.random.key(0), pts, 1000, chunk=c)
              for c in (50, 20))  # conditional: network n is the same whatever the chunking
    np.testing.assert_allclose(c1.G4c.value, c2.G4c.value, rtol=1e-12)
    assert (r1.networks, r1.chunk, r1.n_chunks) == (1000, 10, 100)  # min_chunks = 100
    assert r1.G2.value.shape == (6, 6) and r1.series["phi4_sub"].shape == (1, 100, 15)
    # the streamed estimate is the plain mean over the same networks
    phi = np.asarray(nn.sample_fields(net, jax.random.key(0), pts, 1000))
    np.testing.assert_allclose(r1.G2.value, phi.T @ phi / 1000, rtol=1e-12)
    np.testing.assert_allclose(r1.G4.value, np.mean(np.prod(phi[:, :4], 1)), rtol=1e-10)
    g2 = phi.T @ phi / 1000
    g4c = r1.G4.value - (g2[0, 1] * g2[2, 3] + g2[0, 2] * g2[1, 3] + g2[0, 3] * g2[1, 2])
    np.testing.assert_allclose(r1.G4c.value, g4c, rtol=1e-10)
    tree = r1.to_datatree()
    assert tree["posterior"]["phi2"].shape == (1, 100, 6, 6)


def test_plan_chunks():
    assert corr.plan_chunks(10**7, 400, chunk=20_000) == (20_000, 500)
    chunk, n = corr.plan_chunks(1001, 10, chunk=100)
    assert n >= 100 and chunk * n >= 1001 and chunk * n - 1001 < n
    with pytest.raises(ValueError):
        corr.plan_chunks(1, 10)
    chunk, n = corr.plan_chunks(1001, 10, chunk=100, multiple=4)  # one share per device
    assert n % 4 == 0 and chunk * n >= 1001 and chunk * n - 1001 < n


@pytest.mark.parametrize("estimator", ["plain", "conditional"])
def test_memory_is_flat_in_m(estimator):
    """By structure: the estimators only ever see one chunk, and compiled temp memory does not
    grow with the number of chunks beyond the (n_chunks, K) series of chunk means."""
    base = nn.cosnet(10, 2)
    seen = []

    def spy(params, x):
        seen.append(params["b"].shape)
        return base.neurons(params, x)

    def freq(params):
        seen.append(params["b"].shape)
        return params["b"]

    phases = dataclasses.replace(base.phases, frequency=freq)
    net = dataclasses.replace(base, neurons=spy, phases=phases)
    x = jnp.asarray(PTS4)
    sizes = {}
    for n_chunks in (10, 1000):
        lowered = corr._field_series.lower(net, jax.random.key(0), x, jnp.asarray(0), 100,
                                           n_chunks, 4, estimator)
        sizes[n_chunks] = lowered.compile().memory_analysis().temp_size_in_bytes
    assert set(seen) == {(100, 10, 2)}  # (chunk, width, d): never (M, width, d)
    series_bytes = (1000 - 10) * (4 + 16 + 1) * 8
    materialised = 1000 * 100 * 10 * 4 * 8  # chunk × width × P per chunk, all chunks
    assert sizes[1000] - sizes[10] <= series_bytes
    assert sizes[1000] < materialised / 100
