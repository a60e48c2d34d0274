"""End-to-end runs of the ``nnqm`` command on the catalogue's jobs (reduced sizes)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from nnqm_ppl.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


def test_cosnet_correlators_job(tmp_path, capsys):
    out = tmp_path / "cos"
    rc = main(["run", str(ROOT / "inference/cosnet_correlators.toml"), "--out", str(out),
               "--set", "networks=200000", "--set", "model.width=4", "--set", "gates.ess_min=1000"])
    assert rc == 0
    table = capsys.readouterr().out
    assert "G4c" in table and "±" in table
    s = _summary(out)
    assert s["task"] == "correlators" and s["spec"]["model"]["width"] == 4
    assert set(s["versions"]) >= {"nnqm_ppl", "jax", "numpyro", "arviz"}
    for name in ("G2", "G4c"):
        entry = s["observables"][name]
        value, mcse, exact = (np.asarray(entry[k]) for k in ("value", "mcse", "exact"))
        # closed forms (Halverson S11 and the corrected S15): Monte Carlo within 4 MCSE
        assert np.all(np.abs(value - exact) <= 4 * mcse), name
    # the field is width 4: G4c is far from zero (1/N), so the check above has teeth
    assert abs(s["observables"]["G4c"]["exact"]) > 10 * s["observables"]["G4c"]["mcse"]
    tree = xr.open_datatree(out / "samples.nc")
    assert "phi2" in tree["posterior"]
    assert (out / "correlators.png").stat().st_size > 0


def test_same_seed_same_numbers(tmp_path):
    args = ["--set", "networks=20000", "--set", "gates.ess_min=0"]
    job = str(ROOT / "inference/cosnet_correlators.toml")
    assert main(["run", job, "--out", str(tmp_path / "a"), "--seed", "7", *args]) == 0
    assert main(["run", job, "--out", str(tmp_path / "b"), "--seed", "7", *args]) == 0
    a, b = _summary(tmp_path / "a"), _summary(tmp_path / "b")
    assert a["observables"] == b["observables"] and a["seed"] == 7


def test_gate_failure_exits_3_and_writes_everything(tmp_path, capsys):
    out = tmp_path / "few"
    job = str(ROOT / "inference/cosnet_correlators.toml")
    assert main(["run", job, "--out", str(out), "--set", "networks=2000"]) == 3
    err = capsys.readouterr().err
    assert "GATES FAILED" in err and "ESS" in err
    s = _summary(out)
    assert s["diagnostics"]["passed"] is False and s["diagnostics"]["failures"]
    assert (out / "samples.nc").exists()
    assert main(["diagnose", str(out)]) == 3


def test_list_shows_the_catalogue(capsys):
    assert main(["list"]) == 0
    text = capsys.readouterr().out
    assert "cosnet_correlators.toml" in text and "anharmonic.toml" in text


@pytest.mark.parametrize("job", sorted(p.name for p in (ROOT / "inference").glob("*.toml")))
def test_catalogue_jobs_validate(job):
    from nnqm_ppl.tasks import load_job

    assert load_job(ROOT / "inference" / job).task


def test_main_job_anharmonic(tmp_path, capsys):
    """The README's main job at reduced size: every summary key per DESIGN.md, plots, DataTree."""
    out = tmp_path / "anh"
    job = str(ROOT / "inference/anharmonic.toml")
    rc = main(["run", job, "--out", str(out), "--set", "sampler.warmup=300", "--set", "sampler.samples=400",
               "--set", "gates.ess_min=200", "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    s = _summary(out)
    obs = s["observables"]
    for name in ("x2", "x4", "E0", "gap", "correlator", "uncertainty", "commutator"):
        assert {"value", "mcse", "exact", "continuum"} <= set(obs[name]), name
    for name in ("x2", "E0", "gap"):
        assert abs(obs[name]["value"] - obs[name]["exact"]) <= 4 * obs[name]["mcse"] + obs[name].get("systematic", 0)
    assert {"x", "value", "mcse", "exact", "continuum"} <= set(obs["psi0_squared"])
    assert len(obs["effective_mass"]["value"]) == len(obs["effective_mass"]["exact"])
    d = s["diagnostics"]
    assert d["passed"] and d["divergences"] == 0 and d["bfmi_min"] is not None
    tree = xr.open_datatree(out / "samples.nc")
    assert tree["posterior"]["x"].shape[-1] == 64 and "sample_stats" in tree.children
    for png in ("correlator", "wavefunction", "trace", "rank"):
        assert (out / f"{png}.png").stat().st_size > 1000, png
    table = capsys.readouterr().out
    assert "continuum" in table and "gap" in table


def test_exact_piped_into_a_reader_that_stops_early_is_quiet():
    """``nnqm exact FILE | head``: a closed stdout is the reader's choice, not an error (exit 0, no stderr)."""
    import subprocess
    import sys

    model = Path(__file__).resolve().parent.parent / "models" / "harmonic.toml"
    proc = subprocess.Popen([sys.executable, "-m", "nnqm_ppl.cli", "exact", str(model)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before the command has imported anything, so its first write meets a closed pipe
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0, err
    assert err == ""


@pytest.mark.parametrize("used, cleared", [(1_000, False), (40_000, True)])
def test_compiled_code_is_released_only_near_the_mapping_limit(monkeypatch, capsys, used, cleared):
    """A loop of in-process commands frees JAX's compiled programs past half of vm.max_map_count
    (each run keeps ~1 000 mappings; at the limit XLA aborts), and only there (it costs a recompile)."""
    import jax

    from nnqm_ppl import cli

    calls = []
    monkeypatch.setattr(cli, "_map_usage", lambda: (used, 65_530))
    monkeypatch.setattr(jax, "clear_caches", lambda: calls.append(True))
    assert main(["list"]) == 0
    assert bool(calls) is cleared
    capsys.readouterr()


def test_map_usage_reads_this_process():
    from nnqm_ppl import cli

    usage = cli._map_usage()
    if usage is None:
        pytest.skip("no /proc/self/maps on this system")
    used, limit = usage
    assert 0 < used < limit


_ROOT = Path(__file__).resolve().parent.parent


_CATALOGUE = sorted((_ROOT / "inference").glob("*.toml")) + sorted((_ROOT / "models").glob("*.toml"))


@pytest.mark.parametrize("path", _CATALOGUE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_exact_of_every_shipped_file(path, capsys):
    """``nnqm exact`` answers for every job and model in the catalogue (a fit of a neural field
    once failed: its task has no points), with the model kind and its exact values in the JSON."""
    assert main(["exact", str(path)]) == 0, capsys.readouterr().err
    out = json.loads(capsys.readouterr().out)
    expected = {"path_integral": {"lattice", "continuum"}, "neural_field": {"points", "G2"}}
    assert expected.get(out["model"], {"dt", "gaps"}) <= set(out), sorted(out)
