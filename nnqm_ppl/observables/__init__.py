"""Estimators from draws to :class:`~nnqm_ppl.observables.estimate.Estimate` (value ± MCSE)."""

from nnqm_ppl.observables.estimate import Estimate, derived_estimate, mean_estimate

__all__ = ["Estimate", "derived_estimate", "mean_estimate"]
