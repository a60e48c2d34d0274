"""Forward models and the NumPyro model of a fit (:class:`FitProblem`): spectral sums, the
lattice transfer matrix in JAX (coupling fits) and the neural-field closed forms (network fits).
The likelihood whitens the data with the Cholesky factor L of the covariance, y_w = L⁻¹ G.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax.scipy.linalg import solve_triangular

from nnqm_ppl.exact.diagonalize import semiclassical_box
from nnqm_ppl.exact.transfer import periodic_correlator, quadrature_spacing
from nnqm_ppl.fitting.data import CorrelatorData
from nnqm_ppl.physics import Potential
from nnqm_ppl.spec import FitTask, NeuralFieldSpec, PathIntegralSpec, Prior, SpecError
from nnqm_ppl.theories.neural_field import ARCHITECTURES
from nnqm_ppl.theories.path_integral import lattice_from_spec

#: States the quadrature grid of a coupling fit must resolve (the test suite checks the grid's
#: correlator against the default transfer matrix to 1e-6 relative).
_FIT_STATES = 4

def coupling_grid(lattice: Any, potentials: list[Potential], box_scale: float = 1.5) -> np.ndarray:
    """A fixed quadrature grid good for every potential of a prior's range.

    The box is the union of :func:`~nnqm_ppl.exact.diagonalize.semiclassical_box` (for the
    lowest four states, which is what a correlator at β resolves) over ``potentials`` widened by
    ``box_scale``; the spacing is that of
    :func:`~nnqm_ppl.exact.transfer.transfer_matrix`
    (:func:`~nnqm_ppl.exact.transfer.quadrature_spacing`) with the largest p_max.
    """
    boxes = [semiclassical_box(v, lattice.mass, lattice.hbar, n_states=_FIT_STATES, beta=lattice.beta)
             for v in potentials]
    lo = min(b[0] for b in boxes) * box_scale
    hi = max(b[1] for b in boxes) * box_scale
    p_max = max(b[2] for b in boxes)
    spacing = quadrature_spacing(lattice, p_max)
    return np.linspace(lo, hi, int(math.ceil((hi - lo) / spacing)) + 1)


def lattice_correlator(coeffs: jax.Array, grid: np.ndarray, lattice: Any, ks: np.ndarray) -> jax.Array:
    """Exact lattice correlator ⟨x_0 x_k⟩ of a periodic chain, differentiable in the couplings.

    The coupling-fit form of :func:`~nnqm_ppl.exact.transfer.periodic_correlator`, G(k) =
    Tr(X M^k X M^{N−k}) / Tr M^N with M the quadrature transfer matrix of
    :mod:`nnqm_ppl.exact.transfer` on ``grid``, with V(x) = Σ c_k x^k.

    Parameters
    ----------
    coeffs : array (K,)
        c_k of V(x) = Σ c_k x^k.
    grid : ndarray (n,)
        Uniform quadrature grid (:func:`coupling_grid`).
    lattice : Lattice
        a, N = slices, m, ħ (periodic).
    ks : ndarray of int
        Separations 0 ≤ k ≤ N.

    Returns
    -------
    jax.Array (len(ks),)
    """
    v = jnp.polyval(jnp.asarray(coeffs)[::-1], jnp.asarray(grid))
    return periodic_correlator(grid, v, lattice, ks)


def network_correlator(
    architecture: str, observable: str, params: dict[str, jax.Array], tau: np.ndarray, dim: int, cutoff: float
) -> jax.Array:
    """Closed-form G2 or G4c of a neural-field ensemble, in JAX (for NUTS).

    Dispatches to the :class:`~nnqm_ppl.theories.neural_field.NetworkFit` of the architecture's
    entry in :data:`~nnqm_ppl.theories.neural_field.ARCHITECTURES`: the formulas of
    :mod:`nnqm_ppl.exact.analytic` on the fitted parameters, with Gaussian output weights
    (m2 = σ_a², m4 = 3σ_a⁴): Cos-net G2 (Halverson S11) and G4c at x1 = x2 = 0, x3 = x4 = s ê_1
    (eqs. 8, 23), Cauchy G2 (eqs. 31-33), the d = 1 free scalar G2 (eq. 29, by quadrature).

    Parameters
    ----------
    architecture : {"cosnet", "cauchy", "free_scalar"}
    observable : {"G2", "G4c"}
    params : dict
        ``sigma_a``, ``sigma_b``, ``mass``, ``width`` as the formula needs.
    tau : ndarray
        Separations r (G4c: s).
    dim : int
        Input dimension d.
    cutoff : float
        Λ of the free scalar.

    Returns
    -------
    jax.Array
    """
    return ARCHITECTURES[architecture].fits[observable].correlator(params, tau, dim, cutoff)


# --------------------------------------------------------------------------------------------
# Problems: a NumPyro model per fit
# --------------------------------------------------------------------------------------------


def _prior_dist(p: Prior) -> dist.Distribution:
    if p.dist == "lognormal":
        return dist.LogNormal(math.log(p.loc), p.scale)
    return dist.Normal(p.loc, p.scale)


@dataclass(frozen=True)
class FitProblem:
    """One Bayesian fit: priors, a forward model and whitened data.

    Attributes
    ----------
    kind : str
        ``spectral``, ``coupling`` or ``network``.
    names : tuple of str
        Sample sites (spectral: ``E1``, ``dE`` (K − 1 gaps), ``A`` (K amplitudes)).
    priors : dict
        Site -> distribution (vector sites: expanded).
    predict : callable
        ``predict(params) -> G(τ)`` at the data's τ.
    data : CorrelatorData
    states : int
        K of a spectral fit (0 otherwise).
    """

    kind: str
    names: tuple[str, ...]
    priors: dict[str, dist.Distribution]
    predict: Callable[[dict], jax.Array]
    data: CorrelatorData
    states: int = 0

    @property
    def chol(self) -> np.ndarray:
        """Cholesky factor L of the data covariance."""
        return np.linalg.cholesky(self.data.cov)

    @property
    def y_w(self) -> np.ndarray:
        """Whitened data L⁻¹ G."""
        return np.linalg.solve(self.chol, self.data.mean)

    @property
    def n_params(self) -> int:
        """Number of scalar parameters."""
        return sum(int(np.prod(d.batch_shape)) if d.batch_shape else 1 for d in self.priors.values())

    def model(self, y_w: jax.Array | None = None) -> None:
        """The NumPyro model: priors, forward model and the whitened likelihood ``y``.

        With ``y_w=None`` it draws data from the prior predictive (used by :func:`calibrate`).
        """
        params = {name: numpyro.sample(name, d) for name, d in self.priors.items()}
        if self.kind == "spectral":
            numpyro.deterministic("E", _energies(params))
        pred = self.predict(params)
        pred_w = solve_triangular(jnp.asarray(self.chol), pred, lower=True)
        with numpyro.plate("data", len(self.data.tau)):
            numpyro.sample("y", dist.Normal(pred_w, 1.0), obs=y_w)


def _energies(params: dict) -> jax.Array:
    e1 = jnp.atleast_1d(params["E1"])
    if "dE" not in params:
        return e1
    return jnp.concatenate([e1, e1 + jnp.cumsum(params["dE"])])


def _spectral(task: FitTask, data: CorrelatorData, beta: float, k: int) -> FitProblem:
    tau = jnp.asarray(data.tau)

    def predict(params: dict) -> jax.Array:
        e = _energies(params)
        return jnp.sum(params["A"][:, None] * (jnp.exp(-e[:, None] * tau) + jnp.exp(-e[:, None] * (beta - tau))), 0)

    pri = task.priors
    priors = {"E1": _prior_dist(pri["energy"])}
    if k > 1:
        priors["dE"] = _prior_dist(pri["gap"]).expand([k - 1])
    priors["A"] = _prior_dist(pri["amplitude"]).expand([k])
    return FitProblem("spectral", tuple(priors), priors, predict, data, states=k)


def _coupling(task: FitTask, data: CorrelatorData, model: PathIntegralSpec) -> FitProblem:
    lattice = lattice_from_spec(model)
    ks = np.rint(data.tau / lattice.a).astype(int)
    if np.max(np.abs(ks * lattice.a - data.tau)) > 1e-9 * max(lattice.a, 1.0):
        raise SpecError(data.source, "tau", f"τ must be multiples of the model's lattice spacing a = {lattice.a:.6g}")
    base = list(model.potential) + [0.0] * max(0, 1 + max(int(n[1:]) for n in task.parameters) - len(model.potential))
    idx = [int(n[1:]) for n in task.parameters]
    corners = []
    for q in (0.01, 0.99):
        c = list(base)
        for name, i in zip(task.parameters, idx, strict=True):
            p = task.priors[name]
            c[i] = p.loc * math.exp(p.scale * 2.326 * (1 if q > 0.5 else -1)) if p.dist == "lognormal" else (
                p.loc + p.scale * 2.326 * (1 if q > 0.5 else -1))
        try:
            corners.append(Potential.from_coeffs(c))
        except SpecError:
            continue
    if not corners:
        raise SpecError(task.where, "fit.priors", "no potential in the prior's range is bounded below")
    grid = coupling_grid(lattice, corners, task.box_scale)
    base_arr = jnp.asarray(base)

    def predict(params: dict) -> jax.Array:
        coeffs = base_arr.at[jnp.asarray(idx)].set(jnp.stack([params[n] for n in task.parameters]))
        return lattice_correlator(coeffs, grid, lattice, ks)

    priors = {n: _prior_dist(task.priors[n]) for n in task.parameters}
    return FitProblem("coupling", tuple(priors), priors, predict, data)


def _network(task: FitTask, data: CorrelatorData, model: NeuralFieldSpec) -> FitProblem:
    fixed = {"sigma_a": model.sigma_a, "sigma_b": model.sigma_b, "mass": model.mass, "width": float(model.width)}

    def predict(params: dict) -> jax.Array:
        return network_correlator(model.architecture, task.observable, fixed | params, data.tau, model.dim,
                                  model.cutoff)

    priors = {n: _prior_dist(task.priors[n]) for n in task.parameters}
    return FitProblem("network", tuple(priors), priors, predict, data)


def fit_problem(task: FitTask, model: Any, data: CorrelatorData, states: int = 0) -> FitProblem:
    """The :class:`FitProblem` of a validated fit task on its model and data.

    Parameters
    ----------
    task : FitTask
    model : PathIntegralSpec or NeuralFieldSpec
    data : CorrelatorData
        Already cut to the fit range.
    states : int
        K for a spectral fit.

    Returns
    -------
    FitProblem
    """
    if task.kind == "spectral":
        return _spectral(task, data, model.beta, states)
    if task.kind == "coupling":
        return _coupling(task, data, model)
    return _network(task, data, model)

