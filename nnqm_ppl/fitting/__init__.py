"""Bayesian inference from observed correlators: data, NumPyro models, posteriors, calibration.

Modules: :mod:`~nnqm_ppl.fitting.data` (reading and checking correlator data),
:mod:`~nnqm_ppl.fitting.models` (forward models, :class:`FitProblem`),
:mod:`~nnqm_ppl.fitting.posterior` (summaries, modes), :mod:`~nnqm_ppl.fitting.quality` (χ², p-value,
posterior predictive p), :mod:`~nnqm_ppl.fitting.calibration` (SBC).

Data are a Euclidean correlator G(τ_i) with a covariance (:class:`CorrelatorData`), read from a
CSV file (``tau,value,error``), an NPZ or netCDF file (``tau``, ``mean``, ``cov``) or the
directory of an earlier ``nnqm run`` of a path integral (its per-draw correlator gives the mean and
the covariance of the mean: Γ-method standard errors, correlations from blocked draws with
Schäfer–Strimmer shrinkage). Every model
whitens the data with the Cholesky factor L of the covariance, y_w = L⁻¹ G, so the likelihood is a
product of unit normals N(y_w,i | (L⁻¹ G_model)_i, 1): exactly the correlated Gaussian likelihood,
and pointwise terms for PSIS-LOO.

Three forward models (each a :class:`FitProblem`):

- **spectral**: G(τ) = Σ_{n=1..K} A_n (e^{−E_n τ} + e^{−E_n (β−τ)}), E_1 log-normal, the gaps
  E_{n+1} − E_n log-normal (so the energies are ordered), A_n log-normal (positive).
- **coupling**: coefficients c_k of V(x) = Σ c_k x^k through the lattice transfer matrix in JAX,
  G(ka) = Tr(x T^k x T^{N−k}) / Tr T^N (:func:`lattice_correlator`), differentiable for NUTS;
  it describes Monte Carlo data at the same a exactly.
- **network**: hyperparameters of neural-field ensembles from their closed forms
  (:func:`network_correlator`): Cos-net σ_a, σ_b and the width N (from G4c ∝ 1/N); mass and σ_a
  of the Cauchy net and of the d = 1 free scalar.
"""

from nnqm_ppl.fitting.calibration import calibrate
from nnqm_ppl.fitting.data import CorrelatorData, from_draws, load_data, shrunk_covariance, validate_data
from nnqm_ppl.fitting.models import (
    FitProblem,
    coupling_grid,
    fit_problem,
    lattice_correlator,
    network_correlator,
)
from nnqm_ppl.fitting.posterior import flat_parameters, lbfgs, mode_finder, posterior_modes, posterior_summary

__all__ = [
    "lbfgs",
    "CorrelatorData",
    "FitProblem",
    "validate_data",
    "load_data",
    "from_draws",
    "shrunk_covariance",
    "lattice_correlator",
    "coupling_grid",
    "network_correlator",
    "fit_problem",
    "posterior_summary",
    "flat_parameters",
    "posterior_modes",
    "mode_finder",
    "calibrate",
]
