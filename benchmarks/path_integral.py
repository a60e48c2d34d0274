"""Sampling efficiency of the four path parametrisations against checkerboard Metropolis.

V = x²/2 + x⁴, β = 16, slices N = 64, 256, 1024 (``--quick``: β = 8, N = 32, 64, fewer draws).
For each parametrisation of :mod:`nnqm_ppl.networks.paths` sampled with NumPyro NUTS, and for the
Creutz–Freedman local Metropolis (checkerboard sweeps, uniform proposals x' = x + Δu, u ~ U(-1, 1),
Δ = 2√a, vectorised NumPy, written here), it prints

- ESS/s and ESS per gradient evaluation (the minimum bulk ESS, from ArviZ, over the site-averaged
  ⟨x²⟩, C(β/4) = ⟨x_n x_{n+N/4}⟩ and the squared path mean (Σ_n x_n / N)²), the time being the
  sampling phase only (warm-up and compilation excluded); a Metropolis sweep (one local update of
  every site, O(N) like one gradient) counts as one gradient evaluation;
- τ_int = (number of draws) / ESS, in draws (NUTS iterations or sweeps), against a;
- the ratios to the position network, and ⟨x²⟩ ± MCSE beside the transfer-matrix value.

Paths are periodic except for ``relu``, which parametrises open paths only: it runs with fixed ends
x_0 = x_N = 0 (its C(β/4) and ⟨x²⟩ are then those of the open path, so only its efficiency, not its
values, compares with the others).

Usage: ``python benchmarks/path_integral.py [--quick] [--seed INT] [--skip-relu-above N]``.
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import numpy as np
from numpyro.infer import MCMC, NUTS

from nnqm_ppl.exact.transfer import transfer_matrix
from nnqm_ppl.networks.paths import path_network
from nnqm_ppl.observables.estimate import ess, mean_estimate
from nnqm_ppl.physics import Lattice, Potential

POTENTIAL = Potential.from_coeffs([0.0, 0.0, 0.5, 0.0, 1.0])
NETWORKS = ("position", "step", "relu", "fourier")


def observables(x: np.ndarray, periodic: bool) -> np.ndarray:
    """Per-draw (⟨x²⟩, C(β/4), x̄²) of paths x (..., sites), site-averaged; shape (..., 3)."""
    k = (x.shape[-1] if periodic else x.shape[-1] - 1) // 4
    if periodic:
        corr = np.mean(x * np.roll(x, -k, axis=-1), axis=-1)
    else:
        corr = np.mean(x[..., :-k] * x[..., k:], axis=-1)
    return np.stack([np.mean(x**2, axis=-1), corr, np.mean(x, axis=-1) ** 2], axis=-1)


def timed_nuts(net, warmup: int, samples: int, chains: int, key: jax.Array) -> tuple[np.ndarray, ...]:
    """NUTS on a path network: NumPyro warm-up, then a timed, pre-compiled sampling scan.

    The adapted kernel's ``sample`` is scanned over ``samples`` draws per chain in one compiled
    function (compiled before the clock starts and reused for every chain), so the time is the
    sampling itself; ``num_steps`` counts the leapfrog steps = gradient evaluations.

    Returns
    -------
    theta, steps, diverging : ndarray (chain, draw, ...)
        The network parameters, leapfrog steps and divergences of every draw.
    seconds : float
        Wall time of the sampling scans.
    """
    mcmc = MCMC(NUTS(net.model, target_accept_prob=0.8), num_warmup=warmup, num_samples=samples,
                num_chains=chains, chain_method="sequential", progress_bar=False)
    mcmc.warmup(key)
    kernel = mcmc.sampler

    def step(state, _):
        state = kernel.sample(state, (), {})
        return state, (state.z[net.site], state.num_steps, state.diverging)

    def chain_state(c: int):  # NumPyro keeps one chain's state unbatched
        return mcmc.last_state if chains == 1 else jax.tree_util.tree_map(lambda leaf: leaf[c], mcmc.last_state)

    sample = jax.jit(lambda state: jax.lax.scan(step, state, None, length=samples)[1]).lower(chain_state(0)).compile()
    start = time.perf_counter()
    draws = [jax.block_until_ready(sample(chain_state(c))) for c in range(chains)]
    seconds = time.perf_counter() - start
    theta, steps, diverging = (np.stack([np.asarray(d[i]) for d in draws]) for i in range(3))
    return theta, steps, diverging, seconds


def run_nuts(network: str, lat: Lattice, warmup: int, samples: int, chains: int, key: jax.Array) -> dict:
    """NUTS on one parametrisation (:func:`timed_nuts`) and its observables, ESS and cost."""
    net = path_network(lat, POTENTIAL, network)
    theta, steps, diverging, elapsed = timed_nuts(net, warmup, samples, chains, key)
    x = np.asarray(net.forward(theta))
    return _summary(observables(x, lat.boundary == "periodic"), elapsed, int(steps.sum()), int(diverging.sum()))


def run_metropolis(lat: Lattice, sweeps: int, chains: int, seed: int) -> dict:
    """Checkerboard Metropolis (Creutz–Freedman), Δ = 2√a, all chains and half-lattices at once.

    The local action of site n with neighbours l, r is m[(x - l)² + (r - x)²]/(2a) + a V(x); the
    even and then the odd sites are updated simultaneously (they do not interact).
    """
    rng = np.random.default_rng(seed)
    n, a, m, hbar = lat.slices, lat.a, lat.mass, lat.hbar
    c = np.asarray(POTENTIAL.coeffs)[::-1]
    delta = 2.0 * np.sqrt(a)

    def local(y: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        return (m * ((y - left) ** 2 + (right - y) ** 2) / (2.0 * a) + a * np.polyval(c, y)) / hbar

    x = np.zeros((chains, n))
    for _ in range(sweeps // 10):  # burn-in, not timed
        x = _sweep(x, rng, delta, local)[0]
    obs = np.empty((chains, sweeps, 3))
    accepted = 0
    start = time.perf_counter()
    for t in range(sweeps):
        x, acc = _sweep(x, rng, delta, local)
        accepted += acc
        obs[:, t] = observables(x, True)
    elapsed = time.perf_counter() - start
    out = _summary(obs, elapsed, sweeps * chains, 0)
    out["acceptance"] = accepted / (sweeps * chains * n)
    return out


def _sweep(x: np.ndarray, rng: np.random.Generator, delta: float, local) -> tuple[np.ndarray, int]:
    accepted = 0
    for parity in (0, 1):
        left = np.roll(x, 1, axis=-1)[:, parity::2]
        right = np.roll(x, -1, axis=-1)[:, parity::2]
        old = x[:, parity::2]
        new = old + delta * rng.uniform(-1.0, 1.0, old.shape)
        d_s = local(new, left, right) - local(old, left, right)
        accept = np.log(rng.uniform(size=old.shape)) < -d_s
        x[:, parity::2] = np.where(accept, new, old)
        accepted += int(accept.sum())
    return x, accepted


def _summary(obs: np.ndarray, elapsed: float, grads: int, diverging: int) -> dict:
    ess_min = float(np.min(ess(obs)))
    draws = obs.shape[0] * obs.shape[1]
    est = mean_estimate(obs[..., 0])
    return {
        "draws": draws,
        "seconds": elapsed,
        "grads_per_draw": grads / draws,
        "ess": ess_min,
        "ess_per_s": ess_min / elapsed,
        "ess_per_grad": ess_min / grads,
        "tau_int": draws / ess_min,
        "x2": (est.value, est.mcse),
        "diverging": diverging,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small version (β = 8, N = 32, 64)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-relu-above", type=int, default=256, help="skip relu for N above this (default 256)")
    args = parser.parse_args()
    beta, sizes = (8.0, (32, 64)) if args.quick else (16.0, (64, 256, 1024))
    warmup, samples, chains = (200, 300, 2) if args.quick else (500, 1000, 2)
    sweeps = {n: (500 if args.quick else 100) * n for n in sizes}  # local Metropolis: τ_int ∝ 1/a²
    print(f"V = x²/2 + x⁴, β = {beta}; NUTS {chains} chains × {samples} draws after {warmup} warm-up; "
          f"Metropolis 4 chains; {os.cpu_count()} CPUs; jax {jax.__version__} on {jax.default_backend()}")
    key = jax.random.key(args.seed)
    results: dict[int, dict[str, dict]] = {}
    for n in sizes:
        periodic = Lattice(beta=beta, slices=n)
        fixed = Lattice(beta=beta, slices=n, boundary="fixed", x_ini=0.0, x_fin=0.0)
        exact = transfer_matrix(periodic, POTENTIAL).expect(lambda x: x**2)
        results[n] = {}
        for name in NETWORKS:
            if name == "relu" and n > args.skip_relu_above:
                continue
            key, sub = jax.random.split(key)
            results[n][name] = run_nuts(name, fixed if name == "relu" else periodic, warmup, samples, chains, sub)
        results[n]["metropolis"] = run_metropolis(periodic, sweeps[n], 4, args.seed + n)
        _print_table(n, periodic.a, exact, results[n])
    _print_scaling(results, beta)


def _print_table(n: int, a: float, exact: float, rows: dict[str, dict]) -> None:
    print(f"\nN = {n}, a = {a:.5g}; transfer-matrix ⟨x²⟩ = {exact:.5f} (periodic)")
    print(f"{'method':<11}{'draws':>8}{'grad/draw':>10}{'sec':>8}{'ESS':>8}{'ESS/s':>10}{'ESS/grad':>11}"
          f"{'tau_int':>9}{'vs pos ESS/s':>13}  <x^2> ± mcse   div")
    base = rows["position"]["ess_per_s"]
    for name, r in rows.items():
        extra = f"  acc {r['acceptance']:.2f}" if "acceptance" in r else ""
        print(f"{name:<11}{r['draws']:>8}{r['grads_per_draw']:>10.1f}{r['seconds']:>8.2f}{r['ess']:>8.0f}"
              f"{r['ess_per_s']:>10.1f}{r['ess_per_grad']:>11.2e}{r['tau_int']:>9.2f}{r['ess_per_s'] / base:>13.2f}"
              f"  {r['x2'][0]:.4f} ± {r['x2'][1]:.4f}  {r['diverging']}{extra}")


def _print_scaling(results: dict[int, dict[str, dict]], beta: float) -> None:
    names = sorted({name for rows in results.values() for name in rows}, key=lambda s: (s != "fourier", s))
    print("\nτ_int (draws) and grad/draw against a")
    print(f"{'a':>10}" + "".join(f"{name:>22}" for name in names))
    for n, rows in results.items():
        cells = "".join(
            f"{rows[k]['tau_int']:>12.2f} ({rows[k]['grads_per_draw']:>6.1f})" if k in rows else f"{'-':>22}"
            for k in names
        )
        print(f"{beta / n:>10.5g}{cells}")
    last = max(results)
    ratio = results[last]["fourier"]["ess_per_s"] / results[last]["position"]["ess_per_s"]
    print(f"\nFourier / position ESS/s at N = {last}: {ratio:.1f}×")


if __name__ == "__main__":
    main()
