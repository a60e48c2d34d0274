"""Exact values for anything the command can be given: a model file or a job (``nnqm exact``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnqm_ppl.exact import analytic, path_integral_exact
from nnqm_ppl.physics import Lattice, Potential
from nnqm_ppl.spec import PROCESS_SPECS, Job, NeuralFieldSpec, PathIntegralSpec

__all__ = ["exact_values", "exact_correlators"]


def exact_correlators(spec: NeuralFieldSpec, points: np.ndarray, orders: tuple[int, ...] = (2, 4)) -> dict:
    """Closed-form ``G2`` (matrix over the points), ``G4c`` and ``G6c`` where they exist (else None).

    Parameters
    ----------
    spec : NeuralFieldSpec
        The architecture.
    points : ndarray, shape (P, d)
        x_1..x_P; ``G4c`` uses the first four, ``G6c`` the first six.
    orders : tuple of int
        Which orders to evaluate besides 2.

    Returns
    -------
    dict
        JSON-ready lists (or None where no closed form exists).
    """
    pts = np.asarray(points, dtype=float)
    g2 = [[analytic.g2(spec, p, q) for q in pts] for p in pts]
    out: dict[str, Any] = {
        "G2": None if any(v is None for row in g2 for v in row) else np.asarray(g2, dtype=float),
        "G4c": analytic.g4c(spec, *pts[:4]) if 4 in orders and len(pts) >= 4 else None,
        "G6c": analytic.g6c(spec, *pts[:6]) if 6 in orders and len(pts) >= 6 else None,
    }
    return {k: (None if v is None else np.asarray(v, dtype=float).tolist()) for k, v in out.items()}


def exact_values(thing: Any) -> dict:
    """Exact values for a job or a model spec, as JSON-ready data.

    A path integral gives the transfer-matrix values on its lattice and the continuum
    diagonalisation (:func:`nnqm_ppl.exact.path_integral_exact`); a neural field gives its
    closed-form correlators at the job's points (a bare model: G2 at separations 0..2 in
    the first input direction); a process model (``ou``, ``deep_nnqm``, ``kkl``) its exact gaps,
    covariance on the grid and finite-dt estimator values where known.
    """
    model = thing.model if isinstance(thing, Job) else thing
    if isinstance(model, PathIntegralSpec):
        out = path_integral_exact(Lattice.from_spec(model), Potential.from_coeffs(model.potential))
        return {"model": "path_integral", **out}
    if isinstance(model, NeuralFieldSpec):
        if isinstance(thing, Job):
            pts = np.asarray(thing.task_spec.points, dtype=float)
            orders = thing.task_spec.orders
        else:
            pts = np.zeros((5, model.dim))
            pts[:, 0] = np.linspace(0.0, 2.0, 5)
            orders = (2,)
        return {"model": "neural_field", "points": pts.tolist(), **exact_correlators(model, pts, orders)}
    if isinstance(model, PROCESS_SPECS):
        # processes and deep NN-QM: exact gaps n*gamma, Hermite weights, grid covariance and the
        # finite-dt expectations of the uncertainty and commutator estimators
        from nnqm_ppl.theories.process import exact_process_values

        return exact_process_values(model)
    raise TypeError(f"no exact values for model kind {getattr(model, 'kind', model)!r}")
