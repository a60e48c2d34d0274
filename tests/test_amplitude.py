"""Transition amplitudes K(x_i, x_f; β) = ⟨x_f|e^{−βH/ħ}|x_i⟩ and the free particle (issue 12, part 1).

Exact (no sampling): the lattice free kernel *is* the continuum one (transfer matrix and Gaussian
integral against the closed form); the Gaussian lattice amplitude equals [T^N]; Mehler's kernel
equals the diagonalisation sum; the thermodynamic-integration rule on the exact integrand
converges to the exact log ratio; the half line's conditioned end density is normalised and, for
the oscillator, the Gaussian of Mehler's kernel; the free bridge's window values.

Monte Carlo (the ``amplitude`` entry of the sample task, within 4 MCSE plus the stated systematic,
the Gauss–Legendre rule's error on the exact integrand): the free particle (|K| is the free kernel,
the end-point ratio the Monte Carlo check), the oscillator and V = x²/2 + x⁴ by thermodynamic
integration (exact draws; NUTS), the conditioned end density on a half line. Bad input: a constant
V without fixed ends, and the amplitude's fields and name where they do not apply (exit 2, one line).
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np
import pytest

from nnqm_ppl.cli import main
from nnqm_ppl.exact import amplitude as A
from nnqm_ppl.exact import path_integral_exact
from nnqm_ppl.exact.diagonalize import diagonalize
from nnqm_ppl.exact.transfer import transfer_matrix
from nnqm_ppl.physics import Lattice, Potential
from nnqm_ppl.spec import SpecError
from nnqm_ppl.tasks import load_job, path_integral

ROOT = Path(__file__).resolve().parent.parent
K_SIGMA = 4.0
FREE = [0.0]
HARMONIC = [0.0, 0.0, 0.5]
ANHARMONIC = [0.0, 0.0, 0.5, 0.0, 1.0]
TILTED = [0.0, 0.3, 0.8]
#: x_i -> x_f over β = 1 on 16 slices (a = 1/16)
ENDS = ["model.boundary=fixed", "model.x_ini=0.3", "model.x_fin=-0.5", "model.beta=1.0", "model.slices=16"]


def _fixed(coeffs, beta=1.0, slices=16, x_ini=0.3, x_fin=-0.5, mass=1.0, hbar=1.0):
    lat = Lattice(beta, slices, mass=mass, hbar=hbar, boundary="fixed", x_ini=x_ini, x_fin=x_fin)
    return lat, Potential.from_coeffs(coeffs, "fixed")


def _within(entry: dict, systematic=0.0) -> np.ndarray:
    value, mcse, exact = (np.asarray(entry[k], dtype=float) for k in ("value", "mcse", "exact"))
    return np.abs(value - exact) <= K_SIGMA * mcse + systematic


# -------------------------------------------------------------------------------------------------
# exact values


@pytest.mark.parametrize(("beta", "slices", "mass", "hbar"), [(1.0, 16, 1.0, 1.0), (2.5, 5, 2.0, 0.5)])
def test_free_lattice_kernel_is_the_continuum_kernel(beta, slices, mass, hbar):
    """N Gaussian steps of variance ħa/m convolve into one of variance ħβ/m: no lattice artefact."""
    lat, free = _fixed(FREE, beta, slices, mass=mass, hbar=hbar)
    ys = np.linspace(-1.5, 1.0, 7)
    closed = A.free_log_kernel(0.3, ys, beta, mass, hbar)
    np.testing.assert_allclose(A.transfer_log_amplitude(transfer_matrix(lat, free), 0.3, ys), closed, atol=1e-9)
    np.testing.assert_allclose(A.gaussian_log_amplitude(lat, free, ys), closed, atol=1e-12)
    lat, shifted = _fixed([0.7], beta, slices, mass=mass, hbar=hbar)  # a constant: e^{-βc0/ħ}
    np.testing.assert_allclose(A.lattice_log_amplitude(lat, shifted, ys), closed - beta * 0.7 / hbar, atol=1e-14)
    np.testing.assert_allclose(A.transfer_log_amplitude(transfer_matrix(lat, shifted), 0.3, ys),
                               closed - beta * 0.7 / hbar, atol=1e-9)


def test_gaussian_lattice_amplitude_is_transfer_matrix_power():
    """V = 0.1 + 0.2x + 0.5x² (m = 1.5, ħ = 0.8): the Gaussian integral equals [T^N]."""
    lat, pot = _fixed([0.1, 0.2, 0.5], 1.3, 12, mass=1.5, hbar=0.8)
    ys = np.linspace(-1.5, 1.0, 6)
    np.testing.assert_allclose(A.gaussian_log_amplitude(lat, pot, ys),
                               A.transfer_log_amplitude(transfer_matrix(lat, pot), 0.3, ys), atol=1e-9)


def test_lattice_oscillator_amplitude_tends_to_mehler():
    """The trapezoid action's amplitude approaches Mehler's kernel as O(a²): halving a quarters the gap."""
    gaps = []
    for slices in (16, 32, 64):
        lat, pot = _fixed(HARMONIC, slices=slices)
        gaps.append(float(A.gaussian_log_amplitude(lat, pot)[0] - A.mehler_log_kernel(0.3, -0.5, 1.0, 1.0)))
    assert abs(gaps[0]) > 1e-4
    np.testing.assert_allclose(np.array(gaps[:2]) / np.array(gaps[1:]), 4.0, rtol=0.01)


def test_mehler_kernel_is_the_diagonalisation_sum():
    """Σ_n ψ_n(x_i)ψ_n(y)e^{−βE_n/ħ} over the complete DVR basis equals Mehler's kernel; a shifted
    quadratic V takes Mehler's kernel about its minimum."""
    omega, mass, hbar, beta = 1.3, 1.2, 0.9, 0.8
    pot = Potential.from_coeffs([0.0, 0.0, 0.5 * mass * omega**2])
    ys = np.linspace(-1.5, 1.5, 7)
    spec = diagonalize(pot, mass, hbar, beta=beta, box=(-8.0, 8.0))
    np.testing.assert_allclose(np.log(A.diagonalized_amplitude(spec, 0.4, ys, beta)),
                               A.mehler_log_kernel(0.4, ys, beta, omega, mass, hbar), atol=1e-9)
    tilted = Potential.from_coeffs([0.2, 0.3, 0.8])
    spec = diagonalize(tilted, beta=beta, box=(-8.0, 8.0))
    np.testing.assert_allclose(A.continuum_log_amplitude(tilted, 0.4, ys, beta),
                               np.log(A.diagonalized_amplitude(spec, 0.4, ys, beta)), atol=1e-9)


