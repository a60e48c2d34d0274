"""Fit quality (issue #10, parts 3 and 6): χ² p-values against closed forms; a fit that does not
describe its data fails its gates (exit 3) while data made by the fit's own model pass (exit 0); a
spectral fit of a path-integral run recovers the transfer-matrix energies and amplitudes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import least_squares

from nnqm_ppl import fitting
from nnqm_ppl.cli import main
from nnqm_ppl.exact.diagonalize import diagonalize
from nnqm_ppl.exact.transfer import transfer_matrix
from nnqm_ppl.fitting import quality as fit_quality
from nnqm_ppl.physics import Lattice, Potential
from nnqm_ppl.spec import FitTask, NeuralFieldSpec, Prior
from nnqm_ppl.tasks import load_job

ROOT = Path(__file__).resolve().parent.parent
COUPLING = str(ROOT / "inference" / "infer_coupling.toml")
SPECTRUM = str(ROOT / "inference" / "fit_spectrum.toml")


def _q_even(x: float, dof: int) -> float:
    """Q(m, x/2) for dof = 2m: e^{−x/2} Σ_{j<m} (x/2)^j / j!."""
    y = x / 2
    return math.exp(-y) * sum(y**j / math.factorial(j) for j in range(dof // 2))


def _q_odd(x: float, dof: int) -> float:
    """Q(m + 1/2, x/2) for dof = 2m + 1: erfc(√(x/2)) + e^{−x/2} Σ_{j<m} (x/2)^{j+1/2} / Γ(j + 3/2)."""
    y = x / 2
    return math.erfc(math.sqrt(y)) + math.exp(-y) * sum(y ** (j + 0.5) / math.gamma(j + 1.5)
                                                         for j in range(dof // 2))


@pytest.mark.parametrize("dof", [1, 2, 3, 4, 7, 12, 13])
def test_chi2_survival_closed_forms(dof: int) -> None:
    """P(χ²_dof ≥ x) by gammaincc against the closed forms of the regularised incomplete gamma
    function at half-integer and integer order, from the bulk to the far tail."""
    closed = _q_even if dof % 2 == 0 else _q_odd
    for x in (0.01, 0.5, 1.0, dof, 3.0 * dof, 52.6, 150.0):
        assert fit_quality.chi2_sf(x, dof) == pytest.approx(closed(x, dof), rel=1e-10, abs=1e-300), x


def test_chi2_survival_table_values() -> None:
    """Textbook quantiles (Abramowitz & Stegun table 26.8, three decimals): χ²_{0.95}(1) = 3.841,
    χ²_{0.95}(12) = 21.026, χ²_{0.99}(12) = 26.217; and the issue's χ² = 52.6 for 12 dof."""
    assert fit_quality.chi2_sf(3.841, 1) == pytest.approx(0.05, abs=2e-5)
    assert fit_quality.chi2_sf(21.026, 12) == pytest.approx(0.05, abs=2e-5)
    assert fit_quality.chi2_sf(26.217, 12) == pytest.approx(0.01, abs=2e-5)
    assert fit_quality.chi2_sf(52.6, 12) == pytest.approx(_q_even(52.6, 12), rel=1e-10)
    assert fit_quality.chi2_sf(52.6, 12) < 1e-6


