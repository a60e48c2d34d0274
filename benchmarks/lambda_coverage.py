"""Coverage of the end-to-end λ fit over independent seeds (the setting of
``tests/test_fitting.py::test_end_to_end_infer_lambda_from_a_run``).

For seeds 0 .. S−1: ``nnqm run inference/anharmonic.toml`` with V = x²/2 + 0.4x⁴, β = 4,
a = 0.25, 2 chains × ``--samples`` draws; the run directory is read as fit data
(:func:`nnqm_ppl.fitting.load_data`: mean and covariance of the correlator at τ = 0 .. β/2).
The posterior of λ = c4 under the prior of ``inference/infer_coupling.toml`` is computed
exactly by quadrature on a λ grid (forward model: the transfer matrix at the same a), so the
study measures the data covariance and the model, not NUTS. Printed: the fraction of 90%
equal-tailed intervals that contain 0.4 (with its binomial standard error), the variance of the
data mean across seeds over the mean reported variance per τ, and the mean χ² at the truth.

Run: ``python benchmarks/lambda_coverage.py --seeds 60 --out /tmp/lambda_coverage`` (≈ 4 s a
seed on one core; run directories are reused when present).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
from pathlib import Path

import numpy as np

from nnqm_ppl import fitting
from nnqm_ppl.cli import main as nnqm
from nnqm_ppl.exact.transfer import transfer_matrix
from nnqm_ppl.physics import Lattice, Potential
from nnqm_ppl.tasks import load_job

ROOT = Path(__file__).resolve().parent.parent
TRUTH = 0.4


def sample(seed: int, out: Path, samples: int) -> Path:
    """One ``nnqm run`` of the test's setting (skipped when ``out`` already holds it)."""
    if not (out / "summary.json").is_file():
        with contextlib.redirect_stdout(io.StringIO()):
            nnqm(["run", str(ROOT / "inference" / "anharmonic.toml"), "--out", str(out), "--no-progress",
                  "--set", f"model.potential=[0, 0, 0.5, 0, {TRUTH}]", "--set", "model.beta=4.0",
                  "--set", "model.slices=16", "--set", "sampler.chains=2", "--set", "sampler.warmup=300",
                  "--set", f"sampler.samples={samples}", "--set", "observables.names=['x2', 'correlator']",
                  "--seed", str(seed)])
    return out


def interval(mean: np.ndarray, cov: np.ndarray, lams: np.ndarray, g: np.ndarray, log_prior: np.ndarray
             ) -> tuple[float, float]:
    """5% and 95% quantiles of the grid posterior p(λ | data) ∝ p(λ) N(mean | G(λ), cov)."""
    chol = np.linalg.cholesky(cov)
    r = np.linalg.solve(chol, (g - mean).T)
    lp = log_prior - 0.5 * np.sum(r**2, axis=0)
    w = np.exp(lp - lp.max()) * np.gradient(lams)
    cdf = np.cumsum(w) / np.sum(w)
    return float(np.interp(0.05, cdf, lams)), float(np.interp(0.95, cdf, lams))


def main() -> None:
    """Sample the seeds, fit each by quadrature, print coverage and covariance checks."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=60)
    ap.add_argument("--samples", type=int, default=600)
    ap.add_argument("--out", type=Path, default=Path("/tmp/lambda_coverage"))
    args = ap.parse_args()
    prior = load_job(ROOT / "inference" / "infer_coupling.toml").task_spec.priors["c4"]
    lat = Lattice(beta=4.0, slices=16)
    ks = np.arange(lat.slices // 2 + 1)
    lams = np.exp(np.linspace(math.log(0.05), math.log(3.0), 400))  # prior mass outside: 3%
    g = np.array([transfer_matrix(lat, Potential.from_coeffs([0, 0, 0.5, 0, v])).correlator(ks) for v in lams])
    log_prior = -0.5 * ((np.log(lams) - math.log(prior.loc)) / prior.scale) ** 2 - np.log(lams)
    exact = transfer_matrix(lat, Potential.from_coeffs([0, 0, 0.5, 0, TRUTH])).correlator(ks)

    data = [fitting.load_data(sample(s, args.out / f"seed{s}", args.samples), beta=lat.beta)
            for s in range(args.seeds)]
    means = np.array([d.mean for d in data])
    ints = np.array([interval(d.mean, d.cov, lams, g, log_prior) for d in data])
    hit = (ints[:, 0] <= TRUTH) & (TRUTH <= ints[:, 1])
    n = args.seeds
    print(f"seeds {n}, 2 x {args.samples} draws, block {data[0].info['block']} (tau_int max "
          f"{data[0].info['tau_int_max']:.2f} at seed 0)")
    print(f"90% ETI coverage of lambda = {TRUTH}: {hit.mean():.3f} +- {math.sqrt(0.09 / n):.3f} "
          f"({hit.sum()}/{n}; below {int(np.sum(ints[:, 1] < TRUTH))}, above {int(np.sum(ints[:, 0] > TRUTH))})")
    print(f"seed 0 interval: [{ints[0, 0]:.3f}, {ints[0, 1]:.3f}]")
    ratio = np.var(means, axis=0, ddof=1) / np.mean([np.diag(d.cov) for d in data], axis=0)
    print(f"var across seeds / reported var, per tau (rel. error {math.sqrt(2 / (n - 1)):.2f}):",
          np.round(ratio, 2).tolist())
    z = (means.mean(axis=0) - exact) / np.sqrt(np.var(means, axis=0, ddof=1) / n)
    print("mean over seeds - exact, in standard errors, per tau:", np.round(z, 2).tolist())
    chi2 = [float((d.mean - exact) @ np.linalg.solve(d.cov, d.mean - exact)) for d in data]
    print(f"chi2 at the truth: mean {np.mean(chi2):.2f} for {len(ks)} points")


if __name__ == "__main__":
    main()
