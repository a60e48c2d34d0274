"""The ``amplitude`` entry of the ``sample`` task's observable table: K(x_i, x_f; β) = ⟨x_f|e^{−βH/ħ}|x_i⟩.

- **Fixed ends** (x_i = ``model.x_ini``, x_f = ``model.x_fin``): the absolute value by
  thermodynamic integration in the coupling from the free particle
  (:func:`~nnqm_ppl.observables.amplitude.thermodynamic_integration`), one run of λV per
  Gauss–Legendre node (``amplitude_nodes`` of the job, default 4): exact Gaussian draws where λV is
  quadratic, else the job's sampler, with the key ``fold_in(key(seed), j + 1)`` for node j (the
  run's own draws use ``key(seed)``). Each node's series is judged by the job's gates; a failure
  fails the run. Beside it the x_f-dependence near x_f from the run's own draws
  (:func:`~nnqm_ppl.observables.amplitude.endpoint_ratio`, ``ratio``). A constant V has the
  integrand βc_0/ħ on every path: nothing is sampled, |K| is the free kernel (``note``), and the
  ratio is the Monte Carlo content.
- **Half line**: the density of the free end x_N with x_0 conditioned on x_i =
  ``amplitude_x_ini`` (default 0), the normalised amplitude K(x_i, ·)/∫K, on the centres of the
  ψ0 histogram bins (:func:`~nnqm_ppl.observables.amplitude.conditional_end_density`).

A periodic lattice has no amplitude between two points (``requires`` refuses it). Exact values:
:mod:`nnqm_ppl.exact.amplitude` on the same lattice; continuum: the free kernel, Mehler's kernel,
or the diagonalisation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax
import numpy as np

from nnqm_ppl.diagnostics import ADVICE, check_gates
from nnqm_ppl.exact import amplitude as exact_amplitude
from nnqm_ppl.observables import amplitude
from nnqm_ppl.sampling import exact_draws, run_mcmc
from nnqm_ppl.spec import PathIntegralSpec
from nnqm_ppl.theories.path_integral import path_theory

if TYPE_CHECKING:
    from nnqm_ppl.tasks.sample_observables import Paths

__all__ = ["measure", "requires"]

#: the ratio's end points y = x_f + σ·(±1/3, ±2/3, ±1), σ = sqrt(ħa/m) the width of one step: the
#: per-draw log ratio then has variance ≤ 1 (Kish fraction ≳ e^{−1}); further out its lognormal tail
#: makes the sample variance, and so the MCSE, unreliable (at ±1.5σ the pulls of 4000 exact draws
#: had a spread of 1.5). y = x_f itself is left out (the ratio is 1 there, with no error)
_RATIO_OFFSETS = np.array([-1.0, -2.0 / 3.0, -1.0 / 3.0, 1.0 / 3.0, 2.0 / 3.0, 1.0])

_KIND = {text: kind for kind, text in ADVICE.items()}


def requires(model: PathIntegralSpec) -> str | None:
    """Why a model has no amplitude (a periodic lattice), or None."""
    if model.boundary == "periodic":
        return "needs fixed ends (K(x_ini, x_fin)) or a half_line model (its x_f-dependence), not a periodic lattice"
    return None


def measure(p: Paths) -> dict:
    """The summary entry: ``value``/``mcse``/``exact``/``continuum`` (and more, by boundary: see the module)."""
    return _fixed(p) if p.bc == "fixed" else _half_line(p)


def _node_series(p: Paths, lam: float, j: int) -> np.ndarray:
    """(a/ħ)Σ'V of the draws of λV (one run), its gate failures appended to ``p.failures``."""
    lat, job = p.lattice, p.job
    theory = path_theory(lat, exact_amplitude.scaled(p.potential, lam), job.model.network)
    key = jax.random.fold_in(jax.random.key(job.sampler.seed), j + 1)
    if theory.can_sample_exactly:
        tree, stats = exact_draws(theory.draw_exact, job.sampler, key), None
    else:
        tree = run_mcmc(theory.model, job.sampler, key, progress=False, dims={"x": ["site"]})
        stats = tree["sample_stats"].to_dataset()
    series = amplitude.potential_action(np.asarray(tree["posterior"]["x"].values), p.potential, lat.a, lat.hbar)
    diag = check_gates({"amplitude_action": series}, job.gates, stats, markov=not theory.can_sample_exactly)
    for message, advice in zip(diag.failures, diag.advice, strict=True):
        p.failures.append((_KIND[advice], f"amplitude at lambda = {lam:.4f}: {message}"))
    return series


def _fixed(p: Paths) -> dict:
    lat, pot = p.lattice, p.potential
    x_i, x_f = float(lat.x_ini), float(lat.x_fin)
    k_exact, k_continuum = p.exact["amplitude"], p.continuum["amplitude"]
    sigma = np.sqrt(lat.hbar * lat.a / lat.mass)
    ys = x_f + sigma * _RATIO_OFFSETS
    ratio, kish = amplitude.endpoint_ratio(p.x, lat, pot, ys)
    ratio_entry = {
        "x": ys.tolist(),
        **ratio.to_dict(),
        "exact": (np.exp(exact_amplitude.lattice_log_amplitude(lat, pot, ys, tm=p.tm)) / k_exact).tolist(),
        "continuum": (np.exp(exact_amplitude.continuum_log_amplitude(pot, x_i, ys, lat.beta, lat.mass, lat.hbar))
                      / k_continuum).tolist(),
        "weight_ess": kish.tolist(),
    }
    ends = {"x_ini": x_i, "x_fin": x_f}
    if not pot.confining:
        return {"value": k_exact, "mcse": 0.0, "exact": k_exact, "continuum": k_continuum, **ends,
                "note": "V is constant: the integrand (a/hbar) sum' V = beta c0/hbar on every path, so |K| is the "
                        "free kernel without Monte Carlo error; the Monte Carlo check is 'ratio'",
                "ratio": ratio_entry}
    ti = exact_amplitude.ti_exact(lat, pot, p.job.task_spec.amplitude_nodes, tm=p.tm)
    series = [_node_series(p, float(lam), j) for j, lam in enumerate(ti["lambdas"])]
    log_k, nodes = amplitude.thermodynamic_integration(series, ti["weights"], ti["log_free"])
    return amplitude.exponentiated(log_k).to_dict() | {
        "exact": k_exact,
        "continuum": k_continuum,
        "systematic": abs(float(np.exp(ti["log_quadrature"])) - k_exact),
        **ends,
        "log": log_k.to_dict() | {"exact": ti["log_exact"], "continuum": float(np.log(k_continuum)),
                                  "systematic": ti["quadrature_error"]},
        "integrand": {"lambda": ti["lambdas"].tolist(), "weight": ti["weights"].tolist(),
                      "value": [float(e.value) for e in nodes], "mcse": [float(e.mcse) for e in nodes],
                      "exact": ti["integrand"].tolist()},
        "free": float(np.exp(ti["log_free"])),
        "ratio": ratio_entry,
    }


def _half_line(p: Paths) -> dict:
    lat, pot = p.lattice, p.potential
    x_i = p.job.task_spec.amplitude_x_ini
    _, centres = p.bins
    density, kish = amplitude.conditional_end_density(p.x, lat, pot, x_i, centres)
    return {
        "x": centres.tolist(),
        **density.to_dict(),
        "exact": exact_amplitude.end_density(p.tm, x_i, centres).tolist(),
        "continuum": exact_amplitude.end_density_continuum(pot, x_i, centres, lat.beta, lat.mass, lat.hbar).tolist(),
        "x_ini": x_i,
        "weight_ess": kish,
    }
