"""Posterior summaries and posterior modes of a fit (the modes start its chains)."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from nnqm_ppl.fitting.models import FitProblem
from nnqm_ppl.observables.estimate import mean_estimate


def flat_parameters(posterior: xr.Dataset | xr.DataTree, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Scalar (chain, draw) series per parameter; vector sites become NAME1, NAME2, …"""
    out = {}
    for name in names:
        v = np.asarray(getattr(posterior[name], "values", posterior[name]))
        if v.ndim == 2:
            out[name] = v
        else:
            for i in range(v.shape[2]):
                out[f"{name}{i + 1}"] = v[:, :, i]
    return out


def posterior_summary(posterior: xr.Dataset | xr.DataTree, names: tuple[str, ...]) -> dict[str, dict]:
    """Mean (with ArviZ MCSE), sd and the 90% equal-tailed interval of every scalar parameter.

    Parameters
    ----------
    posterior : xarray.Dataset or DataTree node
        Draws with dims (chain, draw, ...).
    names : tuple of str
        Variables to summarise (vectors are split into NAME1, NAME2, …).

    Returns
    -------
    dict
        Name -> ``{"mean", "mcse", "sd", "eti_5", "eti_95", "ess_bulk"}``.
    """
    out = {}
    for name, v in flat_parameters(posterior, names).items():
        est = mean_estimate(v)
        lo, hi = np.quantile(v, [0.05, 0.95])
        out[name] = {"mean": float(est.value), "mcse": float(est.mcse), "sd": float(np.std(v, ddof=1)),
                     "eti_5": float(lo), "eti_95": float(hi), "ess_bulk": float(est.ess)}
    return out


def posterior_modes(problem: FitProblem, y_w: np.ndarray, key: jax.Array, starts: int) -> list[dict]:
    """Posterior modes found by L-BFGS from random starting points, best first.

    Each start is drawn as NumPyro's default initialisation draws it (uniform in (−2, 2) in the
    unconstrained space); L-BFGS (SciPy) minimises NumPyro's potential energy −log p(θ, y) with
    JAX gradients from there. NUTS chains started at these points skip the long transient that
    a sharply peaked likelihood (data far more precise than the prior) otherwise costs: started
    at random, warm-up can end before the chain reaches the posterior, which shows up as
    divergences and undercoverage (BENCHMARKS.md, simulation-based calibration).

    Parameters
    ----------
    problem : FitProblem
    y_w : ndarray
        Whitened data.
    key : jax.Array
    starts : int
        Number of starting points (one optimisation each).

    Returns
    -------
    list of dict
        Unconstrained parameters (site -> array), one per start, ordered by potential energy.
    """
    return mode_finder(problem)(y_w, key, starts)


def lbfgs(value_and_grad: Callable[[jax.Array], tuple[jax.Array, jax.Array]], v0: np.ndarray
          ) -> tuple[float, np.ndarray]:
    """Minimise a JAX ``v -> (f(v), ∇f(v))`` with SciPy's L-BFGS-B from ``v0``.

    Returns
    -------
    (float, ndarray)
        The minimum (``inf`` when it is not finite) and where it is.
    """
    from scipy.optimize import minimize

    def fun(v: np.ndarray) -> tuple[float, np.ndarray]:
        f, g = value_and_grad(jnp.asarray(v))
        return float(f), np.asarray(g, dtype=float)

    res = minimize(fun, np.asarray(v0, dtype=float), jac=True, method="L-BFGS-B")
    return (float(res.fun) if np.isfinite(res.fun) else np.inf), res.x


def mode_finder(problem: FitProblem) -> Callable[[np.ndarray, jax.Array, int], list[dict]]:
    """:func:`posterior_modes` for one problem with its energy compiled once (for many data sets)."""
    from jax.flatten_util import ravel_pytree
    from numpyro.infer.util import initialize_model, potential_energy

    init = initialize_model(jax.random.key(0), problem.model, model_kwargs={"y_w": problem.y_w})
    flat, unravel = ravel_pytree(init.param_info.z)

    @jax.jit
    def energy(v: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
        return jax.value_and_grad(lambda u: potential_energy(problem.model, (), {"y_w": y}, unravel(u)))(v)

    def find(y_w: np.ndarray, key: jax.Array, starts: int) -> list[dict]:
        y = jnp.asarray(y_w)

        found = [lbfgs(lambda v: energy(v, y), v0)
                 for v0 in np.asarray(jax.random.uniform(key, (starts, flat.size), minval=-2.0, maxval=2.0))]
        found.sort(key=lambda t: t[0])
        return [unravel(jnp.asarray(x)) for _, x in found]

    return find

