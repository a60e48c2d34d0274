"""Task ``correlators``: n-point functions of a neural field beside their closed forms."""

from __future__ import annotations

import itertools

import jax
import numpy as np

from nnqm_ppl.checkpoint import Checkpoint
from nnqm_ppl.diagnostics import check_gates
from nnqm_ppl.observables.correlators import CorrelatorResult, correlators
from nnqm_ppl.spec import Job
from nnqm_ppl.tasks import TaskResult
from nnqm_ppl.theories.neural_field import exact_correlators, network_from_spec

__all__ = ["run"]


def _figure(res: CorrelatorResult, exact: dict):
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
    pts = res.points
    pairs = list(itertools.combinations_with_replacement(range(len(pts)), 2))
    dist = np.array([np.linalg.norm(pts[i] - pts[j]) for i, j in pairs])
    val = np.array([res.G2.value[i, j] for i, j in pairs])
    err = np.array([res.G2.mcse[i, j] for i, j in pairs])
    ax1.errorbar(dist, val, 4 * err, fmt="o", ms=4, label="Monte Carlo ± 4 MCSE")
    if exact["G2"] is not None:
        ex = np.asarray(exact["G2"])
        ax1.plot(dist, [ex[i, j] for i, j in pairs], "x", color="k", label="closed form")
    ax1.set(xlabel="|x − y|", ylabel="G2(x, y)", title="two-point function")
    ax1.legend(fontsize=8)
    labels, vals, errs, exs = [], [], [], []
    for name in ("G4c", "G6c"):
        est = getattr(res, name)
        if est is not None:
            labels.append(name)
            vals.append(est.value)
            errs.append(est.mcse)
            exs.append(exact.get(name))
    xs = np.arange(len(labels))
    ax2.errorbar(xs, vals, 4 * np.asarray(errs), fmt="o", label="Monte Carlo ± 4 MCSE")
    for x, e in zip(xs, exs, strict=True):
        if e is not None:
            ax2.plot([x], [e], "x", color="k", ms=9)
    ax2.axhline(0, color="0.7", lw=0.8)
    ax2.set_xticks(xs, labels)
    ax2.set(title=f"connected correlators ({res.networks:.2e} networks)")
    fig.tight_layout()
    return fig


def run(job: Job, key: jax.Array, progress: bool, checkpoint: Checkpoint | None = None) -> TaskResult:
    """Stream ``networks`` exact draws of the field and estimate G2, G4c (and G6c) with MCSEs.

    Parameters
    ----------
    job : Job
        A ``correlators`` job on a ``neural_field`` model.
    key : jax.Array
        PRNG key.
    progress : bool
        Unused (the streamed reduction is a single compiled call).
    checkpoint : Checkpoint, optional
        Unused: exact draws are not checkpointed (the tasks share one signature).

    Returns
    -------
    TaskResult
        ``G2`` (matrix over the points), ``G4c``, ``G6c`` with ``value``, ``mcse`` and ``exact``.
    """
    spec, task = job.model, job.task_spec
    net = network_from_spec(spec)
    res = correlators(net, key, task.points, task.networks, orders=task.orders, chunk=task.chunk)
    exact = exact_correlators(spec, res.points, task.orders)
    observables: dict = {}
    for name in job.observables:
        est = getattr(res, name)
        if est is not None:
            observables[name] = est.to_dict() | {"exact": exact.get(name)}
    gated = {k: v for k, v in res.series.items() if k in ("phi2", "phi4", "phi6")}
    diagnostics = check_gates(gated, job.gates, ess_scale=res.chunk, markov=False)
    return TaskResult(
        observables=observables,
        diagnostics=diagnostics,
        datatree=res.to_datatree(),
        figures={"correlators": lambda: _figure(res, exact)},
        extra={"networks": res.networks, "chunk": res.chunk, "points": res.points.tolist()},
    )
