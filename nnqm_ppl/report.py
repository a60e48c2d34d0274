"""Writing a run: ``summary.json``, ``samples.nc`` and plots, each atomically.

Every file is written to a temporary name in the output directory and renamed into place, so a
crash never leaves a partial or corrupt file. Which directory a run may write is decided before
it samples, in :mod:`nnqm_ppl.rundir`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import jax
import numpy as np
import xarray as xr

from nnqm_ppl import strictjson
from nnqm_ppl.atomic import atomic_path
from nnqm_ppl.spec import Job, SpecError

__all__ = [
    "atomic_path",
    "write_json",
    "write_datatree",
    "write_figure",
    "versions",
    "job_tag",
    "write_run",
    "read_summary",
]


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray | jax.Array):
        return np.asarray(obj).tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if dataclasses.is_dataclass(obj):
        return dataclasses.asdict(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def write_json(target: Path, data: dict) -> None:
    """Write ``data`` as indented strict JSON, atomically.

    A number that is not finite becomes ``null``, noted under ``"non_finite"`` in the object that
    holds it (:mod:`nnqm_ppl.strictjson`): ``jq``, JavaScript and other strict readers read the file.
    """
    with atomic_path(target) as tmp:
        tmp.write_text(strictjson.dumps(data, default=_json_default) + "\n")


def write_datatree(target: Path, tree: xr.DataTree) -> None:
    """Write an ArviZ DataTree to netCDF (opens with ``xarray.open_datatree``), atomically."""
    with atomic_path(target) as tmp:
        tree.to_netcdf(tmp, engine="h5netcdf")


def write_figure(target: Path, fig: Any) -> None:
    """Save a matplotlib figure or an arviz-plots PlotCollection as PNG, atomically, and close it."""
    import matplotlib.pyplot as plt

    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close("all")


def versions() -> dict[str, str]:
    """Versions of the packages that determine the numbers."""
    out = {}
    for pkg in ("nnqm_ppl", "jax", "jaxlib", "numpyro", "arviz", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def read_summary(out: Path) -> dict | None:
    """The ``summary.json`` of a run directory, or None if there is none."""
    path = Path(out) / "summary.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SpecError(str(path), "", f"unreadable summary ({exc.__class__.__name__})") from None


def job_tag(job: Job) -> dict:
    """JSON-ready identity of a job: its resolved file and its resolved spec (seed included).

    A checkpoint records it, and ``--resume`` refuses a checkpoint whose tag differs, so draws
    are only ever continued by the job and spec that began them.
    """
    resolved = dataclasses.replace(job, file=str(Path(job.file).resolve()))
    return {"file": resolved.file, "spec": json.loads(json.dumps(dataclasses.asdict(resolved), default=_json_default))}


def write_run(
    out: Path,
    job: Job,
    *,
    seed: int,
    elapsed_s: float,
    diagnostics: dict,
    observables: dict,
    extra: dict | None = None,
    datatree: xr.DataTree | None = None,
    figures: dict[str, Callable[[], Any]] | None = None,
) -> dict:
    """Write everything a run produced; returns the summary dict.

    The data files come first and ``summary.json`` last, so a summary always describes files that
    exist.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if datatree is not None:
        write_datatree(out / "samples.nc", datatree)
    for name, make in (figures or {}).items():
        write_figure(out / f"{name}.png", make())
    summary = {
        "task": job.task,
        "title": job.title,
        "spec": dataclasses.asdict(job),
        "versions": versions(),
        "devices": jax.device_count(),  # on every host of a distributed run
        "processes": jax.process_count(),
        "seed": seed,
        "elapsed_s": round(elapsed_s, 3),
        "diagnostics": diagnostics,
        "observables": observables,
    }
    summary.update(extra or {})
    write_json(out / "summary.json", summary)
    return summary
