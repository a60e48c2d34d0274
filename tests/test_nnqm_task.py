"""Task ``nnqm`` end to end: OU = harmonic-oscillator ground state, deep NN-QM, KKL networks.

Every Monte Carlo number is compared with an exact value within 4 MCSE plus a stated systematic
(the finite-dt expectation is exact, so the comparison with it carries no systematic; the
continuum limit differs from it by the computed ``systematic``). Sizes: 10 000 exact paths per
job by default (16 000 for the OS verdicts of OU), NNQM_FULL=1 uses 40 000.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from nnqm_ppl.cli import main
from nnqm_ppl.exact.processes import grid_exact, ou_covariance
from nnqm_ppl.observables.quantum import UNCERTAINTY_VERDICTS
from nnqm_ppl.tasks import load_job
from nnqm_ppl.theories.process import grid

ROOT = Path(__file__).resolve().parent.parent
FULL = os.environ.get("NNQM_FULL") == "1"
SAMPLES = 10000 if FULL else 2500  # x 4 chains


def _run(tmp_path: Path, job: str, *sets: str, samples: int = SAMPLES) -> tuple[int, dict]:
    out = tmp_path / job
    args = ["run", str(ROOT / "inference" / f"{job}.toml"), "--out", str(out), "--no-progress",
            "--set", f"sampler.samples={max(samples, SAMPLES)}"]
    for s in sets:
        args += ["--set", s]
    rc = main(args)
    return rc, json.loads((out / "summary.json").read_text())


def _within(entry: dict, exact: float, systematic: float = 0.0) -> bool:
    return abs(entry["value"] - exact) <= 4.0 * entry["mcse"] + systematic


def _no_violation(entry: dict, power: float = 0.1) -> bool:
    """A refutation check passed with power: nothing at 5σ, and a violation ≥ ``power`` would show."""
    return entry["verdict"] == "no violation detected" and entry["detectable"] <= power


def test_grid_exact_matches_ou_closed_forms():
    """Δx·Δp = (ħ/2) sqrt((2/u)(1 − (1 − e^{−u})/u)) and K = −ħ(1 − e^{−u})/u, u = γ dt."""
    gam, d, m = 1.3, 0.5, 1.0
    spec = load_job(ROOT / "inference/reflection_positivity.toml", [f"model.rate={gam}"]).model
    t = grid(spec)
    ex = grid_exact(ou_covariance(t[:, None], t[None, :], gam, d), np.zeros_like(t), spec.dt, m, 2 * m * d, 5)
    u = gam * spec.dt
    assert ex["uncertainty"] == pytest.approx(0.5 * np.sqrt(2 / u * (1 - (1 - np.exp(-u)) / u)), rel=1e-12)
    assert ex["commutator"] == pytest.approx(-(1 - np.exp(-u)) / u, rel=1e-12)
    assert ex["correlator"] == pytest.approx(list(d / gam * np.exp(-gam * spec.dt * np.arange(5))), rel=1e-12)


def test_ou_is_the_harmonic_oscillator(tmp_path):
    """γ = ω, D = ħ/2m: GEVP gaps 1, 2, 3; OS checks pass; Δx·Δp → ħ/2; [x, p] → −ħ."""
    # 16 000 paths: enough power for a "positive" stationarity verdict (5σ band < 0.1 Var x)
    rc, s = _run(tmp_path, "reflection_positivity", samples=4000)
    assert rc == 0 and s["task"] == "nnqm" and s["diagnostics"]["passed"]
    obs = s["observables"]
    gaps = obs["gaps"]
    assert [g["exact"] for g in gaps] == [1.0, 2.0, 3.0]
    for g in gaps:  # {x, x², x³} span He_1..He_3: the exact GEVP mass is n·γ at every τ
        assert g["systematic"] < 1e-9
        assert _within(g, g["exact"], g["systematic"]), g
    for name in ("reflection_positivity", "stationarity"):
        assert _no_violation(obs[name]), (name, obs[name])
    assert obs["clustering"]["verdict"] == "satisfied"
    for name in ("reflection_positivity", "stationarity", "clustering"):
        assert {"value", "mcse", "verdict"} <= set(obs[name])
    unc, com = obs["uncertainty"], obs["commutator"]
    # same estimators as the path integrals; the finite-dt expectation is exact
    assert _within(unc, unc["exact"]) and _within(com, com["exact"])
    # the continuum values, with the finite-dt systematic computed from the OU covariance
    assert unc["continuum"] == 0.5 and com["continuum"] == -1.0
    assert _within(unc, 0.5, unc["systematic"]) and _within(com, -1.0, com["systematic"])
    assert com["systematic"] == pytest.approx(1 - (1 - np.exp(-0.05)) / 0.05, rel=1e-9)
    assert unc["verdict"] == "consistent with ħ/2 (saturated)"  # a minimum-uncertainty state
    corr = obs["correlator"]
    assert np.all(np.abs(np.subtract(corr["value"], corr["exact"])) <= 4 * np.asarray(corr["mcse"]))
    out = tmp_path / "reflection_positivity"
    assert (out / "spectrum.png").stat().st_size > 0 and (out / "reflection_positivity.png").stat().st_size > 0


def test_deep_nnqm_spectrum_hermite_uncertainty_commutator(tmp_path):
    """f(OU) for one fixed network: gaps γ, 2γ; C(τ) = Σ c_n² n! e^{−nγτ}; K → −2mD E f'²."""
    rc, s = _run(tmp_path, "deep_nnqm", "model.input.rate=0.7")
    assert rc == 0 and s["spec"]["model"]["rates"] == [0.7]
    obs, ex = s["observables"], s["exact"]
    for g in obs["gaps"][:2]:
        assert g["exact"] == pytest.approx(0.7 * g["level"])
        assert _within(g, g["exact"], g["systematic"]), g
    corr = obs["correlator"]
    tail = ex["hermite"]["tail"]
    assert np.all(np.abs(np.subtract(corr["value"], corr["exact"])) <= 4 * np.asarray(corr["mcse"]) + tail)
    w = ex["hermite"]["weights"]
    assert w[0] == 0.0 and min(w[1:]) >= 0.0  # Källén–Lehmann weights |<0|f(x)|n>|² at E_n = nγ
    assert _no_violation(obs["reflection_positivity"])
    com, unc = obs["commutator"], obs["uncertainty"]
    # commutator scale set by the roughness: ħ_f = 2 m D E[f'(x)²] (not the input's ħ = 1)
    assert com["continuum"] == pytest.approx(-ex["hbar_f"]) and ex["hbar_f"] < 0.9
    assert _within(com, com["exact"])
    assert _within(com, com["continuum"], com["systematic"])
    assert _within(unc, unc["exact"])
    assert unc["continuum"] >= unc["bound"] == pytest.approx(ex["hbar_f"] / 2)  # Cauchy–Schwarz
    assert unc["verdict"] in UNCERTAINTY_VERDICTS[:2]  # not below ħ_f/2


