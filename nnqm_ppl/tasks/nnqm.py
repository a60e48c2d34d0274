r"""Task ``nnqm``: processes and deep networks as Euclidean quantum mechanics (Ferko & Halverson).

Exact draws of a process model's paths on the symmetric grid ``t_j = −T + j·dt``
(``dt = 2T/steps``) — an Ornstein–Uhlenbeck process (``ou``), a random network on an OU input
(``deep_nnqm``, Theorem 4) or a Karhunen–Loève network (``kkl``, Theorem 3) — and, with the same
estimators the path-integral task uses:

- ``gaps``: GEVP of ``{x^p}`` (:func:`~nnqm_ppl.observables.spectrum.gevp` machinery), one
  plateau per level, beside the exact gaps ``nγ`` where known (OU: ``{x, x², x³}`` span the
  Hermite eigen-operators He_1..He_3, so the levels are exactly γ, 2γ, 3γ at every τ; a fixed
  network ``f`` on a scalar OU input has spectrum ``{nγ}`` with weights ``c_n² n!``,
  :func:`~nnqm_ppl.exact.processes.hermite_spectrum`). Where the exact correlator matrix is
  known (OU, fixed ``f``) the exact GEVP effective mass is evaluated by the same formula and
  its deviation from ``nγ`` over the plateau window is reported as ``systematic``.
- ``reflection_positivity``, ``stationarity``, ``clustering``: the OS checks of
  :mod:`~nnqm_ppl.observables.positivity` (value, MCSE, z, verdict).
- ``uncertainty`` and ``commutator``: :func:`~nnqm_ppl.observables.quantum.uncertainty_product`
  and :func:`~nnqm_ppl.observables.quantum.commutator` with ``boundary="open"``. At finite
  ``dt`` both have an exact expectation computed from the covariance ``Σ`` and mean ``μ`` of the
  process on the grid (:func:`~nnqm_ppl.exact.processes.grid_exact`); for OU with ``ħ = 2mD``

  .. math::

      Δx·Δp = \frac{ħ}{2}\sqrt{\frac{2}{u}\Big(1 - \frac{1 - e^{-u}}{u}\Big)}
            \to \frac{ħ}{2}\sqrt{1 - u/3}, \qquad
      K = -ħ\,\frac{1 - e^{-u}}{u} \to -ħ, \qquad u = γ\,dt,

  so the finite-dt systematic is ``|exact − continuum| = O(γ dt)``.
  For a network ``y = f(x)`` the commutator scale is set by the roughness of the input:
  ``K → −ħ_f``, ``ħ_f = 2mD E[|∇f(x)|²]`` (the quadratic variation of ``y`` per unit time
  times m), and the uncertainty product, measured with ``ħ_f`` in the point-split ``⟨p²⟩``, is
  ``≥ ħ_f/2`` (Cauchy–Schwarz on the positive Källén–Lehmann weights: equality for a single
  level). With θ drawn per path, ``ħ_θ`` is computed per path and enters the estimator per draw
  (a control variate: its fluctuation cancels the path's own quadratic variation).
  A finite-K Karhunen–Loève network has smooth paths: its quadratic variation, hence ħ, is 0, so
  ``K → 0`` as ``dt → 0`` (continuum 0; the finite-dt exact value from ``Σ`` is what is
  estimated) and the point-split ``⟨p²⟩ = −m²⟨(Δx)²⟩/dt² < 0``: Δx·Δp does not exist and its
  entry is None with a ``note`` (:data:`~nnqm_ppl.theories.process.KKL_HBAR_NOTE`).
- The Δx·Δp verdict (:func:`~nnqm_ppl.observables.quantum.uncertainty_verdict`) is three-valued:
  ``above ħ/2``, ``consistent with ħ/2 (saturated)`` or ``below ħ/2 (violated)``, judged at
  ``threshold`` σ with ``σ = sqrt(MCSE² + systematic²)``.
"""

from __future__ import annotations

import arviz_base
import jax
import jax.numpy as jnp
import numpy as np