def test_fit_quality_definitions() -> None:
    """On a Cauchy-net G2 = σ_a² e^{−m r} / 2 fit (mass free, 9 points, 2% errors): χ²_min is the
    minimum of χ²(m) on a fine grid (never above it, within 1e-6 of it), dof = 9 − 1, and the
    Rao–Blackwellised posterior-predictive p-value equals the one from replicated data
    y_rep ~ N(G(θ), C) drawn explicitly, within 4 of their combined standard errors."""
    r = np.linspace(0.0, 2.0, 9)
    g = 0.5 * np.exp(-1.5 * r)
    err = 0.02 * g
    y = g + err * np.random.default_rng(0).normal(size=g.shape)
    data = fitting.validate_data(r, y, np.diag(err**2), source="toy")
    task = FitTask(data="toy", kind="network", where="toy", observable="G2", parameters=("mass",),
                   priors={"mass": Prior("lognormal", 1.0, 1.0)})
    problem = fitting.fit_problem(task, NeuralFieldSpec(architecture="cauchy", width=10, sigma_a=1.0), data)
    rng = np.random.default_rng(1)
    mass = 1.5 + 0.02 * rng.normal(size=(2, 2000))
    draws = {"mass": mass.reshape(-1)}
    preds = fit_quality.predict_draws(problem, draws)
    chi2 = fit_quality.chi2_draws(problem, preds).reshape(mass.shape)
    q = fit_quality.fit_quality(problem, draws, chi2)
    grid = np.linspace(1.3, 1.7, 40001)
    brute = fit_quality.chi2_draws(problem, 0.5 * np.exp(-grid[:, None] * r))
    assert q.dof == 8 and q.chi2 <= brute.min() + 1e-9 and q.chi2 >= brute.min() - 1e-6
    assert q.p_value == pytest.approx(fit_quality.chi2_sf(q.chi2, 8), rel=1e-12)
    y_rep = preds + err * rng.normal(size=preds.shape)
    rep = np.sum(((y_rep - preds) / err) ** 2, axis=1)
    direct = (rep >= chi2.reshape(-1)).astype(float)
    se = math.sqrt(direct.var() / direct.size + q.ppp_mcse**2)
    assert abs(direct.mean() - q.ppp) < 4 * se, (direct.mean(), q.ppp, se)


def _coupling_csv(path: Path, kind: str, seed: int, slices: int = 16, beta: float = 8.0) -> Path:
    """13 points of the correlator of V = x²/2 + 0.4x⁴ at τ = 0, a, …, 12a with 1% errors and one
    noisy draw: ``continuum`` by diagonalisation (thermal trace at β), ``lattice`` from the transfer
    matrix of the fit's own lattice (β, slices)."""
    pot = Potential.from_coeffs([0, 0, 0.5, 0, 0.4])
    lat = Lattice(beta=beta, slices=slices)
    k = np.arange(13)
    if kind == "continuum":
        g = diagonalize(pot, beta=beta).correlator(lat.a * k, beta)
    else:
        g = transfer_matrix(lat, pot).correlator(k)
    err = 0.01 * g
    y = g + err * np.random.default_rng(seed).normal(size=g.shape)
    path.write_text("tau,value,error\n" + "".join(f"{t:.17g},{v:.17g},{e:.17g}\n" for t, v, e in zip(lat.a * k, y, err,
                                                                                            strict=True)))
    return path


#: A CI-size coupling fit on the coarse lattice β = 8, a = 0.5 (16 slices).
_SMALL = ["--set", "model.slices=16", "--set", "sampler.chains=2", "--set", "sampler.warmup=300",
          "--set", "sampler.samples=2000"]


def _fit(data: Path, out: Path) -> tuple[int, dict]:
    rc = main(["run", COUPLING, "--out", str(out), "--no-progress", "--set", f"data={data}", *_SMALL])
    return rc, json.loads((out / "summary.json").read_text())


def test_continuum_data_through_a_coarse_lattice_fail(tmp_path: Path) -> None:
    """Continuum correlator (λ = 0.4, 1% errors, 13 points to τ = 6) fitted through the coarse
    lattice a = 0.5: the best lattice λ (≈ 0.454) misses the data by χ²_min ≈ 160 + noise for
    12 dof, so the fit-quality gate fails the run (exit 3) with the advice naming lattice
    artefacts, missing states and underestimated errors. Before the gate this was exit 0."""
    rc, summary = _fit(_coupling_csv(tmp_path / "continuum.csv", "continuum", 0), tmp_path / "run")
    fit = summary["fit"]
    assert rc == 3
    assert fit["dof"] == 12 and fit["points"] == 13 and fit["parameters"] == 1
    assert fit["chi2"] > 100 and fit["p_value"] < 1e-10 and fit["ppp"] < 1e-10
    assert fit["chi2_dof"] == pytest.approx(fit["chi2"] / 12)
    assert "minimum" in fit["chi2_is"] and "parameters" in fit["dof_is"]
    failures, advice = summary["diagnostics"]["failures"], summary["diagnostics"]["advice"]
    assert len(failures) == 1 and failures[0].startswith("fit quality: χ²_min"), failures  # only this gate
    text = " ".join(advice)
    assert "lattice artefacts" in text and "misses states" in text and "underestimated" in text
    assert summary["spec"]["gates"]["fit_p_min"] == 0.01


