"""Cos-net closed forms (Halverson S10-S15), its field-neuron correlator, and Cos-net with
independence breaking (eqs. 7-9).

Cos-net's neurons are cosines with F = 1 and b ~ N(0, σ_b²/d) per component, whose
characteristic function is E[cos(b·v)] = exp(−σ_b² |v|²/2d)
(:func:`~nnqm_ppl.exact.analytic.cosine.gauss_char`); the cumulants are those of
:mod:`~nnqm_ppl.exact.analytic.cosine` on it.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike

from nnqm_ppl.exact.analytic.cosine import (
    Char,
    cosine_g2,
    cosine_g4c,
    cosine_g6c,
    cosine_h2,
    cosine_h4,
    gauss_char,
)
from nnqm_ppl.exact.analytic.iid import PAIRINGS_4, point, sq_norm

__all__ = ["cosnet_g2", "cosnet_g4c", "cosnet_g6c", "cosnet_field_neuron", "ib_cosnet_g4c"]


def _char(sigma_b: float, dim: int) -> Char:
    """Cos-net's characteristic function with σ_b and d."""
    return functools.partial(gauss_char, sigma_b=sigma_b, dim=dim)


def cosnet_g2(x: ArrayLike, y: ArrayLike, *, m2: float, sigma_b: float, dim: int) -> np.ndarray:
    """Cos-net two-point function G2 = (m2/2) exp(−σ_b² |x − y|² / 2d) (Halverson S11).

    Parameters
    ----------
    x, y : array_like, shape (..., d)
        Points (broadcast).
    m2 : float
        N E[a²] (:func:`~nnqm_ppl.exact.analytic.iid.a_moments`).
    sigma_b : float
        b ~ N(0, σ_b²/d) per component.
    dim : int
        d.

    Returns
    -------
    ndarray
    """
    return np.asarray(cosine_g2(m2, _char(sigma_b, dim), point(x, dim), point(y, dim)))


def cosnet_g4c(x1, x2, x3, x4, *, m2: float, m4: float, width: float, sigma_b: float, dim: int) -> np.ndarray:
    """Cos-net connected four-point function (Halverson S15, corrected).

    G4c = [γ_a⁴ Σ_3 e^{−σ_b² |x^{±±}|²/2d} − 2σ_a⁴ Σ_3 e^{−σ_b² (|x_ij|² + |x_kl|²)/2d}] / (8N)

    with x^{±±} running over x1+x2−x3−x4, x1−x2+x3−x4, x1−x2−x3+x4 and (ij)(kl) over the three
    pairings (12)(34), (13)(24), (14)(23); γ_a⁴ = N² E[a⁴] = 3σ_a⁴ for Gaussian a. This follows
    from eqs. (23) and (27). The printed S15 repeats the (13)(24) pair term and omits (12)(34)
    and (14)(23); the expression here has the three distinct pairings (it vanishes, as it must,
    when the a are Gaussian and the points are far apart in pairs).

    Parameters
    ----------
    x1, x2, x3, x4 : array_like, shape (..., d)
        Points.
    m2, m4, width : float
        N E[a²], N² E[a⁴] and N.
    sigma_b, dim
        As for :func:`cosnet_g2`.

    Returns
    -------
    ndarray
    """
    xs = [point(x, dim) for x in (x1, x2, x3, x4)]
    return np.asarray(cosine_g4c(m2, m4, width, _char(sigma_b, dim), *xs))


def cosnet_g6c(*xs: ArrayLike, moments: tuple, width: float, sigma_b: float, dim: int) -> np.ndarray:
    """Cos-net connected six-point function (sixth joint cumulant), exactly O(1/N²).

    G6c = [m6 H6 − m4 m2 Σ_15 H4 H2 + 2 m2³ Σ_15 H2 H2 H2] / N² with the cosine moments of the
    module docstring and E[cos(b·v)] = exp(−σ_b² |v|²/2d).

    Parameters
    ----------
    *xs : array_like, shape (..., d)
        The six points x1, ..., x6.
    moments : (m2, m4, m6)
        Scaled moments of a (:func:`~nnqm_ppl.exact.analytic.iid.a_moments`).
    width, sigma_b, dim
        As for :func:`cosnet_g4c`.

    Returns
    -------
    ndarray
    """
    return np.asarray(cosine_g6c(moments, width, _char(sigma_b, dim), *(point(x, dim) for x in xs)))


def cosnet_field_neuron(x1, x2, y1, y2, *, m2: float, width: float, sigma_b: float, dim: int) -> np.ndarray:
    """Mixed field-neuron correlator ⟨φ(x1) φ(x2) h_i(y1) h_i(y2)⟩ of Cos-net.

    φ = Σ_j a_j h_j with i.i.d. neurons: only j = i (weight E[a²] = m2/N, moment H4) and j ≠ i
    (factorised, H2 H2) survive:

        (m2/N) H4(x1, x2, y1, y2) + (1 − 1/N) m2 H2(x1, x2) H2(y1, y2).

    (⟨φ(x) h_i(y)⟩ itself vanishes since E[a] = 0.)

    Parameters
    ----------
    x1, x2 : array_like, shape (..., d)
        Field points.
    y1, y2 : array_like, shape (..., d)
        Neuron points.
    m2, width, sigma_b, dim
        As for :func:`cosnet_g4c`.

    Returns
    -------
    ndarray
    """
    char = _char(sigma_b, dim)
    h2, h4 = cosine_h2(char), cosine_h4(char)
    x1, x2, y1, y2 = (point(v, dim) for v in (x1, x2, y1, y2))
    n = width
    return np.asarray(m2 / n * h4(x1, x2, y1, y2) + (1 - 1 / n) * m2 * h2(x1, x2) * h2(y1, y2))


def ib_cosnet_g4c(
    x1, x2, x3, x4, *, m2: float, m4: float, width: float, sigma_b: float, dim: int, epsilon: float
) -> np.ndarray:
    """Connected four-point function of Cos-net with independence breaking (Halverson eqs. 7-9).

    With b_i = sqrt(1 − ε²) b̃_i + ε b_0, G4c = I_N + I_IB where I_N is Cos-net's (each b_i has
    Cos-net's marginal) and, for u = x1 − x2, v = x3 − x4 (and the other two pairings),

        L_iijj − L_ii L_jj = ¼ e^{−σ_b² (|u|² + |v|²)/2d} [cosh(ε² σ_b² u·v / d) − 1],
        I_IB = m2² (1 − 1/N) Σ_3 (L_iijj − L_ii L_jj),

    which does not vanish as N → ∞ when ε > 0 and u·v ≠ 0.

    Parameters
    ----------
    x1, x2, x3, x4 : array_like, shape (..., d)
        Points.
    m2, m4, width, sigma_b, dim
        As for :func:`cosnet_g4c`.
    epsilon : float
        ε, the weight of the shared b_0.

    Returns
    -------
    ndarray
    """
    xs = [point(x, dim) for x in (x1, x2, x3, x4)]
    s2 = sigma_b**2 / dim
    ib = 0.0
    for i, j, k, l in PAIRINGS_4:
        u, v = xs[i] - xs[j], xs[k] - xs[l]
        uv = np.sum(u * v, axis=-1)
        excess = np.cosh(epsilon**2 * s2 * uv) - 1
        ib = ib + 0.25 * np.exp(-0.5 * s2 * (sq_norm(u) + sq_norm(v))) * excess
    i_n = cosnet_g4c(*xs, m2=m2, m4=m4, width=width, sigma_b=sigma_b, dim=dim)
    return i_n + m2**2 * (1 - 1 / width) * ib
