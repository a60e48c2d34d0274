"""What the measuring contexts of vector-valued paths share (a particle in space, a field).

Paths x_n ∈ R^d arrive as an array (chain, draw, L, d) (:mod:`nnqm_ppl.physics`: components last).
:class:`VectorPaths` holds them with the theory's lattice and potential, collects what could not be
measured (``failures``, which fail the run's gates), and gives the gate series every run is judged
on. The geometry modules (:mod:`~nnqm_ppl.tasks.sample_space`, :mod:`~nnqm_ppl.tasks.sample_field`)
subclass it with their own shared quantities.
"""

from __future__ import annotations

import numpy as np

from nnqm_ppl.spec import Job
from nnqm_ppl.theories.path_integral import Theory

__all__ = ["VectorPaths"]


class VectorPaths:
    """Vector paths ``x`` (chain, draw, L, d) of a periodic lattice and their gate series.

    Attributes
    ----------
    x : ndarray
        The paths.
    lattice, potential
        Of the theory.
    failures : list of (str, str)
        (gate kind, message) of what could not be measured.
    """

    def __init__(self, x: np.ndarray, theory: Theory, job: Job) -> None:
        self.x, self.job = np.asarray(x), job
        self.lattice, self.potential = theory.lattice, theory.potential
        self.failures: list[tuple[str, str]] = []

    def dot_correlator_series(self, max_sep: int) -> np.ndarray:
        """Per draw, (1/(L d)) Σ_n x_n · x_{n+k} for k = 0..max_sep (periodic), shape (chain, draw, max_sep + 1).

        Divided by d so that the scalar gate thresholds keep their meaning (⟨x²⟩ per component).
        """
        x = self.x
        return np.stack([np.mean(np.sum(x * np.roll(x, -k, axis=2), axis=-1), axis=-1) for k in range(max_sep + 1)],
                        axis=-1) / x.shape[-1]

    def gate_series(self) -> dict[str, np.ndarray]:
        """Per-draw series the gates judge: the path mean over sites and components (chains stuck
        in different wells disagree on it), its square, the mean x² per component, and the
        per-component correlator at β/4."""
        x = self.x
        mean = np.mean(x, axis=(-2, -1))
        quarter = max(self.lattice.slices // 4, 1)
        return {
            "mean": mean,
            "mean_squared": mean**2,
            "x2": np.mean(x**2, axis=(-2, -1)),
            "C_beta_over_4": self.dot_correlator_series(quarter)[..., quarter],
        }
