"""Schema of the ``fit`` task: the reader of its fields (its data classes, which the fitting layer
takes, are :class:`nnqm_ppl.spec.FitTask` and :class:`nnqm_ppl.spec.Prior`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nnqm_ppl.spec import (
    FIT_CRITERIA,
    FIT_KINDS,
    NETWORK_FIT_PARAMETERS,
    PRIOR_DISTS,
    FitTask,
    NeuralFieldSpec,
    PathIntegralSpec,
    Prior,
    SamplerSpec,
    SpecError,
    Table,
)

__all__ = ["read"]


def _prior(t: Table, default: Prior) -> Prior:
    d = t.str("dist", default.dist, choices=PRIOR_DISTS)
    loc = t.float("loc", default.loc)
    scale = t.float("scale", default.scale, positive=True)
    if d == "lognormal" and loc <= 0:
        raise t.error("loc", f"the median of a lognormal prior must be > 0, got {loc}")
    t.finish()
    return Prior(d, loc, scale)


def _fit_parameters(f: Table, kind: str, model: Any) -> tuple[tuple[str, ...], dict[str, Prior]]:
    """Names of the inferred parameters and their default priors."""
    if kind == "spectral":
        return (), {"energy": Prior("lognormal", 1.0, 1.0), "gap": Prior("lognormal", 1.0, 1.0),
                    "amplitude": Prior("lognormal", 0.5, 2.0)}
    if kind == "coupling":
        names = f.strs("parameters", ["c4"])
        if not names:
            raise f.error("parameters", "name at least one coefficient")
        for name in names:
            if not (name[:1] == "c" and name[1:].isdigit() and 0 < int(name[1:]) <= 8):
                raise f.error("parameters", f"{name!r} is not a coefficient c1 .. c8 of the potential")
        pot = list(model.potential)
        defaults = {}
        for name in names:
            k = int(name[1:])
            value = pot[k] if k < len(pot) else 0.0
            defaults[name] = Prior("lognormal", value, 1.0) if value > 0 else Prior("normal", value, 1.0)
        return tuple(names), defaults
    observable = f.str("observable", "G2", choices=("G2", "G4c"))
    allowed = NETWORK_FIT_PARAMETERS.get((model.architecture, observable))
    if allowed is None:
        choices = ", ".join(f"{a} {o}" for a, o in NETWORK_FIT_PARAMETERS)
        raise f.error("observable", f"no closed form for {model.architecture} {observable}; choose from {choices}")
    names = f.strs("parameters", list(allowed[:1] if observable == "G4c" else allowed), choices=allowed)
    if not names:
        raise f.error("parameters", "name at least one hyperparameter")
    if model.architecture == "free_scalar" and model.dim != 1:
        raise SpecError(f.origin("model.dim"), "model.dim", "free_scalar fits use the d = 1 closed form")
    if model.a_prior != "gaussian":
        raise SpecError(f.origin("model.a_prior"), "model.a_prior", "network fits assume Gaussian output weights")
    values = {"sigma_a": model.sigma_a, "sigma_b": model.sigma_b, "mass": model.mass, "width": float(model.width)}
    return tuple(names), {n: Prior("lognormal", values[n], 1.0) for n in names}


def read(t: Table, model: Any, sampler: SamplerSpec) -> FitTask:
    """The ``fit`` job's ``data`` (resolved beside the job, or the working directory for ``--set``)
    and ``[fit]`` table, checked against the model."""
    where = t.origin("data")
    data_raw = t.str("data")
    base = Path.cwd() if where.startswith("--set") else Path(t.origin("")).resolve().parent
    data = (base / data_raw).resolve()
    if not data.exists():
        raise t.error("data", f"data {data_raw!r} not found (looked in {data})")
    f = t.table("fit")
    kind = f.str("kind", choices=FIT_KINDS)
    need, need_kind = (NeuralFieldSpec, "neural_field") if kind == "network" else (PathIntegralSpec, "path_integral")
    if not isinstance(model, need):
        raise t.error("model", f"a {kind} fit needs a {need_kind} model, got {model.kind!r}")
    if kind == "coupling" and model.boundary != "periodic":
        raise SpecError(t.origin("model.boundary"), "model.boundary", "coupling fits need a periodic lattice")
    states: tuple[int, ...] = ()
    criterion = "loo"
    if kind == "spectral":
        raw = f.raw("states", [1, 2])
        raw = raw if isinstance(raw, list) else [raw]
        if not raw or any(isinstance(k, bool) or not isinstance(k, int) for k in raw):
            raise f.error("states", f"expected a list of integers K >= 1, got {raw!r}")
        if min(raw) < 1:
            raise f.error("states", f"K (the number of states) must be >= 1, got {min(raw)}")
        states = tuple(sorted(set(raw)))
        criterion = f.str("criterion", "loo", choices=FIT_CRITERIA)
    names, defaults = _fit_parameters(f, kind, model)
    pt = f.table("priors")
    priors = {n: _prior(pt.table(n), d) if pt.has(n) else d for n, d in defaults.items()}
    pt.finish()
    if kind == "coupling":
        lead = max(int(n[1:]) for n in names)
        degree = max(k for k, c in enumerate(model.potential) if c != 0)
        if lead >= degree and priors[f"c{lead}"].dist != "lognormal":
            raise f.error(f"priors.c{lead}", "the leading coefficient needs a lognormal (positive) prior")
    tau_min = f.float("tau_min", None, nonneg=True)
    tau_max = f.float("tau_max", None, positive=True)
    if tau_min is not None and tau_max is not None and tau_min >= tau_max:
        raise f.error("tau_max", f"must be > tau_min = {tau_min}, got {tau_max}")
    spec = FitTask(
        data=str(data),
        kind=kind,
        where=where,
        states=states,
        criterion=criterion,
        tau_min=tau_min,
        tau_max=tau_max,
        observable=f.raw("observable", "G2") if kind == "network" else "G2",
        parameters=names,
        priors=priors,
        box_scale=f.float("box_scale", 1.5, minimum=1.0) if kind == "coupling" else 1.5,
    )
    f.finish()
    return spec
