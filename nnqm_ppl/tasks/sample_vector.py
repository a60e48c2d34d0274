"""What the measuring contexts of vector-valued paths share (a particle in space, a field).

Paths x_n ∈ R^d arrive as an array (chain, draw, L, d) (:mod:`nnqm_ppl.physics`: components last).
:class:`VectorPaths` holds them with the theory's lattice and potential, collects what could not be
measured (``failures``, which fail the run's gates), and gives the gate series every run is judged
on. The geometry modules (:mod:`~nnqm_ppl.tasks.sample_space`, :mod:`~nnqm_ppl.tasks.sample_field`)
subclass it with their own shared quantities.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from nnqm_ppl.observables import lattice as lat
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

    @cached_property
    def c_series(self) -> np.ndarray:
        """Per draw (1/N) Σ_n x_n · x_{n+k}, k = 0..N/2, shape (chain, draw, N/2 + 1): the scalar
        translation-averaged correlator (:func:`nnqm_ppl.observables.lattice.correlator_series`, one
        FFT) of every component at once, summed over the components."""
        x = self.x
        chains, draws, n, d = x.shape
        per_component = np.swapaxes(x, -1, -2).reshape(chains, draws * d, n)
        series = lat.correlator_series(per_component, n // 2 + 1)
        return series.reshape(chains, draws, d, -1).sum(axis=2)

    def gate_series(self) -> dict[str, np.ndarray]:
        """Per-draw series the gates judge: the path mean over sites and components (chains stuck
        in different wells disagree on it), its square, the mean x² per component, and the
        correlator x(β/4)·x(0)."""
        x = self.x
        mean = np.mean(x, axis=(-2, -1))
        quarter = max(self.lattice.slices // 4, 1)
        return {
            "mean": mean,
            "mean_squared": mean**2,
            "x2": np.mean(x**2, axis=(-2, -1)),
            "C_beta_over_4": self.c_series[..., quarter],
        }
