"""The ``sample`` task's observables of a scalar field on L spatial sites (geometry ``"field"``)."""

from __future__ import annotations

from nnqm_ppl.tasks import Observable
from nnqm_ppl.tasks.sample_vector import VectorPaths

__all__ = ["OBSERVABLES", "FIGURES", "Paths"]


class Paths(VectorPaths):
    """The draws of a field model and what its observables share."""


#: name -> entry, in the default order of ``observables.names``.
OBSERVABLES: dict[str, Observable] = {}

#: figure stem -> ``make(paths, observables)``.
FIGURES: dict = {}
