"""Fitting: forward models against the exact solvers, simulation-based calibration, and the
end-to-end path (sample V = x²/2 + 0.4x⁴ with ``nnqm run``, fit λ from that run's correlator)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jax
import numpy as np
import pytest
from scipy import stats

from nnqm_ppl import fitting
from nnqm_ppl.cli import main
from nnqm_ppl.exact import analytic
from nnqm_ppl.exact.transfer import transfer_matrix
from nnqm_ppl.physics import Lattice, Potential
from nnqm_ppl.spec import NeuralFieldSpec, load_job

ROOT = Path(__file__).resolve().parent.parent
FULL = bool(os.environ.get("NNQM_FULL"))


@pytest.mark.parametrize("lam", [0.1, 0.4, 2.0])
def test_lattice_correlator_is_the_transfer_matrix(lam: float) -> None:
    """Same kernel and quadrature: agreement to 1e-9 relative (the grid's own error)."""
    lat = Lattice(beta=8.0, slices=32)
    grid = fitting.coupling_grid(lat, [Potential.from_coeffs([0, 0, 0.5, 0, c]) for c in (0.1, 2.0)], 1.2)
    ks = np.arange(17)
    exact = transfer_matrix(lat, Potential.from_coeffs([0, 0, 0.5, 0, lam])).correlator(ks)
    mine = np.asarray(fitting.lattice_correlator(np.array([0, 0, 0.5, 0, lam]), grid, lat, ks))
    np.testing.assert_allclose(mine, exact, rtol=1e-9)
    grad = jax.grad(lambda c: fitting.lattice_correlator(np.array([0, 0, 0.5, 0, 0.0]) + c * np.eye(5)[4],
                                                         grid, lat, ks)[4])(lam)
    assert np.isfinite(grad) and grad < 0  # a stiffer well shortens the correlation


def test_network_closed_forms_match_analytic() -> None:
    r = np.linspace(0.0, 2.0, 7)
    cos = NeuralFieldSpec(architecture="cosnet", width=7, dim=2, sigma_a=1.3, sigma_b=0.8)
    p = {"sigma_a": 1.3, "sigma_b": 0.8, "width": 7.0, "mass": 1.5}
    pts = np.stack([r, np.zeros_like(r)], -1)
    zero = np.zeros_like(pts)
    np.testing.assert_allclose(fitting.network_correlator("cosnet", "G2", p, r, 2, 10.0),
                               analytic.cosnet_g2(cos, zero, pts), rtol=1e-12)
    np.testing.assert_allclose(fitting.network_correlator("cosnet", "G4c", p, r, 2, 10.0),
                               analytic.cosnet_g4c(cos, zero, zero, pts, pts), rtol=1e-12)
    cau = NeuralFieldSpec(architecture="cauchy", width=7, sigma_a=1.3, mass=1.5)
    np.testing.assert_allclose(fitting.network_correlator("cauchy", "G2", p, r, 1, 10.0),
                               analytic.cauchy_g2(cau, np.zeros_like(r), r), rtol=1e-12)
    fs = NeuralFieldSpec(architecture="free_scalar", width=7, sigma_a=1.3, mass=1.5, cutoff=10.0)
    np.testing.assert_allclose(fitting.network_correlator("free_scalar", "G2", p, r, 1, 10.0),
                               analytic.free_scalar_g2(fs, np.zeros_like(r), r), rtol=1e-8)


def test_covariance_from_correlated_draws() -> None:
    """Blocked, shrunk covariance of the mean of AR(1) vectors: diagonal within its sampling error."""
    rng = np.random.default_rng(1)
    phi, n, dim = 0.8, 4000, 5
    x = np.empty((2, n, dim))
    x[:, 0] = rng.normal(size=(2, dim)) / np.sqrt(1 - phi**2)
    for i in range(1, n):
        x[:, i] = phi * x[:, i - 1] + rng.normal(size=(2, dim))
    data = fitting.from_draws(x, np.arange(dim, dtype=float), source="ar1", beta=None)
    exact_var = (1 / (1 - phi**2)) * (1 + phi) / (1 - phi) / (2 * n)  # var of the mean, long-run
    blocks = data.info["blocks"]
    # relative sampling error of a variance from B blocks ≈ sqrt(2/B); plus the blocking bias
    # of blocks of b draws, ≈ 2φ/((1−φ)² b) relative
    tol = 4 * np.sqrt(2 / blocks) + 2 * phi / ((1 - phi) ** 2 * data.info["block"])
    np.testing.assert_allclose(np.diag(data.cov), exact_var, rtol=tol)


def test_simulation_based_calibration() -> None:
    """50 synthetic Cos-net G2 data sets from the prior: the 90% ETI covers the truth in 90% ± 8%
    of cases and the rank histogram is flat (χ² test, p > 0.001)."""
    job = load_job(ROOT / "inference" / "cosnet_hyperparameters.toml")
    data = fitting.load_data(job.task_spec.data)
    problem = fitting.fit_problem(job.task_spec, job.model, data)
    n = 200 if FULL else 50
    res = fitting.calibrate(problem, jax.random.key(3), datasets=n, warmup=200, samples=400, thin=4)
    bins = 5
    for name, ranks in res["ranks"].items():
        assert abs(res["coverage"][name] - 0.9) <= 0.08, (name, res["coverage"][name])
        counts = np.histogram(ranks, bins=bins, range=(0, res["draws"] + 1))[0]
        assert stats.chisquare(counts).pvalue > 1e-3, (name, counts)


@pytest.mark.slow
@pytest.mark.xfail(reason="open (issue 4): at seed 0 the 90% ETI [0.297, 0.397] misses 0.4 by 1.9 sd; "
                   "check whether the blocked covariance (block 3 from tau_int 1.4) is too small", strict=False)
def test_end_to_end_infer_lambda_from_a_run(tmp_path: Path) -> None:
    """Sample V = x²/2 + 0.4x⁴ with ``nnqm run`` (β = 4, a = 0.25), fit λ from that run's correlator
    with the transfer-matrix forward model at the same a: the 90% interval contains 0.4."""
    run_dir = tmp_path / "sample"
    samples = 2000 if FULL else 600
    rc = main(["run", str(ROOT / "inference" / "anharmonic.toml"), "--out", str(run_dir), "--no-progress",
               "--set", "model.potential=[0, 0, 0.5, 0, 0.4]", "--set", "model.beta=4.0",
               "--set", "model.slices=16", "--set", "sampler.chains=2", "--set", "sampler.warmup=300",
               "--set", f"sampler.samples={samples}", "--set", "observables.names=['x2', 'correlator']"])
    assert rc in (0, 3)
    fit_dir = tmp_path / "fit"
    rc = main(["run", str(ROOT / "inference" / "infer_coupling.toml"), "--out", str(fit_dir), "--no-progress",
               "--set", f"data={run_dir}", "--set", "model.beta=4.0", "--set", "model.slices=16"])
    summary = json.loads((fit_dir / "summary.json").read_text())
    c4 = summary["posterior"]["c4"]
    assert summary["data"]["covariance"]["blocks"] >= 2
    assert c4["eti_5"] <= 0.4 <= c4["eti_95"], c4
    assert rc == 0, summary["diagnostics"]
