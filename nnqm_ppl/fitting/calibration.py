"""Simulation-based calibration of a fit problem (Talts et al. 2018)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from nnqm_ppl.fitting.models import FitProblem
from nnqm_ppl.fitting.posterior import flat_parameters, mode_finder


def calibrate(
    problem: FitProblem,
    key: jax.Array,
    *,
    datasets: int = 50,
    warmup: int = 300,
    samples: int = 400,
    thin: int = 4,
    target_accept: float = 0.9,
    starts: int = 4,
) -> dict[str, Any]:
    """Simulation-based calibration (Talts et al. 2018) of a fit problem.

    For each of ``datasets`` draws θ* from the prior and data from the likelihood at θ*, NUTS
    samples the posterior: one chain started at the best of ``starts`` posterior modes
    (:func:`posterior_modes`, as the ``fit`` task starts its chains), with NumPyro's NUTS kernel
    and warm-up adaptation (``numpyro.infer.hmc.hmc``, as :class:`numpyro.infer.NUTS` uses them).
    The rank of θ* among ``samples // thin`` thinned draws and whether the central 90% interval
    covers θ* are recorded for every scalar parameter.

    The whole run of one data set (initialisation, warm-up, sampling) is one jit-compiled
    function of (key, start, data), compiled once: :class:`numpyro.infer.MCMC` recompiles its
    sampling loop on every ``run`` (a new closure each time), which cost ~1 s per data set and
    left each compiled program mapped (200 data sets exhausted ``vm.max_map_count``).

    Parameters
    ----------
    problem : FitProblem
        Its data supply τ and the covariance; the data values are replaced by simulations.
    key : jax.Array
    datasets, warmup, samples, thin : int
    target_accept : float
    starts : int
        Starting points of the mode search per data set.

    Returns
    -------
    dict
        ``ranks`` (name -> int array, values 0..samples // thin), ``coverage`` (name -> fraction
        of 90% intervals covering the truth), ``draws`` (L = samples // thin), ``divergences``
        (total) and, per data set, ``truth`` (name -> θ*), ``covered`` (name -> bool) and
        ``diverging`` (divergent transitions of its run).
    """
    from numpyro.infer import Predictive
    from numpyro.infer.hmc import hmc
    from numpyro.infer.util import initialize_model

    info = initialize_model(jax.random.key(0), problem.model, model_kwargs={"y_w": problem.y_w},
                            dynamic_args=True)
    init_kernel, sample_kernel = hmc(potential_fn_gen=info.potential_fn, algo="NUTS")

    @jax.jit
    def posterior(key: jax.Array, start: dict, y_w: jax.Array) -> tuple[dict, jax.Array]:
        kwargs = {"y_w": y_w}
        state = init_kernel(start, warmup, target_accept_prob=target_accept, model_kwargs=kwargs, rng_key=key)

        def step(s, _):
            s = sample_kernel(s, model_kwargs=kwargs)
            return s, (s.z, s.diverging)

        state, _ = jax.lax.scan(step, state, None, length=warmup)
        _, (zs, diverging) = jax.lax.scan(step, state, None, length=samples)
        return jax.vmap(info.postprocess_fn(**kwargs))(zs), diverging

    k_prior, k_fit = jax.random.split(key)
    sims = Predictive(problem.model, num_samples=datasets)(k_prior)
    truth = flat_parameters({n: np.asarray(sims[n])[None] for n in problem.names}, problem.names)
    truth = {name: v[0] for name, v in truth.items()}
    ranks: dict[str, list[int]] = {n: [] for n in truth}
    covered: dict[str, list[bool]] = {n: [] for n in truth}
    diverging: list[int] = []
    modes = mode_finder(problem)
    for i, k in enumerate(jax.random.split(k_fit, datasets)):
        k_start, k_run = jax.random.split(k)
        start = modes(sims["y"][i], k_start, starts)[0]
        post, div = posterior(k_run, start, jnp.asarray(sims["y"][i]))
        diverging.append(int(np.sum(div)))
        draws = flat_parameters({n: np.asarray(post[n])[None] for n in problem.names}, problem.names)
        for name, v in draws.items():
            t = float(truth[name][i])
            v = v.ravel()
            ranks[name].append(int(np.sum(v[::thin] < t)))
            lo, hi = np.quantile(v, [0.05, 0.95])
            covered[name].append(bool(lo <= t <= hi))
    return {
        "ranks": {n: np.asarray(r) for n, r in ranks.items()},
        "coverage": {n: float(np.mean(c)) for n, c in covered.items()},
        "draws": len(range(0, samples, thin)),
        "divergences": int(sum(diverging)),
        "truth": truth,
        "covered": {n: np.asarray(c) for n, c in covered.items()},
        "diverging": np.asarray(diverging),
    }
