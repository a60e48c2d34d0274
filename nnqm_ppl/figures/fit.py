"""Figures of the ``fit`` task: the fitted correlator over its data, and the posterior per parameter."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnqm_ppl.tables import FIT_COLUMNS

__all__ = ["fit_figure", "posterior_figure"]


def fit_figure(problem: Any, band: np.ndarray, kind: str):
    """The data with the posterior median and 90 % band of the fitted correlator, and the residuals."""
    import matplotlib.pyplot as plt

    d = problem.data
    err = np.sqrt(np.diag(d.cov))
    lo, med, hi = np.quantile(band, [0.05, 0.5, 0.95], axis=0)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.errorbar(d.tau, d.mean, err, fmt="o", ms=3, label="data ± 1σ")
    ax1.fill_between(d.tau, lo, hi, color="C1", alpha=0.35, label="posterior 90% band")
    ax1.plot(d.tau, med, "-", color="C1", lw=1, label="posterior median")
    if np.all(d.mean > 0) and np.all(lo > 0):
        ax1.set_yscale("log")
    ax1.set(xlabel="τ" if kind != "network" else "separation", ylabel="G", title=f"{kind} fit")
    ax1.legend(fontsize=8)
    ax2.axhline(0, color="0.6", lw=0.8)
    ax2.plot(d.tau, (d.mean - med) / err, "o", ms=3)
    ax2.set(xlabel="τ", ylabel="(data − median) / σ", title="residuals")
    fig.tight_layout()
    return fig


def posterior_figure(draws: dict[str, np.ndarray], summary: dict[str, dict], exact: dict[str, float]):
    r"""One panel per parameter, with the quantities and labels of the printed table
    (:func:`nnqm_ppl.tables.format_fit_table`): the histogram of the draws, the posterior mean with
    the posterior sd as its error bar, the 90 % equal-tailed interval, and where one exists the exact
    value with :math:`(\bar\theta - \theta_\mathrm{exact})/\mathrm{sd}`. The MCSE of the mean is
    stated in the legend, not drawn: it is the sampler's precision, not the parameter's uncertainty."""
    import matplotlib.pyplot as plt

    _, mean_sd, interval, mcse, exact_col, distance = FIT_COLUMNS
    cols = min(len(summary), 3)
    rows = -(-len(summary) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.flat[len(summary):]:
        ax.set_visible(False)
    for ax, (name, s) in zip(axes.flat, summary.items(), strict=False):
        ax.hist(np.ravel(draws[name]), bins=40, density=True, color="C0", alpha=0.45)
        top = ax.get_ylim()[1]
        ax.set_ylim(0, 1.6 * top)  # room for the legend above the histogram
        ax.axvspan(s["eti_5"], s["eti_95"], color="C1", alpha=0.2, label=interval)
        ax.errorbar([s["mean"]], [0.5 * top], xerr=[s["sd"]], fmt="o", color="k", capsize=4,
                    label=f"{mean_sd} ({mcse} {s['mcse']:.2g})")
        title = f"{name} = {s['mean']:.6g} ± {s['sd']:.2g} (posterior sd)"
        if name in exact:
            ax.axvline(exact[name], color="C3", ls="--", label=exact_col)
            title += f"\n{exact_col} {exact[name]:.6g}: {distance} = {(s['mean'] - exact[name]) / s['sd']:+.2f}"
        ax.set(title=title, xlabel=name, yticks=[])
        ax.title.set_fontsize(9)
        ax.legend(fontsize=7, loc="upper center")
    fig.tight_layout()
    return fig
