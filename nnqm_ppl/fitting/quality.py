"""Goodness of fit of a Bayesian correlator fit: χ², its p-value and a posterior-predictive p-value.

With C = L Lᵀ the data covariance and G(θ) the forward model at the data's τ, the whitened
residuals are r(θ) = L⁻¹ (G − G(θ)) and

- χ²(y, θ) = |r(θ)|² = (G − G(θ))ᵀ C⁻¹ (G − G(θ));
- **χ²_min** = min_θ χ²(y, θ), the maximum-likelihood fit (the prior plays no part): found by
  L-BFGS in the parameters' unconstrained space, started at the posterior draw with the smallest χ²
  (and never above that draw's χ²);
- **dof** = n − p, the number of data points minus the number of scalar parameters;
- **p-value** p = P(χ²_dof ≥ χ²_min) = Q(dof/2, χ²_min/2), Q the regularised upper incomplete gamma
  function: uniform on (0, 1) when the model is right (and linear enough near its minimum), small
  when the data deviate from every member of the model;
- **posterior-predictive p-value** ppp = P(χ²(y_rep, θ) ≥ χ²(y, θ) | y) over the posterior, with
  y_rep ~ N(G(θ), C) replicated data. For every θ, χ²(y_rep, θ) ~ χ²_n, so the probability over
  y_rep is Q(n/2, χ²(y, θ)/2) exactly and ppp = E_post[Q(n/2, χ²(y, θ)/2)] (Rao–Blackwellised: no
  replicated data are drawn); it is a posterior mean with an ArviZ MCSE. ppp is conservative (it
  concentrates near 1/2 for a model that fits), so the gate judges p, and ppp is reported beside it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import solve_triangular
from jax.scipy.special import gammaincc
from numpyro.distributions.transforms import biject_to

from nnqm_ppl.fitting.models import FitProblem
from nnqm_ppl.fitting.posterior import lbfgs
from nnqm_ppl.observables.estimate import mean_estimate

__all__ = ["FitQuality", "chi2_sf", "chi2_draws", "predict_draws", "fit_quality"]

#: How summary.json states the definitions (``fit.chi2_is``, ``fit.dof_is``).
CHI2_IS = "minimum over the parameters of (G - G(θ))ᵀ C⁻¹ (G - G(θ)) (maximum likelihood, no prior)"
DOF_IS = "data points - scalar parameters"

#: Posterior draws whose forward model is evaluated at once (bounds the memory of a batch).
_BATCH = 256


@dataclass(frozen=True)
class FitQuality:
    """Goodness of fit of one posterior (definitions in the module docstring).

    Attributes
    ----------
    chi2 : float
        χ²_min.
    dof : int
        n − p.
    chi2_dof : float or None
        χ²_min / dof (``None`` when dof = 0).
    p_value : float or None
        Q(dof/2, χ²_min/2) (``None`` when dof = 0: the fit goes through every point).
    ppp : float
        Posterior-predictive p-value E_post[Q(n/2, χ²(y, θ)/2)].
    ppp_mcse : float
        Its Monte Carlo standard error (ArviZ, over chains and draws).
    chi2_is, dof_is : str
        The definitions, for ``summary.json``.
    """

    chi2: float
    dof: int
    chi2_dof: float | None
    p_value: float | None
    ppp: float
    ppp_mcse: float
    chi2_is: str = CHI2_IS
    dof_is: str = DOF_IS

    def to_dict(self) -> dict:
        """Plain dict for ``summary.json``."""
        return asdict(self)


def chi2_sf(x: float, dof: float) -> float:
    """Survival function of the χ² distribution, P(χ²_dof ≥ x) = Q(dof/2, x/2).

    Parameters
    ----------
    x : float
        χ² value (≥ 0).
    dof : float
        Degrees of freedom (> 0).

    Returns
    -------
    float
        Q(dof/2, x/2) = Γ(dof/2, x/2) / Γ(dof/2) by :func:`jax.scipy.special.gammaincc`.
    """
    return float(gammaincc(dof / 2.0, x / 2.0))


def chi2_draws(problem: FitProblem, preds: np.ndarray) -> np.ndarray:
    """χ²(y, θ_s) of each posterior draw from its forward-model values.

    Parameters
    ----------
    problem : nnqm_ppl.fitting.FitProblem
        Supplies the data and the Cholesky factor L of their covariance.
    preds : ndarray (..., n)
        G(θ_s) at the data's τ.

    Returns
    -------
    ndarray (...)
        |L⁻¹ (G − G(θ_s))|².
    """
    resid = np.asarray(problem.data.mean) - np.asarray(preds)
    flat = resid.reshape(-1, resid.shape[-1]).T
    white = np.linalg.solve(problem.chol, flat)
    return np.sum(white**2, axis=0).reshape(resid.shape[:-1])


def predict_draws(problem: FitProblem, draws: dict[str, np.ndarray]) -> np.ndarray:
    """G(θ_s) for every draw, in batches of :data:`_BATCH` (sites of shape (S, ...) -> (S, n))."""
    return np.asarray(jax.lax.map(problem.predict, {k: jnp.asarray(v) for k, v in draws.items()},
                                  batch_size=_BATCH))


def _chi2_min(problem: FitProblem, start: dict[str, np.ndarray]) -> float:
    """min_θ χ²(y, θ) by L-BFGS in the unconstrained space of the priors' supports, from ``start``."""
    from jax.flatten_util import ravel_pytree

    maps = {n: biject_to(problem.priors[n].support) for n in problem.names}
    flat, unravel = ravel_pytree({n: maps[n].inv(jnp.asarray(v)) for n, v in start.items()})
    chol, y = jnp.asarray(problem.chol), jnp.asarray(problem.data.mean)

    @jax.jit
    def chi2(u: jax.Array) -> tuple[jax.Array, jax.Array]:
        def f(v):
            params = {n: maps[n](z) for n, z in unravel(v).items()}
            r = solve_triangular(chol, y - problem.predict(params), lower=True)
            return r @ r

        return jax.value_and_grad(f)(u)

    return lbfgs(chi2, np.asarray(flat))[0]


def fit_quality(problem: FitProblem, draws: dict[str, np.ndarray], chi2: np.ndarray) -> FitQuality:
    """χ²_min, dof, the p-value and the posterior-predictive p-value of a sampled fit.

    Parameters
    ----------
    problem : nnqm_ppl.fitting.FitProblem
    draws : dict
        Site -> posterior draws flattened over (chain, draw), shape (S, ...).
    chi2 : ndarray (chain, draw)
        χ²(y, θ) of each draw (:func:`chi2_draws`), in the same order as ``draws``.

    Returns
    -------
    FitQuality
    """
    n = problem.data.tau.size
    best = int(np.argmin(chi2.ravel()))
    chi2_min = min(float(chi2.ravel()[best]), _chi2_min(problem, {k: v[best] for k, v in draws.items()}))
    dof = n - problem.n_params
    tail = np.asarray(gammaincc(n / 2.0, jnp.asarray(chi2) / 2.0))
    ppp = mean_estimate(tail)
    return FitQuality(
        chi2=chi2_min,
        dof=dof,
        chi2_dof=chi2_min / dof if dof > 0 else None,
        p_value=chi2_sf(chi2_min, dof) if dof > 0 else None,
        ppp=float(ppp.value),
        ppp_mcse=float(ppp.mcse),
    )
