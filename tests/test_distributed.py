"""Several hosts with ``jax.distributed``, for real: two ``nnqm run --distributed`` processes on
localhost (CPU backend, one device each, gloo collectives) share a 2-chain run. Process 0 writes
the run with both chains; process 1 writes and prints nothing; each chain's draws equal, bit for
bit, a single-process single-chain run with the key one process gives that chain
(``jax.random.split(key, chains)[c]``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import xarray as xr

MODEL = """
kind = "path_integral"
network = "fourier"
potential = [0.0, 0.0, 0.5, 0.0, 1.0]
beta = 4.0
slices = 8
boundary = "periodic"
"""
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
REFERENCE = """
import sys, jax, numpy as np
from dataclasses import replace
from nnqm_ppl.sampling import run_mcmc
from nnqm_ppl.spec import load_job
from nnqm_ppl.theory import theory_from_spec
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


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "NNQM_DISTRIBUTED"))}
    return dict(env, JAX_PLATFORMS="cpu", XLA_FLAGS="--xla_force_host_platform_device_count=1", **extra)


def test_two_processes_share_the_chains_and_process_0_writes_them_all(tmp_path: Path) -> None:
    (tmp_path / "model.toml").write_text(MODEL)
    job = tmp_path / "job.toml"
    job.write_text(JOB)
    out = tmp_path / "out"
    address = f"127.0.0.1:{_free_port()}"
    cmd = [sys.executable, "-m", "nnqm_ppl.cli", "run", str(job), "--out", str(out), "--no-progress"]
    procs = [
        subprocess.Popen(cmd + ["--distributed"] if i == 0 else cmd,  # process 1 opts in by NNQM_DISTRIBUTED
                         env=_env(JAX_COORDINATOR_ADDRESS=address, JAX_NUM_PROCESSES="2", JAX_PROCESS_ID=str(i),
                                  **({"NNQM_DISTRIBUTED": "1"} if i else {})),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]
    ref = tmp_path / "ref.npy"
    subprocess.run([sys.executable, "-c", REFERENCE, str(job), str(ref)], env=_env(), check=True, timeout=300)
    results = [p.communicate(timeout=300) for p in procs]
    codes = [p.returncode for p in procs]
    assert codes[0] in (0, 3) and codes[1] == codes[0], results
    assert "wrote" in results[0][0]
    assert [line for line in results[1][0].splitlines() if not line.startswith("[Gloo]")] == []  # only 0 reports

    assert sorted(f.name for f in out.iterdir()) == ["rank.png", "samples.nc", "summary.json", "trace.png"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["devices"] == 2
    x = xr.open_datatree(out / "samples.nc")["posterior"]["x"].values
    assert x.shape == (2, 40, 8) and np.isfinite(x).all()
    assert not np.array_equal(x[0], x[1])  # two different chains, not one gathered twice
    np.testing.assert_array_equal(x, np.load(ref))  # bit for bit