from nnqm_ppl.checkpoint import Checkpoint
from nnqm_ppl.diagnostics import check_gates
from nnqm_ppl.exact.processes import (
    HermiteSpectrum,
    gaussian_power_moments,
    grid_exact,
)
from nnqm_ppl.figures.nnqm import rp_figure, spectrum_figure
from nnqm_ppl.observables import lattice as lat
from nnqm_ppl.observables import positivity as P
from nnqm_ppl.observables import quantum
from nnqm_ppl.observables.estimate import Estimate, derived_estimate, mean_estimate
from nnqm_ppl.observables.spectrum import gevp_energy_function, gevp_input, plateau_fit
from nnqm_ppl.sampling import exact_draws
from nnqm_ppl.spec import Job, OUSpec
from nnqm_ppl.tasks import Observable, TaskResult
from nnqm_ppl.theories.process import ProcessModel, build_process, json_ready

__all__ = ["OBSERVABLES", "measure", "run"]

# --------------------------------------------------------------------------------------------
# measurements


def _check_entry(c: P.Check, value: float | None = None, mcse: float | None = None) -> dict:
    v = np.atleast_1d(np.asarray(c.statistic.value, dtype=float))
    e = np.atleast_1d(np.asarray(c.statistic.mcse, dtype=float))
    if value is None:
        i = int(np.nanargmax(np.abs(v) / np.where(e > 0, e, np.inf))) if v.size > 1 else 0
        value, mcse = float(v[i]), float(e[i])
    entry = {"value": value, "mcse": mcse, "z": float(c.z), "verdict": c.verdict, "threshold": c.threshold,
             "check": c.name}
    if "detectable" in c.detail:
        entry["detectable"] = float(c.detail["detectable"])
    return entry


def _rp_eigen_errors(x: np.ndarray, times: np.ndarray, check: P.Check, family: str) -> np.ndarray:
    """MCSE of every normalised eigenvalue of the RP Gram matrix (Hellmann–Feynman, first order).

    ``dλ_k = v_kᵀ dM v_k``: the per-draw series ``(F₊·v_k)(F₋·v_k)/λ_max`` with the same test
    functions and normalisation as :func:`~nnqm_ppl.observables.positivity.reflection_positivity`
    (λ_max held fixed), ArviZ MCSE.
    """
    n = times.shape[0]
    idx = np.searchsorted(times, np.asarray(check.detail["times"]) - 1e-9 * times[-1])
    xp, xm = x[..., idx], x[..., n - 1 - idx]
    if family == "general":
        s = np.sqrt(np.mean(x**2))
        xp, xm = P.general_family(xp / s), P.general_family(xm / s)
    dn = (np.mean(xp**2, axis=(0, 1)) * np.mean(xm**2, axis=(0, 1))) ** 0.25
    keep = dn > 0
    fp, fm = xp[..., keep] / dn[keep], xm[..., keep] / dn[keep]
    lam, vec = np.linalg.eigh(np.asarray(check.detail["matrix"]))
    series = (fp @ vec) * (fm @ vec) / lam[-1]
    return np.atleast_1d(mean_estimate(series).mcse)


