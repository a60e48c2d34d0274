"""Jobs: the sampler and gates of a job, :class:`Job`, and the loaders of job and model files.

A job file names a task, a model (a path relative to the job file, or an inline ``[model]``
table), a ``[sampler]``, ``[observables]`` and ``[gates]``. ``--set KEY=VALUE`` overrides are
applied to the raw tables before validation, so an override is checked exactly like a value in a
file. The job loader knows no task: it takes the task registry as an argument
(:class:`TaskSchema`), so that the spec layer never imports the tasks layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from nnqm_ppl.spec.models import read_model
from nnqm_ppl.spec.reader import Origin, SpecError, Table, apply_override, parse_override, read_toml

__all__ = [
    "SAMPLER_METHODS", "GatesSpec", "Job", "SamplerSpec", "TaskSchema", "load_file", "load_job", "load_model",
]

SAMPLER_METHODS = ("nuts", "hmc", "exact")


@dataclass(frozen=True)
class SamplerSpec:
    """How draws are made: exact sampling or NumPyro NUTS/HMC.

    ``checkpoint_every`` (draws per chain, 0 = off) cuts MCMC sampling into segments of that many
    draws; after each one the sampler state and the draws so far are saved, so ``--resume`` can
    continue bit for bit. The draws depend on it (through the segment boundaries' compiled
    programs), so it is part of the resolved spec a checkpoint must match.
    """

    method: str = "nuts"
    chains: int = 4
    warmup: int = 1000
    samples: int = 1000
    seed: int = 0
    target_accept: float = 0.8
    max_tree_depth: int = 10
    step_size: float = 0.1
    num_steps: int = 16
    checkpoint_every: int = 500


def _sampler(t: Table) -> SamplerSpec:
    s = SamplerSpec(
        method=t.str("method", "nuts", choices=SAMPLER_METHODS),
        chains=t.int("chains", 4, minimum=1),
        warmup=t.int("warmup", 1000, minimum=0),
        samples=t.int("samples", 1000, minimum=2),
        seed=t.int("seed", 0, minimum=0),
        target_accept=t.float("target_accept", 0.8, minimum=0.05, maximum=0.999),
        max_tree_depth=t.int("max_tree_depth", 10, minimum=1),
        step_size=t.float("step_size", 0.1, positive=True),
        num_steps=t.int("num_steps", 16, minimum=1),
        checkpoint_every=t.int("checkpoint_every", 500, minimum=0),
    )
    t.finish()
    return s


@dataclass(frozen=True)
class GatesSpec:
    """Thresholds a run must meet for its results to be trusted (exit 0), else exit 3."""

    rhat_max: float = 1.01
    ess_min: float = 400.0
    divergences_max: int = 0
    tree_depth_max_fraction: float = 0.05
    fit_p_min: float = 0.01  # task fit: the χ² p-value below which the fit does not describe its data


def _gates(t: Table) -> GatesSpec:
    g = GatesSpec(
        rhat_max=t.float("rhat_max", 1.01, minimum=1.0),
        ess_min=t.float("ess_min", 400.0, nonneg=True),
        divergences_max=t.int("divergences_max", 0, minimum=0),
        tree_depth_max_fraction=t.float("tree_depth_max_fraction", 0.05, minimum=0.0, maximum=1.0),
        fit_p_min=t.float("fit_p_min", 0.01, nonneg=True),
    )
    if g.fit_p_min >= 1:
        raise t.error("fit_p_min", f"must be < 1, got {g.fit_p_min}")
    t.finish()
    return g


@dataclass(frozen=True)
class Job:
    """A validated job: what to run, on which model, how to sample and what to trust."""

    file: str
    title: str
    task: str
    model: Any
    task_spec: Any
    sampler: SamplerSpec
    gates: GatesSpec
    observables: tuple[str, ...]
    model_file: str | None = None


class TaskSchema(Protocol):
    """What the job loader needs of a task (the registry :data:`nnqm_ppl.tasks.TASKS` supplies it)."""

    def read_fields(self, t: Table, model: Any, sampler: SamplerSpec) -> Any:
        """The task's own top-level fields of ``t``, validated against ``model`` and ``sampler``."""

    def observable_names(self, model: Any) -> dict[str, str | None]:
        """Every observable the task knows, in order: None where ``model`` has it, else why not."""


