"""Benchmark: streamed Cos-net correlators against a plain NumPy loop over networks.

Cos-net, width 1000, d = 2, four points. The suite's path (:func:`nnqm_ppl.observables.
correlators.correlators`: jit-compiled ``lax.map`` over chunks, exact float64 draws, G2 + G4 +
G4c with ArviZ batch-means errors) runs with both estimators, ``plain`` (monomials of φ) and
``conditional`` (their exact expectations given the frequencies b: a and the phases c integrated
out analytically), at M = 10^6 networks and at M/10, each in a fresh subprocess so that peak RSS
is its own. The subprocess gets ``--devices`` host devices
(``XLA_FLAGS=--xla_force_host_platform_device_count``, default: the CPU count), over which the
suite spreads its chunks. The baseline (the style of public NN-FT research code: one network per
Python iteration, parameters from ``numpy.random``, the field at the points vectorised over the
width, running sums of the monomials) runs on a smaller M, best of 4 (two runs before the suite,
two after), on one core. Prints the load
average, networks/s (the suite's including its compilation), CPU cores used, peak memory,
G4c ± MCSE, the raw speed ratios and the equal-precision ratio: networks/s × (MCSE_loop-like /
MCSE)², i.e. how much faster a target MCSE on G4c is reached (the plain estimator has the loop's
per-network variance). ``--profile`` adds microseconds per network of the parts of a chunk step
(drawing the parameters, the cosine sums) on one device.

Usage::

    python benchmarks/correlators.py --profile        # M = 10^6 (and 10^5), baseline 2*10^4
    python benchmarks/correlators.py --networks 100000 --baseline 5000   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
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
    cpu0, t0 = time.process_time(), time.perf_counter()
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
    cpu = time.process_time() - cpu0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    g2 = s2 / networks
    g4c = s4 / networks - (g2[0, 1] * g2[2, 3] + g2[0, 2] * g2[1, 3] + g2[0, 3] * g2[1, 2])
    return {"networks": networks, "seconds": elapsed, "rate": networks / elapsed,
            "cores": cpu / elapsed, "peak_mib": peak / 2**20, "g4c": float(g4c)}


def _in_subprocess(networks: int, estimator: str, devices: int = 1) -> dict:
    env = dict(os.environ)
    if devices > 1:  # XLA reads this when the child initialises its CPU backend
        flag = f"--xla_force_host_platform_device_count={devices}"
        env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {flag}".strip()
    out = subprocess.run([sys.executable, __file__, "--child", str(networks), estimator],
                         check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_profile(chunk: int = 128, n_chunks: int = 100) -> dict:
    """Microseconds per network of the parts of one chunk step (one device, best of 3):
    drawing every parameter (a, b, c), drawing b only, the plain field φ(x_p) = Σ a cos(b·x + c)
    from given parameters, the conditional sums Σ cos(b·y) from given b, and both estimators."""
    import jax
    import jax.numpy as jnp

    import nnqm_ppl  # noqa: F401
    from nnqm_ppl.networks.neurons import cosnet, sample_params
    from nnqm_ppl.observables import correlators as corr

    net = cosnet(WIDTH, DIM)
    x = jnp.asarray(POINTS)
    key = jax.random.key(0)
    fixed = sample_params(net, key, chunk)

    def chunks(stat):
        return jax.jit(lambda k: corr._map_chunks(net, k, chunk, n_chunks, stat))

    def given(stat):  # the chunk's parameters fixed (perturbed per step so nothing is hoisted)
        def f(k):
            def body(c):
                eps = 1e-12 * c.astype(jnp.float64)
                return stat({n: v * (1 + eps) for n, v in fixed.items()})
            return jax.lax.map(body, jnp.arange(n_chunks))
        return jax.jit(f)

    parts = {
        "draw a, b, c": chunks(lambda p: {n: jnp.sum(v) for n, v in p.items()}),
        "draw b only": chunks(lambda p: {"b": jnp.sum(p["b"])}),
        "plain field, given a, b, c": given(lambda p: {"phi": corr._field(net, p, x)}),
        "conditional stat, given b": given(corr._conditional_cos_stat(net, x, 4)),
        "plain (all)": lambda k: corr._field_series(net, k, x, 0, chunk, n_chunks, 4, "plain"),
        "conditional (all)": lambda k: corr._field_series(net, k, x, 0, chunk, n_chunks, 4,
                                                          "conditional"),
    }
    out = {}
    for name, f in parts.items():
        jax.block_until_ready(f(key))
        best = min(_timed(lambda f=f: jax.block_until_ready(f(key))) for _ in range(3))
        out[name] = best / (chunk * n_chunks) * 1e6
    return out


def _timed(f) -> float:
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def main() -> None:
    """Run all paths and print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--networks", type=int, default=1_000_000)
    p.add_argument("--baseline", type=int, default=20_000)
    p.add_argument("--devices", type=int, default=os.cpu_count() or 1,
                   help="host devices the suite spreads its chunks over (default: CPU count)")
    p.add_argument("--profile", action="store_true", help="also time the parts of a chunk step")
    p.add_argument("--child", nargs=2, default=None, help=argparse.SUPPRESS)
    p.add_argument("--child-profile", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child is not None:
        print(json.dumps(run_suite(int(args.child[0]), args.child[1])))
        return
    if args.child_profile:
        print(json.dumps(run_profile()))
        return
    load0 = os.getloadavg()[0]
    # the loop runs before and after the suite (the machine's load may change); best of all
    loops = [run_numpy_loop(args.baseline, seed) for seed in range(2)]
    rows = {(est, m): _in_subprocess(m, est, args.devices) for est in ("plain", "conditional")
            for m in (args.networks // 10, args.networks)}
    loops += [run_numpy_loop(args.baseline, seed) for seed in range(2, 4)]
    loop = max(loops, key=lambda r: r["rate"])
    print(f"Cos-net width {WIDTH}, d = {DIM}, 4 points; G2, G4, G4c with errors; suite on "
          f"{args.devices} host device(s); load average {load0:.1f} at start, "
          f"{os.getloadavg()[0]:.1f} at end")
    print(f"{'path':<26}{'M':>9}{'seconds':>9}{'networks/s':>12}{'cores':>7}{'peak MiB':>10}"
          f"{'G4c ± MCSE':>22}")
    table = [("numpy loop (best of 4)", loop)] + [
        (f"nnqm_ppl {est}", r) for (est, _), r in rows.items()]
    for name, r in table:
        err = f"{r['g4c']:.4e} ± {r['g4c_mcse']:.1e}" if "g4c_mcse" in r else f"{r['g4c']:.4e}"
        print(f"{name:<26}{r['networks']:>9d}{r['seconds']:>9.1f}{r['rate']:>12.0f}"
              f"{r['cores']:>7.1f}{r['peak_mib']:>10.0f}{err:>22}")
    plain, cond = rows[("plain", args.networks)], rows[("conditional", args.networks)]
    var_ratio = (plain["g4c_mcse"] / cond["g4c_mcse"]) ** 2
    loop_core = max(r["rate"] / r["cores"] for r in loops)
    for name, r in (("plain", plain), ("conditional", cond)):
        print(f"speed ratio {name} / numpy loop: {r['rate'] / loop['rate']:.1f}x (networks/s); "
              f"per CPU-second {r['rate'] / r['cores'] / loop_core:.1f}x")
    print(f"G4c MCSE at M = {plain['networks']}: plain {plain['g4c_mcse']:.2e}, "
          f"conditional {cond['g4c_mcse']:.2e} (variance ratio {var_ratio:.2e})")
    print(f"equal-precision ratio conditional / numpy loop (time to a given G4c MCSE): "
          f"{cond['rate'] / loop['rate'] * var_ratio:.2e}x")
    for est in ("plain", "conditional"):
        small, big = rows[(est, args.networks // 10)], rows[(est, args.networks)]
        print(f"peak RSS {est}: {small['peak_mib']:.0f} MiB at M = {small['networks']}, "
              f"{big['peak_mib']:.0f} MiB at M = {big['networks']} (chunk {big['chunk']})")
    print("peak: RSS of the whole subprocess (suite); tracemalloc of the loop (numpy). cores: "
          "CPU time / wall time (the loop's below 1 when it had to share its core); loop rates: "
          + ", ".join(f"{r['rate']:.0f}" for r in loops))
    if args.profile:
        out = subprocess.run([sys.executable, __file__, "--child-profile"], check=True,
                             capture_output=True, text=True)
        prof = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"profile, one device, chunk 128 (load average {os.getloadavg()[0]:.1f}): "
              "microseconds per network")
        for name, us in prof.items():
            print(f"  {name:<30}{us:8.2f}")


if __name__ == "__main__":
    main()
