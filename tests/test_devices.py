"""Chains over devices: with two XLA host CPU devices a 2-chain run uses NumPyro's parallel chain
method (one chain per device) and gives valid draws; one device falls back to vectorized chains."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = """
import json, jax, numpy as np
from nnqm_ppl.sampling import chain_method, run_mcmc
from nnqm_ppl.spec import SamplerSpec
from nnqm_ppl.theories.path_integral import theory_from_spec
from nnqm_ppl.spec import PathIntegralSpec
spec = PathIntegralSpec(network="fourier", mass=1.0, hbar=1.0, potential=(0.0, 0.0, 0.5, 0.0, 1.0),
                        beta=4.0, slices=8, boundary="periodic")
sampler = SamplerSpec(chains=2, warmup=50, samples=50, checkpoint_every=25)
tree = run_mcmc(theory_from_spec(spec).model, sampler, jax.random.key(1), progress=False, dims={"x": ["site"]})
x = tree.posterior["x"].values
print(json.dumps({"devices": jax.local_device_count(), "method": chain_method(2), "shape": list(x.shape),
                  "finite": bool(np.isfinite(x).all()), "x2": float((x ** 2).mean())}))
"""


def _run(devices: int) -> dict:
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}", JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_two_host_devices_run_chains_in_parallel() -> None:
    two = _run(2)
    assert two["devices"] == 2 and two["method"] == "parallel"
    assert two["shape"][:2] == [2, 50] and two["finite"]
    assert 0.1 < two["x2"] < 0.5  # <x^2> ~ 0.25 on this lattice; a sanity band, not a physics test
    one = _run(1)
    assert one["method"] == "vectorized"
    assert one["shape"] == two["shape"]
