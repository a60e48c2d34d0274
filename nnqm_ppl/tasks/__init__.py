"""Tasks: one module per kind of work a job can ask for.

A task module exposes ``run(job, key, progress, checkpoint) -> TaskResult``; ``checkpoint`` (a
:class:`~nnqm_ppl.checkpoint.Checkpoint` or None) is handed to every
:func:`~nnqm_ppl.sampling.run_mcmc` call with the model's slot (0 for the first sampled model).
Adding a task is a validator for its fields in :data:`nnqm_ppl.spec.TASK_FIELDS`, a module here
with ``run``, and one line in :data:`TASKS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import xarray as xr

from nnqm_ppl.checkpoint import Checkpoint
from nnqm_ppl.diagnostics import Diagnostics
from nnqm_ppl.spec import Job

__all__ = ["TaskResult", "TASKS", "runner"]


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


#: task name -> module implementing ``run``.
TASKS: dict[str, str] = {
    "correlators": "nnqm_ppl.tasks.correlators",
    "fit": "nnqm_ppl.tasks.fit",
    "nnqm": "nnqm_ppl.tasks.nnqm",
    "sample": "nnqm_ppl.tasks.path_integral",
}


def runner(task: str) -> Callable[[Job, jax.Array, bool, Checkpoint | None], TaskResult]:
    """The ``run`` function of a task."""
    return importlib.import_module(TASKS[task]).run
