"""Process theories (Ferko & Halverson): an Ornstein–Uhlenbeck process (``ou``), a random network
on an OU input (``deep_nnqm``, Theorem 4) and a Karhunen–Loève network (``kkl``, Theorem 3).

:func:`build_process` turns a validated spec into a :class:`ProcessModel`: an exact sampler of
paths on the symmetric grid ``t_j = −T + j·dt`` and the exact data the ``nnqm`` task compares
with (grid covariance and mean, Hermite levels of ``x^p``, the gaps ``nγ`` where known);
:func:`exact_process_values` gives those values as JSON-ready data (``nnqm exact``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.polynomial import hermite_e

from nnqm_ppl.exact.processes import HermiteSpectrum, grid_exact, hermite_spectrum, ou_covariance
from nnqm_ppl.spec import DeepNNQMSpec, KKLSpec, OUSpec

__all__ = ["KKL_HBAR_NOTE", "N_HERMITE", "ProcessModel", "build_process", "exact_process_values", "grid",
           "json_ready"]

N_HERMITE = 60  # Hermite levels kept in exact sums; the neglected weight is reported as a bound

#: why a finite-K Karhunen-Loeve network has ħ = 0 (the entry's ``hbar_note``)
KKL_HBAR_NOTE = (
    "hbar = m x (quadratic variation of the paths per unit time) = 0: a finite-K Karhunen-Loeve path "
    "sum_k theta_k f_k(t) combines K fixed eigenfunctions (sinusoids, or Nystrom sums of kernel sections "
    "K(t, t_j), smooth but at finitely many points), so sum_n (x_(n+1) - x_n)^2 -> 0 and the commutator "
    "estimator -> 0 as dt -> 0; the kernel's own roughness (e.g. -2 m sigma^2 gamma for OU) is reached "
    "only when K -> infinity before dt -> 0, so it is not a continuum value of this network")


def grid(spec: OUSpec | DeepNNQMSpec | KKLSpec) -> np.ndarray:
    """The symmetric time grid ``t_j = −T + j dt``, ``j = 0..steps``."""
    return np.linspace(-spec.horizon, spec.horizon, spec.steps + 1)


@dataclass
class ProcessModel:
    """A process model ready to draw and to compare with exact values.

    Attributes
    ----------
    spec : OUSpec or DeepNNQMSpec or KKLSpec
        The validated model.
    times : ndarray
        The grid.
    draw : callable
        ``draw(key, n) -> {"x": (n, L)[, "hbar": (n,)]}``; ``hbar`` is the per-path ħ_θ of a
        per-path deep network.
    mass : float
        m in the momentum and commutator estimators.
    hbar : float or None
        ħ in the point-split ⟨p²⟩ (None: per path).
    covariance : ndarray or None
        Exact ``Σ`` on the grid (None when unknown).
    mean : ndarray or None
        Exact ``μ`` on the grid.
    levels : HermiteSpectrum or None
        Hermite data of ``x^p`` for the GEVP powers (stationary OU input, one fixed function).
    exact_gaps : list of float or None
        ``nγ`` for the GEVP levels where the spectrum is known.
    gaussian : bool
        Zero-mean Gaussian paths with the exact ``covariance``: the GEVP's exact input follows
        from Isserlis' theorem (:func:`~nnqm_ppl.exact.processes.gaussian_power_moments`).
    info : dict
        Exact facts for the summary (JSON-ready).
    """

    spec: Any
    times: np.ndarray
    draw: Callable[[jax.Array, int], dict[str, np.ndarray]]
    mass: float
    hbar: float | None
    covariance: np.ndarray | None = None
    mean: np.ndarray | None = None
    levels: Callable[[tuple[int, ...]], HermiteSpectrum] | None = None
    exact_gaps: list[float] | None = None
    gaussian: bool = False
    info: dict = field(default_factory=dict)


def _deep(spec: DeepNNQMSpec, times: np.ndarray) -> ProcessModel:
    from nnqm_ppl.networks.deep import DeepNetwork

    net = DeepNetwork(depth=spec.depth, width=spec.width, activation=spec.activation,
                      sigma_w=spec.sigma_w, sigma_b=spec.sigma_b, rates=spec.rates,
                      diffusion=spec.diffusion)
    m, d = spec.mass, spec.diffusion
    scales = np.sqrt(d / np.asarray(spec.rates))
    n_q = {1: 80, 2: 30, 3: 12}[net.in_dim]

    def fwd(p, x):
        return net.forward(p, x if net.in_dim > 1 else x[0])

    tj = jnp.asarray(times)
    info: dict = {"hbar_input": 2.0 * m * d, "rates": list(spec.rates)}
    if spec.parameters == "fixed":
        params = jax.tree.map(lambda a: a[0], net.draw_params(jax.random.key(spec.network_seed), 1))
        hbar_f = float(2.0 * m * d * _gauss_hermite_grad2_jax(fwd, params, scales, n_q))
        info["hbar_f"] = hbar_f

        def draw(key: jax.Array, n: int) -> dict:
            return {"x": np.asarray(net.forward(params, net.inputs(key, n, tj)))}

        model = ProcessModel(spec, times, draw, m, hbar_f, info=info)
        if net.in_dim == 1:
            gam = spec.rates[0]

            def levels(powers: tuple[int, ...]) -> HermiteSpectrum:
                def fn(z):
                    y = np.asarray(net.forward(params, jnp.asarray(z)))
                    return np.stack([y**p for p in powers])

                return hermite_spectrum(fn, rate=gam, diffusion=d, n_max=N_HERMITE, n_quad=4 * N_HERMITE)

            one = levels((1,))
            tau = np.abs(times[:, None] - times[None, :])
            model.covariance = one.covariance(tau)[0]
            model.mean = np.full(times.shape, one.coefficients[0, 0])
            model.levels = levels
            model.exact_gaps = [gam * k for k in range(1, 4)]
            info["hermite"] = {"energies": one.energies[:8].tolist(), "weights": one.weights[0, :8].tolist(),
                               "tail": float(one.tail[0]), "mean": float(one.coefficients[0, 0])}
            info["continuum_uncertainty"] = float(
                m * np.sqrt(one.variance[0] * np.sum(one.weights[0] * one.energies**2)))
        return model

    grad2 = jax.jit(lambda p: _gauss_hermite_grad2_jax(fwd, p, scales, n_q))

    def draw_pp(key: jax.Array, n: int) -> dict:
        kp, kx = jax.random.split(key)
        params = net.draw_params(kp, n)
        y = jax.vmap(net.forward)(params, net.inputs(kx, n, tj))
        hb = 2.0 * m * d * jax.lax.map(grad2, params, batch_size=256)
        return {"x": np.asarray(y), "hbar": np.asarray(hb)}

    return ProcessModel(spec, times, draw_pp, m, None, info=info)


def _gauss_hermite_grad2_jax(f: Callable, p: dict, scales: np.ndarray, n_q: int) -> jnp.ndarray:
    """``Σ_j E[(∂_j f_θ)(x)²]`` for ``x ~ N(0, diag scales²)``, one θ, by product Gauss–Hermite.

    Traceable (used under ``lax.map`` for per-path θ).
    """
    z, w = hermite_e.hermegauss(n_q)
    w = w / np.sqrt(2.0 * np.pi)
    d = len(scales)
    mesh = np.stack(np.meshgrid(*([z] * d), indexing="ij"), -1).reshape(-1, d)
    wts = np.prod(np.stack(np.meshgrid(*([w] * d), indexing="ij"), -1).reshape(-1, d), axis=-1)
    g = jax.vmap(jax.grad(lambda x: f(p, x)))(jnp.asarray(mesh * scales))
    return jnp.sum(g**2, axis=-1) @ jnp.asarray(wts)


def build_process(spec: OUSpec | DeepNNQMSpec | KKLSpec) -> ProcessModel:
    """The drawable model and its exact data for a process spec.

    Parameters
    ----------
    spec : OUSpec or DeepNNQMSpec or KKLSpec
        A validated process model.

    Returns
    -------
    ProcessModel
    """
    times = grid(spec)
    tj = jnp.asarray(times)
    if isinstance(spec, OUSpec):
        from nnqm_ppl.networks.processes import ou_paths

        gam, d = spec.rate, spec.diffusion

        def draw(key: jax.Array, n: int) -> dict:
            return {"x": np.asarray(ou_paths(key, n, tj, rate=gam, diffusion=d))}

        def levels(powers: tuple[int, ...]) -> HermiteSpectrum:
            return hermite_spectrum(lambda z: np.stack([z**p for p in powers]), rate=gam, diffusion=d,
                                    n_max=max(powers) + 1, n_quad=4 * max(powers) + 8)

        return ProcessModel(spec, times, draw, spec.mass, spec.hbar,
                            covariance=ou_covariance(times[:, None], times[None, :], gam, d),
                            mean=np.zeros_like(times), levels=levels,
                            exact_gaps=[gam * k for k in range(1, 4)],
                            info={"hbar": spec.hbar, "variance": d / gam})
    if isinstance(spec, DeepNNQMSpec):
        return _deep(spec, times)
    if isinstance(spec, KKLSpec):
        from nnqm_ppl.networks.kkl import karhunen_loeve

        net = karhunen_loeve(spec.kernel, 2.0 * spec.horizon, spec.n_modes, prior=spec.prior,
                             basis=spec.basis, n_quad=spec.n_quad, **spec.kernel_params())
        shifted = tj + spec.horizon

        def draw_k(key: jax.Array, n: int) -> dict:
            return {"x": np.asarray(net.draw(key, n, shifted))}

        info = {"eigenvalues": np.asarray(net.eigenvalues[:8]).tolist(), "captured": net.captured,
                "hbar": 0.0, "hbar_note": KKL_HBAR_NOTE}
        rate = {"ou": spec.rate, "exp_sum": spec.rates[0] if len(spec.rates) == 1 else None}.get(spec.kernel)
        gaps = None
        if rate is not None and spec.prior == "gaussian":
            gaps = [rate * k for k in range(1, 4)]
        elif rate is not None:
            info["gaps_note"] = (
                f"prior {spec.prior!r}: the theta_k are not Gaussian, so neither is the process; x^2 and x^3 "
                "are not eigen-operators (their connected correlators carry the fourth-cumulant term "
                "sum_k kappa4_k f_k^2(t) f_k^2(s), which does not decay like exp(-n gamma tau)): no exact "
                "levels are claimed")
        return ProcessModel(spec, times, draw_k, spec.mass, 0.0,
                            covariance=np.asarray(net.truncated_covariance(shifted, shifted)),
                            mean=np.zeros_like(times), exact_gaps=gaps, gaussian=spec.prior == "gaussian",
                            info=info)
    raise TypeError(f"not a process model: {spec!r}")


def json_ready(x: Any) -> Any:
    """Nested dicts, lists and arrays as plain Python lists and numbers (for ``summary.json``)."""
    if isinstance(x, dict):
        return {k: json_ready(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [json_ready(v) for v in x]
    if isinstance(x, np.ndarray | np.generic | jax.Array):
        return np.asarray(x).tolist()
    return x


def exact_process_values(spec: OUSpec | DeepNNQMSpec | KKLSpec) -> dict:
    """Exact gaps, covariances and finite-dt estimator expectations of a process model.

    Parameters
    ----------
    spec : OUSpec or DeepNNQMSpec or KKLSpec

    Returns
    -------
    dict
        JSON-ready.
    """
    model = build_process(spec)
    out: dict = {"model": spec.kind, "dt": spec.dt, "gaps": model.exact_gaps, **model.info}
    if model.covariance is not None:
        ex = grid_exact(model.covariance, model.mean, spec.dt, model.mass, model.hbar, spec.steps // 2 + 1)
        out |= {"uncertainty": ex["uncertainty"], "commutator": ex["commutator"], "variance": ex["variance"],
                "correlator": {"tau": (spec.dt * np.arange(len(ex["correlator"]))).tolist(),
                               "value": ex["correlator"]}}
        if "uncertainty_note" in ex:
            out["uncertainty_note"] = ex["uncertainty_note"]
    if isinstance(spec, OUSpec):
        out |= {"uncertainty_continuum": spec.hbar / 2.0, "commutator_continuum": -spec.hbar}
    elif "hbar_f" in model.info:
        out |= {"commutator_continuum": -model.info["hbar_f"], "uncertainty_bound": model.info["hbar_f"] / 2.0}
    elif isinstance(spec, KKLSpec):
        out |= {"commutator_continuum": 0.0, "uncertainty_continuum": None}
    return json_ready(out)
