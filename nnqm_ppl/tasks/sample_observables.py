"""The ``sample`` task's observable table of a particle on a line (geometry ``"line"``): name ->
estimator beside its exact value, and figure.

Each entry of :data:`OBSERVABLES` measures one observable of the paths ``x`` (chain, draw, L) in a
:class:`Paths` context, which holds what several entries share (the transfer matrix on the same
lattice, the diagonalised Hamiltonian, the correlator, its plateau fit), each computed once, when
an entry first asks for it. An entry returns a JSON-ready summary entry (``value``, ``mcse``,
``exact`` = transfer matrix on this lattice and window, ``continuum`` = diagonalisation), or None
when there is nothing to report. Adding an observable is one entry here (and one test).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from nnqm_ppl.exact import path_integral_exact
from nnqm_ppl.exact.diagonalize import diagonalize
from nnqm_ppl.exact.transfer import transfer_matrix
from nnqm_ppl.exact.window import window_density
from nnqm_ppl.figures import sample as sample_figures
from nnqm_ppl.observables import lattice as lat
from nnqm_ppl.observables import quantum, spectrum, wavefunction
from nnqm_ppl.observables.estimate import Estimate
from nnqm_ppl.physics import Lattice, Potential
from nnqm_ppl.spec import Job, PathIntegralSpec
from nnqm_ppl.tasks import Observable, sample_amplitude
from nnqm_ppl.theories.path_integral import Theory

__all__ = ["OBSERVABLES", "FIGURES", "Paths", "plateau_gap_entry"]


class Paths:
    """Paths ``x`` (chain, draw, L) of a theory and what the observables share, computed on demand.

    Attributes
    ----------
    x : ndarray
        The full paths.
    lattice, potential
        Of the theory.
    exact, continuum : dict
        :func:`~nnqm_ppl.exact.path_integral_exact` on this lattice (``"lattice"``) and in the
        continuum.
    failures : list of (str, str)
        (gate kind, message) of what could not be measured (no effective-mass plateau), which
        fail the run's gates.
    """

    def __init__(self, x: np.ndarray, theory: Theory, job: Job) -> None:
        self.x, self.job = x, job
        self.lattice, self.potential = theory.lattice, theory.potential
        self.bc = self.lattice.boundary
        self.periodic = self.bc == "periodic"
        self.tm = transfer_matrix(self.lattice, self.potential)
        # a constant V (the free particle, fixed ends) has no spectrum: its entries need none
        self.spectrum = diagonalize(self.potential, self.lattice.mass, self.lattice.hbar,
                                    beta=self.lattice.beta if self.periodic else None
                                    ) if self.potential.confining else None
        exact = path_integral_exact(self.lattice, self.potential, tm=self.tm, spectrum=self.spectrum)
        self.exact, self.continuum = exact["lattice"], exact["continuum"]
        n_tau = self.lattice.slices // 2 + 1 if self.periodic else None
        self.c_series = lat.correlator_series(x, n_tau, boundary=self.bc)
        self.failures: list[tuple[str, str]] = []
        self.plateau_note: str | None = None  # why there is no plateau, once :attr:`plateau` is None

    def entry(self, est: Estimate, name: str) -> dict:
        """The summary entry of ``est`` beside the exact and continuum values of ``name``."""
        return est.to_dict() | {"exact": self.exact[name], "continuum": self.continuum[name]}

    def gate_series(self) -> dict[str, np.ndarray]:
        """Per-draw series the gates judge: the path mean ⟨x⟩ (odd: chains stuck in different
        wells of a double well disagree on it), its square, ⟨x²⟩ and C(β/4)."""
        quarter = min(max(self.lattice.slices // 4, 1), self.c_series.shape[-1] - 1)
        path_mean = lat.site_mean_series(self.x, boundary=self.bc)
        return {
            "mean": path_mean,
            "mean_squared": path_mean**2,
            "x2": lat.site_mean_series(self.x, boundary=self.bc, power=2),
            "C_beta_over_4": self.c_series[..., quarter],
        }

    @cached_property
    def correlator(self) -> tuple[Estimate, list, list]:
        """C(τ) on the window, with its transfer-matrix and continuum values."""
        n_c = self.c_series.shape[-1]
        corr = lat.correlator(self.x, n_c, boundary=self.bc)
        return corr, self.exact["correlator"][:n_c], self.continuum["correlator"][:n_c]

    @cached_property
    def plateau(self) -> tuple[spectrum.PlateauFit, np.ndarray] | None:
        """The effective-mass plateau fit and the exact lattice effective mass, or None (recorded
        in :attr:`failures`) when the correlator is too noisy for a plateau.

        Where ⟨x⟩ ≠ 0 the connected correlator is used: one mean for all sites if periodic, else
        the mean at each window site. The exact effective mass is the same formula applied to the
        same (connected, window-averaged) exact correlator.
        """
        subtract = not mean_vanishes(self.lattice, self.potential)
        mean_series = None
        if subtract:
            x, bc = self.x, self.bc
            mean_series = lat.site_mean_series(x, boundary=bc) if self.periodic else lat.window(x, bc)
        kind, beta = ("cosh", self.lattice.beta) if self.periodic else ("log", None)
        try:
            fit = spectrum.plateau_gap(self.c_series, self.lattice.a, kind=kind, beta=beta, mean_series=mean_series)
        except ValueError as exc:  # too noisy a correlator: the run cannot deliver the gap
            self.failures.append(("plateau", f"gap: {exc}"))
            self.plateau_note = str(exc)
            return None
        c_mass = self.exact["correlator_connected" if subtract else "correlator"]
        _, m_exact = spectrum.effective_mass_curve(np.asarray(c_mass[: self.c_series.shape[-1]]), self.lattice.a,
                                                   kind=kind, beta=beta)
        return fit, m_exact

    @cached_property
    def bins(self) -> tuple[np.ndarray, np.ndarray]:
        """Histogram edges and centres of the task's ``histogram_bins`` over ±``histogram_range``."""
        half = self.job.task_spec.histogram_range
        edges = np.linspace(-half, half, self.job.task_spec.histogram_bins + 1)
        return edges, 0.5 * (edges[1:] + edges[:-1])


