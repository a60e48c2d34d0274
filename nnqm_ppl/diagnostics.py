"""Gates that decide whether a run can be trusted, with advice a physicist can act on.

R-hat (rank-normalised, split), bulk and tail ESS and E-BFMI come from ArviZ; divergences and
tree-depth saturation are read from the sampler's ``sample_stats``. R-hat compares chains, so a
one-chain run skips it (``rhat_max`` null, ``rhat_skipped`` says why) and is judged by the other
gates, its ESS split within the chain by ArviZ. The gates are applied to the
physics observables' per-draw series (⟨x²⟩ per path, C(β/4), …), which is what the reported
numbers depend on. Beside ArviZ's ESS, :func:`gamma_method` gives the integrated autocorrelation
time τ_int of the same series by Wolff's Γ-method with automatic windowing (what lattice
practitioners report; ESS = N / (2 τ_int)).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from arviz_stats.base import array_stats

from nnqm_ppl.spec import GatesSpec

__all__ = [
    "Diagnostics",
    "AutocorrelationTime",
    "check_gates",
    "gamma_method",
    "diagnostic_figures",
    "diagnose_run",
    "RHAT_SKIPPED_ONE_CHAIN",
]

#: quantiles whose ESS is the tail ESS (ArviZ's convention; arviz-stats 1.3 needs it passed explicitly)
TAIL_PROB = (0.05, 0.95)

ADVICE = {
    "rhat": "R-hat high: chains disagree — run longer, or check for several minima (more chains, "
    "a different network such as 'fourier'; for a fit, a multimodal posterior or too-wide priors).",
    "ess": "ESS low: draws are strongly autocorrelated — run more samples, or use the 'fourier' "
    "network (Fourier acceleration) for long paths.",
    "ess_exact": "ESS low: the draws are independent, so simply ask for more of them "
    "(networks, or sampler.samples).",
    "divergences": "divergences: raise sampler.target_accept (e.g. 0.95) or use the 'fourier' network; "
    "for a fit, tighten priors that let the model reach regions it cannot describe.",
    "tree_depth": "tree depth saturated: raise sampler.max_tree_depth or use the 'fourier' network, "
    "which whitens the stiff kinetic term (for a fit: parameters on very different scales — rescale them).",
    "bfmi": "E-BFMI low: the momentum resampling explores energy poorly — reparametrise "
    "(the 'fourier' network) or run longer warmup.",
    "plateau": "no effective-mass plateau: the correlator is too noisy where the excited states have "
    "died out — run more samples, or leave 'gap' and 'effective_mass' out of observables.names.",
    "loo": "PSIS-LOO unreliable: the choice of the number of states cannot be trusted — run more "
    "samples, or drop candidate states the data cannot resolve (fit.states) or raise fit.tau_min.",
    "fit": "the fit does not describe its data (χ² p-value below gates.fit_p_min); likely causes: "
    "lattice artefacts (data from a finer lattice or the continuum: raise model.slices to the data's "
    "spacing, or fit the continuum spectral model); the model misses states (more fit.states, or "
    "raise fit.tau_min); or the data's errors are underestimated (check their covariance).",
}

#: why a one-chain run has no R-hat (``Diagnostics.rhat_skipped``)
RHAT_SKIPPED_ONE_CHAIN = "one chain: R-hat needs at least 2 chains"

#: Wolff's S: the window W is the first where exp(−W/τ_W) < τ_W / sqrt(W N), τ_W = S / ln((2τ+1)/(2τ−1)).
WOLFF_S = 1.5


@dataclass(frozen=True)
class AutocorrelationTime:
    """Integrated autocorrelation time of one series by Wolff's Γ-method.

    Attributes
    ----------
    tau_int : float
        τ_int = 1/2 + Σ_{t=1}^{W} ρ(t) (so τ_int = 1/2 for independent draws).
    tau_int_err : float
        Its statistical error, sqrt(4 (W + 1/2 − τ_int) / N) τ_int (Madras–Sokal, Wolff eq. 42).
    window : int
        The automatically chosen summation window W.
    ess : float
        N / (2 τ_int), N the total number of draws over all chains.
    """

    tau_int: float
    tau_int_err: float
    window: int
    ess: float

    def to_dict(self) -> dict:
        """Plain dict for ``summary.json``."""
        return asdict(self)


def gamma_method(series: np.ndarray, s: float = WOLFF_S) -> AutocorrelationTime:
    """Wolff's Γ-method: τ_int of a scalar series with automatic windowing.

    With replica (chains) r of length N_r and the global mean ā,
    Γ(t) = Σ_r Σ_i (a_i^r − ā)(a_{i+t}^r − ā) / Σ_r (N_r − t), ρ(t) = Γ(t)/Γ(0), and
    τ_int(W) = 1/2 + Σ_{t=1}^W ρ(t). The window is the first W with
    g(W) = exp(−W/τ_W) − τ_W / sqrt(W N) < 0, τ_W = S / ln((2τ_int(W) + 1)/(2τ_int(W) − 1))
    (τ_W = 1e-6 when τ_int(W) ≤ 1/2); C_F = Γ(0) + 2 Σ_{t≤W} Γ(t) is bias-corrected by the factor
    1 + (2W + 1)/N and Γ(0) by + C_F/N
    (U. Wolff, Comput. Phys. Commun. 156 (2004) 143, eqs. 31-35, 49-52).

    Parameters
    ----------
    series : ndarray, shape (chain, draw) or (draw,)
        One scalar observable per draw.
    s : float
        Wolff's S (1.5 by default; 1–2 is the recommended range).

    Returns
    -------
    AutocorrelationTime
        τ_int, its error, the window and ESS = N / (2 τ_int). A constant series gets
        τ_int = 1/2 (nothing to correlate).
    """
    a = np.asarray(series, dtype=float)
    a = a.reshape(1, -1) if a.ndim == 1 else a.reshape(a.shape[0], a.shape[1])
    n_chain, n_draw = a.shape
    n = n_chain * n_draw
    dev = a - a.mean()
    nfft = 1 << int(np.ceil(np.log2(2 * n_draw)))
    f = np.fft.rfft(dev, nfft, axis=1)
    gamma = np.fft.irfft(f * np.conj(f), nfft, axis=1)[:, :n_draw].sum(axis=0)
    gamma /= n_chain * (n_draw - np.arange(n_draw))
    if not gamma[0] > 0:
        return AutocorrelationTime(0.5, 0.0, 0, n / 1.0)
    w_max = n_draw // 2
    rho = gamma[: w_max + 1] / gamma[0]
    tau_w = 0.5 + np.cumsum(rho[1:])  # τ_int(W) for W = 1..w_max
    windows = np.arange(1, w_max + 1)
    safe = np.where(tau_w > 0.5, tau_w, np.nan)
    t_exp = np.where(tau_w > 0.5, s / np.log((2 * safe + 1) / (2 * safe - 1)), 1e-6)
    g = np.exp(-windows / t_exp) - t_exp / np.sqrt(windows * n)
    below = np.flatnonzero(g < 0)
    w = int(windows[below[0]]) if below.size else w_max
    c_f = (gamma[0] + 2 * gamma[1 : w + 1].sum()) * (1 + (2 * w + 1) / n)
    tau = max(float(c_f / (2 * (gamma[0] + c_f / n))), 0.5)  # Γ(t) += C_F/N as in Wolff's UWerr
    err = tau * float(np.sqrt(max(4.0 * (w + 0.5 - tau), 0.0) / n))
    return AutocorrelationTime(tau, err, w, n / (2 * tau))


@dataclass
class Diagnostics:
    """Outcome of the gates (JSON-ready through :meth:`to_dict`).

    ``rhat_max`` is None, and ``rhat_skipped`` the reason, when R-hat could not be computed
    (one chain).
    """

    passed: bool
    rhat_max: float | None
    ess_bulk_min: float
    ess_tail_min: float
    divergences: int
    tree_depth_fraction: float
    bfmi_min: float | None
    failures: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    acceptance_rate: float | None = None
    tau_int: dict[str, dict] = field(default_factory=dict)
    rhat_only: list[str] = field(default_factory=list)
    rhat_skipped: str | None = None

    def to_dict(self) -> dict:
        """Plain dict for ``summary.json``."""
        return asdict(self)

    def fail(self, kind: str, message: str) -> None:
        """Record a failure (in :func:`check_gates`, or found by a task), with the advice for its ``kind``.

        Parameters
        ----------
        kind : str
            A key of :data:`ADVICE`.
        message : str
            What failed, with the numbers.
        """
        self.failures.append(message)
        self.advice.append(ADVICE[kind])
        self.passed = False


def check_gates(
    series: dict[str, np.ndarray],
    gates: GatesSpec,
    sample_stats: xr.Dataset | None = None,
    ess_scale: float = 1.0,
    markov: bool = True,
    rhat_only: tuple[str, ...] = (),
) -> Diagnostics:
    """Apply the job's gates to per-draw observable series.

    Parameters
    ----------
    series : dict of ndarray, each (chain, draw, ...)
        The observables whose means are reported.
    gates : GatesSpec
        Thresholds (``rhat_max``, ``ess_min``, ``divergences_max``, ``tree_depth_max_fraction``).
    sample_stats : xarray.Dataset, optional
        MCMC sampler statistics (``diverging``, ``reached_max_tree_depth``, ``energy``).
    ess_scale : float
        Draws represented by one entry of a series (the chunk size when the series are chunk means
        of i.i.d. networks), so that ESS is reported in draws.
    markov : bool
        Whether the draws come from Markov chains. Exact (independent) draws are converged by
        construction: their split R-hat is reported but not gated, since for i.i.d. series it
        only measures noise.
    rhat_only : tuple of str
        Series that detect disagreeing chains but carry no reported number (e.g. the path mean
        ⟨x⟩ of an even potential, zero by symmetry): R-hat gated, ESS and τ_int only reported.

    Returns
    -------
    Diagnostics
        With one chain R-hat is skipped (``rhat_max`` None, ``rhat_skipped`` the reason): the
        bulk and tail ESS are ArviZ's split ESS of the chain's two halves, and the gates judge
        ESS, divergences, tree depth and E-BFMI. Also ``tau_int``: for each series, Wolff's
        τ_int (:func:`gamma_method`) of its slowest component (largest τ_int), with
        ESS = N / (2 τ_int) in draws (times ``ess_scale``), and the mean acceptance rate when
        the sampler reports one.
    """
    rhats, bulks, tails = {}, {}, {}
    tau_int: dict[str, dict] = {}
    one_chain = any(np.shape(v)[0] == 1 for v in series.values())
    for name, v in series.items():
        a = np.asarray(v, dtype=float)
        a = a.reshape(a.shape[0], a.shape[1], -1)
        # constant components (e.g. a fixed end of the path) carry no information
        keep = np.ptp(a, axis=(0, 1)) > 0
        if not keep.any():
            continue
        a = a[..., keep]
        slowest = max((gamma_method(a[..., j]) for j in range(a.shape[-1])), key=lambda r: r.tau_int)
        tau_int[name] = slowest.to_dict() | {"ess": slowest.ess * ess_scale}
        if not one_chain:
            rhats[name] = float(np.max(array_stats.rhat(a, chain_axis=0, draw_axis=1)))
        bulks[name] = float(np.min(array_stats.ess(a, chain_axis=0, draw_axis=1, method="bulk"))) * ess_scale
        tails[name] = float(np.min(array_stats.ess(a, chain_axis=0, draw_axis=1, method="tail",
                                                   prob=TAIL_PROB))) * ess_scale
    # the series that sets each figure is named in a failure (NaN counts as the worst R-hat)
    worst_rhat = max(rhats, key=lambda k: np.nan_to_num(rhats[k], nan=np.inf), default=None)
    gated = [k for k in bulks if k not in rhat_only]
    worst_ess = min(gated, key=lambda k: min(bulks[k], tails[k]), default=None)
    rhat_max = None if one_chain else rhats[worst_rhat] if rhats else 1.0
    ess_bulk = min((bulks[k] for k in gated), default=0.0)
    ess_tail = min((tails[k] for k in gated), default=0.0)
    divergences, depth_frac, bfmi_min, accept = 0, 0.0, None, None
    if sample_stats is not None:
        if "acceptance_rate" in sample_stats:
            accept = float(sample_stats["acceptance_rate"].mean())
        if "diverging" in sample_stats:
            divergences = int(sample_stats["diverging"].sum())
        if "reached_max_tree_depth" in sample_stats:
            depth_frac = float(sample_stats["reached_max_tree_depth"].mean())
        if "energy" in sample_stats:
            bfmi_min = float(np.min(array_stats.bfmi(sample_stats["energy"].values, chain_axis=0, draw_axis=1)))
    diag = Diagnostics(
        passed=True,
        rhat_max=rhat_max,
        ess_bulk_min=ess_bulk,
        ess_tail_min=ess_tail,
        divergences=divergences,
        tree_depth_fraction=depth_frac,
        bfmi_min=bfmi_min,
        acceptance_rate=accept,
        tau_int=tau_int,
        rhat_only=list(rhat_only),
        rhat_skipped=RHAT_SKIPPED_ONE_CHAIN if one_chain else None,
    )
    if markov and rhat_max is not None and (not np.isfinite(rhat_max) or rhat_max > gates.rhat_max):
        diag.fail("rhat", f"R-hat {rhat_max:.4f} > {gates.rhat_max} (worst: {worst_rhat})")
    if not min(ess_bulk, ess_tail) >= gates.ess_min:
        diag.fail("ess" if markov else "ess_exact",
                  f"ESS (bulk {ess_bulk:.0f}, tail {ess_tail:.0f}) < {gates.ess_min:.0f} (worst: {worst_ess})")
    if divergences > gates.divergences_max:
        diag.fail("divergences", f"{divergences} divergent transitions > {gates.divergences_max}")
    if depth_frac > gates.tree_depth_max_fraction:
        diag.fail("tree_depth", f"{100 * depth_frac:.1f}% of transitions hit the maximum tree depth")
    if bfmi_min is not None and bfmi_min < 0.3:
        diag.fail("bfmi", f"E-BFMI {bfmi_min:.2f} < 0.3")
    return diag


#: ArviZ plots of a run: file stem -> arviz_plots function (trace, rank, autocorrelation, ESS evolution).
PLOTS = {
    "trace": "plot_trace_dist",
    "rank": "plot_rank",
    "autocorr": "plot_autocorr",
    "ess_evolution": "plot_ess_evolution",
}


def diagnostic_figures(tree: Any, var_names: list[str] | None = None) -> dict[str, Callable[[], Any]]:
    """Figure makers for the ArviZ diagnostic plots of a DataTree's ``posterior``.

    Parameters
    ----------
    tree : xarray.DataTree
        With a ``posterior`` group (and ``sample_stats`` with ``energy`` for the energy plot).
    var_names : list of str, optional
        Variables to plot (default: all).

    Returns
    -------
    dict
        File stem -> function returning an arviz-plots ``PlotCollection`` (``trace``, ``rank``
        (several chains only: it compares them), ``autocorr``, ``ess_evolution`` and, for
        HMC/NUTS runs, ``energy``).
    """
    import arviz_plots

    def make(name: str) -> Callable[[], Any]:
        return lambda: getattr(arviz_plots, name)(tree, var_names=var_names, backend="matplotlib")

    figs = {stem: make(name) for stem, name in PLOTS.items()}
    if tree["posterior"].sizes["chain"] < 2:
        del figs["rank"]
    if "sample_stats" in tree.children and "energy" in tree["sample_stats"]:
        figs["energy"] = lambda: arviz_plots.plot_energy(tree, backend="matplotlib")
    return figs


def _gated_series(data: xr.Dataset, gated: set[str]) -> dict[str, np.ndarray]:
    """The variables of ``data`` named in ``gated`` (all of them if it is empty), and the named
    components ``NAME1, NAME2, …`` of a vector variable that is not named whole."""
    out = {}
    for name, var in data.data_vars.items():
        v = np.asarray(var.values)
        if not gated or name in gated:
            out[name] = v
        elif v.ndim == 3:
            parts = {f"{name}{i + 1}": v[:, :, i] for i in range(v.shape[2])}
            out |= {k: p for k, p in parts.items() if k in gated and k not in data.data_vars}
    return out


def diagnose_run(directory: Path, summary: dict) -> Diagnostics | None:
    """Recompute the diagnostics of a finished run from its ``samples.nc``.

    The series judged are those the run's task gated: from the ``observables`` group where the run
    saved one (path integrals), else from ``posterior`` (fits, correlators), the variables named in
    the stored ``tau_int`` (a vector the run gated by component is split into ``NAME1, NAME2, …``
    as the fit does). Gates are the run's own (``summary["spec"]["gates"]``). Failures the
    stored summary records that the draws alone cannot reproduce (e.g. non-finite paths) are
    kept.

    Parameters
    ----------
    directory : Path
        A run directory.
    summary : dict
        Its ``summary.json``.

    Returns
    -------
    Diagnostics or None
        None when the run saved no draws.
    """
    path = Path(directory) / "samples.nc"
    if not path.is_file():
        return None
    tree = xr.open_datatree(path, engine="h5netcdf")
    gates = GatesSpec(**summary.get("spec", {}).get("gates", {}))
    group = "observables" if "observables" in tree.children else "posterior"
    series = _gated_series(tree[group].to_dataset(), set(summary.get("diagnostics", {}).get("tau_int", {})))
    stats = tree["sample_stats"].to_dataset() if "sample_stats" in tree.children else None
    markov = stats is not None
    diag = check_gates(series, gates, stats, ess_scale=1.0 if markov else float(summary.get("chunk", 1.0)),
                       markov=markov, rhat_only=tuple(summary.get("diagnostics", {}).get("rhat_only", ())))
    stored = summary.get("diagnostics", {})
    for msg, adv in zip(stored.get("failures", []), stored.get("advice", []), strict=False):
        reproducible = ("R-hat", "ESS", "divergent", "tree depth", "E-BFMI")
        if msg not in diag.failures and not any(k in msg for k in reproducible):
            diag.failures.append(msg)
            diag.advice.append(adv)
    diag.passed = not diag.failures
    return diag
