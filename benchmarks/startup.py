"""Start-up of ``nnqm run``: the first run of a job (empty compilation cache) against a second run
of the same job in a fresh process (JAX's persistent compilation cache warm).

Each run is a fresh subprocess of the command with its own empty-at-start cache directory
(``NNQM_CACHE_DIR``), so nothing but the cache carries over. The job is short, so its time is
dominated by start-up: imports, tracing, XLA compilation of the warm-up and sampling programs.
Printed per run: the wall time of the whole command, and ``elapsed_s`` from ``summary.json`` (the
task itself: compile + sample + measure, imports excluded).

Usage: ``python benchmarks/startup.py [--job inference/anharmonic.toml] [--repeat 2]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SMALL = ["sampler.chains=2", "sampler.warmup=100", "sampler.samples=200", "sampler.checkpoint_every=100",
         'observables.names=["x2","E0"]']


def one_run(job: Path, out: Path, cache: Path) -> tuple[float, float]:
    """Wall time of one ``nnqm run`` in a fresh process, and the task time it reports."""
    cmd = [sys.executable, "-m", "nnqm_ppl.cli", "run", str(job), "--out", str(out), "--no-progress"]
    for item in SMALL:
        cmd += ["--set", item]
    env = dict(os.environ, NNQM_CACHE_DIR=str(cache))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 3):
        raise SystemExit(proc.stderr)
    return wall, json.loads((out / "summary.json").read_text())["elapsed_s"]


def main() -> None:
    """Print first-run and second-run start-up, ``--repeat`` times with a fresh cache each."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--job", type=Path, default=Path("inference/anharmonic.toml"))
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    print(f"job {args.job} with --set {' --set '.join(SMALL)}")
    print(f"{'repeat':>6} {'run':>6} {'wall s':>8} {'task s':>8}")
    ratios = []
    for r in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            first = one_run(args.job, tmp / "first", tmp / "cache")
            second = one_run(args.job, tmp / "second", tmp / "cache")
            for name, (wall, task) in (("first", first), ("second", second)):
                print(f"{r:>6} {name:>6} {wall:8.2f} {task:8.2f}")
            ratios.append(first[0] / second[0])
    print(f"first/second wall time: {', '.join(f'{x:.2f}' for x in ratios)}")


if __name__ == "__main__":
    main()