def test_data_from_the_models_own_lattice_pass(tmp_path: Path) -> None:
    """Data made by the fit's own forward model (the transfer matrix at β = 8, a = 0.5, λ = 0.4,
    1% errors) pass every gate through ``nnqm run`` (exit 0), with the fit-quality p-value ≥ 0.01
    and λ within 4 posterior sd (+ 4 MCSE) of 0.4. Further seeds go through the same gate
    decision without the sampler in :func:`test_fit_gate_decision_over_seeds`."""
    rc, summary = _fit(_coupling_csv(tmp_path / "lattice.csv", "lattice", 0), tmp_path / "run")
    fit, c4 = summary["fit"], summary["posterior"]["c4"]
    assert rc == 0, summary["diagnostics"]["failures"]
    assert fit["p_value"] >= 0.01 and 0 < fit["ppp"] < 1
    assert abs(c4["mean"] - 0.4) < 4 * c4["sd"] + 4 * c4["mcse"], c4


def _coupling_problem(data: Path) -> fitting.FitProblem:
    """The fit problem ``nnqm run`` builds for the CI-size coupling job on ``data``."""
    job = load_job(COUPLING, [f"data={data}", "model.slices=16"])
    loaded = fitting.load_data(job.task_spec.data, beta=job.model.beta).select(job.task_spec.tau_min,
                                                                             job.task_spec.tau_max)
    return fitting.fit_problem(job.task_spec, job.model, loaded)


def test_fit_gate_decision_over_seeds(tmp_path: Path) -> None:
    """The quantity the fit gate judges — p = Q(dof/2, χ²_min/2), χ²_min by the task's own L-BFGS —
    over more noise seeds than the sampler can afford in CI (seeds 1..8): continuum data through the
    coarse lattice fail on every seed (χ²_min ≈ 160 for 12 dof), while the model's own-lattice data
    fail only at the gate's false-alarm rate: each seed fails with probability 0.01, so two or more
    failures of eight (probability 0.27%) mean the p-value is not calibrated. (Seed 3 is such a
    false alarm: χ² at the true λ is already 27.6 for 13 points, p ≈ 0.01.)"""
    start = {"c4": np.asarray(0.4)}
    false_alarms = []
    for seed in range(1, 9):
        own = _coupling_problem(_coupling_csv(tmp_path / f"lattice{seed}.csv", "lattice", seed))
        cont = _coupling_problem(_coupling_csv(tmp_path / f"continuum{seed}.csv", "continuum", seed))
        dof = own.data.tau.size - own.n_params
        assert dof == 12
        p_cont = fit_quality.chi2_sf(fit_quality._chi2_min(cont, start), dof)
        assert p_cont < 1e-10, (seed, p_cont)
        if fit_quality.chi2_sf(fit_quality._chi2_min(own, start), dof) < 0.01:
            false_alarms.append(seed)
    assert len(false_alarms) <= 1, false_alarms


