"""Schema of the ``sample`` task: its frozen dataclass and the reader of its fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nnqm_ppl.networks.modes import is_quadratic
from nnqm_ppl.spec import PathIntegralSpec, SamplerSpec, Table

__all__ = ["SampleTask", "read"]


@dataclass(frozen=True)
class SampleTask:
    """Task ``sample``: sample a path integral and measure its observables."""

    histogram_bins: int = 40
    histogram_range: float = 2.5


def read(t: Table, model: Any, sampler: SamplerSpec) -> SampleTask:
    """The ``sample`` job's own fields (the ψ0 histograms), and what the sampler needs of the model:
    ``sampler.method = 'exact'`` draws Gaussian paths, so it needs a quadratic potential."""
    if not isinstance(model, PathIntegralSpec):
        raise t.error("model", f"task 'sample' needs a path_integral model, got {model.kind!r}")
    if sampler.method == "exact" and not is_quadratic(model.domain_potential()):
        raise t.error("sampler.method", "'exact' needs a quadratic potential; use 'nuts'")
    return SampleTask(
        histogram_bins=t.int("histogram_bins", 40, minimum=2),
        histogram_range=t.float("histogram_range", 2.5, positive=True),
    )
