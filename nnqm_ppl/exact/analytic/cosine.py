"""Cosine neurons with F = 1: the cumulant formulas on a characteristic function, the Cauchy net
and cos(t + θ).

For h = cos(b·x + c), c ~ U[−π, π], the neuron moments H_2, H_4, H_6 are values of the
characteristic function E[cos(b·v)] of P(b) (Halverson eq. 23). The formulas are written in
``jax.numpy`` on plain parameters (:func:`gauss_char`, :func:`cauchy_char`,
:func:`cos_theta_char`, :func:`cosine_g2`, :func:`cosine_g4c`, :func:`cosine_g6c`), so the
network fits differentiate the same code; the per-architecture functions here and in
:mod:`~nnqm_ppl.exact.analytic.cosnet` bind the parameters and return NumPy arrays.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from nnqm_ppl.exact.analytic.iid import iid_g4c, iid_g6c, point, sq_norm

__all__ = [
    "Char",
    "gauss_char",
    "cauchy_char",
    "cos_theta_char",
    "cosine_g2",
    "cosine_g4c",
    "cosine_g6c",
    "cosine_h2",
    "cosine_h4",
    "cauchy_g2",
    "cauchy_g4c",
    "cauchy_g6c",
    "cos_theta_g2",
    "cos_theta_g4c",
    "cos_theta_g6c",
]

#: E[cos(b·v)] as a function of v (shape (..., d)): the characteristic function of P(b).
Char = Callable[[ArrayLike], ArrayLike]


def cosine_h2(char: Char) -> Callable:
    """H2(x, y) = ½ E[cos(b·(x − y))] of cosine neurons with F = 1 (eq. 23)."""
    return lambda x, y: 0.5 * char(x - y)


def cosine_h4(char: Char) -> Callable:
    """H4 = ⅛ Σ_3 E[cos(b·x^{±±})] over x1+x2−x3−x4, x1−x2+x3−x4, x1−x2−x3+x4 (eq. 23)."""
    def h4(x1, x2, x3, x4):
        return (char(x1 + x2 - x3 - x4) + char(x1 - x2 + x3 - x4) + char(x1 - x2 - x3 + x4)) / 8

    return h4


def _cos_h6(char: Char) -> Callable:
    """H6 = 1/32 Σ_10 E[cos(b·x^{+±±±±±})] over the sign patterns with three + (eq. 23)."""
    def h6(*xs):
        tot = 0.0
        for plus in itertools.combinations(range(1, 6), 2):
            s = [1 if (k == 0 or k in plus) else -1 for k in range(6)]
            tot = tot + char(sum(sk * xk for sk, xk in zip(s, xs, strict=True)))
        return tot / 32

    return h6


# --------------------------------------------------------------------------------------------
# The formulas on plain parameters (jax.numpy: differentiable, also used by the network fits)
# --------------------------------------------------------------------------------------------


def gauss_char(v: ArrayLike, sigma_b: ArrayLike, dim: int) -> ArrayLike:
    """E[cos(b·v)] for b ~ N(0, σ_b²/d) per component: exp(−σ_b² |v|² / 2d) (Cos-net).

    Parameters
    ----------
    v : array, shape (..., d)
    sigma_b : float or jax scalar
    dim : int
        d.

    Returns
    -------
    jax.Array, shape (...)
    """
    return jnp.exp(-(sigma_b**2) * sq_norm(v) / (2 * dim))


def cauchy_char(v: ArrayLike, mass: ArrayLike) -> ArrayLike:
    """E[cos(b v)] for the Cauchy P(b) = m/(π(b² + m²)): e^{−m|v|} (Halverson eqs. 31-33).

    Parameters
    ----------
    v : array, shape (..., 1)
    mass : float or jax scalar

    Returns
    -------
    jax.Array, shape (...)
    """
    return jnp.exp(-mass * jnp.abs(v[..., 0]))


def cos_theta_char(v: ArrayLike) -> ArrayLike:
    """E[cos(b v)] for b = 1: cos v (the phases of φ = N^{-1/2} Σ_i cos(t + θ_i))."""
    return jnp.cos(v[..., 0])


def cosine_g2(m2: ArrayLike, char: Char, x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """G2 = m2 H2 = (m2/2) E[cos(b·(x − y))] of cosine neurons with F = 1 (Halverson eq. 23).

    Parameters
    ----------
    m2 : float or jax scalar
        N E[a²].
    char : callable
        E[cos(b·v)] (:func:`gauss_char`, :func:`cauchy_char`, :func:`cos_theta_char`).
    x, y : array, shape (..., d)
        Points (broadcast).

    Returns
    -------
    jax.Array
    """
    return m2 * cosine_h2(char)(x, y)


def cosine_g4c(m2: ArrayLike, m4: ArrayLike, width: ArrayLike, char: Char, x1, x2, x3, x4) -> ArrayLike:
    """G4c = (m4 H4 − m2² Σ_3 H2 H2)/N of cosine neurons with F = 1 (Halverson eqs. 8, 23).

    H4 = ⅛ Σ_3 E[cos(b·x^{±±})] over x1+x2−x3−x4, x1−x2+x3−x4, x1−x2−x3+x4.

    Parameters
    ----------
    m2, m4 : float or jax scalar
        N E[a²], N² E[a⁴] (Gaussian a: m4 = 3 m2²).
    width : float or jax scalar
        N.
    char : callable
        E[cos(b·v)].
    x1, x2, x3, x4 : array, shape (..., d)
        Points.

    Returns
    -------
    jax.Array
    """
    return iid_g4c(m2, m4, width, cosine_h2(char), cosine_h4(char), [x1, x2, x3, x4])


def cosine_g6c(ms: tuple, width: ArrayLike, char: Char, x1, x2, x3, x4, x5, x6) -> ArrayLike:
    """G6c = [m6 H6 − m4 m2 Σ_15 H4 H2 + 2 m2³ Σ_15 H2 H2 H2]/N² of cosine neurons with F = 1.

    H6 = 1/32 Σ_10 E[cos(b·x^{+±±±±±})] over the sign patterns with three + (eq. 23).

    Parameters
    ----------
    ms : (m2, m4, m6)
        Scaled moments of a (:func:`~nnqm_ppl.exact.analytic.iid.a_moments`).
    width : float or jax scalar
        N.
    char : callable
        E[cos(b·v)].
    x1, ..., x6 : array, shape (..., d)
        Points.

    Returns
    -------
    jax.Array
    """
    xs = [x1, x2, x3, x4, x5, x6]
    return iid_g6c(ms, width, cosine_h2(char), cosine_h4(char), _cos_h6(char), xs)


# --------------------------------------------------------------------------------------------
# Cauchy net and cos(t + θ)
# --------------------------------------------------------------------------------------------


def cauchy_g2(t1: ArrayLike, t2: ArrayLike, *, m2: float, mass: float) -> np.ndarray:
    """Cauchy-net two-point function G2(τ) = (m2/2) e^{−m|τ|} (Halverson eqs. 31-33).

    With the normalised P(b) = m/(π(b² + m²)), E[cos(bτ)] = e^{−m|τ|}; its Fourier transform
    (σ_a²/2) 2m/(p² + m²) = σ_a² m/(p² + m²) is eq. (32) exactly.

    Parameters
    ----------
    t1, t2 : array_like
        Times.
    m2 : float
        N E[a²] (:func:`~nnqm_ppl.exact.analytic.iid.a_moments`).
    mass : float
        m of P(b).

    Returns
    -------
    ndarray
    """
    char = functools.partial(cauchy_char, mass=mass)
    return np.asarray(cosine_g2(m2, char, point(t1, 1), point(t2, 1)))


def cos_theta_g2(t1: ArrayLike, t2: ArrayLike) -> np.ndarray:
    """G2 of φ = N^{-1/2} Σ_i cos(t + θ_i), θ_i ~ U[0, 2π]: cos(t1 − t2)/2 at every N.

    Parameters
    ----------
    t1, t2 : array_like
        Times.

    Returns
    -------
    ndarray
    """
    return np.asarray(cosine_g2(1.0, cos_theta_char, point(t1, 1), point(t2, 1)))


def cauchy_g4c(x1, x2, x3, x4, *, m2: float, m4: float, width: float, mass: float) -> np.ndarray:
    """Cauchy-net G4c: :func:`cosine_g4c` with E[cos(bv)] = e^{−m|v|} (eqs. 8, 23, 31).

    Parameters
    ----------
    x1, x2, x3, x4 : array_like
        Times.
    m2, m4 : float
        N E[a²], N² E[a⁴].
    width : float
        N.
    mass : float
        m of P(b).

    Returns
    -------
    ndarray
    """
    char = functools.partial(cauchy_char, mass=mass)
    return np.asarray(cosine_g4c(m2, m4, width, char, *(point(x, 1) for x in (x1, x2, x3, x4))))


def cauchy_g6c(*xs: ArrayLike, moments: tuple, width: float, mass: float) -> np.ndarray:
    """Cauchy-net G6c: :func:`cosine_g6c` with E[cos(bv)] = e^{−m|v|}, at six times ``xs``."""
    char = functools.partial(cauchy_char, mass=mass)
    return np.asarray(cosine_g6c(moments, width, char, *(point(x, 1) for x in xs)))


def cos_theta_g4c(x1, x2, x3, x4, *, width: float) -> np.ndarray:
    """G4c of φ = N^{-1/2} Σ_i cos(t + θ_i): :func:`cosine_g4c` with b = 1, m2 = m4 = 1."""
    return np.asarray(cosine_g4c(1.0, 1.0, width, cos_theta_char, *(point(x, 1) for x in (x1, x2, x3, x4))))


def cos_theta_g6c(*xs: ArrayLike, width: float) -> np.ndarray:
    """G6c of φ = N^{-1/2} Σ_i cos(t + θ_i): :func:`cosine_g6c` with b = 1, m2 = m4 = m6 = 1."""
    return np.asarray(cosine_g6c((1.0, 1.0, 1.0), width, cos_theta_char, *(point(x, 1) for x in xs)))
