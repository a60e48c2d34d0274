"""Tasks: one per kind of work a job can ask for, and the registry :data:`TASKS`, the one list of
what a job may ask for.

A task is a :class:`Task` entry: its schema (``*_schema.py``: a frozen dataclass and the reader of
the job's task fields), its observable table (a module whose ``OBSERVABLES`` maps each name a job
may list under ``[observables] names`` to an :class:`Observable`; the allowed names and the
defaults are derived from it) and its run module, exposing ``run(job, key, progress, checkpoint)
-> TaskResult``; ``checkpoint`` (a :class:`~nnqm_ppl.checkpoint.Checkpoint` or None) is handed to
every :func:`~nnqm_ppl.sampling.run_mcmc` call with the model's slot (0 for the first sampled
model).

Importing this package is light (the schemas import the spec layer and nothing that samples or
plots), so that a bad job is refused fast: the observable table is imported when a job's
observables are validated, after every other field, and the run module when the job is run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nnqm_ppl.spec import Job, SamplerSpec, Table
from nnqm_ppl.spec import job as jobs
from nnqm_ppl.tasks import correlators_schema, fit_schema, nnqm_schema, sample_schema

if TYPE_CHECKING:
    import jax
    import xarray as xr

    from nnqm_ppl.checkpoint import Checkpoint
    from nnqm_ppl.diagnostics import Diagnostics

__all__ = ["Observable", "Task", "TaskResult", "TASKS", "load_file", "load_job", "runner"]


@dataclass(frozen=True)
class Observable:
    """One entry of a task's observable table.

    Attributes
    ----------
    measure : callable
        ``measure(context) -> dict | None``: the estimate from the task's draws beside its exact
        value, as a JSON-ready summary entry (None: nothing to report). The context is the
        task's own (e.g. :class:`nnqm_ppl.tasks.sample_observables.Paths`).
    figure : str or None
        File stem of the figure that shows it (the task's ``FIGURES`` makes it).
    requires : callable or None
        ``requires(model) -> str | None``: why the model does not have this observable (the job
        loader refuses the name, naming ``observables.names``), or None where it does.
    """

    measure: Callable[[Any], dict | None]
    figure: str | None = None
    requires: Callable[[Any], str | None] | None = None


@dataclass(frozen=True)
class Task:
    """An entry of the task registry (a :class:`nnqm_ppl.spec.TaskSchema` for the job loader).

    Attributes
    ----------
    name : str
        The job's ``task``.
    schema : callable
        ``schema(table, model, sampler) -> task spec``: reads and checks the task's own job fields.
    observables : str
        Module holding the observable table ``OBSERVABLES`` (name -> :class:`Observable`).
    run : str
        Module holding ``run``.
    """

    name: str
    schema: Callable[[Table, Any, SamplerSpec], Any]
    observables: str
    run: str

    def read_fields(self, t: Table, model: Any, sampler: SamplerSpec) -> Any:
        """The task's own fields of the job table ``t``."""
        return self.schema(t, model, sampler)

    def table(self) -> dict[str, Observable]:
        """The observable table (imports its module)."""
        return importlib.import_module(self.observables).OBSERVABLES

    def observable_names(self, model: Any) -> dict[str, str | None]:
        """Every observable name, in the table's order: None where ``model`` has it, else why not."""
        return {name: None if o.requires is None else o.requires(model) for name, o in self.table().items()}

    def runner(self) -> Callable[[Job, jax.Array, bool, Checkpoint | None], TaskResult]:
        """The task's ``run`` (imports its module)."""
        return importlib.import_module(self.run).run


@dataclass
class TaskResult:
    """What a task hands to the report.

    Attributes
    ----------
    observables : dict
        Name -> ``{"value", "mcse", "exact", "continuum", ...}`` (JSON-ready).
    diagnostics : Diagnostics
        Gate outcome.
    datatree : xarray.DataTree, optional
        Draws to save as ``samples.nc``.
    figures : dict
        File stem -> a function that makes a matplotlib figure.
    extra : dict
        Further top-level ``summary.json`` keys.
    """

    observables: dict
    diagnostics: Diagnostics
    datatree: xr.DataTree | None = None
    figures: dict[str, Callable[[], Any]] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


#: task name -> its entry: the one list of what a job may ask for.
TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task("correlators", correlators_schema.read, "nnqm_ppl.tasks.correlators", "nnqm_ppl.tasks.correlators"),
        Task("fit", fit_schema.read, "nnqm_ppl.tasks.fit", "nnqm_ppl.tasks.fit"),
        Task("nnqm", nnqm_schema.read, "nnqm_ppl.tasks.nnqm", "nnqm_ppl.tasks.nnqm"),
        Task("sample", sample_schema.read, "nnqm_ppl.tasks.sample_tables", "nnqm_ppl.tasks.path_integral"),
    )
}


def runner(task: str) -> Callable[[Job, jax.Array, bool, Checkpoint | None], TaskResult]:
    """The ``run`` function of a task."""
    return TASKS[task].runner()


def load_job(path: str | Path, overrides: Iterable[str] = ()) -> Job:
    """:func:`nnqm_ppl.spec.job.load_job` with the registry :data:`TASKS`."""
    return jobs.load_job(path, TASKS, overrides)


def load_file(path: str | Path, overrides: Iterable[str] = ()) -> Job | Any:
    """:func:`nnqm_ppl.spec.job.load_file` (a job or a model file) with the registry :data:`TASKS`."""
    return jobs.load_file(path, TASKS, overrides)
