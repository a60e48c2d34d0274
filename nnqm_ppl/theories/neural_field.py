"""Neural-field theories (Halverson): fields φ(x) = Σ_i a_i h_i(x) of random neurons, drawn exactly.

The network itself is built by :func:`nnqm_ppl.networks.neurons.network_from_spec`; this module
gives the closed-form correlators it is compared with (:mod:`nnqm_ppl.exact.analytic`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnqm_ppl.exact import analytic
from nnqm_ppl.spec import NeuralFieldSpec

__all__ = ["exact_correlators"]


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