def _gaps(x: np.ndarray, model: ProcessModel, job: Job) -> tuple[list[dict], dict]:
    """GEVP levels, their plateaux and the exact effective masses (for the plot)."""
    task = job.task_spec
    dt = model.spec.dt
    powers = task.powers
    n_tau = (task.max_lag or model.spec.steps // 2) + 1
    k = len(powers)
    y, sites = gevp_input(x, powers, n_tau, boundary="open")
    f = gevp_energy_function(n_tau, k, task.t0, dt, sites)
    tau = dt * np.arange(task.t0, n_tau - 1, dtype=float)
    energies = derived_estimate(f, y)
    exact_curve = None
    if model.levels is not None:
        hs = model.levels(powers)
        w = hs.coefficients[:, None, :] * hs.coefficients[None, :, :] * _fact(hs)[None, None, :]
        lags = dt * np.arange(n_tau)
        conn = np.einsum("ikn,tn->tik", w[..., 1:], np.exp(-np.outer(lags, hs.energies[1:])))
        raw = conn + np.outer(hs.coefficients[:, 0], hs.coefficients[:, 0])
        v = np.concatenate([raw.reshape(-1), np.tile(hs.coefficients[:, 0], sites)])  # stationary: every site
        exact_curve = np.asarray(f(jnp.asarray(v)))
    elif model.gaussian:
        raw, mean_ops = gaussian_power_moments(model.covariance, powers, n_tau)
        exact_curve = np.asarray(f(jnp.asarray(np.concatenate([raw.reshape(-1), mean_ops.reshape(-1)]))))
    out = []
    for i in range(k):
        exact = model.exact_gaps[i] if model.exact_gaps is not None and i < len(model.exact_gaps) else None
        entry: dict = {"level": i + 1, "exact": exact}
        try:
            fit = plateau_fit(lambda v, i=i: f(v)[:, i], y, tau, max_rel_error=task.max_rel_error)
        except ValueError as exc:
            entry |= {"value": None, "mcse": None, "window": None, "systematic": None, "note": str(exc)}
            out.append(entry)
            continue
        entry |= {"value": float(fit.gap.value), "mcse": float(fit.gap.mcse), "window": list(fit.window)}
        syst = None
        if exact_curve is not None and exact is not None:
            sel = (tau >= fit.window[0]) & (tau <= fit.window[1])
            wts = 1.0 / np.asarray(fit.effective_mass.mcse)[sel] ** 2
            syst = abs(float(np.sum(wts * exact_curve[sel, i]) / np.sum(wts)) - exact)
        entry["systematic"] = syst
        out.append(entry)
    plots = {"tau": tau, "energies": energies, "gaps": out, "exact_curve": exact_curve}
    return out, plots


def _fact(hs: HermiteSpectrum) -> np.ndarray:
    from math import factorial

    return np.array([factorial(n) for n in range(hs.energies.shape[0])], dtype=float)


def _uncertainty(x: np.ndarray, model: ProcessModel, hbar_series: np.ndarray | None, dt: float) -> Estimate:
    """Δx·Δp with the point-split ⟨p²⟩; a per-path ħ_θ enters per draw (delta method)."""
    m = model.mass
    if hbar_series is None:
        return quantum.uncertainty_product(x, dt, mass=m, hbar=model.hbar, boundary="open")
    w = lat.window(x, "open")
    y = np.stack([w.mean(axis=2), (w**2).mean(axis=2), quantum.link_series(x, boundary="open"), hbar_series],
                 axis=-1)
    return derived_estimate(lambda v: jnp.sqrt((v[1] - v[0] ** 2) * (m * v[3] / dt - m**2 * v[2] / dt**2)), y)


class _Measured:
    """What the ``nnqm`` observables share: the paths, the model, the exact values on the grid
    (:func:`~nnqm_ppl.exact.processes.grid_exact`, None without a covariance), ħ (per-path ħ_θ
    averaged when θ is drawn per path) and what the figures need (``plots``)."""

    def __init__(self, x: np.ndarray, model: ProcessModel, job: Job, hbar_series: np.ndarray | None) -> None:
        self.x, self.model, self.job, self.hbar_series = x, model, job, hbar_series
        self.task, self.dt = job.task_spec, model.spec.dt
        self.n_tau = (self.task.max_lag or model.spec.steps // 2) + 1
        self.exact = None
        if model.covariance is not None:
            self.exact = grid_exact(model.covariance, model.mean, self.dt, model.mass, model.hbar, self.n_tau)
        self.plots: dict = {"dt": self.dt}
        self.hbar_eff, self.hbar_est = model.hbar, None
        if hbar_series is not None:
            self.hbar_est = mean_estimate(hbar_series)
            self.hbar_eff = float(self.hbar_est.value)


def _gaps_entry(c: _Measured) -> list[dict]:
    out, c.plots["gaps"] = _gaps(c.x, c.model, c.job)
    return out


def _correlator_entry(c: _Measured) -> dict:
    est = lat.connected_correlator(c.x, 1, c.n_tau, boundary="open")
    return est.to_dict() | {"tau": (c.dt * np.arange(c.n_tau)).tolist(),
                            "exact": None if c.exact is None else c.exact["correlator"]}


def _rp_entry(c: _Measured) -> dict:
    task, times = c.task, c.model.times
    rp = P.reflection_positivity(c.x, times, family=task.rp_family, n_times=task.rp_times, threshold=task.threshold)
    eig = np.asarray(rp.detail["eigenvalues"])
    c.plots["rp"] = (eig, _rp_eigen_errors(c.x, times, rp, task.rp_family), rp)
    return _check_entry(rp, float(rp.statistic.value), float(rp.statistic.mcse)) | {
        "held_out": {"value": float(rp.detail["held_out"].value), "mcse": float(rp.detail["held_out"].mcse)},
        "eigenvalues": eig.tolist(), "times": np.asarray(rp.detail["times"]).tolist(), "family": task.rp_family}


def _stationarity_entry(c: _Measured) -> dict:
    st = P.stationarity(c.x, c.model.times, order=2, threshold=c.task.threshold)
    return _check_entry(st) | {"order": 2, "shift": float(st.detail["shift"])}


def _clustering_entry(c: _Measured) -> dict:
    cl = P.cluster_decomposition(c.x, c.model.times, threshold=c.task.threshold)
    v, e = np.asarray(cl.statistic.value), np.asarray(cl.statistic.mcse)
    i = int(np.argmax((v - cl.detail["tolerance"]) / e))  # the operator z is of: z = (value − tolerance)/mcse
    return _check_entry(cl, float(v[i]), float(e[i])) | {"operator": ("x", "x^2")[i],
                                                          "tolerance": cl.detail["tolerance"]}


def _commutator_entry(c: _Measured) -> dict:
    exact, hbar_eff = c.exact, c.hbar_eff
    est = quantum.commutator(c.x, c.dt, mass=c.model.mass, boundary="open")
    entry = est.to_dict() | {"exact": None if exact is None else exact["commutator"],
                             "continuum": None if hbar_eff is None else 0.0 - hbar_eff}
    if c.hbar_est is not None:
        entry["continuum_mcse"] = float(c.hbar_est.mcse)
    entry["systematic"] = None if exact is None or hbar_eff is None else abs(exact["commutator"] + hbar_eff)
    if "hbar_note" in c.model.info:
        entry["note"] = c.model.info["hbar_note"]
    return entry


def _uncertainty_observable(c: _Measured) -> dict | None:
    if c.hbar_eff is None:
        return None
    return _uncertainty_entry(c.x, c.model, c.hbar_series, c.hbar_eff, c.exact, c.task.threshold)


#: name -> entry; the order is the default order of ``observables.names`` and of the summary.
OBSERVABLES: dict[str, Observable] = {
    "gaps": Observable(_gaps_entry, figure="spectrum"),
    "reflection_positivity": Observable(_rp_entry, figure="reflection_positivity"),
    "stationarity": Observable(_stationarity_entry),
    "clustering": Observable(_clustering_entry),
    "uncertainty": Observable(_uncertainty_observable),
    "commutator": Observable(_commutator_entry),
    "correlator": Observable(_correlator_entry),
}


def measure(x: np.ndarray, model: ProcessModel, job: Job, hbar_series: np.ndarray | None = None
            ) -> tuple[dict, dict]:
    """All requested observables of paths ``x`` (chain, draw, L) beside exact values, in the order
    of :data:`OBSERVABLES`.

    Returns
    -------
    observables : dict
        JSON-ready summary entries.
    plots : dict
        What the figures need.
    """
    c = _Measured(x, model, job, hbar_series)
    names = set(job.observables)
    obs: dict = {}
    for name, entry in OBSERVABLES.items():
        if name in names:
            value = entry.measure(c)
            if value is not None:
                obs[name] = value
    return json_ready(obs), c.plots


def _uncertainty_entry(x: np.ndarray, model: ProcessModel, hbar_series: np.ndarray | None, hbar_eff: float,
                       exact: dict | None, threshold: float) -> dict:
    """Δx·Δp beside its finite-dt exact value and continuum, judged by :func:`quantum.uncertainty_verdict`.

    ``systematic = |exact(dt) − continuum|``. Where the point-split ``⟨p²⟩`` is not positive (ħ = 0:
    smooth paths) there is no Δx·Δp: value, exact, continuum and verdict are None and ``note`` says why.
    """
    spec, dt = model.spec, model.spec.dt
    head = {"bound": hbar_eff / 2.0, "hbar": hbar_eff}
    ex = None if exact is None else exact["uncertainty"]
    if hbar_eff <= 0 or (exact is not None and ex is None):
        note = model.info.get("hbar_note") if hbar_eff <= 0 else exact["uncertainty_note"]
        return {"value": None, "mcse": None, "exact": None, "continuum": None, **head, "systematic": None,
                "z": None, "verdict": None, "note": f"{note}; Delta x Delta p does not exist"}
    est = _uncertainty(x, model, hbar_series, dt)
    cont = None
    if isinstance(spec, OUSpec):
        cont = spec.hbar / 2.0
    elif "continuum_uncertainty" in model.info:
        cont = model.info["continuum_uncertainty"]
    syst = None if ex is None or cont is None else abs(ex - cont)
    entry = est.to_dict() | {"exact": ex, "continuum": cont, **head, "systematic": syst}
    if not np.isfinite(est.value):
        return entry | {"value": None, "mcse": None, "z": None, "verdict": None,
                        "note": "the sampled point-split <p^2> is not positive: no Delta x Delta p"}
    return entry | quantum.uncertainty_verdict(float(est.value), float(est.mcse), hbar_eff / 2.0, syst, threshold)


# --------------------------------------------------------------------------------------------
# exact values and the task


def run(job: Job, key: jax.Array, progress: bool, checkpoint: Checkpoint | None = None) -> TaskResult:
    """Draw the model's paths exactly and measure gaps, OS checks, Δx·Δp and [x, p].

    Parameters
    ----------
    job : Job
        An ``nnqm`` job on an ``ou``, ``deep_nnqm`` or ``kkl`` model.
    key : jax.Array
        PRNG key.
    progress : bool
        Unused (exact draws).
    checkpoint : Checkpoint, optional
        Unused: exact draws are not checkpointed (the tasks share one signature).

    Returns
    -------
    TaskResult
    """
    model = build_process(job.model)
    tree = exact_draws(model.draw, job.sampler, key)
    x = np.asarray(tree["posterior"]["x"].values)
    hb = np.asarray(tree["posterior"]["hbar"].values) if "hbar" in tree["posterior"] else None
    observables, plots = measure(x, model, job, hb)
    n_tau = (job.task_spec.max_lag or job.model.steps // 2) + 1
    lag = min(max(1, int(round(1.0 / (max(model.exact_gaps[0], 1e-12) if model.exact_gaps else 1.0)
                                / job.model.dt))), n_tau - 1)
    series = {
        "x2": lat.site_mean_series(x, boundary="open", power=2),
        "mean": lat.site_mean_series(x, boundary="open"),
        "C_lag": lat.correlator_series(x, lag + 1, boundary="open")[..., lag],
    }
    diagnostics = check_gates(series, job.gates, markov=False)
    tree["observables"] = arviz_base.from_dict({"posterior": series})["posterior"]
    makers = {"spectrum": spectrum_figure, "reflection_positivity": rp_figure}
    figures = {stem: (lambda make=make: make(plots)) for stem, make in makers.items()
               if any(OBSERVABLES[name].figure == stem for name in job.observables)}
    return TaskResult(observables=observables, diagnostics=diagnostics, datatree=tree, figures=figures,
                      extra={"dt": job.model.dt, "times": model.times.tolist(),
                             "exact": json_ready(model.info)})
