"""Task ``sample``: a path-integral network sampled with NUTS/HMC (or exactly, if Gaussian), its
observables with MCSEs beside the transfer matrix on the same lattice and the continuum."""

from __future__ import annotations

import arviz_base
import jax
import numpy as np

from nnqm_ppl.checkpoint import Checkpoint
from nnqm_ppl.diagnostics import Diagnostics, check_gates
from nnqm_ppl.sampling import exact_draws, run_mcmc
from nnqm_ppl.spec import Job
from nnqm_ppl.tasks import TaskResult
from nnqm_ppl.tasks.sample_tables import module
from nnqm_ppl.theories.path_integral import Theory, theory_from_spec

__all__ = ["run", "draw_paths", "measure", "RHAT_ONLY"]

#: Gate series judged by R-hat alone: the path mean detects chains stuck in different wells, but
#: no reported number rests on it (its ESS, small where tunnelling is rare, is still reported).
RHAT_ONLY = ("mean",)


def draw_paths(theory: Theory, job: Job, key: jax.Array, progress: bool, checkpoint: Checkpoint | None = None):
    """Draw paths as the job's sampler says; returns the DataTree (posterior ``x``: the full path)."""
    if job.sampler.method == "exact":  # the job loader has checked that the potential is quadratic
        return exact_draws(theory.draw_exact, job.sampler, key)
    dims = ["site"] if theory.lattice.components == 1 else ["site", "component"]
    return run_mcmc(theory.model, job.sampler, key, progress=progress, dims={"x": dims}, checkpoint=checkpoint)


def measure(x: np.ndarray, theory: Theory, job: Job) -> tuple[dict, dict, dict]:
    """All requested observables of paths ``x`` (chain, draw, L[, d]), beside exact values.

    The entries of the model geometry's observable table (:mod:`nnqm_ppl.tasks.sample_tables`)
    named by the job are measured in the table's order.

    Returns
    -------
    observables : dict
        JSON-ready entries (``value``, ``mcse``, ``exact`` = transfer matrix on this lattice,
        ``continuum`` = diagonalisation).
    gate_series : dict
        Per-draw series the gates judge (the context's ``gate_series()``: path mean, its square,
        x² and the correlator at β/4).
    plots : dict
        ``figures``: file stem -> a function that makes the figure of the measured entries;
        ``failures``: (kind, message) for what could not be measured (no effective-mass plateau
        for the gap), which fail the run's gates.
    """
    geometry = module(job.model.geometry)
    paths = geometry.Paths(x, theory, job)
    names = set(job.observables)
    obs: dict = {}
    stems: dict[str, None] = {}
    for name, entry in geometry.OBSERVABLES.items():
        if name in names:
            value = entry.measure(paths)
            if value is not None:
                obs[name] = value
            if entry.figure is not None:
                stems[entry.figure] = None
    figures = {stem: (lambda stem=stem: geometry.FIGURES[stem](paths, obs)) for stem in stems}
    return obs, paths.gate_series(), {"figures": figures, "failures": paths.failures}


def run(job: Job, key: jax.Array, progress: bool, checkpoint: Checkpoint | None = None) -> TaskResult:
    """Sample the job's path integral and measure its observables.

    Parameters
    ----------
    job : Job
        A ``sample`` job on a ``path_integral`` model.
    key : jax.Array
        PRNG key.
    progress : bool
        Show NumPyro's progress bar on a terminal.
    checkpoint : Checkpoint, optional
        Where NUTS/HMC saves its state and resumes from (None: no checkpoint); exact draws
        are not checkpointed.

    Returns
    -------
    TaskResult
        Observables with ``value``, ``mcse``, ``exact`` (transfer matrix, same lattice) and
        ``continuum``; diagnostics of the gate series; the DataTree with the paths.
    """
    theory = theory_from_spec(job.model)
    tree = draw_paths(theory, job, key, progress, checkpoint)
    x = np.asarray(tree["posterior"]["x"].values)
    stats = tree["sample_stats"].to_dataset() if "sample_stats" in tree.children else None
    bad = int(np.sum(~np.isfinite(x).reshape(x.shape[:2] + (-1,)).all(axis=-1)))
    if bad:  # NaN/inf in the action or its gradient: nothing can be measured; keep the draws
        reason = (f"non-finite paths in {bad} of {x.shape[0] * x.shape[1]} draws (NaN or overflow in the "
                  "action e^{-S}: check the potential's size and the lattice)")
        divergences = int(stats["diverging"].sum()) if stats is not None else 0
        # no R-hat or tree depth of non-finite draws: null in summary.json, the reason beside it
        diagnostics = Diagnostics(passed=False, rhat_max=None, ess_bulk_min=0.0, ess_tail_min=0.0,
                                  divergences=divergences, tree_depth_fraction=None, bfmi_min=None,
                                  failures=[reason], advice=["smaller potential coefficients or slices"],
                                  rhat_skipped=f"not computed: {reason}")
        return TaskResult(observables={}, diagnostics=diagnostics, datatree=tree,
                          extra={"lattice_spacing": theory.lattice.a})
    observables, series, plots = measure(x, theory, job)
    diagnostics = check_gates(series, job.gates, stats, markov=job.sampler.method != "exact", rhat_only=RHAT_ONLY)
    for kind, message in plots["failures"]:
        diagnostics.fail(kind, message)
    obs_tree = arviz_base.from_dict({"posterior": series})
    figures = {"trace": lambda: _arviz_plot("plot_trace_dist", obs_tree)}
    if x.shape[0] > 1:  # rank plots compare chains: nothing to compare with one
        figures["rank"] = lambda: _arviz_plot("plot_rank", obs_tree)
    figures |= plots["figures"]
    tree["observables"] = obs_tree["posterior"]
    return TaskResult(observables=observables, diagnostics=diagnostics, datatree=tree, figures=figures,
                      extra={"lattice_spacing": theory.lattice.a})


def _arviz_plot(name: str, tree):
    import arviz_plots

    return getattr(arviz_plots, name)(tree, backend="matplotlib")
