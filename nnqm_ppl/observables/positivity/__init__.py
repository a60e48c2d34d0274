"""Osterwalder–Schrader and minimal-quantum-model checks on sampled Euclidean paths.

Ferko & Halverson (2504.05462; talk slides "Requirements of quantum models" and "OS axioms"):
a process x(t) defines quantum mechanics when it is a minimal quantum model (mean-square
continuous, finite two-point function: Theorem 3) and satisfies the OS axioms — Euclidean
covariance (stationary and time-reflection symmetric), cluster decomposition, and reflection
positivity ``⟨F(x(t_1..t_n)) F(x(−t_1..−t_n))⟩ ≥ 0`` for t_i > 0 — with the 1-d Källén–Lehmann
representation ``G(τ) = ∫ ρ(m) e^{−m|τ|} dm``, ``ρ ≥ 0``.

Inputs: ``paths`` of shape ``(n_paths, n_times)`` (i.i.d. exact draws, treated as one chain) or
``(chain, draw, n_times)`` (MCMC), on a uniform grid ``times`` symmetric about 0 (``t ∈ [−T, T]``).

Every check returns a :class:`Check`: the statistic with its error, a signed significance ``z``
and a verdict at ``threshold`` σ (default 5). A null result is never reported as a proof:

- tests of a property that can only be refuted (stationarity, time reflection, reflection
  positivity, Källén–Lehmann): ``violated`` — the data show a violation at ≥ threshold σ — or
  ``no violation detected``, with ``detail["detectable"]``, the smallest violation the data could
  have seen (threshold σ in the check's natural normalisation);
- tests of an affirmative claim (clustering below a tolerance, mean-square continuity):
  ``satisfied`` when the claim holds at ≥ threshold σ, ``violated`` when its negation does,
  ``inconclusive`` otherwise; finite two-point (ArviZ's Pareto k̂): ``violated``,
  ``no violation detected`` or ``inconclusive``.

Errors: linear statistics (means) get the ArviZ MCSE
(:func:`~nnqm_ppl.observables.estimate.mean_estimate`); smooth non-linear ones (connected
correlators, ratios, normalised eigenvalues) the delta method
(:func:`~nnqm_ppl.observables.estimate.derived_estimate`, or its Hellmann–Feynman form for an
eigenvalue, ``dλ = vᵀ dM v``), so autocorrelated MCMC draws are handled by ArviZ's ESS. The
reflection-positivity verdict uses sample splitting (below) because the smallest eigenvalue of a
noisy matrix is biased low.

Modules: :mod:`~nnqm_ppl.observables.positivity.check` (:class:`Check`, :data:`VERDICTS`, the
helpers every check shares), :mod:`~nnqm_ppl.observables.positivity.covariance` (stationarity, time
reflection, cluster decomposition, mean-square continuity, finite two-point function),
:mod:`~nnqm_ppl.observables.positivity.reflection` (reflection positivity, Källén–Lehmann). Every
public name is importable from this package.
"""

from nnqm_ppl.observables.positivity.check import VERDICTS, Check
from nnqm_ppl.observables.positivity.covariance import (
    cluster_decomposition,
    finite_two_point,
    mean_square_continuity,
    stationarity,
    time_reflection,
)
from nnqm_ppl.observables.positivity.reflection import general_family, kallen_lehmann, reflection_positivity

__all__ = [
    "Check",
    "VERDICTS",
    "stationarity",
    "time_reflection",
    "cluster_decomposition",
    "mean_square_continuity",
    "finite_two_point",
    "reflection_positivity",
    "general_family",
    "kallen_lehmann",
]
