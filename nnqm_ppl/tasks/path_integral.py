"""Task ``sample``: a path-integral network sampled with NUTS/HMC (or exactly, if Gaussian), its
observables with MCSEs beside the transfer matrix on the same lattice and the continuum."""

from __future__ import annotations

from typing import Any

import arviz_base
import jax
import numpy as np

from nnqm_ppl.checkpoint import Checkpoint
from nnqm_ppl.diagnostics import Diagnostics, check_gates
from nnqm_ppl.exact import path_integral_exact
from nnqm_ppl.exact.diagonalize import diagonalize
from nnqm_ppl.exact.transfer import transfer_matrix
from nnqm_ppl.exact.window import window_density
from nnqm_ppl.observables import lattice as lat
from nnqm_ppl.observables import quantum, spectrum, wavefunction
from nnqm_ppl.observables.estimate import Estimate
from nnqm_ppl.physics import Lattice, Potential
from nnqm_ppl.sampling import exact_draws, run_mcmc
from nnqm_ppl.spec import Job, SpecError
from nnqm_ppl.tasks import TaskResult
from nnqm_ppl.theories.path_integral import Theory, theory_from_spec

__all__ = ["run", "draw_paths", "measure", "RHAT_ONLY"]

#: Gate series judged by R-hat alone: the path mean detects chains stuck in different wells, but
#: no reported number rests on it (its ESS, small where tunnelling is rare, is still reported).
RHAT_ONLY = ("mean",)


def draw_paths(theory: Theory, job: Job, key: jax.Array, progress: bool, checkpoint: Checkpoint | None = None):
    """Draw paths as the job's sampler says; returns the DataTree (posterior ``x``: the full path)."""
    if job.sampler.method == "exact":
        if not theory.can_sample_exactly:
            raise SpecError(job.file, "sampler.method", "'exact' needs a quadratic potential; use 'nuts'")
        return exact_draws(theory.draw_exact, job.sampler, key)
    return run_mcmc(theory.model, job.sampler, key, progress=progress, dims={"x": ["site"]}, checkpoint=checkpoint)


def _entry(est: Estimate, exact: Any = None, continuum: Any = None) -> dict:
    out = est.to_dict()
    out["exact"] = exact
    out["continuum"] = continuum
    return out


def _curve(est: dict, exact: np.ndarray, continuum: np.ndarray) -> dict:
    return {
        "x": np.asarray(est["x"]).tolist(),
        "value": np.asarray(est["value"]).tolist(),
        "mcse": np.asarray(est["mcse"]).tolist(),
        "exact": np.asarray(exact).tolist(),
        "continuum": np.asarray(continuum).tolist(),
    }


