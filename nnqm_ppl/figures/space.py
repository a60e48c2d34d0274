"""Figures of a particle in three dimensions (the ``sample`` task, geometry ``"space"``):
the correlator ⟨x(τ)·x(0)⟩ with its effective-mass plateau, and the radial density."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnqm_ppl.figures.sample import correlator_figure as _line_correlator_figure

__all__ = ["correlator_figure", "radial_density_figure"]


def correlator_figure(corr: Any, c_ex: np.ndarray, c_co: np.ndarray, a: float, plateau: tuple | None,
                      gap_exact: tuple[float, float]):
    """The line geometry's correlator figure (:func:`nnqm_ppl.figures.sample.correlator_figure`)
    for ⟨x(τ)·x(0)⟩, its effective mass tending to the l = 1 level above the ground state."""
    fig = _line_correlator_figure(corr, c_ex, c_co, a, plateau, gap_exact)
    fig.axes[0].set(ylabel="C(τ) = ⟨x(τ)·x(0)⟩", title="correlator (summed over x, y, z)")
    if plateau is not None:
        fig.axes[1].set(title="gap E(l = 1) − E0")
    return fig


def radial_density_figure(curve: dict):
    """The ``psi0_squared`` entry: the histogram of r = |x| (± 4 MCSE) beside the exact bin averages
    of 4πr²ρ(r) on the lattice and in the continuum."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.errorbar(curve["x"], curve["value"], 4 * np.asarray(curve["mcse"]), fmt="o", ms=3,
                label="Monte Carlo ± 4 MCSE")
    ax.plot(curve["x"], curve["exact"], "-", color="k", lw=1, label="same lattice")
    ax.plot(curve["x"], curve["continuum"], "--", color="C3", lw=1, label="continuum")
    ax.set(xlabel="r = |x|", ylabel="4πr²ρ(r)", title="radial density (bin averages)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