def test_thermodynamic_integration_rule_on_the_exact_integrand():
    """The rule converges to the exact log ratio (transfer-matrix integrand against [T^N]); the Gaussian
    moments of a quadratic V give the transfer matrix's integrand."""
    lat, pot = _fixed(ANHARMONIC)
    errors = [A.ti_exact(lat, pot, n)["quadrature_error"] for n in (2, 4, 8)]
    assert errors[0] > 1e-5 and errors[1] < 1e-6 and errors[2] < 1e-10, errors
    lat, quad = _fixed(TILTED)
    lams = [0.2, 0.9]
    by_tm = [lat.a * (np.sum(transfer_matrix(lat, A.scaled(quad, lam)).site_values(quad, range(1, 16)))
                      + 0.5 * float(quad(0.3) + quad(-0.5))) for lam in lams]
    np.testing.assert_allclose(A.ti_integrand(lat, quad, lams), by_tm, atol=1e-10)


def test_half_line_end_density():
    """[T^N](x_i, ·)/∫ on the half line equals the normalised Gaussian amplitude; the continuum one is
    Mehler's kernel in y: a normal density of mean x_i/cosh ωβ and variance ħ tanh(ωβ)/mω."""
    lat = Lattice(2.0, 16, boundary="half_line")
    pot = Potential.from_coeffs(TILTED)
    tm = transfer_matrix(lat, pot)
    ys = np.linspace(-1.4, 1.4, 8)
    fixed = Lattice(2.0, 16, boundary="fixed", x_ini=0.4, x_fin=0.0)
    gauss = np.exp(A.gaussian_log_amplitude(fixed, Potential.from_coeffs(TILTED, "fixed"), np.append(tm.x, ys)))
    np.testing.assert_allclose(A.end_density(tm, 0.4, ys), gauss[-8:] / (tm.h * np.sum(gauss[:-8])), rtol=1e-9)
    omega, beta = 1.0, 2.0
    mean, var = 0.4 / np.cosh(omega * beta), np.tanh(omega * beta) / omega
    normal = np.exp(-((ys - mean) ** 2) / (2 * var)) / np.sqrt(2 * np.pi * var)
    np.testing.assert_allclose(A.end_density_continuum(Potential.from_coeffs(HARMONIC), 0.4, ys, beta), normal,
                               atol=1e-9)


