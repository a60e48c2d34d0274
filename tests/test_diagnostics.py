"""Diagnostics: Wolff's Γ-method on AR(1) series with known τ_int; bad runs (too short, badly
scaled, a bimodal double well with few chains, a too-short spectral fit) are flagged with the
right reasons and exit 3 (run and ``nnqm diagnose``); a good run passes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from nnqm_ppl.cli import main
from nnqm_ppl.diagnostics import gamma_method

ROOT = Path(__file__).resolve().parent.parent
JOB = str(ROOT / "inference" / "cosnet_hyperparameters.toml")


def _ar1(phi: float, chains: int, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.empty((chains, n))
    x[:, 0] = rng.normal(size=chains) / np.sqrt(1 - phi**2)
    e = rng.normal(size=(chains, n))
    for i in range(1, n):
        x[:, i] = phi * x[:, i - 1] + e[:, i]
    return x


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9])
def test_gamma_method_ar1(phi: float) -> None:
    """τ_int = (1 + φ)/(2(1 − φ)) within 4 of its own errors; ESS = N/(2τ_int)."""
    x = _ar1(phi, 4, 20000, seed=int(10 * phi))
    r = gamma_method(x)
    exact = (1 + phi) / (2 * (1 - phi))
    assert abs(r.tau_int - exact) < 4 * r.tau_int_err + 1e-12
    assert r.ess == pytest.approx(x.size / (2 * r.tau_int))


def test_one_chain_is_judged_without_r_hat() -> None:
    """One chain: R-hat is skipped with the reason (None, not NaN) and the other gates still judge
    it: 4000 independent draws pass; the same draws with the second half shifted by 3σ (a chain
    that has not settled) fail on ESS, split within the chain."""
    from nnqm_ppl.diagnostics import RHAT_SKIPPED_ONE_CHAIN, check_gates
    from nnqm_ppl.spec import GatesSpec

    x = np.random.default_rng(1).normal(size=(1, 4000))
    gates = GatesSpec(ess_min=400)
    good = check_gates({"x": x}, gates)
    assert good.passed and good.rhat_max is None and good.rhat_skipped == RHAT_SKIPPED_ONE_CHAIN
    assert json.loads(json.dumps(good.to_dict(), allow_nan=False))["rhat_max"] is None
    assert good.ess_bulk_min > 2000
    drift = x + 3.0 * (np.arange(4000) >= 2000)
    bad = check_gates({"x": drift}, gates)
    assert not bad.passed and bad.rhat_max is None
    assert [f.split(" (")[0] for f in bad.failures] == ["ESS"], bad.failures


def test_short_run_fails_with_reason_and_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "short"
    rc = main(["run", JOB, "--out", str(out), "--no-progress", "--set", "sampler.samples=30",
               "--set", "sampler.warmup=30"])
    assert rc == 3
    summary = json.loads((out / "summary.json").read_text())
    assert any(f.startswith("ESS") for f in summary["diagnostics"]["failures"])
    assert any("run more samples" in a for a in summary["diagnostics"]["advice"])
    assert set(summary["diagnostics"]["tau_int"]) == {"sigma_a", "sigma_b"}
    capsys.readouterr()
    assert main(["diagnose", str(out)]) == 3
    printed = json.loads(capsys.readouterr().out)
    assert printed["failures"] == summary["diagnostics"]["failures"]


#: V = (x² − 4)²: barrier 16, instanton action ≈ 15, so NUTS chains stay in the well they start in
BIMODAL = """
title = "Deep double well with four short chains"
task = "sample"
[model]
kind = "path_integral"
network = "fourier"
potential = [16.0, 0.0, -8.0, 0.0, 1.0]
beta = 4.0
slices = 16
[sampler]
chains = 4
warmup = 300
samples = 300
[observables]
names = ["x2", "E0"]
"""


def test_bimodal_double_well_flags_disagreeing_chains(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Chains in different wells agree on every even observable; the path mean ⟨x⟩ exposes them:
    R-hat fails on it, with the several-minima advice, in the run and in ``nnqm diagnose``."""
    job = tmp_path / "bimodal.toml"
    job.write_text(BIMODAL)
    out = tmp_path / "run"
    assert main(["run", str(job), "--out", str(out), "--no-progress"]) == 3
    summary = json.loads((out / "summary.json").read_text())
    tree = xr.open_datatree(out / "samples.nc", engine="h5netcdf")
    chain_means = tree["observables"]["mean"].values.mean(axis=1)
    # the scenario: chains on both sides (the seed is the job's default, 0; with four chains both
    # wells are occupied with probability 7/8)
    assert chain_means.min() < -1.5 and chain_means.max() > 1.5, chain_means
    diag = summary["diagnostics"]
    rhat = [f for f in diag["failures"] if f.startswith("R-hat")]
    assert rhat and rhat[0].endswith("(worst: mean)"), diag["failures"]
    assert any("several minima" in a for a in diag["advice"])
    capsys.readouterr()
    assert main(["diagnose", str(out)]) == 3
    assert any(f.startswith("R-hat") for f in json.loads(capsys.readouterr().out)["failures"])


