"""Numerical trouble at run time, met by the sampler itself (nothing mocked in the sampling):
every transition divergent (HMC with an absurd fixed step size and no warm-up to adapt it), a log
density that is NaN in part of the space, and one that is NaN everywhere. Each ends with a clear
message and exit 3 (or failed gates), keeping what was written."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from specimens import SHORT_PATH_MODEL as MODEL

from nnqm_ppl import sampling
from nnqm_ppl.cli import main
from nnqm_ppl.diagnostics import check_gates
from nnqm_ppl.networks.paths import path_network
from nnqm_ppl.physics import Lattice, Potential
from nnqm_ppl.spec import GatesSpec, SamplerSpec
from nnqm_ppl.theories.path_integral import Theory

JOB = """
task = "sample"
model = "model.toml"
[sampler]
method = "hmc"
chains = 2
warmup = 0          # no adaptation: the absurd step size stays
samples = 40
step_size = 50.0
num_steps = 4
checkpoint_every = 20
[observables]
names = ["x2"]
[gates]
ess_min = 5
"""
LATTICE = Lattice(beta=4.0, slices=8)
SAMPLER = SamplerSpec(chains=2, warmup=30, samples=30, checkpoint_every=0)


@pytest.fixture()
def job(tmp_path: Path) -> Path:
    (tmp_path / "model.toml").write_text(MODEL)
    path = tmp_path / "job.toml"
    path.write_text(JOB)
    return path


def test_every_draw_divergent_fails_the_gates_with_exit_3_and_keeps_the_run(job, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(job), "--out", str(out), "--no-progress"]) == 3
    err = capsys.readouterr().err
    assert "GATES FAILED" in err and "80 divergent transitions > 0" in err and "Traceback" not in err
    assert sorted(f.name for f in out.iterdir()) == ["rank.png", "samples.nc", "summary.json", "trace.png"]
    diag = json.loads((out / "summary.json").read_text())["diagnostics"]
    assert diag["passed"] is False and diag["divergences"] == 80  # every one of 2 x 40 transitions


def test_nan_in_part_of_the_log_density_is_rejected_and_fails_the_gates():
    """V is NaN for |x| > 1.5: trajectories that reach it are divergent and rejected, so the draws
    stay finite and the divergence gate names the trouble."""
    nan_wall = Potential.from_callable(lambda x: 0.5 * x**2 + jnp.where(jnp.abs(x) > 1.5, jnp.nan, 0.0))
    tree = sampling.run_mcmc(path_network(LATTICE, nan_wall, "fourier").model, SAMPLER, jax.random.key(0),
                             progress=False, dims={"x": ["site"]})
    x = tree.posterior["x"].values
    assert np.isfinite(x).all() and np.abs(x).max() <= 1.5
    stats = tree["sample_stats"].to_dataset()
    diverging = int(stats["diverging"].sum())
    assert diverging > 0
    diag = check_gates({"x2": (x**2).mean(axis=-1)}, GatesSpec(ess_min=5), stats)
    assert not diag.passed and f"{diverging} divergent transitions > 0" in diag.failures


def test_nan_everywhere_is_numerical_trouble_with_exit_3(job, tmp_path, capsys, monkeypatch):
    nan_everywhere = Potential.from_callable(lambda x: x * jnp.nan)
    with pytest.raises(sampling.NumericalTrouble, match="NaN or infinite at every starting point"):
        sampling.run_mcmc(path_network(LATTICE, nan_everywhere, "fourier").model, SAMPLER, jax.random.key(0),
                          progress=False)

    # through the command: the job's own theory with this potential (the sampler is not mocked)
    from nnqm_ppl.tasks import path_integral
    from nnqm_ppl.theories.path_integral import lattice_from_spec

    monkeypatch.setattr(path_integral, "theory_from_spec",
                        lambda spec: Theory(path_network(lattice_from_spec(spec), nan_everywhere, spec.network)))
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("kept")
    assert main(["run", str(job), "--out", str(out), "--no-progress", "--set", "sampler.warmup=10"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "numerical trouble" in err[0] and "job.toml" in err[0], err
    assert [f.name for f in out.iterdir()] == ["notes.txt"]  # nothing sampled, nothing lost
