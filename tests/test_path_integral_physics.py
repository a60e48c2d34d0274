"""Path-integral networks sampled with NUTS against exact lattice and continuum results (issue 3).

Every Monte Carlo number is compared with the transfer matrix on the same lattice (same a, β,
boundary) within 4 MCSE plus a stated systematic bound; continuum statements go through an
extrapolation in a whose own systematic is measured by extrapolating the exact lattice values the
same way. Sizes are reduced by default; NNQM_FULL=1 runs 4x the draws.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax
import numpy as np
import pytest

from nnqm_ppl.diagnostics import check_gates
from nnqm_ppl.exact import diagonalize, transfer_matrix
from nnqm_ppl.tasks import load_job
from nnqm_ppl.tasks.path_integral import RHAT_ONLY, draw_paths, measure
from nnqm_ppl.theories.path_integral import theory_from_spec

ROOT = Path(__file__).resolve().parent.parent
FULL = os.environ.get("NNQM_FULL") == "1"
SAMPLES = 4000 if FULL else 1000
K = 4.0  # standard errors allowed

pytestmark = pytest.mark.slow

HARMONIC = "[0.0, 0.0, 0.5]"
ANHARMONIC = "[0.0, 0.0, 0.5, 0.0, 1.0]"
# continuum values for V = x^2/2 + x^4 quoted in the issue (diagonalisation reproduces them, test_exact.py)
X4_GAP, X4_X2 = 1.934122, 0.257150


def run(job: str, *overrides: str, samples: int = SAMPLES):
    """Sample a catalogue job through the product's own path (theory -> NUTS -> observables)."""
    job = load_job(ROOT / "inference" / job, [f"sampler.samples={samples}", "sampler.warmup=400", *overrides])
    theory = theory_from_spec(job.model)
    tree = draw_paths(theory, job, jax.random.key(job.sampler.seed), False)
    x = np.asarray(tree["posterior"]["x"].values)
    obs, series, _ = measure(x, theory, job)
    stats = tree["sample_stats"].to_dataset()
    diag = check_gates(series, job.gates, stats, rhat_only=RHAT_ONLY)
    assert diag.passed, diag.failures  # the MCSEs below are only trustworthy if the gates pass
    return obs, theory


def within(entry: dict, systematic: float = 0.0, key: str = "exact") -> np.ndarray:
    value, mcse, exact = (np.asarray(entry[k], dtype=float) for k in ("value", "mcse", key))
    return np.abs(value - exact) <= K * mcse + systematic


def histogram_within(entry: dict, systematic: float, job: str, samples: int, key: str = "exact") -> np.ndarray:
    """A histogram density against an exact one, bin by bin: a filled bin within K MCSE + systematic;
    an empty bin (its MCSE only the one-count floor of ``wavefunction``) is consistent with the
    exact density if the expected count (exact − systematic)·Δ·draws is ≤ 10
    (Poisson P(0) ≥ e^−10; one independent value per draw, an upper bound on the expectation).
    """
    value, mcse, exact = (np.asarray(entry[k], dtype=float) for k in ("value", "mcse", key))
    draws = samples * load_job(ROOT / "inference" / job).sampler.chains
    width = np.diff(entry["x"])[0]
    filled = np.abs(value - exact) <= K * mcse + systematic
    empty = (value == 0) & ((exact - systematic) * width * draws <= 10.0)
    return filled | empty


@pytest.fixture(scope="module", params=["harmonic", "anharmonic"])
def beta16(request):
    """beta = 16, a = 0.25 (the issue's lattice), Fourier network."""
    return run("anharmonic.toml", f"model.potential={HARMONIC if request.param == 'harmonic' else ANHARMONIC}")


def test_lattice_observables_match_transfer_matrix(beta16):
    obs, theory = beta16
    assert theory.lattice.a == 0.25 and theory.lattice.beta == 16.0
    for name in ("x2", "x4", "E0", "uncertainty", "commutator"):
        assert within(obs[name]), (name, obs[name])
    corr = {k: np.asarray(v)[:9] for k, v in obs["correlator"].items() if k in ("value", "mcse", "exact")}
    assert within(corr).all()  # tau = 0, a, ..., 2
    # the plateau's excited-state contamination is computed exactly from the lattice m_eff(tau)
    assert within(obs["gap"], obs["gap"]["systematic"]), obs["gap"]
    assert obs["gap"]["systematic"] < 0.25 * obs["gap"]["mcse"] + 0.01


def test_position_density_matches_transfer_matrix(beta16):
    """|psi0|^2 from the periodic lattice at large beta: histogram against the exact density."""
    obs, theory = beta16
    d = obs["psi0_squared"]
    x, width = np.asarray(d["x"]), np.diff(d["x"])[0]
    # the histogram is a bin average: exact value at the centre differs by <= width^2 max|rho''|/24
    tm = transfer_matrix(theory.lattice, theory.potential)
    fine = np.linspace(x[0] - width, x[-1] + width, 2001)
    rho2 = np.gradient(np.gradient(tm.density(fine), fine), fine)
    bin_bound = width**2 * np.max(np.abs(rho2)) / 24
    assert histogram_within(d, bin_bound, "anharmonic.toml", SAMPLES).all()
    # and the lattice density is the continuum one up to the (computed) discretisation error
    lat_vs_cont = np.max(np.abs(np.asarray(d["exact"]) - np.asarray(d["continuum"])))
    assert histogram_within(d, bin_bound + lat_vs_cont, "anharmonic.toml", SAMPLES, key="continuum").all()


