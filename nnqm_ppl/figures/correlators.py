"""Figure of the ``correlators`` task: G2 against distance and the connected correlators."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

__all__ = ["correlators_figure"]


def correlators_figure(res: Any, exact: dict):
    """G2 against |x − y| and the connected G4c, G6c, each beside its closed form."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
    pts = res.points
    pairs = list(itertools.combinations_with_replacement(range(len(pts)), 2))
    dist = np.array([np.linalg.norm(pts[i] - pts[j]) for i, j in pairs])
    val = np.array([res.G2.value[i, j] for i, j in pairs])
    err = np.array([res.G2.mcse[i, j] for i, j in pairs])
    ax1.errorbar(dist, val, 4 * err, fmt="o", ms=4, label="Monte Carlo ± 4 MCSE")
    if exact["G2"] is not None:
        ex = np.asarray(exact["G2"])
        ax1.plot(dist, [ex[i, j] for i, j in pairs], "x", color="k", label="closed form")
    ax1.set(xlabel="|x − y|", ylabel="G2(x, y)", title="two-point function")
    ax1.legend(fontsize=8)
    labels, vals, errs, exs = [], [], [], []
    for name in ("G4c", "G6c"):
        est = getattr(res, name)
        if est is not None:
            labels.append(name)
            vals.append(est.value)
            errs.append(est.mcse)
            exs.append(exact.get(name))
    xs = np.arange(len(labels))
    ax2.errorbar(xs, vals, 4 * np.asarray(errs), fmt="o", label="Monte Carlo ± 4 MCSE")
    for x, e in zip(xs, exs, strict=True):
        if e is not None:
            ax2.plot([x], [e], "x", color="k", ms=9)
    ax2.axhline(0, color="0.7", lw=0.8)
    ax2.set_xticks(xs, labels)
    ax2.set(title=f"connected correlators ({res.networks:.2e} networks)")
    fig.tight_layout()
    return fig