def _override_map(overrides: Iterable[str]) -> tuple[list[tuple[list[str], Any, str]], dict[str, str]]:
    parsed = []
    names: dict[str, str] = {}
    for item in overrides:
        keys, value = parse_override(item)
        parsed.append((keys, value, item))
        names[".".join(keys)] = item
    return parsed, names


def load_file(path: str | Path, tasks: Mapping[str, TaskSchema], overrides: Iterable[str] = ()) -> Job | Any:
    """Load a job file, or a model file (anything whose top level has ``kind``).

    Returns a :class:`Job` for a job (``tasks`` as in :func:`load_job`) and a model spec for a
    model file.
    """
    path = Path(path)
    raw = read_toml(path)
    if "kind" in raw and "task" not in raw:
        return load_model(path, overrides)
    return load_job(path, tasks, overrides)


def load_model(path: str | Path, overrides: Iterable[str] = ()) -> Any:
    """Load and validate a model file; overrides are given as ``model.FIELD=VALUE`` or ``FIELD=VALUE``."""
    path = Path(path)
    raw = read_toml(path)
    parsed, _ = _override_map(overrides)
    names: dict[str, str] = {}
    for keys, value, item in parsed:
        if keys[0] == "model":
            keys = keys[1:]
        if not keys:
            raise SpecError(f"--set {item}", "model", "cannot replace the whole model")
        apply_override(raw, keys, value, item)
        names["model." + ".".join(keys)] = item
    origin = Origin(str(path), str(path), names)
    return read_model(Table(raw, origin, "model"))


def load_job(path: str | Path, tasks: Mapping[str, TaskSchema], overrides: Iterable[str] = ()) -> Job:
    """Load and validate a job file with its model and ``--set`` overrides.

    The fields are checked in this order: title, task, model, sampler, the task's own fields
    (which may depend on the model and the sampler), gates, observables (last: a task may import
    its observable table only then), and finally unknown top-level keys.

    Parameters
    ----------
    path : str or Path
        The job TOML file.
    tasks : mapping
        Task name -> :class:`TaskSchema` (the registry :data:`nnqm_ppl.tasks.TASKS`; callers use
        :func:`nnqm_ppl.tasks.load_job`, which binds it).
    overrides : iterable of str
        ``KEY=VALUE`` items; model fields under ``model.``.

    Returns
    -------
    Job
        The validated job.

    Raises
    ------
    SpecError
        Naming the file (or option), the field and the reason.
    """
    path = Path(path)
    raw = read_toml(path)
    parsed, names = _override_map(overrides)
    model_file: str | None = None
    model_raw = raw.get("model")
    if isinstance(model_raw, str):
        mpath = (path.parent / model_raw).resolve()
        if not mpath.is_file():
            raise SpecError(str(path), "model", f"model file {model_raw!r} not found (looked in {mpath})")
        model_file = str(mpath)
        raw["model"] = read_toml(mpath)
    elif model_raw is not None and not isinstance(model_raw, dict):
        raise SpecError(str(path), "model", "expected a path to a model file or an inline [model] table")
    for keys, value, item in parsed:
        apply_override(raw, keys, value, item)
    origin = Origin(str(path), model_file, names)
    top = Table(raw, origin)
    title = top.str("title", path.stem)
    task = top.str("task", choices=tuple(tasks))
    if "model" not in raw:
        raise top.error("model", "required field is missing")
    model = read_model(top.table("model"))
    sampler = _sampler(top.table("sampler"))
    task_spec = tasks[task].read_fields(top, model, sampler)
    gates = _gates(top.table("gates"))
    obs_t = top.table("observables")
    available = tasks[task].observable_names(model)
    default = [name for name, why in available.items() if why is None]
    observables = obs_t.strs("names", default, choices=tuple(available))
    for name in observables:
        if available[name] is not None:
            raise obs_t.error("names", f"{name} {available[name]}")
    obs_t.finish()
    top.finish()
    return Job(
        file=str(path),
        title=title,
        task=task,
        model=model,
        task_spec=task_spec,
        sampler=sampler,
        gates=gates,
        observables=observables,
        model_file=model_file,
    )