def mean_vanishes(lattice: Lattice, potential: Potential) -> bool:
    """Whether ⟨x_j⟩ = 0 at every site by symmetry (x → −x): an even potential and, with fixed
    ends, both ends at 0. Otherwise effective masses and gaps use the connected correlator."""
    return potential.is_even and (lattice.boundary != "fixed" or lattice.x_ini == lattice.x_fin == 0.0)


def _curve(est: dict, exact: np.ndarray, continuum: np.ndarray) -> dict:
    return {
        "x": np.asarray(est["x"]).tolist(),
        "value": np.asarray(est["value"]).tolist(),
        "mcse": np.asarray(est["mcse"]).tolist(),
        "exact": np.asarray(exact).tolist(),
        "continuum": np.asarray(continuum).tolist(),
    }


def plateau_gap_entry(p: Any) -> dict:
    """The gap from the effective-mass plateau of the context's correlator: E1 − E0 on a line, the
    l = 1 level above the ground state in space. ``systematic`` is the excited-state (and thermal)
    contamination of the window: the weighted mean of the exact lattice effective mass over the
    window minus the exact gap (:func:`~nnqm_ppl.observables.spectrum.window_contamination`).

    ``p`` is a measuring context with ``exact``, ``continuum``, ``plateau`` ((fit, exact effective
    mass) or None), ``plateau_note`` and ``entry`` (:class:`Paths`, ``sample_space.Paths``).
    """
    g_ex, g_co = p.exact["gap"], p.continuum["gap"]
    if p.plateau is None:
        return {"value": None, "mcse": None, "exact": g_ex, "continuum": g_co, "note": p.plateau_note}
    fit, m_exact = p.plateau
    return p.entry(fit.gap, "gap") | {"window": list(fit.window),
                                      "systematic": spectrum.window_contamination(fit, m_exact, g_ex)}


