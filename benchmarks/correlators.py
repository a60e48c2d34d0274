"""Benchmark: streamed Cos-net correlators against a plain NumPy loop over networks.

Cos-net, width 1000, d = 2, four points. The suite's path (:func:`nnqm_ppl.observables.
correlators.correlators`: jit-compiled ``lax.map`` over chunks, exact draws, G2 + G4 + G4c with
ArviZ batch-means errors) runs with both estimators, ``plain`` (monomials of φ) and
``conditional`` (their exact expectations given the frequencies b: a and the phases c integrated
out analytically), at M = 10^6 networks and at M/10, each in a fresh subprocess so that peak RSS
is its own; the baseline (the style of public NN-FT research code: one network per Python
iteration, parameters from ``numpy.random``, the field at the points vectorised over the width,
running sums of the monomials) runs on a smaller M, best of 3. Prints networks/s (the suite's
including its ~1 s compilation), CPU cores used, peak memory, G4c ± MCSE, the raw speed ratios
and the equal-precision ratio: networks/s × (MCSE_loop-like / MCSE)², i.e. how much faster a
target MCSE on G4c is reached (the plain estimator has the loop's per-network variance).

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


def run_suite(networks: int, estimator: str, seed: int = 0) -> dict:
    """Streamed correlators of M Cos-net networks; returns rate (compile included, ~1 s), CPU
    cores used (CPU time / wall time), peak RSS of this process and G4c ± MCSE."""
    import jax

    import nnqm_ppl  # noqa: F401
    from nnqm_ppl.networks.neurons import cosnet
    from nnqm_ppl.observables.correlators import correlators

    net = cosnet(WIDTH, DIM)
    cpu0, t0 = time.process_time(), time.perf_counter()
    r = correlators(net, jax.random.key(seed), POINTS, networks, estimator=estimator)
    elapsed = time.perf_counter() - t0
    cores = (time.process_time() - cpu0) / elapsed
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"networks": r.networks, "seconds": elapsed, "rate": r.networks / elapsed,
            "cores": cores, "peak_mib": peak_mib, "chunk": r.chunk, "g4c": float(r.G4c.value),
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


def _in_subprocess(networks: int, estimator: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(networks), estimator],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run all paths and print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--networks", type=int, default=1_000_000)
    p.add_argument("--baseline", type=int, default=20_000)
    p.add_argument("--child", nargs=2, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child is not None:
        print(json.dumps(run_suite(int(args.child[0]), args.child[1])))
        return
    loops = [run_numpy_loop(args.baseline, seed) for seed in range(3)]
    loop = max(loops, key=lambda r: r["rate"])
    loop["cores"] = 1.0
    rows = {(est, m): _in_subprocess(m, est) for est in ("plain", "conditional")
            for m in (args.networks // 10, args.networks)}
    print(f"Cos-net width {WIDTH}, d = {DIM}, 4 points; G2, G4, G4c with errors")
    print(f"{'path':<26}{'M':>9}{'seconds':>9}{'networks/s':>12}{'cores':>7}{'peak MiB':>10}"
          f"{'G4c ± MCSE':>22}")
    table = [("numpy loop (best of 3)", loop)] + [
        (f"nnqm_ppl {est}", r) for (est, _), r in rows.items()]
    for name, r in table:
        err = f"{r['g4c']:.4e} ± {r['g4c_mcse']:.1e}" if "g4c_mcse" in r else f"{r['g4c']:.4e}"
        print(f"{name:<26}{r['networks']:>9d}{r['seconds']:>9.1f}{r['rate']:>12.0f}"
              f"{r['cores']:>7.1f}{r['peak_mib']:>10.0f}{err:>22}")
    plain, cond = rows[("plain", args.networks)], rows[("conditional", args.networks)]
    var_ratio = (plain["g4c_mcse"] / cond["g4c_mcse"]) ** 2
    for name, r in (("plain", plain), ("conditional", cond)):
        print(f"speed ratio {name} / numpy loop: {r['rate'] / loop['rate']:.1f}x (networks/s)")
    print(f"G4c MCSE at M = {plain['networks']}: plain {plain['g4c_mcse']:.2e}, "
          f"conditional {cond['g4c_mcse']:.2e} (variance ratio {var_ratio:.2e})")
    print(f"equal-precision ratio conditional / numpy loop (time to a given G4c MCSE): "
          f"{cond['rate'] / loop['rate'] * var_ratio:.2e}x")
    for est in ("plain", "conditional"):
        small, big = rows[(est, args.networks // 10)], rows[(est, args.networks)]
        print(f"peak RSS {est}: {small['peak_mib']:.0f} MiB at M = {small['networks']}, "
              f"{big['peak_mib']:.0f} MiB at M = {big['networks']} (chunk {big['chunk']})")
    print("peak: RSS of the whole subprocess (suite); tracemalloc of the loop (numpy). cores: "
          "CPU time / wall time")


if __name__ == "__main__":
    main()
