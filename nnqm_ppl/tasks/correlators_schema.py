"""Schema of the ``correlators`` task: its frozen dataclass and the reader of its fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nnqm_ppl.spec import NeuralFieldSpec, SamplerSpec, Table
from nnqm_ppl.spec.reader import check_float

__all__ = ["CorrelatorsTask", "read"]


@dataclass(frozen=True)
class CorrelatorsTask:
    """Task ``correlators``: n-point functions of a neural field at given points."""

    points: tuple[tuple[float, ...], ...]
    networks: int
    chunk: int = 20000
    orders: tuple[int, ...] = (2, 4)


def read(t: Table, model: Any, sampler: SamplerSpec) -> CorrelatorsTask:
    """The ``correlators`` job's own fields: ``points`` (each of the field's dim), ``networks``,
    ``chunk``, ``orders`` (among 2, 4, 6; an order n > 2 needs n points)."""
    if not isinstance(model, NeuralFieldSpec):
        raise t.error("model", f"task 'correlators' needs a neural_field model, got {model.kind!r}")
    raw = t.raw("points")
    if not isinstance(raw, list) or not raw:
        raise t.error("points", "expected a non-empty list of points")
    pts = []
    for i, p in enumerate(raw):
        if not isinstance(p, list):
            p = [p]
        if len(p) != model.dim:
            raise t.error(f"points[{i}]", f"has length {len(p)} but the network's dim is {model.dim}")
        err = lambda r, i=i: t.error(f"points[{i}]", r)  # noqa: E731
        pts.append(tuple(check_float(x, err, False, False, None, None) for x in p))
    orders = tuple(sorted(set(t.raw("orders", [2, 4]))))
    for n in orders:
        if n not in (2, 4, 6):
            raise t.error("orders", f"orders must be among 2, 4, 6; got {n!r}")
    need = max(orders)
    if need > 2 and len(pts) < need:
        raise t.error("points", f"order {need} needs at least {need} points, got {len(pts)}")
    return CorrelatorsTask(
        points=tuple(pts),
        networks=t.int("networks", minimum=2),
        chunk=t.int("chunk", 20000, minimum=1),
        orders=orders,
    )
