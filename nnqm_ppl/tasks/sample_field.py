"""The ``sample`` task's observables of a scalar field on L spatial sites (geometry ``"field"``).

Field paths φ_{i,n} arrive as (chain, draw, N, L). Every entry stands beside the exact value of
the same quantity on the same lattice (:func:`nnqm_ppl.exact.field.field_exact`: closed forms per
normal mode for g = 0, the tensor-product transfer matrix for g > 0 on few sites) and in the
continuum in time:

- ``x2``: the site-averaged ⟨φ²⟩;
- ``E0``: the virial ⟨V + φ·∇V/2⟩ of the L-site system per site (→ E_0/L at large β);
- ``correlator``: C_0(τ) = ⟨Φ(τ)Φ(0)⟩ of the zero-momentum field Φ = (1/L) Σ_i φ_i, τ = 0..β/2;
- ``gap``: the mass gap, from the cosh effective-mass plateau of C_0 (connected where ⟨φ⟩ ≠ 0);
- ``dispersion``: E(k), k = 0..L/2, from the plateaus of the momentum-resolved correlators C_k(τ)
  (cos and sin modes combined; :func:`nnqm_ppl.observables.field.momentum_correlator_series`),
  with the C_k(τ) themselves under ``correlators``.

Gaps carry the line geometry's ``systematic``: the excited-state contamination of the plateau
window, the weighted mean of the exact lattice effective mass over the window minus the exact
energy.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from nnqm_ppl.exact.field import field_exact, momenta
from nnqm_ppl.figures import field as field_figures
from nnqm_ppl.figures import sample as sample_figures
from nnqm_ppl.observables import field as fobs
from nnqm_ppl.observables import spectrum
from nnqm_ppl.observables.estimate import Estimate, mean_estimate
from nnqm_ppl.spec import Job
from nnqm_ppl.tasks import Observable
from nnqm_ppl.tasks.sample_vector import VectorPaths
from nnqm_ppl.theories.path_integral import Theory

__all__ = ["OBSERVABLES", "FIGURES", "Paths"]


class Paths(VectorPaths):
    """The draws of a field model and what its observables share, computed once.

    Attributes
    ----------
    exact, continuum : dict
        :func:`~nnqm_ppl.exact.field.field_exact` on this lattice and in the continuum in time
        (empty where no exact solver reaches the model: g > 0 on many sites).
    exact_note : str or None
        Why ``exact`` is empty.
    k_series : ndarray (chain, draw, N/2 + 1, L/2 + 1)
        Per-draw momentum-resolved correlators; k = 0 is the correlator of Φ.
    """

    def __init__(self, x: np.ndarray, theory: Theory, job: Job) -> None:
        super().__init__(x, theory, job)
        model = job.model
        self.sites, self.dx = model.sites, model.dx
        exact = field_exact(self.lattice, model.potential, model.sites, model.dx)
        self.exact, self.continuum = exact["lattice"], exact["continuum"]
        self.exact_note: str | None = exact.get("note")  # beyond the exact solvers: g > 0 on many sites
        self.k_series = fobs.momentum_correlator_series(self.x)
        self.subtract = not self.potential.is_even  # ⟨φ⟩ ≠ 0: connected k = 0 correlator

    def entry(self, est: Estimate, name: str) -> dict:
        """The summary entry of ``est`` beside the exact and continuum values of ``name``."""
        out = est.to_dict() | {"exact": self.exact.get(name), "continuum": self.continuum.get(name)}
        return out if self.exact_note is None else out | {"exact_note": self.exact_note}

    def _exact_correlator(self, k: int, values: dict) -> np.ndarray | None:
        """C_k(τ) of ``values`` (exact or continuum), connected for k = 0 where ⟨φ⟩ ≠ 0."""
        if "momentum_correlators" not in values:
            return None
        if k == 0 and self.subtract:
            return np.asarray(values["correlator_connected"])
        return np.asarray(values["momentum_correlators"][k])

    @cached_property
    def correlators(self) -> Estimate:
        """C_k(τ_n), shape (N/2 + 1, L/2 + 1), with MCSE."""
        return mean_estimate(self.k_series)

    def plateau(self, k: int) -> tuple[spectrum.PlateauFit, np.ndarray | None] | str:
        """The cosh effective-mass plateau of C_k and the exact lattice effective mass (None when
        there is no exact value), or why there is no plateau (a too noisy correlator)."""
        return self._plateaus[k]

    @cached_property
    def _plateaus(self) -> list:
        lat = self.lattice
        out: list = []
        for k in momenta(self.sites):
            mean_series = fobs.zero_momentum(self.x).mean(axis=-1) if k == 0 and self.subtract else None
            try:
                fit = spectrum.plateau_gap(self.k_series[..., k], lat.a, kind="cosh", beta=lat.beta,
                                           mean_series=mean_series)
            except ValueError as exc:
                out.append(str(exc))
                continue
            exact = self._exact_correlator(k, self.exact)
            m_exact = None if exact is None else spectrum.effective_mass_curve(exact, lat.a, kind="cosh",
                                                                                beta=lat.beta)[1]
            out.append((fit, m_exact))
        return out


def _energy(fit: spectrum.PlateauFit, m_exact: np.ndarray | None, exact: float | None) -> dict:
    """A plateau's energy; ``systematic``: the weighted mean of the exact lattice effective mass
    over the window minus the exact energy (the line geometry's excited-state contamination)."""
    out = fit.gap.to_dict() | {"window": list(fit.window)}
    if m_exact is not None and exact is not None:
        out["systematic"] = spectrum.window_contamination(fit, m_exact, exact)
    return out


def _gap(p: Paths) -> dict:
    """The mass gap from the plateau of C_0 (k = 0: the zero-momentum sector)."""
    g_ex, g_co = p.exact.get("gap"), p.continuum.get("gap")
    plateau = p.plateau(0)
    if isinstance(plateau, str):
        p.failures.append(("plateau", f"gap: {plateau}"))
        return {"value": None, "mcse": None, "exact": g_ex, "continuum": g_co, "note": plateau}
    return _energy(*plateau, g_ex) | {"exact": g_ex, "continuum": g_co}


def _correlator(p: Paths) -> dict:
    c0 = Estimate(p.correlators.value[:, 0], p.correlators.mcse[:, 0])
    return p.entry(c0, "correlator")


def _dispersion(p: Paths) -> dict:
    """E(k) from the plateaus of C_k, k = 0..L/2, and the C_k(τ) (``correlators``)."""
    ks = momenta(p.sites)
    e_ex, e_co = p.exact.get("energies"), p.continuum.get("energies")
    rows: dict[str, list] = {"value": [], "mcse": [], "systematic": [], "window": []}
    notes = {}
    for k in ks:
        plateau = p.plateau(int(k))
        if isinstance(plateau, str):
            p.failures.append(("plateau", f"dispersion E(k = {k}): {plateau}"))
            notes[str(k)] = plateau
            row = {"value": None, "mcse": None, "window": None, "systematic": None}
        else:
            row = _energy(*plateau, None if e_ex is None else e_ex[k])
        for key in rows:
            rows[key].append(row.get(key))
    if e_ex is None or all(s is None for s in rows["systematic"]):
        del rows["systematic"]
    corr = p.correlators
    out = {"k": ks.tolist(), "momentum": (2.0 * np.pi * ks / (p.sites * p.dx)).tolist(), **rows,
           "exact": e_ex, "continuum": e_co,
           "correlators": {"tau": (p.lattice.a * np.arange(corr.value.shape[0])).tolist(),
                           "value": corr.value.T.tolist(), "mcse": corr.mcse.T.tolist(),
                           "exact": p.exact.get("momentum_correlators"),
                           "continuum": p.continuum.get("momentum_correlators")}}
    if notes:
        out["note"] = notes
    return out if p.exact_note is None else out | {"exact_note": p.exact_note}


#: name -> entry, in the default order of ``observables.names``.
OBSERVABLES: dict[str, Observable] = {
    "x2": Observable(lambda p: p.entry(mean_estimate(fobs.site_mean_series(p.x, 2)), "x2")),
    "E0": Observable(lambda p: p.entry(
        mean_estimate(fobs.virial_series(p.x, p.potential, p.potential.derivative)), "E0")),
    "gap": Observable(_gap, figure="correlator"),
    "correlator": Observable(_correlator, figure="correlator"),
    "dispersion": Observable(_dispersion, figure="dispersion"),
}


def _nan(values: Any, n: int) -> np.ndarray:
    return np.full(n, np.nan) if values is None else np.asarray(values, dtype=float)


def _correlator_figure(p: Paths, obs: dict[str, Any]):
    c0 = Estimate(p.correlators.value[:, 0], p.correlators.mcse[:, 0])
    n = len(c0.value)
    plateau = p.plateau(0) if "gap" in obs else None
    if isinstance(plateau, str):
        plateau = None
    elif plateau is not None and plateau[1] is None:
        plateau = (plateau[0], np.full(n, np.nan))
    gaps = (p.exact.get("gap", np.nan), p.continuum.get("gap", np.nan))
    fig = sample_figures.correlator_figure(c0, _nan(p.exact.get("correlator"), n),
                                           _nan(p.continuum.get("correlator"), n), p.lattice.a, plateau, gaps)
    fig.axes[0].set(ylabel="C(τ) = ⟨Φ(τ)Φ(0)⟩, Φ = (1/L) Σ_i φ_i", title="zero-momentum correlator")
    if plateau is not None:
        fig.axes[1].set(title="mass gap")
    return fig


#: figure stem -> ``make(paths, observables)``.
FIGURES: dict = {
    "correlator": _correlator_figure,
    "dispersion": lambda p, obs: field_figures.dispersion_figure(obs["dispersion"]),
}