def _extrapolate(a: np.ndarray, y: np.ndarray, err: np.ndarray, powers: tuple[int, ...]) -> tuple[float, float]:
    """Weighted least squares y = c0 + sum_p c_p a^p; returns c0 and its propagated error."""
    design = np.stack([a**p for p in (0, *powers)], axis=1)
    w = 1.0 / err**2
    cov = np.linalg.inv(design.T @ (w[:, None] * design))
    coef = cov @ design.T @ (w * y)
    return float(coef[0]), float(np.sqrt(cov[0, 0]))


SLICES = (32, 48, 64)  # beta = 8: a = 0.25, 0.167, 0.125


@pytest.fixture(scope="module", params=["harmonic", "anharmonic"])
def spacings(request):
    pot = HARMONIC if request.param == "harmonic" else ANHARMONIC
    runs = [run("anharmonic.toml", f"model.potential={pot}", "model.beta=8.0", f"model.slices={n}") for n in SLICES]
    return request.param, runs


def _continuum(runs, name: str, powers: tuple[int, ...]) -> tuple[float, float, float]:
    """MC extrapolation, its error, and the systematic of the ansatz from the exact lattice values."""
    a = np.array([t.lattice.a for _, t in runs])
    val = np.array([o[name]["value"] for o, _ in runs])
    err = np.array([o[name]["mcse"] for o, _ in runs])
    exact = np.array([o[name]["exact"] for o, _ in runs])
    mc, sigma = _extrapolate(a, val, err, powers)
    ex, _ = _extrapolate(a, exact, err, powers)
    systematic = abs(ex - runs[0][0][name]["continuum"])
    if name == "gap":  # each plateau may carry its (exactly computed) contamination
        design = np.stack([a**p for p in (0, *powers)], axis=1)
        w = 1.0 / err**2
        row = (np.linalg.inv(design.T @ (w[:, None] * design)) @ design.T * w)[0]
        systematic += float(np.abs(row) @ np.array([o["gap"]["systematic"] for o, _ in runs]))
    return mc, sigma, systematic


def test_continuum_extrapolation_reaches_diagonalisation(spacings):
    kind, runs = spacings
    for name, powers in (("x2", (2,)), ("gap", (2,)), ("uncertainty", (2,)), ("commutator", (1, 2))):
        mc, sigma, systematic = _continuum(runs, name, powers)
        continuum = runs[0][0][name]["continuum"]
        assert abs(mc - continuum) <= K * sigma + systematic, (kind, name, mc, sigma, systematic, continuum)
    if kind == "anharmonic":
        assert abs(runs[0][0]["gap"]["continuum"] - X4_GAP) < 1e-6
        assert abs(runs[0][0]["x2"]["continuum"] - X4_X2) < 1e-6
        # the anharmonic ground state is not a minimum-uncertainty state (diagonalisation)
        assert runs[0][0]["uncertainty"]["continuum"] > 0.5 + 1e-3
    else:
        # thermal harmonic oscillator at beta = 8: Delta x Delta p = (hbar/2) coth(beta omega/2)
        assert abs(runs[0][0]["uncertainty"]["continuum"] - 0.5 / np.tanh(4.0)) < 1e-6
        assert runs[0][0]["commutator"]["continuum"] == -1.0


def test_ground_state_wavefunction_from_half_line():
    """psi0(y) itself (not |psi0|^2) is the marginal of the sampled end of the half-line network."""
    obs, theory = run("ground_state.toml", samples=2 * SAMPLES)
    d = obs["psi0"]
    x, width = np.asarray(d["x"]), np.diff(d["x"])[0]
    tm = transfer_matrix(theory.lattice, theory.potential)
    fine = np.linspace(x[0] - width, x[-1] + width, 2001)
    rho2 = np.gradient(np.gradient(tm.density(fine, site=0), fine), fine)
    bin_bound = width**2 * np.max(np.abs(rho2)) / 24
    assert histogram_within(d, bin_bound, "ground_state.toml", 2 * SAMPLES).all()
    lat_vs_cont = np.max(np.abs(np.asarray(d["exact"]) - np.asarray(d["continuum"])))
    assert histogram_within(d, bin_bound + lat_vs_cont, "ground_state.toml", 2 * SAMPLES, key="continuum").all()
    # psi0, not its square: the sampled density is much wider than |psi0|^2
    spec = diagonalize(theory.potential)
    y = np.asarray(d["x"])
    sq = spec.density(y)
    mean_sq = np.sum(y**2 * sq) / np.sum(sq)
    mean_psi = np.sum(y**2 * np.asarray(d["value"])) / np.sum(d["value"])
    assert mean_psi > 1.5 * mean_sq


def test_double_well_tunnelling_gap():
    """Creutz-Freedman double well (m = 1/2, lambda = 1, f^2 = 2, a = 0.25)."""
    obs, theory = run("double_well.toml", "sampler.warmup=1000", samples=4 * SAMPLES)
    assert theory.lattice.a == 0.25 and theory.lattice.mass == 0.5
    assert within(obs["gap"], obs["gap"]["systematic"]), obs["gap"]
    assert within(obs["x2"]), obs["x2"]
    # it is a tunnelling gap: far below the harmonic level spacing sqrt(8 lambda f^2 / m) = 8
    assert obs["gap"]["exact"] < 0.1 * np.sqrt(8 * 2 / 0.5)

