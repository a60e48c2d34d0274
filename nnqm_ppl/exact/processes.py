"""Closed forms for the input processes and for networks applied to them.

- OU: ``Cov(x_t, x_s) = (D/γ) e^{−γ|t−s|}``; Brownian: ``2D min(t − t_0, s − t_0)``.
- A fixed function of a stationary OU process (the deep NN-QM of Ferko & Halverson, Theorem 4,
  for one draw of the parameters). With ``s² = D/γ`` and the probabilists' Hermite expansion
  ``f(s z) = Σ_n c_n He_n(z)``, ``c_n = E[f(s z) He_n(z)] / n!`` (z standard normal), Mehler's
  formula ``E[He_m(z_t) He_n(z_0)] = δ_mn n! ρ^n`` with ``ρ = e^{−γ|t|}`` gives

  .. math::

      \\mathrm{Cov}\\big(f(x_t), f(x_0)\\big) = \\sum_{n \\ge 1} c_n^2\\, n!\\, e^{-n\\gamma|t|},

  a Källén–Lehmann representation with levels ``E_n − E_0 = nγ`` and non-negative weights
  ``|⟨0|f(x)|n⟩|² = c_n² n!`` (the oscillator eigenfunctions are Hermite functions).
- Averaged over random parameters θ drawn once per path, the process is a θ-mixture:
  ``Cov(y_t, y_0) = Σ_{n≥1} E_θ[c_n(θ)² n!] e^{−nγ|t|} + Var_θ(c_0(θ))``. The last term is an
  ``E = 0`` (vacuum-degenerate, non-clustering) weight; it vanishes when every ``f_θ`` has zero
  mean under the stationary law (e.g. odd activations without biases).

- Any process with a known grid covariance Σ and mean μ: the exact expectations of the open-path
  estimators (:func:`grid_exact`: variance, Δx·Δp with the point-split ⟨p²⟩, the commutator,
  the connected correlator) and, for zero-mean Gaussian paths, of the GEVP input ``⟨x^p x^q⟩``
  by Isserlis' theorem (:func:`gaussian_power_moments`).

Depends on numpy only (Gauss–Hermite quadrature). The θ average is a Monte Carlo mean over θ
draws: :meth:`HermiteSpectrum.theta_average_series` gives the per-θ series whose ArviZ MCSE is
its error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import comb, factorial

import numpy as np
from numpy.polynomial import hermite_e

__all__ = [
    "ou_covariance",
    "brownian_covariance",
    "HermiteSpectrum",
    "hermite_spectrum",
    "grid_exact",
    "no_momentum_note",
    "gaussian_power_moments",
]


def ou_covariance(
    t: np.ndarray | float, s: np.ndarray | float, rate: float = 1.0, diffusion: float = 0.5
) -> np.ndarray:
    """Stationary OU covariance ``(D/γ) e^{−γ|t−s|}`` (broadcast over ``t`` and ``s``)."""
    return (diffusion / rate) * np.exp(-rate * np.abs(np.asarray(t) - np.asarray(s)))


def brownian_covariance(
    t: np.ndarray | float, s: np.ndarray | float, diffusion: float = 0.5, t0: float = 0.0
) -> np.ndarray:
    """Brownian covariance ``2D min(t − t_0, s − t_0)`` for paths pinned at ``x(t_0) = 0``."""
    return 2.0 * diffusion * (np.minimum(np.asarray(t), np.asarray(s)) - t0)


@dataclass(frozen=True)
class HermiteSpectrum:
    """Källén–Lehmann data of ``f(x_t)`` for a stationary OU input, for one or a batch of f.

    Attributes
    ----------
    energies : ndarray, shape (n_max + 1,)
        ``E_n − E_0 = nγ`` for ``n = 0..n_max``.
    coefficients : ndarray, shape (..., n_max + 1)
        Hermite coefficients ``c_n`` (``c_0 = E[f(x)]``); leading axes index a batch of f (θ draws).
    weights : ndarray, shape (..., n_max + 1)
        ``c_n² n!`` for ``n ≥ 1``; entry 0 is 0 (one fixed f has no E = 0 connected weight).
    variance : ndarray, shape (...)
        ``Var f(x)`` by quadrature.
    tail : ndarray, shape (...)
        ``Var f(x) − Σ_{1≤n≤n_max} c_n² n! ≥ 0``: a bound on the truncation error of
        :meth:`covariance` at every separation, since ``e^{−nγ|t|} ≤ 1``.
    """

    energies: np.ndarray
    coefficients: np.ndarray
    weights: np.ndarray
    variance: np.ndarray
    tail: np.ndarray

    def covariance(self, tau: np.ndarray | float) -> np.ndarray:
        """``Σ_n weights_n e^{−E_n|τ|}``, shape ``(*batch, *tau.shape)``: ``Cov(f(x_τ), f(x_0))``."""
        tau = np.abs(np.asarray(tau, dtype=float))
        return np.tensordot(self.weights, np.exp(-np.multiply.outer(self.energies, tau)), 1)

    def theta_average_series(self) -> np.ndarray:
        """Per-θ series whose means over the batch are the mixture weights ``W_n``.

        For ``y_t = f_θ(x_t)`` with θ drawn once per path (batch axis 0 = θ draws),
        ``Cov(y_t, y_0) = Σ_{n≥0} W_n e^{−nγ|t|}``, ``W_n = E_θ[c_n(θ)² n!]`` (n ≥ 1) and
        ``W_0 = Var_θ(c_0(θ))``. Column 0 of the result is ``(c_0 − c̄_0)² M/(M − 1)`` (its mean is
        the unbiased variance); feed ``series[None]`` to
        :func:`~nnqm_ppl.observables.estimate.mean_estimate` for ``W_n`` ± MCSE.

        Returns
        -------
        ndarray, shape (n_theta, n_max + 1)
        """
        if self.weights.ndim != 2 or self.weights.shape[0] < 2:
            raise ValueError("theta_average_series needs a batch of at least two θ draws")
        c0 = self.coefficients[:, 0]
        m = c0.shape[0]
        out = self.weights.copy()
        out[:, 0] = (c0 - c0.mean()) ** 2 * m / (m - 1)
        return out


def hermite_spectrum(
    f: Callable[[np.ndarray], np.ndarray],
    rate: float = 1.0,
    diffusion: float = 0.5,
    n_max: int = 40,
    n_quad: int = 160,
) -> HermiteSpectrum:
    """Spectrum and two-point function of ``f(x_t)`` for a stationary OU input (Mehler).

    ``Cov(f(x_t), f(x_0)) = Σ_{n≥1} c_n² n! e^{−nγ|t|}`` with ``c_n = E[f(s z) He_n(z)] / n!``
    the probabilists' Hermite coefficients of ``z ↦ f(s z)``, ``s = sqrt(D/γ)``, computed by
    ``n_quad``-point Gauss–Hermite quadrature (exact for polynomial f of degree
    < 2 n_quad − n_max).

    Parameters
    ----------
    f : callable
        Vectorised numpy function: ``f(x)`` with ``x`` of shape ``(n_quad,)`` returns
        ``(..., n_quad)`` (leading axes: a batch of functions, e.g. one per θ draw).
    rate, diffusion : float
        OU rate γ > 0 and diffusion D > 0.
    n_max : int
        Highest level kept (≥ 1); the neglected weight is reported as ``tail``.
    n_quad : int
        Quadrature nodes (≥ n_max + 1).

    Returns
    -------
    HermiteSpectrum
    """
    if n_max < 1:
        raise ValueError(f"n_max must be >= 1, got {n_max}")
    if n_quad < n_max + 1:
        raise ValueError(f"n_quad must be >= n_max + 1, got {n_quad}")
    if not (rate > 0 and diffusion > 0):
        raise ValueError(f"rate and diffusion must be positive, got {rate}, {diffusion}")
    z, w = hermite_e.hermegauss(n_quad)
    w = w / np.sqrt(2.0 * np.pi)
    vals = np.asarray(f(np.sqrt(diffusion / rate) * z), dtype=float)
    if vals.shape[-1] != n_quad:
        raise ValueError(f"f must return shape (..., {n_quad}), got {vals.shape}")
    he = hermite_e.hermevander(z, n_max)  # (n_quad, n_max + 1): He_n(z_q)
    fact = np.array([factorial(n) for n in range(n_max + 1)], dtype=float)
    c = (vals * w) @ he / fact
    weights = c**2 * fact
    weights[..., 0] = 0.0
    variance = vals**2 @ w - (vals @ w) ** 2
    return HermiteSpectrum(
        energies=rate * np.arange(n_max + 1, dtype=float),
        coefficients=c,
        weights=weights,
        variance=variance,
        tail=np.maximum(variance - weights.sum(axis=-1), 0.0),
    )


def grid_exact(cov: np.ndarray, mean: np.ndarray, dt: float, mass: float, hbar: float | None,
               n_tau: int) -> dict:
    """Exact expectations of the open-path estimators from the grid covariance and mean.

    ``Var = mean_n(Σ_nn + μ_n²) − (mean_n μ_n)²``, ``link = mean_n E(x_{n+1} − x_n)²``,
    ``Δx·Δp = sqrt(Var (mħ/dt − m² link/dt²))``, commutator
    ``(m/dt) mean_{interior} E x_n(x_{n+1} − 2x_n + x_{n−1})`` and the translation-averaged
    connected correlator at lags ``0..n_tau−1`` — exactly what
    :mod:`~nnqm_ppl.observables.quantum` and :mod:`~nnqm_ppl.observables.lattice` average.

    Parameters
    ----------
    cov : ndarray, shape (L, L)
        Σ on the grid.
    mean : ndarray, shape (L,)
        μ on the grid.
    dt, mass, hbar : float
        Spacing, m, ħ (``hbar`` None: no uncertainty value).
    n_tau : int
        Correlator separations.

    Returns
    -------
    dict
        ``uncertainty``, ``commutator``, ``correlator`` (list), ``variance``; ``uncertainty`` is None
        (with the reason in ``uncertainty_note``) where the point-split ``⟨p²⟩`` is not positive,
        e.g. ħ = 0 for smooth paths.
    """
    second = cov + np.outer(mean, mean)
    d = np.diagonal(second)
    off = np.diagonal(second, 1)
    var = float(np.mean(d) - np.mean(mean) ** 2)
    link = float(np.mean(d[1:] + d[:-1] - 2.0 * off))
    comm = float(mass / dt * np.mean(off[1:] + off[:-1] - 2.0 * d[1:-1]))
    corr = [float(np.mean(np.diagonal(second, k)) - np.mean(mean) ** 2) for k in range(n_tau)]
    out = {"variance": var, "commutator": comm, "correlator": corr, "uncertainty": None}
    if hbar is not None:
        p2 = mass * hbar / dt - mass**2 * link / dt**2
        if p2 > 0:
            out["uncertainty"] = float(np.sqrt(var * p2))
        else:
            out["uncertainty_note"] = no_momentum_note(p2, hbar)
    return out


def no_momentum_note(p2: float, hbar: float) -> str:
    """Why Δx·Δp has no value: the point-split ``⟨p²⟩ = mħ/dt − m²⟨(Δx)²⟩/dt²`` is not positive."""
    return (f"no Delta x Delta p: the point-split <p^2> = m hbar/dt - m^2 <(x_(n+1) - x_n)^2>/dt^2 = {p2:.4g} "
            f"is not positive with hbar = {hbar:g} (paths smoother than Brownian at this dt)")


def _gauss_pair(p: int, q: int, saa: np.ndarray, sbb: np.ndarray, sab: np.ndarray) -> np.ndarray:
    """``E[x_a^p x_b^q]`` of a zero-mean Gaussian pair (Isserlis): sum over k cross pairings."""
    def dfact(n: int) -> int:  # (n − 1)!! for even n: pairings of n points
        return int(np.prod(np.arange(n - 1, 0, -2))) if n > 0 else 1

    return sum(comb(p, k) * comb(q, k) * factorial(k) * dfact(p - k) * dfact(q - k)
               * sab**k * saa ** ((p - k) // 2) * sbb ** ((q - k) // 2)
               for k in range(min(p, q) + 1) if (p - k) % 2 == 0 and (q - k) % 2 == 0)


def gaussian_power_moments(cov: np.ndarray, powers: tuple[int, ...], n_tau: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact expectations of the open-path GEVP input for zero-mean Gaussian paths.

    ``c_ik(n) = (1/2P_n) Σ_j E[x_{j+n}^{p_i} x_j^{p_k} + x_{j+n}^{p_k} x_j^{p_i}]`` over the
    ``P_n = L − n`` pairs (what :func:`~nnqm_ppl.observables.lattice.cross_correlator_series`
    averages) and the per-site means ``E x_j^{p_i}`` (what
    :func:`~nnqm_ppl.observables.spectrum.gevp_input` measures on an open path), with Isserlis' theorem

    .. math::

        E[x_a^p x_b^q] = \sum_k \binom{p}{k}\binom{q}{k} k!\,(p-k-1)!!\,(q-k-1)!!\,
                          Σ_{ab}^k Σ_{aa}^{(p-k)/2} Σ_{bb}^{(q-k)/2}

    (k cross pairings, p − k and q − k even).

    Parameters
    ----------
    cov : ndarray, shape (L, L)
        Σ on the grid.
    powers : tuple of int
        The operators ``x^p``.
    n_tau : int
        Separations ``0 … n_tau − 1``.

    Returns
    -------
    raw : ndarray, shape (n_tau, K, K)
    means : ndarray, shape (L, K)
    """
    d = np.diagonal(cov)
    k = len(powers)
    raw = np.empty((n_tau, k, k))
    for n in range(n_tau):
        sab, saa, sbb = np.diagonal(cov, n), d[n:], d[: d.size - n]
        for i, p in enumerate(powers):
            for j, q in enumerate(powers):
                raw[n, i, j] = 0.5 * np.mean(_gauss_pair(p, q, saa, sbb, sab) + _gauss_pair(q, p, saa, sbb, sab))
    means = np.stack([np.broadcast_to(_gauss_pair(p, 0, d, d, d), d.shape) for p in powers], axis=-1)
    return raw, means
