"""A checkpoint is data, never code: an NPZ archive of arrays with a JSON header, read with
``allow_pickle=False``. A pickle put in its place (one that would run code), a truncated or
altered file, an archive nnqm did not write, and a checkpoint of another model are each refused
with exit 2 and one line, without running anything and without touching the run directory. The
sampler state (typed PRNG keys included) survives the round trip bit for bit."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import jax
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest
from numpyro.infer import HMC, MCMC
from specimens import SHORT_PATH_MODEL as MODEL

from nnqm_ppl import report
from nnqm_ppl.checkpoint import CHECKPOINT_NAME, from_host, read_checkpoint, to_host, write_checkpoint
from nnqm_ppl.cli import main
from nnqm_ppl.spec import SpecError
from nnqm_ppl.tasks import load_job

JOB = """
task = "sample"
model = "model.toml"
[sampler]
chains = 2
warmup = 20
samples = 40
checkpoint_every = 20
[observables]
names = ["x2"]
"""


class _Payload:
    """Unpickling this runs ``os.mkdir(marker)``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (str(self.marker),)


@pytest.fixture()
def run_dir(tmp_path: Path) -> tuple[Path, Path]:
    """A job and its run directory holding draws written earlier (kept through every refusal)."""
    (tmp_path / "model.toml").write_text(MODEL)
    job = tmp_path / "job.toml"
    job.write_text(JOB)
    out = tmp_path / "out"
    out.mkdir()
    (out / "samples.nc").write_bytes(b"draws written earlier")
    return job, out


def _refused(job: Path, out: Path, capsys: pytest.CaptureFixture, *extra: str) -> str:
    """Run the job on ``out``: exit 2, one line on stderr, the directory unchanged; the line."""
    before = {f.name: f.read_bytes() for f in out.iterdir()}
    capsys.readouterr()
    assert main(["run", str(job), "--out", str(out), "--no-progress", *extra]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before
    return lines[0]


def test_pickle_in_place_of_a_checkpoint_is_refused_without_running_it(
        run_dir: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    job, out = run_dir
    live = tmp_path / "live"
    pickle.loads(pickle.dumps(_Payload(live)))  # noqa: S301 - shows that the payload does run code
    assert live.is_dir()
    marker = tmp_path / "marker"
    (out / CHECKPOINT_NAME).write_bytes(pickle.dumps(_Payload(marker)))
    for extra in (["--resume"], []):  # with --resume, and the check for unfinished work without it
        line = _refused(job, out, capsys, *extra)
        assert CHECKPOINT_NAME in line and "not an NPZ archive" in line
        assert not marker.exists()


def _checkpoint(job: Path, out: Path) -> Path:
    """A checkpoint of ``job`` with a state of 4000 doubles and a typed key."""
    state = {"z": np.linspace(0.0, 1.0, 4000), "key": to_host(jax.random.key(3))}
    path = out / CHECKPOINT_NAME
    write_checkpoint(path, report.job_tag(load_job(job)), {"slot": 0}, state, {}, {}, 0)
    assert read_checkpoint(path)["done"] == 0
    return path


def test_truncated_or_altered_checkpoint_is_refused(run_dir: tuple[Path, Path], capsys: pytest.CaptureFixture) -> None:
    job, out = run_dir
    whole = _checkpoint(job, out).read_bytes()
    cut = whole[: len(whole) // 2]
    altered = bytearray(whole)
    altered[len(whole) // 2] ^= 0xFF  # one bit pattern inside the state's array data
    for data in (cut, bytes(altered)):
        (out / CHECKPOINT_NAME).write_bytes(data)
        line = _refused(job, out, capsys, "--resume")
        assert CHECKPOINT_NAME in line and "damaged checkpoint" in line


def test_foreign_checkpoints_are_refused(run_dir: tuple[Path, Path], capsys: pytest.CaptureFixture) -> None:
    job, out = run_dir
    path = out / CHECKPOINT_NAME
    with path.open("wb") as fh:  # an NPZ archive nnqm did not write
        np.savez(fh, x=np.zeros(3))
    assert "damaged checkpoint" in _refused(job, out, capsys, "--resume")

    # this job's checkpoint, of a model with other sites: refused when the model is about to be sampled
    tag = report.job_tag(load_job(job))
    other = {"slot": 0, "sites": {"y": {"shape": [3], "dtype": "float64", "observed": False}}, "kwargs": "",
             "key": [0, 0]}
    write_checkpoint(path, tag, other, {}, {}, {}, 0)
    line = _refused(job, out, capsys, "--resume")
    assert "checkpoint of a different model (sites y[3], not z[8])" in line


def _model() -> None:
    numpyro.sample("a", dist.Normal(0.0, 1.0).expand([3]))


def test_hmc_state_survives_the_round_trip(tmp_path: Path) -> None:
    """HMC's state (NUTS's is checked end to end: resumed runs equal uninterrupted ones bit for
    bit in ``test_resume``, ``test_distributed`` and ``test_one_chain``)."""
    kernel = HMC(_model, step_size=0.1, trajectory_length=0.4)
    mcmc = MCMC(kernel, num_warmup=10, num_samples=5, num_chains=2, chain_method="vectorized", progress_bar=False)
    mcmc.warmup(jax.random.key(0))
    state = mcmc.post_warmup_state
    path = tmp_path / CHECKPOINT_NAME
    write_checkpoint(path, {"job": 1}, {"slot": 0}, to_host(state), {"a": np.ones((2, 5, 3))}, {}, 5)
    saved = read_checkpoint(path, {"job": 1}, {"slot": 0})
    back = from_host(saved["state"])
    assert jax.tree.structure(back) == jax.tree.structure(state)
    for a, b in zip(jax.tree.leaves(state), jax.tree.leaves(back), strict=True):
        if jax.dtypes.issubdtype(a.dtype, jax.dtypes.prng_key):
            assert jax.random.key_impl(a) == jax.random.key_impl(b)
            a, b = jax.random.key_data(a), jax.random.key_data(b)
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert np.array_equal(saved["samples"]["a"], np.ones((2, 5, 3))) and saved["done"] == 5
    with pytest.raises(SpecError, match="different spec or seed|different job"):
        read_checkpoint(path, {"job": 2})
