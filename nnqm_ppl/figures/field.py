"""Figures of a scalar field's ``sample`` run: the dispersion relation E(k) and the C_k(τ)."""

from __future__ import annotations

import numpy as np

__all__ = ["dispersion_figure"]


def _floats(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def dispersion_figure(entry: dict):
    """The ``dispersion`` summary entry: E(k) ± MCSE beside the exact lattice and continuum values,
    and the momentum-resolved correlators C_k(τ) beside their exact values."""
    import matplotlib.pyplot as plt

    k = np.asarray(entry["k"])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.errorbar(k, _floats(entry["value"]), _floats(entry["mcse"]), fmt="o", ms=4, label="plateau ± MCSE")
    if entry.get("exact") is not None:
        ax1.plot(k, entry["exact"], "s", mfc="none", color="k", label="transfer matrix (same a)")
    if entry.get("continuum") is not None:
        ax1.plot(k, entry["continuum"], "x", color="C3", label="continuum in time")
    ax1.set(xlabel="k (momentum 2πk/LΔx)", ylabel="E(k)", title="dispersion relation", xticks=k)
    ax1.legend(fontsize=8)
    corr = entry["correlators"]
    tau = np.asarray(corr["tau"])
    for i, kk in enumerate(k):
        value, mcse = np.asarray(corr["value"][i]), np.asarray(corr["mcse"][i])
        signal = value > 2 * mcse
        ax2.errorbar(tau[signal], value[signal], mcse[signal], fmt="o", ms=3, color=f"C{i % 10}", label=f"k = {kk}")
        if corr.get("exact") is not None:
            ax2.plot(tau, corr["exact"][i], "-", lw=1, color=f"C{i % 10}")
    ax2.set_yscale("log")
    ax2.set(xlabel="τ", ylabel="C_k(τ)", title="momentum-resolved correlators (lines: exact)")
    ax2.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return fig
