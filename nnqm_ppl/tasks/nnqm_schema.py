"""Schema of the ``nnqm`` task: its frozen dataclass and the reader of its fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nnqm_ppl.spec import PROCESS_SPECS, SamplerSpec, Table

__all__ = ["RP_FAMILIES", "NNQMTask", "read"]

RP_FAMILIES = ("linear", "general")


@dataclass(frozen=True)
class NNQMTask:
    """Task ``nnqm``: exact draws of a process model's paths and its quantum-mechanical checks.

    Attributes
    ----------
    powers : tuple of int
        Operators ``x^p`` of the GEVP (``(1, 2, 3)``: gaps E1, E2, E3 of the oscillator).
    t0 : int
        GEVP reference time in grid steps.
    max_lag : int or None
        Largest correlator separation in grid steps (default steps // 2).
    max_rel_error : float
        Signal-to-noise cut of the plateau window.
    rp_family : str
        Test functions of reflection positivity: ``linear`` or ``general``.
    rp_times : int
        Positive times in the reflection-positivity Gram matrix.
    threshold : float
        σ demanded by the verdicts (default 5).
    """

    powers: tuple[int, ...] = (1, 2, 3)
    t0: int = 1
    max_lag: int | None = None
    max_rel_error: float = 0.1
    rp_family: str = "general"
    rp_times: int = 6
    threshold: float = 5.0


def read(t: Table, model: Any, sampler: SamplerSpec) -> NNQMTask:
    """The ``nnqm`` job's own fields; the task draws paths exactly, so ``sampler.method`` must be 'exact'."""
    if not isinstance(model, PROCESS_SPECS):
        raise t.error("model", f"task 'nnqm' needs an ou, deep_nnqm or kkl model, got {model.kind!r}")
    if sampler.method != "exact":
        raise t.error("sampler.method",
                      f"task 'nnqm' draws paths exactly: set method = 'exact', got {sampler.method!r}")
    raw = t.raw("powers", [1, 2, 3])
    if not isinstance(raw, list) or not raw or any(isinstance(p, bool) or not isinstance(p, int) for p in raw):
        raise t.error("powers", f"expected a non-empty list of integers, got {raw!r}")
    if any(p < 1 for p in raw) or len(set(raw)) != len(raw):
        raise t.error("powers", f"powers must be distinct integers >= 1, got {raw!r}")
    max_lag = t.int("max_lag", None, minimum=3)
    if max_lag is not None and max_lag > model.steps // 2:
        raise t.error("max_lag", f"must be <= steps // 2 = {model.steps // 2}, got {max_lag}")
    t0 = t.int("t0", 1, minimum=0)
    if t0 > (max_lag or model.steps // 2) - 3:
        raise t.error("t0", f"leaves fewer than 3 separations after t0 (max_lag {max_lag or model.steps // 2})")
    return NNQMTask(
        powers=tuple(raw),
        t0=t0,
        max_lag=max_lag,
        max_rel_error=t.float("max_rel_error", 0.1, positive=True, maximum=1.0),
        rp_family=t.str("rp_family", "general", choices=RP_FAMILIES),
        rp_times=t.int("rp_times", 6, minimum=1),
        threshold=t.float("threshold", 5.0, minimum=1.0),
    )