def test_badly_scaled_network_saturates_tree_depth(tmp_path: Path) -> None:
    """The ReLU network (accelerations) has a Hessian whose condition number grows like N²: with
    max_tree_depth = 6 every transition saturates, and the advice names the 'fourier' network."""
    job = tmp_path / "scaled.toml"
    job.write_text(BIMODAL.replace('"fourier"', '"relu"').replace("potential = [16.0, 0.0, -8.0, 0.0, 1.0]",
                   'potential = [0.0, 0.0, 0.5, 0.0, 1.0]\nboundary = "fixed"\nx_ini = 0.0\nx_fin = 0.0')
                   .replace("slices = 16", "slices = 32").replace("chains = 4", "chains = 2\nmax_tree_depth = 6")
                   .replace("300", "200"))
    out = tmp_path / "run"
    assert main(["run", str(job), "--out", str(out), "--no-progress"]) == 3
    diag = json.loads((out / "summary.json").read_text())["diagnostics"]
    assert diag["tree_depth_fraction"] > 0.5
    assert any("maximum tree depth" in f for f in diag["failures"]), diag["failures"]
    assert any(a.startswith("tree depth saturated") and "'fourier' network" in a for a in diag["advice"])


def test_no_plateau_is_a_gate_failure() -> None:
    """Paths without correlation in τ (i.i.d. sites) have no effective-mass plateau: the gap is
    reported as missing with the reason, and the run's gates fail with the plateau advice."""
    from nnqm_ppl.tasks import load_job
    from nnqm_ppl.tasks.path_integral import measure
    from nnqm_ppl.theories.path_integral import theory_from_spec

    job = load_job(ROOT / "inference" / "anharmonic.toml")
    theory = theory_from_spec(job.model)
    x = 0.5 * np.random.default_rng(0).normal(size=(2, 200, theory.lattice.slices))
    obs, _, plots = measure(x, theory, job)
    assert obs["gap"]["value"] is None and "no plateau" in obs["gap"]["note"]
    assert obs["gap"]["exact"] == pytest.approx(1.8945530, abs=1e-6)
    assert [kind for kind, _ in plots["failures"]] == ["plateau"]
    assert "x2" in obs and "effective_mass" not in obs


def test_short_spectral_fit_fails_with_exit_3(tmp_path: Path) -> None:
    """A too-short spectral fit (2 × 150 draws) fails its gates (exit 3) and keeps its files and
    its PSIS-LOO table. (At this size, with chains started at random, ArviZ's comparison used to
    crash on a non-finite PSIS-LOO, exit 1; that path is ``test_choose_states_flags_unreliable_psis_loo``.)"""
    out = tmp_path / "spectral"
    rc = main(["run", str(ROOT / "inference" / "fit_spectrum.toml"), "--out", str(out), "--no-progress",
               "--set", "sampler.warmup=100", "--set", "sampler.samples=150"])
    assert rc == 3
    summary = json.loads((out / "summary.json").read_text())
    assert (out / "samples.nc").is_file() and (out / "fit.png").is_file()
    failures = summary["diagnostics"]["failures"]
    assert any(f.startswith("ESS") for f in failures), failures
    assert set(summary["fit"]["criterion"]) == {"1", "2"}
    assert all(np.isfinite(row["elpd_loo"]) for row in summary["fit"]["criterion"].values())


def test_good_run_passes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "good"
    assert main(["run", JOB, "--out", str(out), "--no-progress"]) == 0
    for name in ("trace", "rank", "autocorr", "energy", "ess_evolution", "fit", "posterior"):
        assert (out / f"{name}.png").is_file()
    capsys.readouterr()
    assert main(["diagnose", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    post = summary["posterior"]
    for name, truth in (("sigma_a", 1.3), ("sigma_b", 0.8)):
        assert set(post[name]) >= {"mean", "sd", "eti_5", "eti_95"}
        # the data are one noisy draw around the truth: 4 posterior sd covers it
        assert abs(post[name]["mean"] - truth) < 4 * post[name]["sd"] + 4 * post[name]["mcse"]
