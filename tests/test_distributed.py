"""Several hosts with ``jax.distributed``, for real: two processes on localhost (CPU backend, one
device each, gloo collectives) share a 2-chain run. They stop after the first segment (a partial
run through the Python API leaves the checkpoint process 0 gathered), then two ``nnqm run
--distributed --resume`` processes finish it. Process 0 writes the run with both chains; process
1 writes and prints nothing; each chain's draws equal, bit for bit, a single-process single-chain
run with the key one process gives that chain (``jax.random.split(key, chains)[c]``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import xarray as xr
from specimens import SHORT_PATH_MODEL as MODEL

JOB = """
task = "sample"
model = "model.toml"
[sampler]
chains = 2
warmup = 40
samples = 40
checkpoint_every = 20
seed = 7
[observables]
names = ["x2"]
[gates]
ess_min = 5
"""
FIRST_SEGMENT = """
import sys, jax
from dataclasses import replace
from pathlib import Path
from nnqm_ppl import report, sampling
sampling.init_distributed()
from nnqm_ppl.tasks import load_job
from nnqm_ppl.theories.path_integral import theory_from_spec
job = load_job(sys.argv[1])
ck = sampling.Checkpoint(Path(sys.argv[2]) / sampling.CHECKPOINT_NAME, report.job_tag(job))
sampling.run_mcmc(theory_from_spec(job.model).model, replace(job.sampler, samples=job.sampler.checkpoint_every),
                  jax.random.key(job.sampler.seed), progress=False, checkpoint=ck)
"""
REFERENCE = """
import sys, jax, numpy as np
from dataclasses import replace
from nnqm_ppl.sampling import run_mcmc
from nnqm_ppl.tasks import load_job
from nnqm_ppl.theories.path_integral import theory_from_spec
job = load_job(sys.argv[1])
model = theory_from_spec(job.model).model
keys = jax.random.split(jax.random.key(job.sampler.seed), job.sampler.chains)
one = replace(job.sampler, chains=1)
x = [run_mcmc(model, one, k, progress=False, dims={"x": ["site"]}).posterior["x"].values for k in keys]
np.save(sys.argv[2], np.concatenate(x))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(cache: Path, **extra: str) -> dict:
    """CPU, one device, no cluster settings to detect (the test may itself run under SLURM), and a
    compilation cache of this test's own (the later processes load what the first ones compiled)."""
    drop = ("JAX_", "NNQM_DISTRIBUTED", "SLURM_", "OMPI_", "PMI_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return dict(env, JAX_PLATFORMS="cpu", XLA_FLAGS="--xla_force_host_platform_device_count=1",
                NNQM_CACHE_DIR=str(cache), **extra)


def _pair(cache: Path, args: list[list[str]], extra: tuple[dict, dict] = ({}, {})) -> list[tuple[int, str, str]]:
    """Run ``python ARGS[i]`` as process i of a 2-process distributed run; exit codes and output."""
    address = f"127.0.0.1:{_free_port()}"
    procs = [subprocess.Popen([sys.executable, *args[i]],
                              env=_env(cache, JAX_COORDINATOR_ADDRESS=address, JAX_NUM_PROCESSES="2",
                                       JAX_PROCESS_ID=str(i), **extra[i]),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    return [(p.returncode, *o) for p, o in zip(procs, outputs, strict=True)]


def test_two_processes_share_the_chains_resume_and_process_0_writes_them_all(tmp_path: Path) -> None:
    (tmp_path / "model.toml").write_text(MODEL)
    job = tmp_path / "job.toml"
    job.write_text(JOB)
    out = tmp_path / "out"
    out.mkdir()
    ref, cache = tmp_path / "ref.npy", tmp_path / "jax-cache"
    # first the reference: it compiles the single-chain programs once, the processes load them
    subprocess.run([sys.executable, "-c", REFERENCE, str(job), str(ref)], env=_env(cache), check=True, timeout=300)
    first = _pair(cache, [["-c", FIRST_SEGMENT, str(job), str(out)]] * 2)
    assert [r[0] for r in first] == [0, 0], first
    assert [f.name for f in out.iterdir()] == ["checkpoint.npz"]  # written once, by process 0

    # the rest through the command; process 1 opts in by NNQM_DISTRIBUTED instead of the flag
    cmd = ["-m", "nnqm_ppl.cli", "run", str(job), "--out", str(out), "--no-progress", "--resume"]
    (code0, out0, err0), (code1, out1, err1) = _pair(cache, [[*cmd, "--distributed"], cmd],
                                                     ({}, {"NNQM_DISTRIBUTED": "1"}))
    assert code0 in (0, 3) and code1 == code0, (err0, err1)
    assert "resuming at draw 20" in out0 and "wrote" in out0
    assert [line for line in out1.splitlines() if not line.startswith("[Gloo]")] == []  # only process 0 reports

    assert sorted(f.name for f in out.iterdir()) == ["rank.png", "samples.nc", "summary.json", "trace.png"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["devices"] == 2
    x = xr.open_datatree(out / "samples.nc")["posterior"]["x"].values
    assert x.shape == (2, 40, 8) and np.isfinite(x).all()
    assert not np.array_equal(x[0], x[1])  # two different chains, not one gathered twice
    np.testing.assert_array_equal(x, np.load(ref))  # bit for bit


def test_chains_that_do_not_split_over_the_processes_exit_2_on_every_process(tmp_path: Path) -> None:
    (tmp_path / "model.toml").write_text(MODEL)
    job = tmp_path / "job.toml"
    job.write_text(JOB)
    out = tmp_path / "out"
    cmd = ["-m", "nnqm_ppl.cli", "run", str(job), "--out", str(out), "--distributed", "--set", "sampler.chains=3"]
    for code, _, err in _pair(tmp_path / "jax-cache", [cmd, cmd]):
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1, err
        assert "job.toml: sampler.chains: 3 chains do not split evenly over 2 processes" in lines[0]
    assert not out.exists()


def test_distributed_without_a_cluster_or_coordinator_exits_2(tmp_path: Path) -> None:
    (tmp_path / "model.toml").write_text(MODEL)
    (tmp_path / "job.toml").write_text(JOB)
    proc = subprocess.run([sys.executable, "-m", "nnqm_ppl.cli", "run", str(tmp_path / "job.toml"), "--out",
                           str(tmp_path / "out"), "--distributed"], env=_env(tmp_path / "jax-cache"),
                          capture_output=True, text=True, timeout=120, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "--distributed" in lines[0] and "JAX_COORDINATOR_ADDRESS" in lines[0]
    assert not (tmp_path / "out").exists()
