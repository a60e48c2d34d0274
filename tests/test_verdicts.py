"""Verdicts that can fail, and exact values that are the quantity estimated (issue #10, part 2).

- Δx·Δp: three outcomes (above / consistent with / below ħ/2), judged with MCSE and the stated
  systematic, never with the systematic added to the value.
- Reflection positivity: ``violated`` or ``no violation detected`` with the smallest violation the
  data could have seen — the same process gives both, depending on how much data there is.
- Karhunen–Loève networks: ħ is the paths' quadratic variation (0 at finite K); the commutator's
  exact value at finite dt is what the Monte Carlo estimates; Δx·Δp does not exist (None + note);
  ``nnqm exact`` never prints NaN; non-Gaussian priors claim no levels.

Sizes: 1 000–4 000 exact paths on 60–120-step grids (seconds each).
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np
import pytest

import nnqm_ppl  # noqa: F401  (float64)
from nnqm_ppl.cli import main
from nnqm_ppl.exact.processes import gaussian_power_moments
from nnqm_ppl.observables import positivity as P
from nnqm_ppl.observables import quantum
from nnqm_ppl.observables.estimate import Estimate
from nnqm_ppl.tasks import load_job
from nnqm_ppl.tasks.nnqm import _fact, measure
from nnqm_ppl.theories.process import build_process

ROOT = Path(__file__).resolve().parent.parent
ABOVE, SATURATED, BELOW = quantum.UNCERTAINTY_VERDICTS


def _measure(job_file: str, paths: int, *sets: str, seed: int = 0):
    job = load_job(ROOT / "inference" / job_file, list(sets))
    model = build_process(job.model)
    d = model.draw(jax.random.key(seed), paths)
    hb = d["hbar"][None] if "hbar" in d else None
    obs, _ = measure(np.asarray(d["x"])[None], model, job, hb)
    return job, model, obs


@pytest.mark.parametrize(
    "est, systematic, verdict",
    [
        (Estimate(0.60, 0.01), 0.0, ABOVE),
        (Estimate(0.52, 0.01), 0.0, SATURATED),  # 2σ above the bound
        (Estimate(0.40, 0.01), 0.0, BELOW),
        (Estimate(0.47, 0.001), 0.01, SATURATED),  # 30 MCSE below, within the stated systematic
        (Estimate(0.47, 0.001), 0.0, BELOW),  # the same value without it is a violation
        (Estimate(0.47, 0.001), None, BELOW),
    ],
)
def test_uncertainty_verdict_three_outcomes(est, systematic, verdict):
    out = quantum.uncertainty_verdict(est.value, est.mcse, 0.5, systematic, threshold=5.0)
    assert out["verdict"] == verdict
    assert out["sigma"] == pytest.approx(np.hypot(est.mcse, systematic or 0.0))
    assert out["z"] == pytest.approx((0.5 - est.value) / out["sigma"])


def test_uncertainty_verdict_refuses_nan():
    with pytest.raises(ValueError, match="finite"):
        quantum.uncertainty_verdict(float("nan"), 0.01, 0.5)


def test_ou_saturates_and_a_wrong_hbar_fails():
    """OU (the oscillator ground state) is "consistent with ħ/2"; the same paths judged against
    ħ/2 = 0.75 are "below" and against ħ/2 = 0.25 "above" (MCSE ≈ 0.02 at 4 000 paths, so 5σ ≈ 0.1):
    the verdict can fail both ways."""
    _, _, obs = _measure("reflection_positivity.toml", 4000, 'observables.names=["uncertainty"]')
    unc = obs["uncertainty"]
    assert unc["verdict"] == SATURATED and abs(unc["value"] - unc["exact"]) <= 4 * unc["mcse"]
    for bound, verdict in ((0.75, BELOW), (0.25, ABOVE)):
        assert quantum.uncertainty_verdict(unc["value"], unc["mcse"], bound, unc["systematic"])["verdict"] == verdict


def test_reflection_positivity_violated_or_no_violation_with_detectable_bound():
    """cos(t + θ) (G = cos τ / 2) is not RP: 4 000 paths show it at ≥ 5σ; 16 paths do not, and then
    the check says only "no violation detected" with a bound larger than the true violation."""
    t = np.linspace(-3, 3, 61)
    theta = np.asarray(jax.random.uniform(jax.random.key(4), (4000, 1), maxval=2 * np.pi))
    x = np.cos(t + theta)
    big = P.reflection_positivity(x, t)
    assert big.verdict == "violated" and big.z >= big.threshold
    depth = -big.detail["held_out"].value  # the violation along the tested direction, in λ_max units
    small = P.reflection_positivity(x[:16], t)
    assert small.verdict == "no violation detected"
    assert small.detail["detectable"] == pytest.approx(small.threshold * small.detail["held_out"].mcse)
    assert small.detail["detectable"] > depth > big.detail["detectable"]
    assert "positive" not in P.VERDICTS


KERNELS = [["model.kernel=\"ou\""], ["model.kernel=\"ou\"", "model.variance=1"],
           ["model.kernel=\"brownian\""], ["model.kernel=\"bridge\""], ["model.kernel=\"gaussian\""],
           ["model.kernel=\"matern32\""], ["model.kernel=\"cauchy\""],
           ["model.kernel=\"cauchy\"", "model.alpha=0.5"],
           ["model.kernel=\"exp_sum\"", "model.weights=[0.5, 0.2]", "model.rates=[1.0, 3.0]"],
           ["model.prior=\"rademacher\""], ["model.prior=\"uniform\"", "model.kernel=\"exp_sum\""]]


def _no_nan(token: str):
    raise ValueError(f"non-strict JSON constant {token}")


@pytest.mark.parametrize("sets", KERNELS, ids=lambda s: ",".join(x.split("=", 1)[1] for x in s))
def test_nnqm_exact_kkl_is_strict_json(sets, capsys):
    """Every kernel and prior: strict JSON, ħ = 0 with its reason, no Δx·Δp (None + note)."""
    args = ["exact", str(ROOT / "inference/kkl.toml"), "--set", "model.n_modes=40"]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out, parse_constant=_no_nan)
    assert out["hbar"] == 0.0 and "quadratic variation" in out["hbar_note"]
    assert out["uncertainty"] is None and "not positive" in out["uncertainty_note"]
    assert out["commutator_continuum"] == 0.0 and out["commutator"] < 0


def test_kkl_commutator_exact_is_what_is_estimated_and_vanishes_as_dt_falls():
    """Finite-dt exact K (from the truncated covariance) = Monte Carlo within 4 MCSE; at fixed K the
    exact K → 0 like dt (smooth paths: K = m dt ⟨x ẍ⟩ + O(dt³)), so its continuum value is 0 = −ħ."""
    _, _, obs = _measure("kkl.toml", 2000, "model.n_modes=40", "model.steps=60",
                         'observables.names=["commutator", "uncertainty"]')
    com, unc = obs["commutator"], obs["uncertainty"]
    assert abs(com["value"] - com["exact"]) <= 4 * com["mcse"]
    assert com["continuum"] == 0.0 and com["systematic"] == pytest.approx(abs(com["exact"]))
    assert unc["value"] is None and unc["verdict"] is None and "does not exist" in unc["note"]
    from nnqm_ppl.theories.process import exact_process_values

    ks = [exact_process_values(load_job(ROOT / "inference/kkl.toml", ["model.kernel=\"gaussian\"",
                                                                     "model.n_modes=40", f"model.steps={n}"]
                                        ).model)["commutator"] for n in (120, 480)]
    assert ks[1] / ks[0] == pytest.approx(0.25, rel=0.01)


@pytest.mark.parametrize("prior", ["rademacher", "uniform"])
def test_non_gaussian_prior_claims_no_levels(prior):
    """θ not Gaussian ⇒ x², x³ are not eigen-operators: no γ, 2γ, 3γ claimed (Gaussian: claimed)."""
    sets = ["model.n_modes=20", "model.steps=60"]
    gauss = build_process(load_job(ROOT / "inference/kkl.toml", sets).model)
    assert gauss.exact_gaps == [1.0, 2.0, 3.0] and gauss.gaussian
    _, model, obs = _measure("kkl.toml", 1000, *sets, f"model.prior=\"{prior}\"", 'observables.names=["gaps"]')
    assert model.exact_gaps is None and not model.gaussian and "fourth-cumulant" in model.info["gaps_note"]
    assert all(g["exact"] is None and g["systematic"] is None for g in obs["gaps"])


def test_gaussian_power_moments_match_the_hermite_spectrum_of_ou():
    """Isserlis on the OU grid covariance = the Hermite-level correlators (the GEVP's exact input)."""
    job = load_job(ROOT / "inference/reflection_positivity.toml", ["model.steps=60"])
    model = build_process(job.model)
    powers, n_tau, dt = (1, 2, 3), 12, job.model.dt
    hs = model.levels(powers)
    w = hs.coefficients[:, None, :] * hs.coefficients[None, :, :] * _fact(hs)[None, None, :]
    conn = np.einsum("ikn,tn->tik", w[..., 1:], np.exp(-np.outer(dt * np.arange(n_tau), hs.energies[1:])))
    raw, means = gaussian_power_moments(model.covariance, powers, n_tau)
    np.testing.assert_allclose(raw, conn + np.outer(hs.coefficients[:, 0], hs.coefficients[:, 0]), atol=1e-12)
    assert means.shape == (model.covariance.shape[0], len(powers))  # per site: the same at every site here
    np.testing.assert_allclose(means, np.tile(hs.coefficients[:, 0], (len(means), 1)), atol=1e-12)


def test_table_shows_a_missing_value_as_missing_not_nan():
    """The printed table: an entry without a value (KKL Δx·Δp) reads "no value", never "nan"/"None"."""
    from nnqm_ppl.tables import format_table

    table = format_table({"uncertainty": {"value": None, "mcse": None, "verdict": None, "note": "ħ = 0"},
                          "commutator": {"value": -0.68, "mcse": 0.001, "exact": -0.68, "continuum": 0.0}})
    assert "no value" in table and "nan" not in table.lower() and "None" not in table


def test_nnqm_exact_deep_network_without_a_momentum_is_strict_json(capsys):
    """σ_w = 3: at dt = 0.05 the point-split ⟨p²⟩ of f(OU) is negative (was NaN): None + the reason."""
    assert main(["exact", str(ROOT / "models/deep_nnqm.toml"), "--set", "sigma_w=3.0"]) == 0
    out = json.loads(capsys.readouterr().out, parse_constant=_no_nan)
    assert out["uncertainty"] is None and "not positive" in out["uncertainty_note"]
    assert out["uncertainty_bound"] > 0 and out["commutator_continuum"] < 0


def test_kkl_refuses_an_hbar_it_would_ignore(capsys):
    """ħ of a KL network is its quadratic variation, not an input: a given ``hbar`` is refused (exit 2)."""
    assert main(["exact", str(ROOT / "models/kkl.toml"), "--set", "hbar=2.0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "hbar" in err[0] and "quadratic variation" in err[0]
