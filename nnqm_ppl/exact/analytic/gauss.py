"""Gauss-net closed forms (Halverson S11, S14): exponential neurons, not translation invariant."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from nnqm_ppl.exact.analytic.iid import iid_g4c, point, sq_norm

__all__ = ["gaussnet_g2", "gaussnet_g4c"]


def _gauss_net_h(sigma_b: float, sigma_c: float, dim: int) -> tuple[Callable, Callable]:
    """Gauss-net neuron moments.

    E[Π_k h(x_k)] = exp(σ_b²|Σx|²/2d + k²σ_c²/2 − kσ_c² − σ_b² Σ|x|²/d) for k neurons' inputs.
    """
    s2 = sigma_b**2 / dim
    c2 = sigma_c**2

    def hk(*xs):
        k = len(xs)
        tot = sum(xs)
        # E[exp(b·Σx + k c)] / Π_k exp(σ_c² + σ_b² |x|²/d)
        expo = 0.5 * s2 * sq_norm(tot) + 0.5 * k * k * c2 - k * c2
        return np.exp(expo - s2 * sum(sq_norm(x) for x in xs))

    return (lambda x, y: hk(x, y)), hk


def gaussnet_g2(x: ArrayLike, y: ArrayLike, *, m2: float, sigma_b: float, sigma_c: float, dim: int) -> np.ndarray:
    """Gauss-net two-point function, equal to Cos-net's: (σ_a²/2) exp(−σ_b² |x − y|²/2d) (S11).

    Parameters
    ----------
    x, y : array_like, shape (..., d)
        Points.
    m2 : float
        N E[a²] (σ_a²/2: a ~ N(0, σ_a²/2N), eq. S13).
    sigma_b, sigma_c : float
        b ~ N(0, σ_b²/d) per component, c ~ N(0, σ_c²).
    dim : int
        d.

    Returns
    -------
    ndarray
    """
    h2, _ = _gauss_net_h(sigma_b, sigma_c, dim)
    return m2 * h2(point(x, dim), point(y, dim))


def gaussnet_g4c(
    x1, x2, x3, x4, *, m2: float, m4: float, width: float, sigma_b: float, sigma_c: float, dim: int
) -> np.ndarray:
    """Gauss-net connected four-point function (Halverson S14).

    G4c = σ_a⁴/(4N) [3 e^{4σ_c²} e^{−σ_b²/2d (Σ_k x_k² − 2 Σ_{k<l} x_k·x_l)}
                      − Σ_3 e^{−σ_b² (|x_ij|² + |x_kl|²)/2d}]

    for Gaussian a (m4 = 3 m2² with m2 = σ_a²/2); other P(a) enter through m2, m4. Not
    translation invariant.

    Parameters
    ----------
    x1, x2, x3, x4 : array_like, shape (..., d)
        Points.
    m2, m4 : float
        N E[a²], N² E[a⁴].
    width : float
        N.
    sigma_b, sigma_c, dim
        As for :func:`gaussnet_g2`.

    Returns
    -------
    ndarray
    """
    h2, h4 = _gauss_net_h(sigma_b, sigma_c, dim)
    xs = [point(x, dim) for x in (x1, x2, x3, x4)]
    return iid_g4c(m2, m4, width, h2, h4, xs)

