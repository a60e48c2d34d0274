"""A/B of NUTS path sampling between two source trees (e.g. before and after a restructuring).

Samples V = x²/2 + x⁴ at β = 16, N = 1024 with the position and Fourier networks (2 chains, 500
warm-up, 1000 draws, seed 0) using the sampling function of ``benchmarks/path_integral.py`` from the
tree given, twice each, and prints the sampling seconds and ESS/s. The draws depend only on the
code, so equal ESS between trees shows the same draws; the seconds show any slowdown.

Usage (from the tree to measure; run it for both trees, alternating)::

    NNQM_CACHE_DIR=off PYTHONPATH=TREE python benchmarks/ab_path_sampling.py TREE
"""

import sys

import jax

sys.path.insert(0, sys.argv[1] + "/benchmarks")
import path_integral as bench  # noqa: E402

import nnqm_ppl  # noqa: E402
from nnqm_ppl.physics import Lattice  # noqa: E402

print(nnqm_ppl.__file__)
lattice = Lattice(beta=16.0, slices=1024)
for rep in range(2):
    for net in ("position", "fourier"):
        r = bench.run_nuts(net, lattice, 500, 1000, 2, jax.random.key(0))
        print(rep, net, f"ess {r['ess']:.1f}  seconds {r['seconds']:.2f}  ess/s {r['ess_per_s']:.1f}")
