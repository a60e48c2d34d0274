"""Simulation-based calibration (SBC) of the network-hyperparameter fit at full size (issue 4, §3).

The fit of ``inference/cosnet_hyperparameters.toml`` (Cos-net σ_a, σ_b from G2 at the τ and
covariance of ``inference/data/cosnet_g2.csv``): ``--datasets`` parameter sets θ* drawn from the
job's prior, data from the likelihood at θ*, a NUTS posterior for each
(:func:`nnqm_ppl.fitting.calibrate`, one chain, ``--warmup`` + ``--samples`` draws). Printed per
parameter: the fraction of central 90% intervals that cover θ* (target 90% ± 8%; its binomial
standard error), the histogram of the ranks of θ* among the ``samples // thin`` thinned draws
in ``--bins`` bins, and the χ² test of its flatness (p-value); also the divergences and the time.
The test suite runs the same check at 50 data sets (``tests/test_fitting.py``).

The data sets are fitted in batches of ``--batch`` (50) calls of :func:`~nnqm_ppl.fitting.calibrate`
with ``jax.clear_caches()`` between them: in one process, ~100+ NUTS runs leave enough compiled
XLA:CPU code mapped to exhaust ``vm.max_map_count`` (200 data sets in one call aborted with
"LLVM ERROR: Unable to allocate section memory").

Run: ``python benchmarks/calibration.py --datasets 200`` (exit 1 if a check fails).
"""

from __future__ import annotations

import argparse
import gc
import math
import sys
import time
from pathlib import Path

import jax
import numpy as np
from scipy import stats

import nnqm_ppl  # noqa: F401  (float64)
from nnqm_ppl import fitting
from nnqm_ppl.spec import load_job

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    """Run the SBC, print coverage and rank flatness; exit 1 if coverage or flatness fails."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--job", type=Path, default=ROOT / "inference" / "cosnet_hyperparameters.toml")
    ap.add_argument("--datasets", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--thin", type=int, default=10)
    ap.add_argument("--bins", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--batch", type=int, default=50,
                    help="data sets per fitting.calibrate call; compiled programs are released between calls")
    args = ap.parse_args()
    if args.datasets < 50:
        ap.error("--datasets must be >= 50 (the issue's full size)")

    job = load_job(args.job)
    data = fitting.load_data(job.task_spec.data)
    problem = fitting.fit_problem(job.task_spec, job.model, data)
    t0 = time.perf_counter()
    ranks: dict[str, list] = {}
    hits: dict[str, float] = {}
    divergences = 0
    per_batch = []  # (divergences, {name: covered count}) per batch: per data set with --batch 1
    sizes = [min(args.batch, args.datasets - i) for i in range(0, args.datasets, args.batch)]
    for key, size in zip(jax.random.split(jax.random.key(args.seed), len(sizes)), sizes, strict=True):
        part = fitting.calibrate(problem, key, datasets=size, warmup=args.warmup, samples=args.samples,
                                 thin=args.thin)
        for name, r in part["ranks"].items():
            ranks.setdefault(name, []).extend(r.tolist())
            hits[name] = hits.get(name, 0.0) + part["coverage"][name] * size
        divergences += part["divergences"]
        per_batch.append((part["divergences"], {n: c * size for n, c in part["coverage"].items()}, size))
        jax.clear_caches()  # each data set's run leaves compiled code mapped: release it per batch
        gc.collect()
    res = {"ranks": {n: np.asarray(r) for n, r in ranks.items()},
           "coverage": {n: h / args.datasets for n, h in hits.items()},
           "draws": part["draws"], "divergences": divergences}
    elapsed = time.perf_counter() - t0
    n = args.datasets
    se = math.sqrt(0.9 * 0.1 / n)
    print(f"SBC of {args.job.name}: {n} data sets, NUTS {args.warmup} + {args.samples} draws (1 chain), "
          f"ranks among L = {res['draws']} thinned draws, {args.bins} bins, seed {args.seed}")
    print(f"divergences {res['divergences']}, {elapsed:.0f} s ({elapsed / n:.2f} s a data set)")
    ok = True
    for name, ranks in res["ranks"].items():
        counts = np.histogram(ranks, bins=args.bins, range=(0, res["draws"] + 1))[0]
        p = float(stats.chisquare(counts).pvalue)
        cov = res["coverage"][name]
        good = abs(cov - 0.9) <= 0.08 and p > 1e-3
        ok &= good
        print(f"{name:8s} 90% ETI coverage {cov:.3f} ± {se:.3f}   rank χ² p = {p:.3f}   "
              f"counts {counts.tolist()}   {'ok' if good else 'FAIL'}")
    if args.batch == 1:  # coverage of the data sets whose posterior run had no divergence vs the rest
        for label, sel in (("no divergences", [b for b in per_batch if b[0] == 0]),
                           ("with divergences", [b for b in per_batch if b[0] > 0])):
            m = sum(b[2] for b in sel)
            cov = {n: sum(b[1][n] for b in sel) / m for n in res["ranks"]} if m else {}
            print(f"{label:17s}: {m:4d} data sets, coverage " + ", ".join(f"{n} {c:.3f}" for n, c in cov.items()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
