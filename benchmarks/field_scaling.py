"""Cost per effective sample of φ⁴ in 1+1 dimensions as the number of sites L grows, Fourier against position.

The field of ``models/phi4_1plus1.toml`` (on-site V = φ²/2 + 0.1 φ⁴, Δx = 1) at fixed time
spacing a = β/N (β = 8, N = 32: a = 0.25) on L = 4, 16, 64 sites, sampled with NumPyro NUTS
through the ``position`` network (the field values themselves) and the ``fourier`` network
(normal modes of the reference Gaussian, per spatial momentum and time frequency: Fourier
acceleration in time for every site). For each (L, network) it prints

- the sampling seconds (warm-up and compilation excluded: the adapted kernel is scanned in one
  compiled function, as in ``benchmarks/path_integral.py``) and the gradient evaluations (leapfrog
  steps, NUTS ``num_steps``);
- the bulk ESS (ArviZ) of the site-averaged ⟨φ²⟩ and the smallest bulk ESS of the run's gate series
  (:meth:`nnqm_ppl.tasks.sample_vector.VectorPaths.gate_series` without the path mean, which the
  gates judge by R-hat only), and from them seconds per ESS and gradients per ESS;
- ⟨φ²⟩ ± MCSE of both networks (they sample the same density, so they must agree);
- the ratios position / Fourier of seconds per ESS and gradients per ESS, per L.

Usage: ``python benchmarks/field_scaling.py [--sites 4 16 64] [--warmup 300] [--samples 500]
[--chains 2] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import os

import jax
import numpy as np
from path_integral import timed_nuts  # benchmarks/path_integral.py: the timed NUTS scan

from nnqm_ppl.networks.paths import path_network
from nnqm_ppl.observables.estimate import ess, mean_estimate
from nnqm_ppl.observables.field import site_mean_series
from nnqm_ppl.physics import Lattice, Potential
from nnqm_ppl.tasks.path_integral import RHAT_ONLY
from nnqm_ppl.tasks.sample_vector import VectorPaths
from nnqm_ppl.theories.path_integral import Theory

COEFFS = (0.0, 0.0, 0.5, 0.0, 0.1)
DX, BETA, SLICES = 1.0, 8.0, 32
NETWORKS = ("fourier", "position")


def run(sites: int, network: str, warmup: int, samples: int, chains: int, key: jax.Array) -> dict:
    """NUTS on the field of ``sites`` sites with ``network``: timed sampling, ESS, gradients."""
    lattice = Lattice(beta=BETA, slices=SLICES, components=sites)
    net = path_network(lattice, Potential.lattice_field(COEFFS, sites, DX), network)
    theta, steps, diverging, seconds = timed_nuts(net, warmup, samples, chains, key)
    x = np.asarray(net.forward(theta))  # (chain, draw, N, L)
    phi2 = site_mean_series(x, 2)
    gates = VectorPaths(x, Theory(net), None).gate_series()
    ess_gates = min(float(ess(series)) for name, series in gates.items() if name not in RHAT_ONLY)
    ess_phi2 = float(ess(phi2))
    grads = int(steps.sum())
    est = mean_estimate(phi2)
    return {"seconds": seconds, "grads": grads, "grads_per_draw": grads / (chains * samples),
            "ess_phi2": ess_phi2, "ess_gates": ess_gates, "s_per_ess": seconds / ess_phi2,
            "s_per_ess_gates": seconds / ess_gates, "grads_per_ess": grads / ess_phi2,
            "grads_per_ess_gates": grads / ess_gates, "phi2": (est.value, est.mcse),
            "diverging": int(diverging.sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, nargs="+", default=[4, 16, 64])
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"phi^4 1+1: V = {COEFFS}, dx = {DX}, beta = {BETA}, N = {SLICES} (a = {BETA / SLICES}); NUTS "
          f"{args.chains} chains x {args.samples} draws after {args.warmup} warm-up; {os.cpu_count()} CPUs; "
          f"jax {jax.__version__} on {jax.default_backend()}")
    print(f"{'L':>4} {'network':<9}{'sec':>8}{'grad/draw':>10}{'ESS phi2':>9}{'ESS gates':>10}{'s/ESS':>10}"
          f"{'s/ESS gates':>12}{'grad/ESS':>9}{'grad/ESS gates':>15}  <phi^2> ± mcse   div")
    key = jax.random.key(args.seed)
    results: dict[int, dict[str, dict]] = {}
    for sites in args.sites:
        results[sites] = {}
        for network in NETWORKS:
            key, sub = jax.random.split(key)
            r = results[sites][network] = run(sites, network, args.warmup, args.samples, args.chains, sub)
            print(f"{sites:>4} {network:<9}{r['seconds']:>8.2f}{r['grads_per_draw']:>10.1f}{r['ess_phi2']:>9.0f}"
                  f"{r['ess_gates']:>10.0f}{r['s_per_ess']:>10.2e}{r['s_per_ess_gates']:>12.2e}"
                  f"{r['grads_per_ess']:>9.1f}{r['grads_per_ess_gates']:>15.1f}  {r['phi2'][0]:.4f} ± "
                  f"{r['phi2'][1]:.4f}  {r['diverging']}", flush=True)
    print("\nposition / Fourier (cost per effective sample; > 1: Fourier is cheaper)")
    print(f"{'L':>4}{'s/ESS phi2':>12}{'s/ESS gates':>13}{'grad/ESS phi2':>15}{'grad/ESS gates':>16}")
    for sites, rows in results.items():
        pos, fou = rows["position"], rows["fourier"]
        print(f"{sites:>4}{pos['s_per_ess'] / fou['s_per_ess']:>12.2f}"
              f"{pos['s_per_ess_gates'] / fou['s_per_ess_gates']:>13.2f}"
              f"{pos['grads_per_ess'] / fou['grads_per_ess']:>15.2f}"
              f"{pos['grads_per_ess_gates'] / fou['grads_per_ess_gates']:>16.2f}")


if __name__ == "__main__":
    main()
