"""Figures of the ``nnqm`` task: GEVP plateaux against the exact gaps, reflection positivity."""

from __future__ import annotations

import numpy as np

__all__ = ["rp_figure", "spectrum_figure"]


def spectrum_figure(plots: dict):
    """GEVP effective masses with their plateau bands beside the exact gaps and exact m_eff(τ)."""
    import matplotlib.pyplot as plt

    g = plots["gaps"]
    tau, en = g["tau"], g["energies"]
    val, err = np.atleast_2d(np.asarray(en.value)), np.atleast_2d(np.asarray(en.mcse))
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for i, entry in enumerate(g["gaps"]):
        ok = np.isfinite(val[:, i]) & (err[:, i] < 0.5 * np.maximum(np.abs(val[:, i]), 1e-12))
        ax.errorbar(tau[ok], val[ok, i], err[ok, i], fmt="o", ms=3, color=f"C{i}", label=f"E{i + 1} − E0 (GEVP)")
        if entry.get("value") is not None:
            lo, hi = entry["window"]
            ax.fill_between([lo, hi], entry["value"] - entry["mcse"], entry["value"] + entry["mcse"],
                            color=f"C{i}", alpha=0.3)
        if entry.get("exact") is not None:
            ax.axhline(entry["exact"], color=f"C{i}", ls="--", lw=1)
        if g["exact_curve"] is not None:
            ax.plot(tau, g["exact_curve"][:, i], ":", color="k", lw=1)
    ax.set(xlabel="τ", ylabel="effective mass", title="GEVP plateaux (bands) vs exact gaps (dashed)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def rp_figure(plots: dict):
    """The normalised eigenvalues of the reflection-positivity Gram matrix with 4 MCSE."""
    import matplotlib.pyplot as plt

    eig, err, rp = plots["rp"]
    fig, ax = plt.subplots(figsize=(6, 3.8))
    k = np.arange(1, eig.size + 1)
    ax.errorbar(k, eig, 4 * err, fmt="o", ms=4, label="λ_k/λ_max ± 4 MCSE")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set(xlabel="k", ylabel="normalised eigenvalue",
           title=f"reflection positivity ({rp.name.removeprefix('reflection_positivity_')}): {rp.verdict}, "
                 f"z = {rp.z:.2f}, detectable {rp.detail['detectable']:.2g}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