def test_deep_nnqm_per_path_theta(tmp_path):
    """θ per path (Theorem 4 mixture): RP holds, Δy·Δp ≥ ħ̄/2 with ħ_θ per path."""
    rc, s = _run(tmp_path, "deep_nnqm", "model.parameters=\"per_path\"", "model.sigma_b=0.0",
                 "observables.names=[\"reflection_positivity\", \"uncertainty\", \"commutator\"]")
    obs = s["observables"]
    assert _no_violation(obs["reflection_positivity"])
    assert obs["uncertainty"]["verdict"] in UNCERTAINTY_VERDICTS[:2]
    assert obs["uncertainty"]["value"] > obs["uncertainty"]["bound"]
    assert obs["commutator"]["value"] < 0 and obs["commutator"]["continuum_mcse"] > 0


def test_kkl_kernel_override_smooth_paths_have_small_commutator(tmp_path):
    """Matérn-3/2 paths are differentiable: [x, p] → 0 as dt → 0 (ħ = 0: continuum 0, no Δx·Δp)."""
    rc, s = _run(tmp_path, "kkl", "model.kernel=\"matern32\"", "model.n_modes=60",
                 "observables.names=[\"commutator\", \"gaps\", \"stationarity\", \"uncertainty\"]")
    assert s["spec"]["model"]["kernel"] == "matern32"
    com, unc = s["observables"]["commutator"], s["observables"]["uncertainty"]
    assert _within(com, com["exact"]) and abs(com["exact"]) < 0.1 and com["continuum"] == 0.0
    assert unc["value"] is None and unc["verdict"] is None and unc["hbar"] == 0.0 and unc["note"]
    assert all(g["exact"] is None for g in s["observables"]["gaps"])


def test_exact_command_for_process_models(capsys):
    assert main(["exact", str(ROOT / "models/ou.toml"), "--set", "rate=2.0"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["gaps"] == [2.0, 4.0, 6.0] and out["commutator_continuum"] == -1.0
    assert main(["exact", str(ROOT / "models/deep_nnqm.toml")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["gaps"] == [1.0, 2.0, 3.0] and len(out["hermite"]["weights"]) == 8
    assert main(["exact", str(ROOT / "models/kkl.toml"), "--set", "model.kernel=\"matern32\""]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["gaps"] is None and 0 < out["captured"] <= 1