def _pseudo_truth(data: fitting.CorrelatorData, exact: np.ndarray, beta: float, start: dict) -> dict:
    """Parameters of the K-state spectral model closest (in the data's χ²) to the noise-free exact
    correlator: what the fit converges to with infinitely precise data. Their distance from the
    transfer-matrix lines is the model's systematic on these data (the β → ∞ form: terms
    O(e^{−E_1 β}); the states beyond K). ``start``: E1, E2, …, A1, A2, … (K from its length)."""
    chol = np.linalg.cholesky(data.cov)
    k = len(start) // 2

    def lines(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return v[0] + np.concatenate([[0.0], np.cumsum(np.exp(v[1:k]))]), np.exp(v[k:])

    def resid(v: np.ndarray) -> np.ndarray:
        e, a = lines(v)
        model = a @ (np.exp(-e[:, None] * data.tau) + np.exp(-e[:, None] * (beta - data.tau)))
        return np.linalg.solve(chol, exact - model)

    e0 = np.array([start[f"E{n + 1}"] for n in range(k)])
    a0 = np.array([start[f"A{n + 1}"] for n in range(k)])
    v = least_squares(resid, np.concatenate([[e0[0]], np.log(np.diff(e0)), np.log(a0)]),
                      xtol=1e-14, ftol=1e-14, gtol=1e-14).x
    e, a = lines(v)
    return {f"E{n + 1}": e[n] for n in range(k)} | {f"A{n + 1}": a[n] for n in range(k)}


#: V = −x²/2 + x³ + x⁴/2 (an asymmetric double well, ⟨x⟩ ≈ −1.52): x connects the ground state to
#: every level; the second line carries ~20% of the first, the third ~2.5%, damped by e^{−2.9 τ}.
_ASYMMETRIC = [0.0, 0.0, -0.5, 1.0, 0.5]


def _spectral_fit(data: str, out: Path, states: int, tau_min: float) -> tuple[int, dict]:
    rc = main(["run", SPECTRUM, "--out", str(out), "--no-progress", "--set", f"data={data}",
               "--set", "model.beta=6.0", "--set", "model.slices=24", "--set", f"model.potential={_ASYMMETRIC}",
               "--set", f"fit.states=[{states}]", "--set", f"fit.tau_min={tau_min}", "--set", "fit.tau_max=3.0",
               "--set", "sampler.samples=1000"])
    return rc, json.loads((out / "summary.json").read_text())


def _check_lines(summary: dict, data: fitting.CorrelatorData, states: int) -> None:
    """Posterior E_n, A_n (n ≤ states) against the transfer-matrix lines of :data:`_ASYMMETRIC` at
    β = 6, a = 0.25: within 4 posterior sd + 4 MCSE + the systematic of :func:`_pseudo_truth`;
    and the exact column the fit prints is that same line."""
    tm = transfer_matrix(Lattice(beta=6.0, slices=24), Potential.from_coeffs(_ASYMMETRIC))
    energies, weights = tm.spectral_lines(states)
    truth = {f"E{n + 1}": energies[n] for n in range(states)} | {f"A{n + 1}": weights[n] for n in range(states)}
    exact = tm.correlator(np.rint(data.tau / 0.25).astype(int)) - tm.expect(lambda x: x) ** 2  # connected
    star = _pseudo_truth(data, exact, 6.0, truth)
    post = summary["posterior"]
    for name, value in truth.items():
        p, syst = post[name], abs(star[name] - value)
        assert summary["observables"][name]["exact"] == pytest.approx(value, rel=1e-12)
        assert abs(p["mean"] - value) <= 4 * p["sd"] + 4 * p["mcse"] + syst, (name, p, value, syst)


@pytest.fixture(scope="module")
def asymmetric_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ``nnqm run`` (NUTS paths) of :data:`_ASYMMETRIC` at β = 6, a = 0.25: 2 × 1000 draws."""
    run_dir = tmp_path_factory.mktemp("asymmetric") / "sample"
    rc = main(["run", str(ROOT / "inference" / "anharmonic.toml"), "--out", str(run_dir), "--no-progress",
               "--set", f"model.potential={_ASYMMETRIC}", "--set", "model.beta=6.0", "--set", "model.slices=24",
               "--set", "sampler.chains=2", "--set", "sampler.warmup=300", "--set", "sampler.samples=1000",
               "--set", "observables.names=['x2', 'correlator']"])
    assert rc == 0
    return run_dir


def test_spectral_fit_of_a_path_integral_run(asymmetric_run: Path, tmp_path: Path) -> None:
    """A spectral fit (K = 1, τ = 1 … 3) of the connected correlator of an ``nnqm run`` of
    :data:`_ASYMMETRIC` (β = 6, a = 0.25, NUTS paths: data the fit's model did not make) passes
    its gates with a fit-quality p-value ≥ 0.01 and recovers the transfer-matrix E_1 and
    A_1 = |⟨0|x|1⟩|² (:func:`_check_lines`). Before the fit read the connected correlator, the
    constant ⟨x⟩² ≈ 2.3 of such a run made any spectral fit of it wrong. (At this size the run's
    errors, ~0.003 against G_c(1) ≈ 0.045, cannot resolve the second line: see
    :data:`PRECISE_RUN`.)"""
    rc, summary = _spectral_fit(str(asymmetric_run), tmp_path / "fit", 1, 1.0)
    assert rc == 0, summary["diagnostics"]["failures"]
    assert summary["fit"]["states"] == 1 and summary["fit"]["p_value"] >= 0.01
    assert summary["data"]["covariance"]["connected"]
    _check_lines(summary, fitting.load_data(asymmetric_run, connected=True).select(1.0, 3.0), 1)


#: The connected correlator of a long ``nnqm run`` of :data:`_ASYMMETRIC` (β = 6, a = 0.25, 2 × 400 000
#: NUTS draws, 22 min on one core; written by ``benchmarks/make_precise_run_data.py``, which records
#: the command): the Fisher-matrix sd of E_2 from its covariance, τ = 0.25 … 3, is 0.33; from the
#: 2 × 1000-draw run of :func:`asymmetric_run` it is ≈ 3.5 per 8000 draws, wider than E_2 − E_1 ≈ 1.2.
PRECISE_RUN = ROOT / "tests" / "data" / "asymmetric_well_run.npz"


def test_spectral_fit_resolves_the_second_line(tmp_path: Path) -> None:
    """Part 6 of issue #10 for n = 2: a K = 2 spectral fit of the connected correlator of a long
    ``nnqm run`` of :data:`_ASYMMETRIC` (data the fit's model did not make: NUTS paths, every line,
    finite β) passes its gates and recovers the transfer-matrix E_1, E_2, A_1, A_2 (A_2/A_1 ≈ 0.21)
    within 4 posterior sd + 4 MCSE + the systematic of the states beyond K (:func:`_pseudo_truth`:
    the third line, 2.5% of the first, is absorbed into the second). The second line is resolved
    (posterior sd of E_2 under half of E_2 − E_1) and is the second state, not the third."""
    rc = main(["run", SPECTRUM, "--out", str(tmp_path / "fit"), "--no-progress", "--set", f"data={PRECISE_RUN}",
               "--set", "model.beta=6.0", "--set", "model.slices=24", "--set", f"model.potential={_ASYMMETRIC}",
               "--set", "fit.states=[2]", "--set", "fit.tau_min=0.25", "--set", "fit.tau_max=3.0",
               "--set", "sampler.samples=3000"])
    summary = json.loads((tmp_path / "fit" / "summary.json").read_text())
    assert rc == 0, summary["diagnostics"]["failures"]
    assert summary["fit"]["states"] == 2 and summary["fit"]["p_value"] >= 0.01
    post = summary["posterior"]
    assert post["E2"]["sd"] < 0.5 * (post["E2"]["mean"] - post["E1"]["mean"])  # the second line is resolved
    _check_lines(summary, fitting.load_data(PRECISE_RUN).select(0.25, 3.0), 2)
    tm = transfer_matrix(Lattice(beta=6.0, slices=24), Potential.from_coeffs(_ASYMMETRIC))
    energies, weights = tm.spectral_lines(3)  # the posterior's second line is the second state, not the third
    e2, a2 = post["E2"]["mean"], post["A2"]["mean"]
    assert abs(e2 - energies[1]) < abs(e2 - energies[2]) and abs(a2 - weights[1]) < abs(a2 - weights[2])