def test_free_bridge_exact_values():
    """A constant V: the window values only (no spectrum), the continuum equal to the lattice; the
    point-split ⟨p²⟩ = mħ/β − (m(x_f − x_i)/β)² at every a, the commutator −ħ, |K| the free kernel."""
    for slices in (8, 24):
        lat, free = _fixed(FREE, 1.0, slices, x_ini=0.0, x_fin=0.5)
        out = path_integral_exact(lat, free)
        assert "gap" not in out["lattice"] and out["continuum"] == {k: v for k, v in out["lattice"].items()
                                                                    if k != "window"}
        assert out["lattice"]["p2"] == pytest.approx(1.0 - 0.25, abs=1e-8)
        assert out["lattice"]["commutator"] == pytest.approx(-1.0, abs=1e-8)
        assert out["lattice"]["amplitude"] == pytest.approx(np.exp(-0.125) / np.sqrt(2 * np.pi), rel=1e-14)


# -------------------------------------------------------------------------------------------------
# the Monte Carlo of the amplitude entry


def _run(job_file: str, sets: list[str]) -> tuple[dict, object]:
    job = load_job(ROOT / "inference" / job_file, sets)
    result = path_integral.run(job, jax.random.key(job.sampler.seed), False)
    assert result.diagnostics.passed, result.diagnostics.failures
    return result.observables, job


def test_free_particle_amplitude_and_bridge():
    """The shipped free-particle job (exact bridge draws): |K| is the free kernel (no Monte Carlo
    error, said in the note), the x_f-dependence and the bridge's window values within 4 MCSE."""
    obs, _ = _run("free_particle.toml", ["sampler.method=exact", "sampler.samples=2000"])
    amp = obs["amplitude"]
    kernel = np.exp(-0.125) / np.sqrt(2 * np.pi)  # x 0 -> 0.5, β = 1
    assert amp["value"] == amp["exact"] == pytest.approx(kernel, rel=1e-14) and "note" in amp
    ratio = amp["ratio"]
    assert _within(ratio).all(), ratio
    np.testing.assert_allclose(ratio["exact"], np.exp(-(np.asarray(ratio["x"]) ** 2 - 0.25) / 2.0), rtol=1e-9)
    assert min(ratio["weight_ess"]) > 0.05
    for name in ("x2", "x4", "correlator", "uncertainty", "commutator"):
        assert _within(obs[name]).all(), (name, obs[name])


def test_oscillator_amplitude_by_thermodynamic_integration():
    """V = x²/2, x 0.3 -> −0.5, β = 1, 16 slices, exact draws at 4 nodes: |K| within 4 MCSE + the rule's
    error of the lattice's Gaussian closed form; each node's integrand within 4 MCSE; the continuum
    column is Mehler's kernel."""
    obs, job = _run("harmonic.toml", [*ENDS, 'observables.names=["amplitude"]', "sampler.method=exact",
                                      "sampler.samples=1000"])
    amp = obs["amplitude"]
    lat, pot = _fixed(HARMONIC)
    assert amp["exact"] == pytest.approx(float(np.exp(A.gaussian_log_amplitude(lat, pot)[0])), rel=1e-13)
    assert amp["continuum"] == pytest.approx(float(np.exp(A.mehler_log_kernel(0.3, -0.5, 1.0, 1.0))), rel=1e-13)
    assert _within(amp, amp["systematic"]) and _within(amp["log"], amp["log"]["systematic"])
    assert _within(amp["integrand"]).all(), amp["integrand"]
    assert _within(amp["ratio"]).all(), amp["ratio"]
    assert 0 < amp["mcse"] < 0.01 * amp["value"]  # a real Monte Carlo number


