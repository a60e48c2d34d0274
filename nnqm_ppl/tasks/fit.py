"""Task ``fit``: posteriors of spectral, coupling or network parameters from an observed correlator.

The data (:func:`nnqm_ppl.fitting.load_data`) are cut to the fit range; each candidate model is
sampled with NUTS through :func:`nnqm_ppl.sampling.run_mcmc`, every chain started at the
posterior mode that L-BFGS finds from the chain's own random point
(:func:`nnqm_ppl.fitting.posterior_modes`); for a spectral fit with several
candidate K the PSIS-LOO expected log predictive density (ArviZ) picks the smallest K whose
elpd is within one standard error of the best (the one-standard-error rule), and an unreliable
PSIS-LOO fails the gates (a single candidate K involves no choice: its PSIS-LOO is only reported,
in ``fit.criterion``). The chosen fit's
parameters are gated like any MCMC run, and its goodness of fit too
(:mod:`nnqm_ppl.fitting.quality`): the minimum χ² over the parameters, for n − p degrees of freedom,
must have a p-value of at least ``gates.fit_p_min``, else the fit does not describe its data
and the run fails (exit 3). The posterior-predictive p-value is reported beside it.
"""

from __future__ import annotations

import warnings

import arviz_stats
import jax
import numpy as np
import xarray as xr
from numpyro.infer import log_likelihood

from nnqm_ppl import fitting
from nnqm_ppl.checkpoint import Checkpoint
from nnqm_ppl.diagnostics import check_gates, diagnostic_figures
from nnqm_ppl.exact.transfer import transfer_matrix
from nnqm_ppl.figures.fit import fit_figure, posterior_figure
from nnqm_ppl.fitting import quality as fit_quality
from nnqm_ppl.sampling import run_mcmc
from nnqm_ppl.spec import Job, PathIntegralSpec, SpecError
from nnqm_ppl.tasks import Observable, TaskResult
from nnqm_ppl.theories.path_integral import theory_from_spec

__all__ = ["OBSERVABLES", "run", "choose_states"]

#: Posterior draws used for the predicted band (thinned evenly).
_BAND_DRAWS = 400


