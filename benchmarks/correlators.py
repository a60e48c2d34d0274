"""Benchmark: streamed Cos-net correlators against a plain NumPy loop over networks.

Cos-net, width 1000, d = 2, four points. The suite's path (:func:`nnqm_ppl.observables.
correlators.correlators`: jit-compiled ``lax.map`` over chunks, exact draws, G2 + G4 + G4c with
ArviZ batch-means errors) runs at M = 10^6 networks and at M/10, each in a fresh subprocess so
that peak RSS is its own; the baseline (the style of public NN-FT research code: one network per
Python iteration, parameters from ``numpy.random``, field at the points, running sums of the
monomials) runs on a smaller M. Prints a table: networks/s, peak memory, the speed ratio.

Usage::

    python benchmarks/correlators.py                  # M = 10^6 (and 10^5), baseline 2*10^4
    python benchmarks/correlators.py --networks 100000 --baseline 5000   # quick look
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

WIDTH, DIM = 1000, 2
POINTS = np.array([[0.0, 0.0], [0.5, 0.1], [1.0, -0.3], [0.2, 0.7]])


def run_suite(networks: int, seed: int = 0) -> dict:
    """Streamed correlators of M Cos-net networks; returns rate (compile included, ~1 s),
    peak RSS of this process and G4c."""
    import jax

    import nnqm_ppl  # noqa: F401
    from nnqm_ppl.networks.neurons import cosnet
    from nnqm_ppl.observables.correlators import correlators

    net = cosnet(WIDTH, DIM)
    t0 = time.perf_counter()
    r = correlators(net, jax.random.key(seed), POINTS, networks)
    elapsed = time.perf_counter() - t0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"networks": r.networks, "seconds": elapsed, "rate": r.networks / elapsed,
            "peak_mib": peak_mib, "chunk": r.chunk, "g4c": float(r.G4c.value),
            "g4c_mcse": float(r.G4c.mcse)}


def run_numpy_loop(networks: int, seed: int = 0) -> dict:
    """One network per iteration with NumPy (the baseline)."""
    rng = np.random.default_rng(seed)
    tracemalloc.start()
    t0 = time.perf_counter()
    s2 = np.zeros((4, 4))
    s4 = 0.0
    for _ in range(networks):
        a = rng.normal(0.0, 1.0 / np.sqrt(WIDTH), WIDTH)
        b = rng.normal(0.0, 1.0 / np.sqrt(DIM), (WIDTH, DIM))
        c = rng.uniform(-np.pi, np.pi, WIDTH)
        phi = np.cos(b @ POINTS.T + c[:, None]).T @ a
        s2 += np.outer(phi, phi)
        s4 += np.prod(phi)
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    g2 = s2 / networks
    g4c = s4 / networks - (g2[0, 1] * g2[2, 3] + g2[0, 2] * g2[1, 3] + g2[0, 3] * g2[1, 2])
    return {"networks": networks, "seconds": elapsed, "rate": networks / elapsed,
            "peak_mib": peak / 2**20, "g4c": float(g4c)}


def _in_subprocess(networks: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(networks)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run both paths and print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--networks", type=int, default=1_000_000)
    p.add_argument("--baseline", type=int, default=20_000)
    p.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child is not None:
        print(json.dumps(run_suite(args.child)))
        return
    rows = [("nnqm_ppl streamed", _in_subprocess(args.networks // 10)),
            ("nnqm_ppl streamed", _in_subprocess(args.networks)),
            ("numpy loop", run_numpy_loop(args.baseline))]
    print(f"Cos-net width {WIDTH}, d = {DIM}, 4 points; G2, G4, G4c with errors")
    print(f"{'path':<20}{'M':>10}{'seconds':>10}{'networks/s':>13}{'peak MiB':>10}{'G4c':>12}")
    for name, r in rows:
        print(f"{name:<20}{r['networks']:>10d}{r['seconds']:>10.1f}{r['rate']:>13.0f}"
              f"{r['peak_mib']:>10.0f}{r['g4c']:>12.2e}")
    big = rows[1][1]
    print(f"speed ratio (streamed / numpy loop): {big['rate'] / rows[2][1]['rate']:.1f}x")
    print(f"peak RSS at M = {rows[0][1]['networks']}: {rows[0][1]['peak_mib']:.0f} MiB, "
          f"at M = {big['networks']}: {big['peak_mib']:.0f} MiB (chunk {big['chunk']})")
    print(f"G4c = {big['g4c']:.3e} ± {big['g4c_mcse']:.1e}")
    print("peak: RSS of the whole subprocess (streamed); tracemalloc of the loop (numpy)")


if __name__ == "__main__":
    main()
