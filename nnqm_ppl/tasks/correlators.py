"""Task ``correlators``: n-point functions of a neural field beside their closed forms."""

from __future__ import annotations

import jax

from nnqm_ppl.checkpoint import Checkpoint
from nnqm_ppl.diagnostics import check_gates
from nnqm_ppl.figures.correlators import correlators_figure
from nnqm_ppl.observables.correlators import CorrelatorResult, correlators
from nnqm_ppl.spec import Job
from nnqm_ppl.tasks import Observable, TaskResult
from nnqm_ppl.theories.neural_field import exact_correlators, network_from_spec

__all__ = ["OBSERVABLES", "run"]


def _correlator(name: str) -> Observable:
    """The entry of a connected correlator ``name`` (None where its order was not asked for)."""

    def measure(measured: tuple[CorrelatorResult, dict]) -> dict | None:
        res, exact = measured
        est = getattr(res, name)
        return None if est is None else est.to_dict() | {"exact": exact.get(name)}

    return Observable(measure)


#: name -> entry: G2 (matrix over the points), G4c, G6c, each beside its closed form.
OBSERVABLES: dict[str, Observable] = {name: _correlator(name) for name in ("G2", "G4c", "G6c")}


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
        entry = OBSERVABLES[name].measure((res, exact))
        if entry is not None:
            observables[name] = entry
    gated = {k: v for k, v in res.series.items() if k in ("phi2", "phi4", "phi6")}
    diagnostics = check_gates(gated, job.gates, ess_scale=res.chunk, markov=False)
    return TaskResult(
        observables=observables,
        diagnostics=diagnostics,
        datatree=res.to_datatree(),
        figures={"correlators": lambda: correlators_figure(res, exact)},
        extra={"networks": res.networks, "chunk": res.chunk, "points": res.points.tolist()},
    )
