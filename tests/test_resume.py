"""Checkpoint and resume: a run killed (SIGKILL) part-way, interrupted (SIGINT) and resumed ends
with draws identical, bit for bit, to an uninterrupted run, and leaves no partial file behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from specimens import SHORT_PATH_MODEL as MODEL

from nnqm_ppl.rundir import LOCK_NAME
from nnqm_ppl.sampling import CHECKPOINT_NAME, read_checkpoint

JOB = """
task = "sample"
model = "model.toml"
[sampler]
chains = 2
warmup = 60
samples = 240
checkpoint_every = 20
[observables]
names = ["x2"]
[gates]
ess_min = 10
"""
RESULTS = {"summary.json", "samples.nc", "trace.png", "rank.png"}


@pytest.fixture()
def job(tmp_path: Path) -> Path:
    (tmp_path / "model.toml").write_text(MODEL)
    path = tmp_path / "job.toml"
    path.write_text(JOB)
    return path


def _cmd(job: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "nnqm_ppl.cli", "run", str(job), "--out", str(out), "--no-progress", *extra]


def _start(job: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(_cmd(job, out, *extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_checkpoint(proc: subprocess.Popen, path: Path, after: int = -1, timeout: float = 120) -> int:
    """Poll until ``path`` holds a checkpoint past draw ``after``; returns its draw count."""
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        assert proc.poll() is None, f"run ended before it could be stopped: {proc.communicate()}"
        if path.is_file():
            done = read_checkpoint(path)["done"]
            if done > after:
                return done
        time.sleep(0.005)
    raise AssertionError("no checkpoint appeared")


def _only_complete_files(out: Path) -> None:
    for f in out.iterdir():
        if f.name.startswith(".") and f.name.endswith(".tmp"):
            continue  # an unfinished atomic write: never read, removed by the next run
        if f.name == LOCK_NAME:
            continue  # names the killed holder; its OS lock died with it (the resumed runs below take it)
        assert f.name in RESULTS | {CHECKPOINT_NAME}, f.name
        if f.name == CHECKPOINT_NAME:
            read_checkpoint(f)  # loads: complete


def _draws(out: Path) -> dict[str, np.ndarray]:
    with xr.open_datatree(out / "samples.nc", engine="h5netcdf") as tree:
        return {f"{g}/{v}": tree[g][v].values for g in ("posterior", "sample_stats") for v in tree[g].data_vars}


def test_killed_interrupted_and_resumed_run_equals_uninterrupted(tmp_path: Path, job: Path) -> None:
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    assert subprocess.run(_cmd(job, whole), capture_output=True, check=False).returncode == 0

    # SIGKILL part-way: only complete files (and perhaps one abandoned temp file) remain
    proc = _start(job, broken)
    _wait_for_checkpoint(proc, broken / CHECKPOINT_NAME)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _only_complete_files(broken)
    assert not (broken / "summary.json").exists()

    # without --resume the saved work is not thrown away
    refused = subprocess.run(_cmd(job, broken), capture_output=True, text=True, check=False)
    assert refused.returncode == 2 and "--resume" in refused.stderr
    assert (broken / CHECKPOINT_NAME).is_file()

    # Ctrl-C on the resumed run: stops at a segment boundary with a checkpoint, exit 130
    proc = _start(job, broken, "--resume")
    done = _wait_for_checkpoint(proc, broken / CHECKPOINT_NAME, after=read_checkpoint(broken / CHECKPOINT_NAME)["done"])
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "--resume" in err.splitlines()[-1]
    assert read_checkpoint(broken / CHECKPOINT_NAME)["done"] >= done

    # resume to the end
    final = subprocess.run(_cmd(job, broken, "--resume"), capture_output=True, text=True, check=False)
    assert final.returncode == 0, final.stderr
    assert {f.name for f in broken.iterdir()} == RESULTS  # no temp file, no checkpoint left
    a, b = _draws(whole), _draws(broken)
    assert a.keys() == b.keys() and "posterior/x" in a
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (whole, broken))
    assert sa["observables"] == sb["observables"] and sa["diagnostics"] == sb["diagnostics"]


def test_resume_without_checkpoint_exits_2(tmp_path: Path, job: Path) -> None:
    from nnqm_ppl.cli import main

    assert main(["run", str(job), "--out", str(tmp_path / "none"), "--resume"]) == 2
    assert not (tmp_path / "none").exists()


def test_checkpoint_of_another_spec_is_refused(tmp_path: Path, job: Path, capsys) -> None:
    from nnqm_ppl import report
    from nnqm_ppl.checkpoint import write_checkpoint
    from nnqm_ppl.cli import main
    from nnqm_ppl.tasks import load_job

    out = tmp_path / "out"
    other = report.job_tag(load_job(job, ["sampler.seed=7"]))
    write_checkpoint(out / CHECKPOINT_NAME, other, {}, {}, {}, {}, 20)
    before = (out / CHECKPOINT_NAME).read_bytes()
    assert main(["run", str(job), "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and CHECKPOINT_NAME in err[0] and "different spec or seed" in err[0]
    assert (out / CHECKPOINT_NAME).read_bytes() == before
    assert os.listdir(out) == [CHECKPOINT_NAME]


def test_same_job_and_seed_reproduce_draws_and_summary(tmp_path: Path, job: Path) -> None:
    """Reproducibility: identical ``samples.nc`` values and ``summary.json`` numbers."""
    from nnqm_ppl.cli import main

    outs = [tmp_path / "r1", tmp_path / "r2"]
    codes = {main(["run", str(job), "--out", str(out), "--no-progress", "--set", "sampler.samples=60"]) for out in outs}
    assert len(codes) == 1 and codes <= {0, 3}  # a short run may fail its gates; the numbers are what matter
    a, b = (_draws(out) for out in outs)
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    sa, sb = (json.loads((out / "summary.json").read_text()) for out in outs)
    sa.pop("elapsed_s"), sb.pop("elapsed_s")
    assert sa == sb
    assert sa["seed"] == 0 and sa["spec"]["sampler"]["seed"] == 0 and sa["devices"] >= 1
    assert {"nnqm_ppl", "jax", "numpyro", "arviz"} <= set(sa["versions"])
