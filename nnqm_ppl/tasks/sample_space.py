"""The ``sample`` task's observables of a particle in three dimensions (geometry ``"space"``).

Paths x_n ∈ R³ (chain, draw, N, 3) on a periodic lattice with a radial V(r). Each entry returns the
estimate with its MCSE beside ``exact`` (the same lattice: closed forms for the isotropic
oscillator, the tensor-product transfer matrix otherwise) and ``continuum`` (the radial
diagonalisation, thermal at the lattice's β), both from :func:`nnqm_ppl.exact.space.space_exact`,
which states what each exact value is.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from nnqm_ppl.exact.space import space_exact
from nnqm_ppl.figures import space as space_figures
from nnqm_ppl.observables import quantum, spectrum, wavefunction
from nnqm_ppl.observables.estimate import mean_estimate
from nnqm_ppl.physics import Potential
from nnqm_ppl.spec import Job
from nnqm_ppl.tasks import Observable
from nnqm_ppl.tasks.sample_observables import plateau_gap_entry
from nnqm_ppl.tasks.sample_vector import VectorPaths
from nnqm_ppl.theories.path_integral import Theory

__all__ = ["OBSERVABLES", "FIGURES", "Paths"]


class Paths(VectorPaths):
    """The draws of a space model and what its observables share, computed once.

    Attributes
    ----------
    r : ndarray
        |x_n|, shape (chain, draw, N).
    edges : ndarray
        Histogram edges of r: ``histogram_bins`` bins on [0, ``histogram_range``].
    exact, continuum : dict
        :func:`~nnqm_ppl.exact.space.space_exact` on this lattice and in the continuum.
    c_series : ndarray
        Per draw (1/N) Σ_n x_n·x_{n+k}, k = 0..N/2 (:attr:`VectorPaths.c_series`).
    """

    def __init__(self, x: np.ndarray, theory: Theory, job: Job) -> None:
        super().__init__(x, theory, job)
        self.r = np.sqrt(np.sum(self.x**2, axis=-1))
        self.edges = np.linspace(0.0, job.task_spec.histogram_range, job.task_spec.histogram_bins + 1)
        exact = space_exact(self.lattice, self.potential, self.edges)
        self.exact, self.continuum = exact["lattice"], exact["continuum"]
        self.plateau_note: str | None = None

    def entry(self, est: Any, name: str) -> dict:
        """The summary entry of ``est`` beside the exact and continuum values of ``name``."""
        return est.to_dict() | {"exact": self.exact[name], "continuum": self.continuum[name]}

    @cached_property
    def correlator(self):
        """⟨x(τ)·x(0)⟩ at τ = ka, k = 0..N/2, with its MCSE."""
        return mean_estimate(self.c_series)

    @cached_property
    def plateau(self) -> tuple[spectrum.PlateauFit, np.ndarray] | None:
        """The cosh effective-mass plateau of the correlator and the exact lattice effective mass,
        or None (recorded in :attr:`failures`) when the correlator is too noisy for a plateau.
        ⟨x⟩ = 0 by rotation symmetry, so the correlator is used as it is."""
        a, beta = self.lattice.a, self.lattice.beta
        try:
            fit = spectrum.plateau_gap(self.c_series, a, kind="cosh", beta=beta)
        except ValueError as exc:
            self.failures.append(("plateau", f"gap: {exc}"))
            self.plateau_note = str(exc)
            return None
        _, m_exact = spectrum.effective_mass_curve(np.asarray(self.exact["correlator"]), a, kind="cosh", beta=beta)
        return fit, m_exact


def _r2(p: Paths) -> dict:
    """⟨r²⟩ = ⟨|x_n|²⟩ over the sites."""
    return p.entry(quantum.moment(p.r, 2), "r2")


def _e0(p: Paths) -> dict:
    """The virial estimator ⟨V + x·∇V/2⟩ = ⟨V(r) + r V'(r)/2⟩: V as a polynomial in r (even powers).
    Exact: the same expectation on the lattice; continuum: ⟨H⟩ at β (see :mod:`nnqm_ppl.exact.space`)."""
    in_r = Potential.from_coeffs(p.potential.radial)
    return p.entry(quantum.virial_energy(p.r, in_r, in_r.derivative), "E0")


def _correlator(p: Paths) -> dict:
    return p.correlator.to_dict() | {"exact": p.exact["correlator"], "continuum": p.continuum["correlator"]}


def _psi0_squared(p: Paths) -> dict:
    """The radial density 4πr²ρ(r): a histogram of r = |x_n| over all sites (per-bin MCSE);
    exact and continuum are the bin averages of the same density, what the histogram estimates."""
    dens = wavefunction.position_density(p.r, p.edges)
    return {
        "x": np.asarray(dens["x"]).tolist(),
        "value": np.asarray(dens["value"]).tolist(),
        "mcse": np.asarray(dens["mcse"]).tolist(),
        "exact": p.exact["psi0_squared"]["value"],
        "continuum": p.continuum["psi0_squared"]["value"],
    }


#: name -> entry, in the default order of ``observables.names``.
OBSERVABLES: dict[str, Observable] = {
    "r2": Observable(_r2),
    "E0": Observable(_e0),
    "gap": Observable(plateau_gap_entry, figure="correlator"),
    "correlator": Observable(_correlator, figure="correlator"),
    "psi0_squared": Observable(_psi0_squared, figure="radial_density"),
}

#: figure stem -> ``make(paths, observables)``.
FIGURES: dict = {
    "correlator": lambda p, obs: space_figures.correlator_figure(
        p.correlator, np.asarray(p.exact["correlator"]), np.asarray(p.continuum["correlator"]), p.lattice.a,
        p.plateau if "gap" in obs else None, (p.exact["gap"], p.continuum["gap"])),
    "radial_density": lambda p, obs: space_figures.radial_density_figure(obs["psi0_squared"]),
}
