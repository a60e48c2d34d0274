"""Moments of the output weights and the cumulant combinatorics shared by all i.i.d. ensembles.

G2 = m_2 H_2, G4c = (m_4 H_4 − m_2² Σ_3 H_2 H_2)/N, G6c = (m_6 H_6 − m_4 m_2 Σ_15 H_4 H_2
+ 2 m_2³ Σ_15 H_2 H_2 H_2)/N² (notation of :mod:`nnqm_ppl.exact.analytic`). The combinatorics
are plain arithmetic on the neuron moments, so they accept NumPy and JAX arrays alike.
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["PAIRINGS_4", "a_moments", "iid_g4c", "iid_g6c", "point", "sq_norm"]

#: Spread of each mode of the bimodal P(a) in units of σ_a/sqrt(N) (as in networks.neurons).
_MIXTURE_SPREAD = 0.25

PAIRINGS_4 = ((0, 1, 2, 3), (0, 2, 1, 3), (0, 3, 1, 2))


def point(x: ArrayLike, dim: int) -> np.ndarray:
    """A point (or a stack of points) as an array with a trailing axis of length ``dim``."""
    a = np.asarray(x, dtype=float)
    if dim == 1 and (a.ndim == 0 or a.shape[-1] != 1):
        a = a[..., None]
    if a.shape[-1] != dim:
        raise ValueError(f"point has trailing length {a.shape[-1]}, expected dim = {dim}")
    return a


def sq_norm(v: ArrayLike) -> ArrayLike:
    """|v|² over the trailing axis (NumPy or JAX, as given)."""
    return (v * v).sum(axis=-1)


def a_moments(scale: float, a_prior: str = "gaussian", a_modes: float = 1.0) -> tuple[float, float, float]:
    """Scaled moments m_k = N^{k/2} E[a^k] of the output weights, k = 2, 4, 6.

    Parameters
    ----------
    scale : float
        s, the scale of P(a) in units of N^{-1/2}: σ_a for most architectures, σ_a/sqrt(2) for
        Gauss-net (a has variance σ_a²/(2N), eq. S13).
    a_prior : {"gaussian", "mixture"}
        P(a), as :func:`nnqm_ppl.networks.neurons.a_distribution`.
    a_modes : float
        μ/s of the mixture's modes.

    Returns
    -------
    (m2, m4, m6) : tuple of float
        Gaussian a: (s², 3s⁴, 15s⁶) with s² = N E[a²]. Mixture ½N(±μ, τ²):
        (μ² + τ², μ⁴ + 6μ²τ² + 3τ⁴, μ⁶ + 15μ⁴τ² + 45μ²τ⁴ + 15τ⁶), μ = a_modes·s, τ = s/4.
    """
    s = scale
    if a_prior == "gaussian":
        return s**2, 3 * s**4, 15 * s**6
    mu, tau = a_modes * s, _MIXTURE_SPREAD * s
    return (
        mu**2 + tau**2,
        mu**4 + 6 * mu**2 * tau**2 + 3 * tau**4,
        mu**6 + 15 * mu**4 * tau**2 + 45 * mu**2 * tau**4 + 15 * tau**6,
    )


def iid_g4c(m2: float, m4: float, n: float, h2: Callable, h4: Callable, xs: Sequence) -> ArrayLike:
    """G4c = (m4 H4 − m2² Σ_3 H2 H2)/N for i.i.d. neurons (Halverson eq. 8)."""
    pairs = sum(h2(xs[i], xs[j]) * h2(xs[k], xs[l]) for i, j, k, l in PAIRINGS_4)
    return (m4 * h4(*xs) - m2**2 * pairs) / n


def _matchings(idx: tuple[int, ...]) -> list[list[tuple[int, int]]]:
    """All perfect matchings of ``idx`` into pairs."""
    if not idx:
        return [[]]
    first, rest = idx[0], idx[1:]
    out = []
    for k, other in enumerate(rest):
        for m in _matchings(rest[:k] + rest[k + 1 :]):
            out.append([(first, other), *m])
    return out


def iid_g6c(
    ms: tuple[float, float, float], n: int, h2: Callable, h4: Callable, h6: Callable, xs: Sequence
) -> ArrayLike:
    """Sixth joint cumulant of φ for i.i.d. neurons: N κ_6(a h) (all N)."""
    m2, m4, m6 = ms
    t42 = 0.0
    for pair in itertools.combinations(range(6), 2):
        quad = [k for k in range(6) if k not in pair]
        t42 = t42 + h4(*(xs[k] for k in quad)) * h2(xs[pair[0]], xs[pair[1]])
    t222 = sum(
        functools.reduce(operator.mul, [h2(xs[i], xs[j]) for i, j in m]) for m in _matchings(tuple(range(6)))
    )
    return (m6 * h6(*xs) - m4 * m2 * t42 + 2 * m2**3 * t222) / n**2

