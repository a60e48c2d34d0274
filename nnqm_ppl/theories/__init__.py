"""Theories: a validated model spec turned into something that draws (a NumPyro model or an exact
sampler) and knows the exact values the suite compares with. One module per model family:
:mod:`~nnqm_ppl.theories.path_integral`, :mod:`~nnqm_ppl.theories.neural_field`,
:mod:`~nnqm_ppl.theories.process`; :func:`exact_values` dispatches ``nnqm exact`` on the model kind.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnqm_ppl.exact import path_integral_exact
from nnqm_ppl.exact.field import field_exact
from nnqm_ppl.exact.space import space_exact
from nnqm_ppl.spec import PROCESS_SPECS, Job, NeuralFieldSpec, PathIntegralSpec
from nnqm_ppl.theories.neural_field import exact_correlators
from nnqm_ppl.theories.path_integral import lattice_from_spec
from nnqm_ppl.theories.process import exact_process_values

__all__ = ["exact_values"]


def exact_values(thing: Any) -> dict:
    """Exact values for a job or a model spec, as JSON-ready data.

    A path integral gives the transfer-matrix values on its lattice and the continuum
    diagonalisation (:func:`nnqm_ppl.exact.path_integral_exact`; a particle in space:
    :func:`nnqm_ppl.exact.space.space_exact`, histogram bins of r from a sample job; a field on L
    sites: :func:`nnqm_ppl.exact.field.field_exact`); a neural field gives its
    closed-form correlators at the job's points (a bare model: G2 at separations 0..2 in
    the first input direction); a process model (``ou``, ``deep_nnqm``, ``kkl``) its exact gaps,
    covariance on the grid and finite-dt estimator values where known.
    """
    model = thing.model if isinstance(thing, Job) else thing
    if isinstance(model, PathIntegralSpec) and model.geometry == "space":  # edges: a sample job's histogram of r
        task = getattr(thing, "task_spec", None)
        edges = None if task is None else np.linspace(0.0, task.histogram_range, task.histogram_bins + 1)
        return {"model": "path_integral", "geometry": "space",
                **space_exact(lattice_from_spec(model), model.domain_potential(), edges)}
    if isinstance(model, PathIntegralSpec) and model.geometry == "field":  # exact.field: the L-site field
        out = field_exact(lattice_from_spec(model), model.potential, model.sites, model.dx)
        return {"model": "path_integral", "geometry": "field", **out}
    if isinstance(model, PathIntegralSpec):
        out = path_integral_exact(lattice_from_spec(model), model.domain_potential())
        return {"model": "path_integral", **out}
    if isinstance(model, NeuralFieldSpec):
        if isinstance(thing, Job) and hasattr(thing.task_spec, "points"):  # a correlators job's own points
            pts = np.asarray(thing.task_spec.points, dtype=float)
            orders = thing.task_spec.orders
        else:  # a model file, or a job (a fit) that asks for no points
            pts = np.zeros((5, model.dim))
            pts[:, 0] = np.linspace(0.0, 2.0, 5)
            orders = (2,)
        return {"model": "neural_field", "points": pts.tolist(), **exact_correlators(model, pts, orders)}
    if isinstance(model, PROCESS_SPECS):
        # processes and deep NN-QM: exact gaps n*gamma, Hermite weights, grid covariance and the
        # finite-dt expectations of the uncertainty and commutator estimators
        return exact_process_values(model)
    raise TypeError(f"no exact values for model kind {getattr(model, 'kind', model)!r}")
