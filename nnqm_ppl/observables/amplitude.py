"""Estimators of the transition amplitude K(x_i, x_f; β) = ⟨x_f| e^{−βH/ħ} |x_i⟩ from lattice paths.

Three estimators, each with its MCSE from ArviZ (:mod:`nnqm_ppl.observables.estimate`); their
exact values are in :mod:`nnqm_ppl.exact.amplitude`.

**Absolute value, fixed ends: thermodynamic integration** in the coupling from the free particle.
Along V_λ = λV, log K_V = log K_0 − ∫_0^1 f(λ) dλ with f(λ) = ⟨(a/ħ) Σ'_n V(x_n)⟩_{λV}
(Σ' with weight ½ at the pinned ends: the lattice action's trapezoid split), K_0 the free kernel
(exact on the lattice). The Gauss–Legendre rule with nodes λ_j and weights w_j gives

.. math:: \\widehat{\\log K} = \\log K_0 - \\sum_j w_j \\hat f_j,\\qquad
          \\mathrm{MCSE}^2 = \\sum_j w_j^2\\, \\mathrm{MCSE}(\\hat f_j)^2

(independent runs per node), and K = e^{log K} with MCSE K·MCSE(log K) (delta method). The rule's
own error is a systematic, measured on the exact integrand.

**x_f-dependence, fixed ends: the end-point ratio.** The interior site x_{N−1} has density
∝ [T^{N−1}](x_i, z) T(z, x_f), so for every y

.. math:: \\frac{K(x_i, y)}{K(x_i, x_f)} = \\Big\\langle \\frac{T(x_{N-1}, y)}{T(x_{N-1}, x_f)} \\Big\\rangle,

a mean of per-draw ratios (exact in expectation, any V). log T(z, y)/T(z, x_f) is linear in z with
slope (y − x_f)/σ², σ² = ħa/m, so its variance is (y − x_f)² Var(x_{N−1})/σ⁴ ≤ (y − x_f)²/σ²:
the overlap is good within a few σ of x_f; the Kish fraction (Σr)²/(n Σr²) of the ratios says
how good (1: perfect; ≪ 1: a few draws carry the mean).

**x_f-dependence, half line: the conditioned end density.** On a half-line lattice (x_0 and x_N
free) the sites are a Markov chain, so given the interior the ends are independent with the exact
conditional densities

.. math:: q(x | z) = \\frac{e^{-[m(x - z)^2/2a + aV(x)/2]/\\hbar}}
                          {\\int dx'\\, e^{-[m(x' - z)^2/2a + aV(x')/2]/\\hbar}},

and p(x_N = y | x_0 = x_i) = E[q(x_i | x_1) q(y | x_{N−1})] / E[q(x_i | x_1)]: a ratio of means
(delta-method MCSE), Rao–Blackwellised in both ends, whose expectation is exactly
[T^N](x_i, y)/∫[T^N](x_i, y')dy'. The weights q(x_i | x_1) are large only for draws whose x_1 lies
near x_i; their Kish fraction is the overlap diagnostic (small when x_i is in the tail of the
distribution of x_0). The normaliser is the trapezoid rule in u = (x' − z)/σ on [−12, 12] with
step 1/4 (error below e^{−72} from the truncation, and exponentially small from the step).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nnqm_ppl.observables.estimate import Estimate, derived_estimate, mean_estimate
from nnqm_ppl.physics import Lattice, Potential

__all__ = [
    "potential_action",
    "thermodynamic_integration",
    "exponentiated",
    "endpoint_ratio",
    "conditional_end_density",
    "kish_fraction",
]

Array = Any

#: the normaliser's quadrature in u = (x − z)/σ: reach and step
_REACH, _STEP = 12.0, 0.25


def potential_action(x: Array, potential: Potential, a: float, hbar: float = 1.0) -> np.ndarray:
    """(a/ħ) Σ'_n V(x_n) per path: the potential part of the lattice action, ends with weight ½.

    Parameters
    ----------
    x : array, shape (chain, draw, N + 1)
        Full open paths (fixed ends included).
    potential : Potential
    a, hbar : float

    Returns
    -------
    ndarray, shape (chain, draw)
    """
    v = np.asarray(potential(np.asarray(x, dtype=float)))
    return a / hbar * (np.sum(v, axis=-1) - 0.5 * (v[..., 0] + v[..., -1]))


def thermodynamic_integration(series: Sequence[Array], weights: Array, log_free: float
                              ) -> tuple[Estimate, list[Estimate]]:
    """log K = log K_0 − Σ_j w_j f̂_j from the per-node series of :func:`potential_action`.

    Parameters
    ----------
    series : sequence of arrays, each (chain, draw)
        (a/ħ)Σ'V of the draws at node λ_j (independent runs).
    weights : array
        The quadrature weights w_j.
    log_free : float
        log K_0, the free kernel.

    Returns
    -------
    (Estimate, list of Estimate)
        log K with MCSE sqrt(Σ w_j² MCSE_j²), and f̂_j per node.
    """
    nodes = [mean_estimate(np.asarray(s, dtype=float)) for s in series]
    w = np.asarray(weights, dtype=float)
    value = log_free - float(w @ np.array([e.value for e in nodes]))
    mcse = float(np.sqrt(np.sum((w * np.array([e.mcse for e in nodes])) ** 2)))
    return Estimate(value, mcse), nodes


def exponentiated(log_estimate: Estimate) -> Estimate:
    """e^{L} with MCSE e^{L}·MCSE(L) (delta method)."""
    value = float(np.exp(log_estimate.value))
    return Estimate(value, value * float(log_estimate.mcse))


def kish_fraction(weights: Array) -> np.ndarray:
    """(Σ w)² / (n Σ w²) over the draws (first two axes), per trailing component: 1 for equal weights."""
    w = np.asarray(weights, dtype=float)
    w = w.reshape(w.shape[0] * w.shape[1], -1)
    return np.sum(w, axis=0) ** 2 / (w.shape[0] * np.sum(w**2, axis=0))


def _log_kernel_ratio(z: np.ndarray, y: np.ndarray, x_fin: float, lattice: Lattice, potential: Potential) -> np.ndarray:
    """log T(z, y)/T(z, x_f) for z (...,) and y (Y,): shape (..., Y)."""
    m, a, hbar = lattice.mass, lattice.a, lattice.hbar
    kinetic = m * ((z[..., None] - y) ** 2 - (z[..., None] - x_fin) ** 2) / (2.0 * a)
    pot = 0.5 * a * (np.asarray(potential(y)) - float(potential(x_fin)))
    return -(kinetic + pot) / hbar


def endpoint_ratio(x: Array, lattice: Lattice, potential: Potential, ys: Array) -> tuple[Estimate, np.ndarray]:
    """K(x_i, y)/K(x_i, x_f) = ⟨T(x_{N−1}, y)/T(x_{N−1}, x_f)⟩ on a fixed-ends lattice (module docstring).

    Parameters
    ----------
    x : array, shape (chain, draw, N + 1)
        Full fixed-ends paths.
    lattice : Lattice
        ``fixed``.
    potential : Potential
    ys : array (Y,)
        End points y.

    Returns
    -------
    (Estimate, ndarray)
        The ratio at each y with its MCSE, and the Kish fraction of the per-draw ratios at each y.
    """
    if lattice.boundary != "fixed":
        raise ValueError("the end-point ratio needs fixed ends")
    z = np.asarray(x, dtype=float)[..., -2]
    r = np.exp(_log_kernel_ratio(z, np.atleast_1d(np.asarray(ys, dtype=float)), float(lattice.x_fin), lattice,
                                 potential))
    return mean_estimate(r), kish_fraction(r)


def _conditional(points: np.ndarray, z: np.ndarray, lattice: Lattice, potential: Potential) -> np.ndarray:
    """q(points | z): the exact conditional density of an end x given its neighbour z, shape z.shape + points.shape."""
    m, a, hbar = lattice.mass, lattice.a, lattice.hbar
    sigma = np.sqrt(hbar * a / m)
    u = np.arange(-_REACH, _REACH + 0.5 * _STEP, _STEP)
    xs = z[..., None] + sigma * u
    norm = sigma * _STEP * np.sum(np.exp(-0.5 * u**2 - 0.5 * a * np.asarray(potential(xs)) / hbar), axis=-1)
    expo = m * (points - z[..., None]) ** 2 / (2.0 * a) + 0.5 * a * np.asarray(potential(points))
    return np.exp(-expo / hbar) / norm[..., None]


def conditional_end_density(x: Array, lattice: Lattice, potential: Potential, x_ini: float, ys: Array
                            ) -> tuple[Estimate, float]:
    """p(x_N = y | x_0 = x_i) on a half-line lattice, Rao–Blackwellised in both ends (module docstring).

    Parameters
    ----------
    x : array, shape (chain, draw, N + 1)
        Half-line paths (x_0 … x_N all free).
    lattice : Lattice
        ``half_line``.
    potential : Potential
    x_ini : float
        The conditioning value x_i of x_0.
    ys : array (Y,)
        Points y of the end density.

    Returns
    -------
    (Estimate, float)
        The density at each y with its delta-method MCSE, and the Kish fraction of the weights
        q(x_i | x_1).
    """
    if lattice.boundary != "half_line":
        raise ValueError("the conditioned end density needs a half_line lattice")
    xa = np.asarray(x, dtype=float)
    first = _conditional(np.array([float(x_ini)]), xa[..., 1], lattice, potential)[..., 0]
    last = _conditional(np.atleast_1d(np.asarray(ys, dtype=float)), xa[..., -2], lattice, potential)
    series = np.concatenate([first[..., None], first[..., None] * last], axis=-1)
    est = derived_estimate(lambda mean: mean[1:] / mean[0], series)
    return est, float(kish_fraction(first)[0])
