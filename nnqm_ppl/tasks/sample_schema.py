"""Schema of the ``sample`` task: its frozen dataclass and the reader of its fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nnqm_ppl.networks.modes import is_quadratic
from nnqm_ppl.spec import PathIntegralSpec, SamplerSpec, Table

__all__ = ["SampleTask", "read"]


@dataclass(frozen=True)
class SampleTask:
    """Task ``sample``: sample a path integral and measure its observables.

    Attributes
    ----------
    histogram_bins, histogram_range : int, float
        The ψ0 histograms: bins over ±range (also the points of the half line's ``amplitude``).
    amplitude_nodes : int
        Gauss–Legendre nodes of the fixed-ends ``amplitude`` (thermodynamic integration; one run each).
    amplitude_x_ini : float
        x_i on which the half line's ``amplitude`` conditions x_0 (within ±histogram_range).
    """

    histogram_bins: int = 40
    histogram_range: float = 2.5
    amplitude_nodes: int = 4
    amplitude_x_ini: float = 0.0


#: most Gauss–Legendre nodes of the amplitude's thermodynamic integration (each node is a run)
MAX_AMPLITUDE_NODES = 16


def read(t: Table, model: Any, sampler: SamplerSpec) -> SampleTask:
    """The ``sample`` job's own fields (the ψ0 histograms; the amplitude's Gauss–Legendre nodes in
    λ with fixed ends and its conditioning point x_i on a half line), and what the sampler needs of
    the model: ``sampler.method = 'exact'`` draws Gaussian paths, so it needs a quadratic potential."""
    if not isinstance(model, PathIntegralSpec):
        raise t.error("model", f"task 'sample' needs a path_integral model, got {model.kind!r}")
    if sampler.method == "exact" and not is_quadratic(model.domain_potential()):
        raise t.error("sampler.method", "'exact' needs a quadratic potential; use 'nuts'")
    for key, boundary in (("amplitude_nodes", "fixed"), ("amplitude_x_ini", "half_line")):
        if t.has(key) and model.boundary != boundary:
            raise t.error(key, f"only used with model.boundary = {boundary!r}, not {model.boundary!r}")
    histogram_range = t.float("histogram_range", 2.5, positive=True)
    nodes = t.int("amplitude_nodes", 4, minimum=1)
    if nodes > MAX_AMPLITUDE_NODES:
        raise t.error("amplitude_nodes", f"must be <= {MAX_AMPLITUDE_NODES} (each node is a run), got {nodes}")
    return SampleTask(
        histogram_bins=t.int("histogram_bins", 40, minimum=2),
        histogram_range=histogram_range,
        amplitude_nodes=nodes,
        amplitude_x_ini=t.float("amplitude_x_ini", 0.0, minimum=-histogram_range, maximum=histogram_range),
    )
