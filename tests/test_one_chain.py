"""One chain works for every task: ``sampler.chains = 1`` on a shipped job of each task (at a
small size) ends with its gates judged (exit 0 or 3, never a crash), R-hat skipped with the reason
(``rhat_max`` null, JSON-strict) and no R-hat failure, and ``nnqm diagnose`` recomputes the same
diagnostics from the saved draws. (Before: the sample task ended with exit 1, ArviZ's rank plot
raising "requires at least 2 chains".) The fit task at one chain is the spectral fit over
several K, which is also the test that each sampled model resumes from its own checkpoint."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from nnqm_ppl import sampling
from nnqm_ppl.checkpoint import CHECKPOINT_NAME, read_checkpoint
from nnqm_ppl.cli import main
from nnqm_ppl.diagnostics import RHAT_SKIPPED_ONE_CHAIN
from nnqm_ppl.rundir import LOCK_NAME

ROOT = Path(__file__).resolve().parent.parent

#: a shipped job of every task but ``fit``, with small --set sizes (the fit: the spectral fit below)
JOBS = {
    "sample": ("anharmonic.toml", ["model.slices=16", "model.beta=4.0", "sampler.warmup=100",
                                   "sampler.samples=200"]),
    "nnqm": ("kkl.toml", ["sampler.samples=400", "model.steps=40", "model.n_modes=40"]),
    "correlators": ("cosnet_correlators.toml", ["networks=40000", "chunk=2000"]),
}


def _strict(text: str) -> dict:
    """JSON without NaN or infinities (``json.loads`` accepts them by default)."""
    def refuse(token: str) -> None:
        raise ValueError(f"non-JSON number {token}")

    return json.loads(text, parse_constant=refuse)


def _check_one_chain(out: Path, rc: int, capsys: pytest.CaptureFixture) -> None:
    """The gates of a finished one-chain run: judged without R-hat, and ``nnqm diagnose`` agrees."""
    assert rc in (0, 3), capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["spec"]["sampler"]["chains"] == 1
    diag = _strict(json.dumps(summary["diagnostics"]))
    assert diag["rhat_max"] is None and diag["rhat_skipped"] == RHAT_SKIPPED_ONE_CHAIN
    assert not any("R-hat" in f for f in diag["failures"]), diag["failures"]
    assert diag["passed"] == (rc == 0) and diag["passed"] == (not diag["failures"])
    assert np.isfinite(diag["ess_bulk_min"]) and diag["ess_bulk_min"] > 0
    assert np.isfinite(diag["ess_tail_min"]) and diag["ess_tail_min"] > 0
    assert not (out / "rank.png").exists()  # rank plots compare chains
    capsys.readouterr()
    assert main(["diagnose", str(out)]) == rc
    again = _strict(capsys.readouterr().out)
    for name in ("rhat_max", "rhat_skipped", "failures", "passed"):
        assert again[name] == diag[name], name
    for name in ("ess_bulk_min", "ess_tail_min"):
        assert again[name] == pytest.approx(diag[name], rel=1e-12), name


@pytest.mark.parametrize("task", sorted(JOBS))
def test_task_runs_with_one_chain(task: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    job, sets = JOBS[task]
    out = tmp_path / task
    argv = ["run", str(ROOT / "inference" / job), "--out", str(out), "--no-progress", "--set", "sampler.chains=1"]
    for item in sets:
        argv += ["--set", item]
    rc = main(argv)
    assert json.loads((out / "summary.json").read_text())["task"] == task
    _check_one_chain(out, rc, capsys)


#: the spectral fit (candidate K = 1, 2) at one chain, in segments of 50 draws
SPECTRAL = ["sampler.chains=1", "sampler.warmup=100", "sampler.samples=100", "sampler.checkpoint_every=50"]


def test_spectral_fit_with_one_chain_resumes_each_model_from_its_own_checkpoint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """A one-chain spectral fit over K = 1, 2, stopped after the second model's first segment and
    resumed, equals the uninterrupted fit bit for bit. The stop is simulated deterministically:
    during the uninterrupted run the run directory's files are copied just after that checkpoint
    is written, which is what a kill at that moment leaves. Each model has its own checkpoint
    (K = 1 complete, without ``dE``; K = 2 at 50 draws, with it). (Before: one file for both, so
    the resumed K = 1 loaded K = 2's state.)"""
    job = str(ROOT / "inference" / "fit_spectrum.toml")
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    argv = [a for s in SPECTRAL for a in ("--set", s)]
    real = sampling.write_checkpoint

    def write_and_snapshot(path, tag, model, state, samples, stats, done):
        real(path, tag, model, state, samples, stats, done)
        if model["slot"] == 1 and done == 50:
            broken.mkdir()
            for f in path.parent.iterdir():
                shutil.copy2(f, broken / f.name)

    monkeypatch.setattr(sampling, "write_checkpoint", write_and_snapshot)
    rc = main(["run", job, "--out", str(whole), "--no-progress", *argv])
    monkeypatch.undo()
    _check_one_chain(whole, rc, capsys)
    # with the lock file the killed run leaves (its OS lock died with it: the resume below takes it)
    assert {f.name for f in broken.iterdir()} == {CHECKPOINT_NAME, "checkpoint.1.npz", LOCK_NAME}
    first, second = (read_checkpoint(broken / name) for name in (CHECKPOINT_NAME, "checkpoint.1.npz"))
    assert first["done"] == 100 and "dE" not in first["samples"] and "dE" not in first["model"]["sites"]
    assert second["done"] == 50 and "dE" in second["samples"] and second["model"]["sites"]["dE"]["shape"] == [1]

    assert main(["run", job, "--out", str(broken), "--no-progress", "--resume", *argv]) == rc
    assert {f.name for f in broken.iterdir()} == {f.name for f in whole.iterdir()}  # no checkpoint left
    a, b = (xr.open_datatree(d / "samples.nc", engine="h5netcdf") for d in (whole, broken))
    for group in ("posterior", "sample_stats", "log_likelihood"):
        for name in a[group].data_vars:
            assert np.array_equal(a[group][name].values, b[group][name].values), f"{group}/{name}"
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (whole, broken))
    for key in ("observables", "diagnostics", "fit", "posterior"):
        assert sa[key] == sb[key], key
