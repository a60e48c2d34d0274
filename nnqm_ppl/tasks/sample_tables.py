"""The ``sample`` task's observable tables, one per geometry of a path-integral model, and their union.

A path-integral model is a particle on a line, a particle in three dimensions or a scalar field
on L spatial sites (:attr:`nnqm_ppl.spec.PathIntegralSpec.geometry`). Each geometry has its own
module with a measuring context (``Paths``: the draws and what its observables share), its
observable table ``OBSERVABLES`` and its ``FIGURES``:

- ``"line"``: :mod:`nnqm_ppl.tasks.sample_observables`;
- ``"space"``: :mod:`nnqm_ppl.tasks.sample_space`;
- ``"field"``: :mod:`nnqm_ppl.tasks.sample_field`.

:data:`OBSERVABLES` is the task's table for the job loader: every name of any geometry, in order,
whose ``requires`` refuses a name the model's geometry does not have (``x2`` means ⟨x²⟩ on a line
and the site-averaged ⟨φ²⟩ of a field; ``r2`` exists only in space; ``psi0`` only on a half line).
Adding an observable is one entry in its geometry's table.
"""

from __future__ import annotations

from types import ModuleType

from nnqm_ppl.tasks import Observable, sample_field, sample_observables, sample_space

__all__ = ["GEOMETRIES", "OBSERVABLES", "module"]

#: geometry -> its module (``Paths``, ``OBSERVABLES``, ``FIGURES``).
GEOMETRIES: dict[str, ModuleType] = {"line": sample_observables, "space": sample_space, "field": sample_field}

_WHAT = {"line": "a particle on a line", "space": "a particle in three dimensions", "field": "a field (sites > 1)"}


def module(geometry: str) -> ModuleType:
    """The module of a geometry: its ``Paths`` context, ``OBSERVABLES`` and ``FIGURES``."""
    return GEOMETRIES[geometry]


def _requires(name: str):
    def why(model) -> str | None:
        entry = GEOMETRIES[model.geometry].OBSERVABLES.get(name)
        if entry is None:
            has = [g for g, mod in GEOMETRIES.items() if name in mod.OBSERVABLES]
            return f"does not exist for {_WHAT[model.geometry]} (only for {' or '.join(_WHAT[g] for g in has)})"
        return None if entry.requires is None else entry.requires(model)

    return why


def _union() -> dict[str, Observable]:
    out: dict[str, Observable] = {}
    for geometry_module in GEOMETRIES.values():
        for name, entry in geometry_module.OBSERVABLES.items():
            if name not in out:
                out[name] = Observable(measure=entry.measure, figure=entry.figure, requires=_requires(name))
    return out


#: every name of every geometry (the job loader's table); ``measure`` is the geometry's own, through
#: :func:`module` (the run measures with the model's geometry table, never this union's).
OBSERVABLES: dict[str, Observable] = _union()