@pytest.mark.slow
def test_anharmonic_amplitude_nuts_against_transfer_matrix():
    """V = x²/2 + x⁴ with NUTS at 2 nodes (the rule's error 9e-5 in log K, stated, against an MCSE of
    ~5e-3): |K| within 4 MCSE + systematic of [T^N] on the same lattice; each node's integrand and the
    end-point ratio within 4 MCSE."""
    obs, job = _run("anharmonic.toml", [*ENDS, 'observables.names=["amplitude"]', "amplitude_nodes=2",
                                        "sampler.chains=2", "sampler.warmup=200", "sampler.samples=1000",
                                        "gates.ess_min=200"])
    amp = obs["amplitude"]
    lat, pot = _fixed(ANHARMONIC)
    t_n = A.transfer_log_amplitude(transfer_matrix(lat, pot), 0.3, -0.5)[0]
    assert amp["exact"] == pytest.approx(float(np.exp(t_n)), rel=1e-12)
    assert 1e-5 < amp["log"]["systematic"] < 1e-4
    assert _within(amp, amp["systematic"]) and _within(amp["integrand"]).all(), amp
    assert _within(amp["ratio"]).all(), amp["ratio"]


def test_half_line_conditioned_end_density():
    """V = 0.3x + 0.8x² on a half line (exact draws): the end density given x_0 = 0.4 within 4 MCSE of
    [T^N](0.4, ·)/∫ per bin."""
    obs, job = _run("harmonic.toml", ["model.boundary=half_line", f"model.potential={TILTED}", "model.beta=2.0",
                                      "model.slices=16", 'observables.names=["amplitude"]', "sampler.method=exact",
                                      "sampler.samples=2500", "histogram_bins=10", "histogram_range=1.5",
                                      "amplitude_x_ini=0.4"])
    amp = obs["amplitude"]
    assert amp["x_ini"] == 0.4 and amp["weight_ess"] > 0.2
    assert _within(amp).all(), amp
    assert np.all(np.asarray(amp["mcse"]) > 0)


# -------------------------------------------------------------------------------------------------
# bad input, nnqm exact

FREE_MODEL = (ROOT / "models" / "free_particle.toml").read_text()
JOB = 'task = "sample"\nmodel = "model.toml"\n'


@pytest.mark.parametrize(("model_sets", "job_extra", "field", "words"), [
    ({"boundary": '"periodic"'}, "", "model.potential", "does not exist with boundary 'periodic'"),
    ({"boundary": '"half_line"'}, "", "model.potential", "does not exist with boundary 'half_line'"),
    ({"potential": "[0.0, 0.4]"}, "", "model.potential", "constant"),
    ({}, "amplitude_x_ini = 0.5\n", "amplitude_x_ini", "only used with model.boundary = 'half_line'"),
    ({}, "amplitude_nodes = 17\n", "amplitude_nodes", "<= 16"),
    ({}, '[observables]\nnames = ["gap"]\n', "observables.names", "confining"),
    ({"potential": "[0.0, 0.0, 0.5]", "boundary": '"periodic"', "network": '"fourier"'},
     '[observables]\nnames = ["amplitude"]\n', "observables.names", "periodic"),
    ({"potential": "[0.0, 0.0, 0.5]", "boundary": '"half_line"'}, "amplitude_nodes = 3\n", "amplitude_nodes",
     "only used with model.boundary = 'fixed'"),
], ids=["periodic V=0", "half_line V=0", "linear V", "x_ini with fixed", "too many nodes", "gap of V=0",
        "amplitude of periodic", "nodes with half_line"])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, model_sets, job_extra, field, words):
    model = FREE_MODEL
    if model_sets.get("boundary", '"fixed"') != '"fixed"':
        model = model.replace("x_ini = 0.0", "").replace("x_fin = 0.5", "")
    for key, value in model_sets.items():
        start = model.index(f"\n{key} = ") + 1
        model = model[:start] + f"{key} = {value}" + model[model.index("\n", start):]
    (tmp_path / "model.toml").write_text(model)
    (tmp_path / "job.toml").write_text(JOB + job_extra)
    with pytest.raises(SpecError) as info:
        load_job(tmp_path / "job.toml")
    assert info.value.field == field and words in str(info.value), str(info.value)
    assert main(["run", str(tmp_path / "job.toml"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and field in err[0] and words in err[0], err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("path", ["models/free_particle.toml", "inference/free_particle.toml"])
def test_nnqm_exact_of_the_free_particle(path, capsys):
    assert main(["exact", str(ROOT / path)]) == 0
    out = json.loads(capsys.readouterr().out)
    kernel = np.exp(-0.125) / np.sqrt(2 * np.pi)
    assert out["lattice"]["amplitude"] == pytest.approx(kernel, rel=1e-14) == out["continuum"]["amplitude"]
    assert out["lattice"]["x2"] == pytest.approx(0.29296875, abs=1e-9)  # the bridge: mean² + τ(β−τ)/β on the window