def measure(x: np.ndarray, theory: Theory, job: Job) -> tuple[dict, dict, dict]:
    """All requested observables of paths ``x`` (chain, draw, L), beside exact values.

    Returns
    -------
    observables : dict
        JSON-ready entries (``value``, ``mcse``, ``exact`` = transfer matrix on this lattice,
        ``continuum`` = diagonalisation).
    gate_series : dict
        Per-draw series the gates judge: the path mean ⟨x⟩ (odd: chains stuck in different
        wells of a double well disagree on it), its square, ⟨x²⟩ and C(β/4).
    plots : dict
        What the figures need, and ``failures``: (kind, message) for what could not be measured
        (no effective-mass plateau for the gap), which fail the run's gates.
    """
    lattice, potential = theory.lattice, theory.potential
    bc, a, m, hbar = lattice.boundary, lattice.a, lattice.mass, lattice.hbar
    names = set(job.observables)
    tm = transfer_matrix(lattice, potential)
    spec_c = diagonalize(potential, m, hbar, beta=lattice.beta if bc == "periodic" else None)
    exact = path_integral_exact(lattice, potential, tm=tm, spectrum=spec_c)
    ex, co = exact["lattice"], exact["continuum"]
    obs: dict = {}
    plots: dict = {"a": a, "beta": lattice.beta, "failures": []}

    periodic = bc == "periodic"
    n_tau = lattice.slices // 2 + 1 if periodic else None
    c_series = lat.correlator_series(x, n_tau, boundary=bc)
    n_c = c_series.shape[-1]
    if "x2" in names:
        obs["x2"] = _entry(quantum.moment(x, 2, boundary=bc), ex["x2"], co["x2"])
    if "x4" in names:
        obs["x4"] = _entry(quantum.moment(x, 4, boundary=bc), ex["x4"], co["x4"])
    if "E0" in names:
        obs["E0"] = _entry(quantum.virial_energy(x, potential, potential.derivative, boundary=bc), ex["E0"], co["E0"])
    if "correlator" in names or "gap" in names or "effective_mass" in names:
        corr = lat.correlator(x, n_c, boundary=bc)
        c_ex, c_co = ex["correlator"][:n_c], co["correlator"][:n_c]
        plots["correlator"] = (corr, np.asarray(c_ex), np.asarray(c_co))
        if "correlator" in names:
            obs["correlator"] = _entry(corr, c_ex, c_co)
    fit = None
    subtract = not _mean_vanishes(lattice, potential)  # the connected correlator
    if "gap" in names or "effective_mass" in names:
        mean_series = None
        if subtract:  # one mean for all sites if periodic, else the mean at each window site
            mean_series = lat.site_mean_series(x, boundary=bc) if periodic else lat.window(x, bc)
        try:
            fit = spectrum.plateau_gap(
                c_series,
                a,
                kind="cosh" if periodic else "log",
                beta=lattice.beta if periodic else None,
                mean_series=mean_series,
            )
        except ValueError as exc:  # too noisy a correlator: the run cannot deliver the gap
            plots["failures"].append(("plateau", f"gap: {exc}"))
            if "gap" in names:
                obs["gap"] = {"value": None, "mcse": None, "exact": ex["gap"], "continuum": co["gap"],
                              "note": str(exc)}
    if fit is not None:
        # the exact lattice effective mass, by the same formula from the same (connected, window-
        # averaged) correlator: its weighted mean over the plateau window differs from the gap by
        # the excited-state contamination of the window
        c_mass = ex["correlator_connected" if subtract else "correlator"]
        _, m_exact = spectrum.effective_mass_curve(
            np.asarray(c_mass[: c_series.shape[-1]]), a, kind="cosh" if periodic else "log",
            beta=lattice.beta if periodic else None,
        )
        in_win = (fit.tau >= fit.window[0]) & (fit.tau <= fit.window[1])
        w = 1.0 / np.asarray(fit.effective_mass.mcse)[in_win] ** 2
        contamination = abs(float(np.sum(w * m_exact[in_win]) / np.sum(w)) - ex["gap"])
        plots["plateau"] = fit
        plots["gap_exact"] = (ex["gap"], co["gap"], m_exact)
        if "gap" in names:
            obs["gap"] = _entry(fit.gap, ex["gap"], co["gap"]) | {
                "window": list(fit.window),
                "systematic": contamination,
            }
        if "effective_mass" in names:
            obs["effective_mass"] = fit.effective_mass.to_dict() | {
                "tau": fit.tau.tolist(),
                "exact": m_exact[: len(fit.tau)].tolist(),
            }
    if "uncertainty" in names:
        obs["uncertainty"] = _entry(
            quantum.uncertainty_product(x, a, mass=m, hbar=hbar, boundary=bc), ex["uncertainty"], co["uncertainty"]
        )
    if "commutator" in names:
        obs["commutator"] = _entry(quantum.commutator(x, a, mass=m, boundary=bc), ex["commutator"], co["commutator"])
    if "psi0_squared" in names or "psi0" in names:
        half = job.task_spec.histogram_range
        edges = np.linspace(-half, half, job.task_spec.histogram_bins + 1)
        centres = 0.5 * (edges[1:] + edges[:-1])
        if "psi0_squared" in names:
            dens = wavefunction.position_density(x, edges, boundary=bc)
            beta_c = lattice.beta if bc == "periodic" else None
            exact_dens = tm.density(centres) if periodic else window_density(tm, centres)
            obs["psi0_squared"] = _curve(dens, exact_dens, spec_c.density(centres, beta=beta_c))
            plots["psi0_squared"] = obs["psi0_squared"]
        if "psi0" in names:
            if bc != "half_line":
                raise SpecError(job.file, "observables.names", "psi0 needs a half_line model (use psi0_squared)")
            dens = wavefunction.psi0(x, edges, site=0)
            psi = spec_c.wavefunction(0, centres)
            norm = np.sum(spec_c.wavefunction(0, spec_c.x)) * (spec_c.x[1] - spec_c.x[0])
            obs["psi0"] = _curve(dens, tm.density(centres, site=0), psi / norm)
            plots["psi0"] = obs["psi0"]

    quarter = min(max(lattice.slices // 4, 1), n_c - 1)
    path_mean = lat.site_mean_series(x, boundary=bc)
    gate_series = {
        "mean": path_mean,
        "mean_squared": path_mean**2,
        "x2": lat.site_mean_series(x, boundary=bc, power=2),
        "C_beta_over_4": c_series[..., quarter],
    }
    return obs, gate_series, plots


def _mean_vanishes(lattice: Lattice, potential: Potential) -> bool:
    """Whether ⟨x_j⟩ = 0 at every site by symmetry (x → −x): an even potential and, with fixed
    ends, both ends at 0. Otherwise effective masses and gaps use the connected correlator."""
    return potential.is_even and (lattice.boundary != "fixed" or lattice.x_ini == lattice.x_fin == 0.0)


def _correlator_figure(plots: dict):
    import matplotlib.pyplot as plt

    corr, c_ex, c_co = plots["correlator"]
    a = plots["a"]
    tau = a * np.arange(len(c_ex))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    signal = np.asarray(corr.value) > 2 * np.asarray(corr.mcse)  # points a log scale can show
    ax1.errorbar(tau[signal], corr.value[signal], corr.mcse[signal], fmt="o", ms=3, label="Monte Carlo ± MCSE")
    ax1.plot(tau, c_ex, "-", color="k", lw=1, label="transfer matrix (same a)")
    ax1.plot(tau, c_co, "--", color="C3", lw=1, label="continuum")
    ax1.set_yscale("log")
    ax1.set(xlabel="τ", ylabel="C(τ) = ⟨x(τ)x(0)⟩", title="correlator")
    ax1.legend(fontsize=8)
    if "plateau" in plots:
        fit = plots["plateau"]
        em = fit.effective_mass
        ok = np.isfinite(em.value) & (np.asarray(em.mcse) < 0.1 * np.abs(em.value))  # resolved points
        ax2.errorbar(fit.tau[ok], em.value[ok], em.mcse[ok], fmt="o", ms=3, label="effective mass")
        lo, hi = fit.window
        ax2.fill_between([lo, hi], fit.gap.value - fit.gap.mcse, fit.gap.value + fit.gap.mcse, color="C0", alpha=0.3,
                         label=f"plateau {fit.gap.value:.4f} ± {fit.gap.mcse:.4f}")
        g_ex, g_co, m_exact = plots["gap_exact"]
        ax2.plot(fit.tau, m_exact[: len(fit.tau)], ":", color="k", lw=1, label="exact m_eff(τ) on this lattice")
        ax2.axhline(g_ex, color="k", lw=1, label=f"transfer matrix {g_ex:.4f}")
        ax2.axhline(g_co, color="C3", ls="--", lw=1, label=f"continuum {g_co:.4f}")
        ax2.set(xlabel="τ", ylabel="m_eff(τ)", title="gap E1 − E0", xlim=(-0.2, fit.tau[ok].max() + 3 * a))
        ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _wavefunction_figure(plots: dict):
    import matplotlib.pyplot as plt

    keys = [k for k in ("psi0", "psi0_squared") if k in plots]
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.6), squeeze=False)
    for ax, k in zip(axes[0], keys, strict=True):
        c = plots[k]
        ax.errorbar(c["x"], c["value"], 4 * np.asarray(c["mcse"]), fmt="o", ms=3, label="Monte Carlo ± 4 MCSE")
        ax.plot(c["x"], c["exact"], "-", color="k", lw=1, label="transfer matrix")
        ax.plot(c["x"], c["continuum"], "--", color="C3", lw=1, label="continuum")
        ax.set(xlabel="x", title={"psi0": "ψ0(y) from the half-line network", "psi0_squared": "|ψ0(x)|²"}[k])
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def run(job: Job, key: jax.Array, progress: bool, checkpoint: Checkpoint | None = None) -> TaskResult:
    """Sample the job's path integral and measure its observables.

    Parameters
    ----------
    job : Job
        A ``sample`` job on a ``path_integral`` model.
    key : jax.Array
        PRNG key.
    progress : bool
        Show NumPyro's progress bar on a terminal.
    checkpoint : Checkpoint, optional
        Where NUTS/HMC saves its state and resumes from (None: no checkpoint); exact draws
        are not checkpointed.

    Returns
    -------
    TaskResult
        Observables with ``value``, ``mcse``, ``exact`` (transfer matrix, same lattice) and
        ``continuum``; diagnostics of the gate series; the DataTree with the paths.
    """
    theory = theory_from_spec(job.model)
    tree = draw_paths(theory, job, key, progress, checkpoint)
    x = np.asarray(tree["posterior"]["x"].values)
    stats = tree["sample_stats"].to_dataset() if "sample_stats" in tree.children else None
    bad = int(np.sum(~np.isfinite(x).all(axis=-1)))
    if bad:  # NaN/inf in the action or its gradient: nothing can be measured; keep the draws
        reason = (f"non-finite paths in {bad} of {x.shape[0] * x.shape[1]} draws (NaN or overflow in the "
                  "action e^{-S}: check the potential's size and the lattice)")
        divergences = int(stats["diverging"].sum()) if stats is not None else 0
        # no R-hat or tree depth of non-finite draws: null in summary.json, the reason beside it
        diagnostics = Diagnostics(passed=False, rhat_max=None, ess_bulk_min=0.0, ess_tail_min=0.0,
                                  divergences=divergences, tree_depth_fraction=None, bfmi_min=None,
                                  failures=[reason], advice=["smaller potential coefficients or slices"],
                                  rhat_skipped=f"not computed: {reason}")
        return TaskResult(observables={}, diagnostics=diagnostics, datatree=tree,
                          extra={"lattice_spacing": theory.lattice.a})
    observables, series, plots = measure(x, theory, job)
    diagnostics = check_gates(series, job.gates, stats, markov=job.sampler.method != "exact", rhat_only=RHAT_ONLY)
    for kind, message in plots["failures"]:
        diagnostics.fail(kind, message)
    obs_tree = arviz_base.from_dict({"posterior": series})
    figures = {"trace": lambda: _arviz_plot("plot_trace_dist", obs_tree)}
    if x.shape[0] > 1:  # rank plots compare chains: nothing to compare with one
        figures["rank"] = lambda: _arviz_plot("plot_rank", obs_tree)
    if "correlator" in plots:
        figures["correlator"] = lambda: _correlator_figure(plots)
    if "psi0" in plots or "psi0_squared" in plots:
        figures["wavefunction"] = lambda: _wavefunction_figure(plots)
    tree["observables"] = obs_tree["posterior"]
    return TaskResult(observables=observables, diagnostics=diagnostics, datatree=tree, figures=figures,
                      extra={"lattice_spacing": theory.lattice.a})


def _arviz_plot(name: str, tree):
    import arviz_plots

    return getattr(arviz_plots, name)(tree, backend="matplotlib")