def _effective_mass(p: Paths) -> dict | None:
    if p.plateau is None:
        return None
    fit, m_exact = p.plateau
    return fit.effective_mass.to_dict() | {"tau": fit.tau.tolist(), "exact": m_exact[: len(fit.tau)].tolist()}


def _psi0_squared(p: Paths) -> dict:
    edges, centres = p.bins
    dens = wavefunction.position_density(p.x, edges, boundary=p.bc)
    exact = p.tm.density(centres) if p.periodic else window_density(p.tm, centres)
    return _curve(dens, exact, p.spectrum.density(centres, beta=p.lattice.beta if p.periodic else None))


def _psi0(p: Paths) -> dict:
    edges, centres = p.bins
    spec_c = p.spectrum
    norm = np.sum(spec_c.wavefunction(0, spec_c.x)) * (spec_c.x[1] - spec_c.x[0])
    return _curve(wavefunction.psi0(p.x, edges, site=0), p.tm.density(centres, site=0),
                  spec_c.wavefunction(0, centres) / norm)


def _half_line(model: PathIntegralSpec) -> str | None:
    return None if model.boundary == "half_line" else "needs a half_line model (use psi0_squared)"


def _confining(model: PathIntegralSpec) -> str | None:
    if Potential.from_coeffs(model.potential, model.boundary).confining:
        return None
    return "needs a confining potential (a constant V, the free particle, has no ground state or spectrum)"


def _uncertainty(p: Paths) -> dict:
    m, hbar = p.lattice.mass, p.lattice.hbar
    return p.entry(quantum.uncertainty_product(p.x, p.lattice.a, mass=m, hbar=hbar, boundary=p.bc), "uncertainty")


#: name -> entry. The order is the default order of ``observables.names`` and of the summary.
OBSERVABLES: dict[str, Observable] = {
    "x2": Observable(lambda p: p.entry(quantum.moment(p.x, 2, boundary=p.bc), "x2")),
    "x4": Observable(lambda p: p.entry(quantum.moment(p.x, 4, boundary=p.bc), "x4")),
    "E0": Observable(lambda p: p.entry(
        quantum.virial_energy(p.x, p.potential, p.potential.derivative, boundary=p.bc), "E0")),
    "gap": Observable(plateau_gap_entry, figure="correlator", requires=_confining),
    "correlator": Observable(lambda p: p.correlator[0].to_dict() | {"exact": p.correlator[1],
                                                                    "continuum": p.correlator[2]},
                             figure="correlator"),
    "effective_mass": Observable(_effective_mass, figure="correlator", requires=_confining),
    "uncertainty": Observable(_uncertainty),
    "commutator": Observable(lambda p: p.entry(quantum.commutator(p.x, p.lattice.a, mass=p.lattice.mass,
                                                                  boundary=p.bc), "commutator")),
    "psi0": Observable(_psi0, figure="wavefunction", requires=_half_line),
    "psi0_squared": Observable(_psi0_squared, figure="wavefunction", requires=_confining),
    "amplitude": Observable(sample_amplitude.measure, requires=sample_amplitude.requires),
}


def _correlator_figure(p: Paths, obs: dict[str, Any]):
    corr, c_ex, c_co = p.correlator
    plateau = p.plateau if {"gap", "effective_mass"} & set(obs) else None
    gap_exact = (p.exact.get("gap"), p.continuum.get("gap"))  # a free particle has none (and no plateau)
    return sample_figures.correlator_figure(corr, np.asarray(c_ex), np.asarray(c_co), p.lattice.a, plateau, gap_exact)


#: figure stem -> ``make(paths, observables)``, a matplotlib figure of the measured entries.
FIGURES = {
    "correlator": _correlator_figure,
    "wavefunction": lambda p, obs: sample_figures.wavefunction_figure(
        {k: obs[k] for k in ("psi0", "psi0_squared") if k in obs}),
}
