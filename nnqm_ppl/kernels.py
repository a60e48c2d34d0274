r"""Covariance kernels K(t, s) of processes on a time axis: the domain the Karhunen–Loève networks expand.

Each kernel is a closed form in JAX, broadcasting over ``t`` and ``s``; bad parameters raise
:class:`ValueError` naming the parameter (the spec layer turns that into the field's error).

- ``ou``: σ² e^{−γ|t−s|}, the oscillator ground state for σ² = ħ/(2mω), γ = ω (Ferko & Halverson
  (2504.05462), §3, the Ornstein–Uhlenbeck two-point function);
- ``brownian``: 2D min(t, s); ``bridge``: 2D (min(t, s) − ts/T);
- ``gaussian``: σ² exp(−(t − s)²/(2ℓ²)) (Cos-net's two-point function, Halverson 2112.04527 eq. 2.17);
- ``matern32``, ``cauchy`` (Gneiting–Schlather), ``exp_sum`` (a discrete Källén–Lehmann spectrum).
"""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp
import numpy as np

__all__ = ["KERNELS", "Kernel", "kernel", "positive"]

Kernel = Callable[[jnp.ndarray, jnp.ndarray], jnp.ndarray]


def positive(name: str, value: float) -> float:
    """``float(value)``, refused (ValueError naming ``name``) unless positive and finite."""
    v = float(value)
    if not (np.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return v


def _ou(variance: float = 0.5, rate: float = 1.0) -> Kernel:
    """``σ² e^{−γ|t−s|}`` (default: the oscillator ground state, ħ = m = ω = 1)."""
    v, g = positive("variance", variance), positive("rate", rate)
    return lambda t, s: v * jnp.exp(-g * jnp.abs(t - s))


def _brownian(diffusion: float = 0.5) -> Kernel:
    """``2D min(t, s)`` on t, s ≥ 0 (Wiener process for D = 1/2)."""
    d = positive("diffusion", diffusion)
    return lambda t, s: 2.0 * d * jnp.minimum(t, s)


def _bridge(horizon: float, diffusion: float = 0.5) -> Kernel:
    """``2D (min(t, s) − ts/T)``: Brownian motion pinned to 0 at t = 0 and t = T."""
    d, h = positive("diffusion", diffusion), positive("horizon", horizon)
    return lambda t, s: 2.0 * d * (jnp.minimum(t, s) - t * s / h)


def _gaussian(variance: float = 1.0, length: float = 1.0) -> Kernel:
    """``σ² exp(−(t − s)²/(2ℓ²))``: Cos-net's two-point function (log-concave, not RP)."""
    v, ell = positive("variance", variance), positive("length", length)
    return lambda t, s: v * jnp.exp(-0.5 * ((t - s) / ell) ** 2)


def _matern32(variance: float = 1.0, length: float = 1.0) -> Kernel:
    """``σ²(1 + √3 r/ℓ) e^{−√3 r/ℓ}``: positive definite, not a positive sum of exponentials."""
    v, ell = positive("variance", variance), positive("length", length)

    def k(t, s):
        r = jnp.sqrt(3.0) * jnp.abs(t - s) / ell
        return v * (1.0 + r) * jnp.exp(-r)

    return k


def _cauchy(
    variance: float = 1.0, length: float = 1.0, alpha: float = 1.0, beta: float = 1.0
) -> Kernel:
    """Generalised Cauchy ``σ² (1 + (r/ℓ)^α)^{−β/α}`` (Gneiting–Schlather).

    Positive definite for 0 < α ≤ 2, β > 0; completely monotone in r — hence a positive
    superposition of exponentials, reflection positive — for 0 < α ≤ 1. The default α = β = 1,
    ``σ²/(1 + r/ℓ) = σ² ∫_0^∞ ℓ e^{−ℓm} e^{−m r} dm``, has a continuous Källén–Lehmann density.
    (α = β = 2, the classical ``1/(1 + r²/ℓ²)``, is positive definite but its Laplace density is
    ``ℓ sin(ℓm)``: not reflection positive.)
    """
    v, ell = positive("variance", variance), positive("length", length)
    a, b = positive("alpha", alpha), positive("beta", beta)
    if a > 2.0:
        raise ValueError(f"alpha must be in (0, 2] for a positive definite kernel, got {alpha}")
    return lambda t, s: v * (1.0 + (jnp.abs(t - s) / ell) ** a) ** (-b / a)


def _exp_sum(weights: np.ndarray, rates: np.ndarray) -> Kernel:
    """``Σ_i w_i e^{−E_i|t−s|}`` with w_i ≥ 0, E_i ≥ 0: a discrete Källén–Lehmann spectrum."""
    w = jnp.asarray(weights, dtype=jnp.float64).ravel()
    e = jnp.asarray(rates, dtype=jnp.float64).ravel()
    if w.shape != e.shape or w.shape[0] < 1:
        raise ValueError("exp_sum needs weights and rates of equal, non-zero length")
    if not bool(jnp.all(w >= 0)) or not bool(jnp.all(e >= 0)):
        raise ValueError(f"exp_sum needs weights >= 0 and rates >= 0, got {weights}, {rates}")
    return lambda t, s: jnp.sum(w * jnp.exp(-e * jnp.abs(t - s)[..., None]), axis=-1)


KERNELS: dict[str, Callable[..., Kernel]] = {
    "ou": _ou,
    "brownian": _brownian,
    "bridge": _bridge,
    "gaussian": _gaussian,
    "matern32": _matern32,
    "cauchy": _cauchy,
    "exp_sum": _exp_sum,
}


def kernel(name: str, **params: float | np.ndarray) -> Kernel:
    """A built-in covariance kernel ``K(t, s)`` by name (JAX, broadcasting over t and s).

    Parameters
    ----------
    name : str
        One of :data:`KERNELS`: ``ou(variance=0.5, rate=1)``, ``brownian(diffusion=0.5)``,
        ``bridge(horizon, diffusion=0.5)``, ``gaussian(variance=1, length=1)``,
        ``matern32(variance=1, length=1)``, ``cauchy(variance=1, length=1, alpha=1, beta=1)``,
        ``exp_sum(weights, rates)``.
    **params
        The kernel's parameters.

    Returns
    -------
    callable
        ``K(t, s)``.
    """
    if name not in KERNELS:
        raise ValueError(f"kernel must be one of {sorted(KERNELS)}, got {name!r}")
    try:
        return KERNELS[name](**params)
    except TypeError as err:
        raise ValueError(f"kernel {name!r}: {err}") from None