def _draws(tree: xr.DataTree, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Posterior sites flattened over (chain, draw)."""
    post = tree["posterior"]
    return {n: np.asarray(post[n].values).reshape(-1, *post[n].shape[2:]) for n in names}


def _with_log_likelihood(tree: xr.DataTree, problem: fitting.FitProblem) -> xr.DataTree:
    """Add the pointwise log-likelihood of the whitened data (for PSIS-LOO)."""
    chains, draws = tree["posterior"].sizes["chain"], tree["posterior"].sizes["draw"]
    ll = log_likelihood(problem.model, _draws(tree, problem.names), y_w=problem.y_w)["y"]
    tree["log_likelihood"] = xr.Dataset(
        {"y": (("chain", "draw", "y_dim_0"), np.asarray(ll).reshape(chains, draws, -1))}
    )
    return tree


def choose_states(trees: dict[int, xr.DataTree]) -> tuple[int, dict, list[str]]:
    """The number of states K by PSIS-LOO with the one-standard-error rule.

    The smallest K whose ``elpd_loo`` is within one standard error (``dse``, ArviZ's standard
    error of the difference) of the best is chosen. PSIS-LOO is unreliable for a candidate when
    its ``elpd_loo`` is not finite or a Pareto k̂ exceeds ArviZ's threshold ``good_k``
    (min(1 − 1/log10 S, 0.7) for S draws): the importance weights then do not estimate the
    leave-one-out densities. That makes the choice untrustworthy when it happens to the chosen K
    (the reference of the rule) or when an estimate is not finite. A rejected candidate with a
    large k̂ is only marked (``reliable`` false): the PSIS estimate errs towards optimism (too
    high an elpd), so it would only have been less likely to be chosen. Unreliable candidates
    that are not finite are left out of the comparison.

    Parameters
    ----------
    trees : dict
        K -> DataTree with a ``log_likelihood`` group.

    Returns
    -------
    (K, table, problems) : (int, dict, list of str)
        The chosen K; per K, ``elpd_loo``, ``se``, ``p_loo``, ``elpd_diff`` (to the best),
        ``dse`` (its standard error), ``pareto_k_max``, ``good_k`` and ``reliable``, unrounded;
        and one message per reason the choice cannot be trusted (empty when it can).
    """
    with warnings.catch_warnings():  # PSIS warnings are judged below and reported in the diagnostics
        warnings.simplefilter("ignore")
        loos = {k: arviz_stats.loo(t) for k, t in trees.items()}
        finite = [k for k, v in loos.items() if np.isfinite(v.elpd) and np.isfinite(v.se)]
        comp = (arviz_stats.compare({str(k): loos[k] for k in finite}, round_to="none")
                if len(finite) > 1 else None)
    table = {}
    for k, v in loos.items():
        row = {"elpd_loo": float(v.elpd), "se": float(v.se), "p_loo": float(v.p),
               "pareto_k_max": float(np.max(v.pareto_k)), "good_k": float(v.good_k)}
        row["reliable"] = k in finite and row["pareto_k_max"] <= row["good_k"]
        row["elpd_diff"], row["dse"] = float("nan"), float("nan")
        if comp is not None and k in finite:
            row["elpd_diff"], row["dse"] = float(comp.loc[str(k), "elpd_diff"]), float(comp.loc[str(k), "dse"])
        elif finite == [k]:
            row["elpd_diff"], row["dse"] = 0.0, 0.0
        table[k] = row
    problems = [f"PSIS-LOO of K={k} is not finite" for k in trees if k not in finite]
    ok = [k for k in finite if abs(table[k]["elpd_diff"]) <= table[k]["dse"]]
    chosen = min(ok or trees)
    row = table[chosen]
    if chosen in finite and not row["reliable"]:
        bad = int(np.sum(~(np.asarray(loos[chosen].pareto_k) <= row["good_k"])))
        problems.append(f"PSIS-LOO of the chosen K={chosen} unreliable: Pareto k̂ {row['pareto_k_max']:.2f} > "
                        f"{row['good_k']:.2f} at {bad} of {loos[chosen].n_data_points} points")
    return chosen, table, problems


def _spectral_truth(job: Job, states: int) -> dict[str, float]:
    """Exact values of a spectral fit's parameters for the job's model: the lattice energies and
    weights |⟨0|x|n⟩|² of the first ``states`` levels x connects to, from the transfer matrix at
    the same a and β (periodic lattices only; β → ∞ form, corrections O(e^{−E_1 β}))."""
    if not states or not isinstance(job.model, PathIntegralSpec) or job.model.boundary != "periodic":
        return {}
    theory = theory_from_spec(job.model)
    energies, weights = transfer_matrix(theory.lattice, theory.potential).spectral_lines(states)
    out = {f"E{n + 1}": float(e) for n, e in enumerate(energies)}
    out |= {f"A{n + 1}": float(w) for n, w in enumerate(weights)}
    out |= {f"dE{n + 1}": float(energies[n + 1] - energies[n]) for n in range(len(energies) - 1)}
    return out


def _posterior(measured: tuple) -> dict:
    summary, exact, _, _ = measured
    out = {name: {"value": s["mean"], "mcse": s["mcse"], "sd": s["sd"], "eti_5": s["eti_5"], "eti_95": s["eti_95"]}
           for name, s in summary.items()}
    for name, value in exact.items():
        out[name]["exact"] = value
    return out


def _prediction(measured: tuple) -> dict:
    _, _, tau, band = measured
    return {"prediction": {"tau": tau.tolist(), "median": np.median(band, 0).tolist(),
                           "eti_5": np.quantile(band, 0.05, 0).tolist(), "eti_95": np.quantile(band, 0.95, 0).tolist()}}


#: name -> entry. Each ``measure((summary, exact, tau, band))`` returns the summary entries it makes:
#: ``posterior`` one per parameter (posterior mean as ``value``, with its exact value where one is
#: known), ``prediction`` the posterior median and 90 % band of the correlator at the data's τ.
OBSERVABLES: dict[str, Observable] = {
    "posterior": Observable(_posterior),
    "prediction": Observable(_prediction),
}


def run(job: Job, key: jax.Array, progress: bool, checkpoint: Checkpoint | None = None) -> TaskResult:
    """Fit the job's correlator data with NUTS.

    Parameters
    ----------
    job : Job
        A ``fit`` job (:class:`nnqm_ppl.spec.FitTask`, read by :mod:`nnqm_ppl.tasks.fit_schema`).
    key : jax.Array
        PRNG key.
    progress : bool
        Show NumPyro's progress bar on a terminal.
    checkpoint : Checkpoint, optional
        Where each candidate model's NUTS run saves its state and resumes from, the n-th
        sampled model in slot n (None: no checkpoint).

    Returns
    -------
    TaskResult
        ``observables``: every scalar parameter (``value`` = posterior mean, ``mcse``, ``sd``,
        ``eti_5``, ``eti_95``) and ``prediction``; ``extra``: ``posterior`` (name -> ``mean``,
        ``sd``, ``eti_5``, ``eti_95``, ``mcse``, ``ess_bulk``), ``fit`` (kind, K, criterion table,
        ``points``, ``parameters`` and the goodness of fit of
        :class:`nnqm_ppl.fitting.quality.FitQuality`: ``chi2`` (the minimum χ² over the parameters),
        ``dof`` (points − parameters), ``chi2_dof``, ``p_value``, ``ppp``, ``ppp_mcse``, and the
        definitions ``chi2_is``, ``dof_is``), ``data``.
    """
    task = job.task_spec
    beta = job.model.beta if isinstance(job.model, PathIntegralSpec) else None
    data = fitting.load_data(task.data, beta=beta, connected=task.kind == "spectral")
    data = data.select(task.tau_min, task.tau_max)
    candidates = task.states if task.kind == "spectral" else (0,)
    problems = {k: fitting.fit_problem(task, job.model, data, k) for k in candidates}
    biggest = max(problems.values(), key=lambda p: p.n_params)
    if data.tau.size < biggest.n_params:
        raise SpecError(data.source, "tau", f"{data.tau.size} data points in the fit range, but the fit has "
                        f"{biggest.n_params} parameters")
    trees = {}
    for slot, (k, problem) in enumerate(problems.items()):
        key, sub, k_start = jax.random.split(key, 3)
        # each chain starts at the posterior mode found from its own random point (distinct modes
        # stay distinct, so R-hat still sees them), not in the prior's bulk far from sharp data
        modes = fitting.posterior_modes(problem, problem.y_w, k_start, job.sampler.chains)
        starts = {name: np.stack([np.asarray(m[name]) for m in modes]) for name in modes[0]}
        tree = run_mcmc(problem.model, job.sampler, sub, model_kwargs={"y_w": problem.y_w}, progress=progress,
                        init_params=starts, checkpoint=checkpoint, slot=slot)
        trees[k] = _with_log_likelihood(tree, problem)
    chosen, criterion, loo_problems = choose_states(trees) if task.kind == "spectral" else (0, {}, [])
    problem, tree = problems[chosen], trees[chosen]
    summary = fitting.posterior_summary(tree["posterior"], problem.names)
    if task.kind == "spectral":
        summary |= fitting.posterior_summary(tree["posterior"], ("E",))
    draws = _draws(tree, problem.names)
    preds = fit_quality.predict_draws(problem, draws)
    n = preds.shape[0]
    band = preds[np.linspace(0, n - 1, min(n, _BAND_DRAWS)).astype(int)]
    shape = (tree["posterior"].sizes["chain"], tree["posterior"].sizes["draw"])
    quality = fit_quality.fit_quality(problem, draws, fit_quality.chi2_draws(problem, preds).reshape(shape))
    series = fitting.flat_parameters(tree["posterior"], problem.names)
    stats = tree["sample_stats"].to_dataset()
    diagnostics = check_gates(series, job.gates, stats)
    for message in loo_problems if len(trees) > 1 else ():  # one candidate K: no choice to distrust
        diagnostics.fail("loo", message)
    if quality.p_value is not None and quality.p_value < job.gates.fit_p_min:
        diagnostics.fail("fit", f"fit quality: χ²_min = {quality.chi2:.4g} for {quality.dof} dof "
                         f"(χ²/dof = {quality.chi2_dof:.3g}), p = {quality.p_value:.3g} < gates.fit_p_min = "
                         f"{job.gates.fit_p_min:g} (posterior-predictive p = {quality.ppp:.3g})")
    exact = {name: v for name, v in _spectral_truth(job, chosen).items() if name in summary}
    observables: dict = {}
    for name, entry in OBSERVABLES.items():
        if name in job.observables:
            observables |= entry.measure((summary, exact, data.tau, band))
    figures = {"fit": lambda: fit_figure(problem, band, task.kind)}
    names = problem.names + (("E",) if task.kind == "spectral" else ())
    figures["posterior"] = lambda: posterior_figure(fitting.flat_parameters(tree["posterior"], names), summary, exact)
    figures |= diagnostic_figures(tree, list(problem.names))
    extra = {
        "posterior": summary,
        "fit": {"kind": task.kind, "states": chosen or None, "criterion": {str(k): v for k, v in criterion.items()},
                "points": int(data.tau.size), "parameters": problem.n_params} | quality.to_dict(),
        "data": data.to_dict(),
    }
    return TaskResult(observables=observables, diagnostics=diagnostics, datatree=tree, figures=figures, extra=extra)
