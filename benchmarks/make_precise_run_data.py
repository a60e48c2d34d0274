"""Write ``tests/data/asymmetric_well_run.npz``: the connected correlator of a long ``nnqm run``
of the asymmetric well V = −x²/2 + x³ + x⁴/2 (β = 6, a = 0.25), precise enough for a K = 2
spectral fit to resolve its second line (the test suite's K = 2 check, issue #10 part 6).

The run: ``inference/anharmonic.toml`` with that potential, 2 chains × 400 000 NUTS draws after
500 warm-up draws, seed 0 (about 22 min on one core). The file keeps what a fit reads from the run
directory (:func:`nnqm_ppl.fitting.load_data` with ``connected=True``: mean and covariance of
G_c(τ) = ⟨x_0 x_τ⟩ − ⟨x⟩², τ = 0 … β/2) and the run's provenance (``command``, ``versions``,
``ess_bulk_min``); the 370 MB of draws are not kept.

Run: ``python benchmarks/make_precise_run_data.py [RUN_DIR]`` (an existing run directory of that
command is read instead of sampling again).
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import numpy as np

from nnqm_ppl import fitting
from nnqm_ppl.cli import main as nnqm

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "asymmetric_well_run.npz"
POTENTIAL = "[0.0, 0.0, -0.5, 1.0, 0.5]"
ARGS = ["run", str(ROOT / "inference" / "anharmonic.toml"), "--no-progress",
        "--set", f"model.potential={POTENTIAL}", "--set", "model.beta=6.0", "--set", "model.slices=24",
        "--set", "sampler.chains=2", "--set", "sampler.warmup=500", "--set", "sampler.samples=400000",
        "--set", "sampler.checkpoint_every=50000", "--set", "observables.names=['x2', 'correlator']"]


def main() -> None:
    """Sample (unless a run directory is given), then write the connected correlator data."""
    run = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "runs" / "asymmetric_well_precise"
    if not (run / "summary.json").is_file() and nnqm([*ARGS, "--out", str(run)]) != 0:
        raise SystemExit(f"the run in {run} did not pass its gates")
    summary = json.loads((run / "summary.json").read_text())
    data = fitting.load_data(run, connected=True)
    command = "nnqm " + shlex.join([a.replace(str(ROOT) + "/", "") for a in ARGS])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez(OUT, tau=data.tau, mean=data.mean, cov=data.cov, beta=6.0, command=command,
             versions=json.dumps(summary["versions"]), ess_bulk_min=summary["diagnostics"]["ess_bulk_min"],
             passed=summary["diagnostics"]["passed"])
    print(f"wrote {OUT}: {len(data.tau)} points, relative error at τ = a: "
          f"{np.sqrt(data.cov[1, 1]) / data.mean[1]:.2e}")


if __name__ == "__main__":
    main()
