"""Figures of the ``sample`` task: correlator with its effective-mass plateau, and ψ0."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["correlator_figure", "wavefunction_figure"]


def correlator_figure(corr: Any, c_ex: np.ndarray, c_co: np.ndarray, a: float, plateau: tuple | None,
                      gap_exact: tuple[float, float]):
    """C(τ) beside the transfer matrix and the continuum; with ``plateau`` (fit, exact m_eff(τ))
    the effective mass, its plateau band and the exact gaps ``gap_exact`` (lattice, continuum)."""
    import matplotlib.pyplot as plt

    tau = a * np.arange(len(c_ex))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    signal = np.asarray(corr.value) > 2 * np.asarray(corr.mcse)  # points a log scale can show
    ax1.errorbar(tau[signal], corr.value[signal], corr.mcse[signal], fmt="o", ms=3, label="Monte Carlo ± MCSE")
    ax1.plot(tau, c_ex, "-", color="k", lw=1, label="transfer matrix (same a)")
    ax1.plot(tau, c_co, "--", color="C3", lw=1, label="continuum")
    ax1.set_yscale("log")
    ax1.set(xlabel="τ", ylabel="C(τ) = ⟨x(τ)x(0)⟩", title="correlator")
    ax1.legend(fontsize=8)
    if plateau is not None:
        fit, m_exact = plateau
        em = fit.effective_mass
        ok = np.isfinite(em.value) & (np.asarray(em.mcse) < 0.1 * np.abs(em.value))  # resolved points
        ax2.errorbar(fit.tau[ok], em.value[ok], em.mcse[ok], fmt="o", ms=3, label="effective mass")
        lo, hi = fit.window
        ax2.fill_between([lo, hi], fit.gap.value - fit.gap.mcse, fit.gap.value + fit.gap.mcse, color="C0", alpha=0.3,
                         label=f"plateau {fit.gap.value:.4f} ± {fit.gap.mcse:.4f}")
        g_ex, g_co = gap_exact
        ax2.plot(fit.tau, m_exact[: len(fit.tau)], ":", color="k", lw=1, label="exact m_eff(τ) on this lattice")
        ax2.axhline(g_ex, color="k", lw=1, label=f"transfer matrix {g_ex:.4f}")
        ax2.axhline(g_co, color="C3", ls="--", lw=1, label=f"continuum {g_co:.4f}")
        ax2.set(xlabel="τ", ylabel="m_eff(τ)", title="gap E1 − E0", xlim=(-0.2, fit.tau[ok].max() + 3 * a))
        ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def wavefunction_figure(curves: dict[str, dict]):
    """The ``psi0`` and/or ``psi0_squared`` curves (summary entries) beside their exact values."""
    import matplotlib.pyplot as plt

    keys = [k for k in ("psi0", "psi0_squared") if k in curves]
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.6), squeeze=False)
    for ax, k in zip(axes[0], keys, strict=True):
        c = curves[k]
        ax.errorbar(c["x"], c["value"], 4 * np.asarray(c["mcse"]), fmt="o", ms=3, label="Monte Carlo ± 4 MCSE")
        ax.plot(c["x"], c["exact"], "-", color="k", lw=1, label="transfer matrix")
        ax.plot(c["x"], c["continuum"], "--", color="C3", lw=1, label="continuum")
        ax.set(xlabel="x", title={"psi0": "ψ0(y) from the half-line network", "psi0_squared": "|ψ0(x)|²"}[k])
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
