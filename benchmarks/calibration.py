"""Simulation-based calibration (SBC) of the network-hyperparameter fit at full size (issue 4, §3).

The fit of ``inference/cosnet_hyperparameters.toml`` (Cos-net σ_a, σ_b from G2 at the τ and
covariance of ``inference/data/cosnet_g2.csv``): ``--datasets`` parameter sets θ* drawn from the
job's prior, data from the likelihood at θ*, a NUTS posterior for each
(:func:`nnqm_ppl.fitting.calibrate`, one chain, the job's warm-up, draws and target acceptance
unless ``--warmup`` / ``--samples`` say otherwise). Printed per
parameter: the fraction of central 90% intervals that cover θ* (target 90% ± 8%; its binomial
standard error), the histogram of the ranks of θ* among the ``samples // thin`` thinned draws
in ``--bins`` bins, and the χ² test of its flatness (p-value); also the divergences and the time.
The test suite runs the same check at 50 data sets (``tests/test_fitting.py``).

Coverage is also split by whether the data set's run had divergent transitions, with the prior
draws θ* of the divergent runs (where in parameter space the sampler struggles).
:func:`~nnqm_ppl.fitting.calibrate` compiles the whole NUTS run of a data set once, so any number
of data sets fits in one process.

Run: ``python benchmarks/calibration.py --datasets 200`` (exit 1 if a check fails).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import jax
import numpy as np
from scipy import stats

import nnqm_ppl  # noqa: F401  (float64)
from nnqm_ppl import fitting
from nnqm_ppl.tasks import load_job

ROOT = Path(__file__).resolve().parent.parent


def _quantiles(v: np.ndarray) -> str:
    return " / ".join(f"{x:.3g}" for x in np.quantile(v, [0.1, 0.5, 0.9])) if v.size else "-"


def main() -> int:
    """Run the SBC, print coverage and rank flatness; exit 1 if coverage or flatness fails."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--job", type=Path, default=ROOT / "inference" / "cosnet_hyperparameters.toml")
    ap.add_argument("--datasets", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=None, help="default: the job's sampler.warmup")
    ap.add_argument("--samples", type=int, default=None, help="default: the job's sampler.samples")
    ap.add_argument("--thin", type=int, default=10)
    ap.add_argument("--bins", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()
    if args.datasets < 50:
        ap.error("--datasets must be >= 50 (the issue's full size)")

    job = load_job(args.job)
    args.warmup = job.sampler.warmup if args.warmup is None else args.warmup
    args.samples = job.sampler.samples if args.samples is None else args.samples
    data = fitting.load_data(job.task_spec.data)
    problem = fitting.fit_problem(job.task_spec, job.model, data)
    t0 = time.perf_counter()
    res = fitting.calibrate(problem, jax.random.key(args.seed), datasets=args.datasets, warmup=args.warmup,
                            samples=args.samples, thin=args.thin, target_accept=job.sampler.target_accept)
    elapsed = time.perf_counter() - t0
    n = args.datasets
    se = math.sqrt(0.9 * 0.1 / n)
    print(f"SBC of {args.job.name}: {n} data sets, NUTS {args.warmup} + {args.samples} draws (1 chain, "
          f"target_accept {job.sampler.target_accept}), "
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
    bad = res["diverging"] > 0
    for label, sel in (("no divergences", ~bad), ("with divergences", bad)):
        cov = ", ".join(f"{n} {np.mean(c[sel]):.3f}" for n, c in res["covered"].items()) if sel.any() else "-"
        print(f"{label:17s}: {int(sel.sum()):4d} data sets, coverage {cov}")
    for name, t in res["truth"].items():
        print(f"θ* {name:8s} (10/50/90%): all {_quantiles(t)};  divergent runs {_quantiles(t[bad])}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
