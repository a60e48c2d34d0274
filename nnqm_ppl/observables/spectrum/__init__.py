r"""Energy gaps from Euclidean correlators: effective masses, plateau fits, GEVP.

On a lattice of spacing ``a`` the correlator of an operator ``O`` is a sum over eigenstates of the
transfer matrix ``T = e^{−a H_a}`` with eigenvalues ``λ_0 > λ_1 > …``; at ``β → ∞``

.. math:: C(τ_n) = \sum_k |⟨0|O|k⟩|^2 (λ_k/λ_0)^n ,

so in the plateau the log-ratio effective mass ``ln(C(τ)/C(τ+a))/a`` measures the transfer-matrix
gap ``−ln(λ_1/λ_0)/a`` *exactly*, not the continuum ``E_1 − E_0``; the two differ by ``O(a²)``
(harmonic oscillator: ``cosh(a ω_lat) = 1 + a²ω²/2``). Compare with the exact lattice value at
the same ``a`` and ``β`` and treat the continuum as a separate limit.

Errors: every quantity here is a smooth function of the means of per-draw series (translation-
averaged correlators from :mod:`nnqm_ppl.observables.lattice`), so its MCSE is the delta-method
error of :func:`~nnqm_ppl.observables.estimate.derived_estimate` — the linearised per-draw series
with ArviZ MCSE, which includes autocorrelation between draws and correlation between ``τ``
values. No jackknife is used.

Modules: :mod:`~nnqm_ppl.observables.spectrum.effective_mass` (log and cosh effective masses),
:mod:`~nnqm_ppl.observables.spectrum.plateau` (the plateau window and its gap),
:mod:`~nnqm_ppl.observables.spectrum.gevp` (generalised eigenvalue problem). Every public name is
importable from this package.
"""

from nnqm_ppl.observables.spectrum.effective_mass import effective_mass, effective_mass_curve
from nnqm_ppl.observables.spectrum.gevp import GEVPResult, gevp, gevp_energy_function, gevp_input
from nnqm_ppl.observables.spectrum.plateau import PlateauFit, plateau_fit, plateau_gap, window_contamination

__all__ = [
    "PlateauFit",
    "GEVPResult",
    "effective_mass",
    "plateau_fit",
    "plateau_gap",
    "gevp",
    "effective_mass_curve",
    "gevp_energy_function",
    "gevp_input",
    "window_contamination",
]
