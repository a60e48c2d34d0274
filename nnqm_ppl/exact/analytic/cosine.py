"""Closed forms of the cosine-neuron ensembles: Cos-net (also with independence breaking), the
free scalar and NNFT oscillator, the Cauchy net and cos(t + θ).

For h = F(b) cos(b·x + c), c ~ U[−π, π], the neuron moments H_2, H_4, H_6 are values of the
characteristic function E[cos(b·v)] of P(b) (F = 1; Halverson eq. 23). The formulas are written
in ``jax.numpy`` on plain parameters (:func:`gauss_char`, :func:`cauchy_char`,
:func:`cosine_g2`, :func:`cosine_g4c`, :func:`cosine_g6c`, :func:`free_scalar_radial`), so the
network fits differentiate the same code; the spec-taking functions call them and return NumPy
arrays.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from nnqm_ppl.exact.analytic.iid import PAIRINGS_4, a_moments, iid_g4c, iid_g6c, point, sq_norm

if TYPE_CHECKING:
    from nnqm_ppl.spec import NeuralFieldSpec

__all__ = [
    "gauss_char",
    "cauchy_char",
    "cosine_g2",
    "cosine_g4c",
    "cosine_g6c",
    "free_scalar_radial",
    "cosnet_g2",
    "cosnet_g4c",
    "cosnet_g6c",
    "cosnet_field_neuron",
    "ib_cosnet_g4c",
    "ball_volume",
    "free_scalar_g2",
    "nnft_ho_g2",
    "cauchy_g2",
    "cos_theta_g2",
    "f1_char",
]

#: E[cos(b·v)] as a function of v (shape (..., d)): the characteristic function of P(b).
Char = Callable[[ArrayLike], ArrayLike]


def _cos_h2(char: Char) -> Callable:
    return lambda x, y: 0.5 * char(x - y)


def _cos_h4(char: Char) -> Callable:
    def h4(x1, x2, x3, x4):
        return (char(x1 + x2 - x3 - x4) + char(x1 - x2 + x3 - x4) + char(x1 - x2 - x3 + x4)) / 8

    return h4


def _cos_h6(char: Char) -> Callable:
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


def _cos_theta_char(v: ArrayLike) -> ArrayLike:
    """E[cos(b v)] for b = 1: cos v."""
    return jnp.cos(v[..., 0])


def cosine_g2(m2: ArrayLike, char: Char, x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """G2 = m2 H2 = (m2/2) E[cos(b·(x − y))] of cosine neurons with F = 1 (Halverson eq. 23).

    Parameters
    ----------
    m2 : float or jax scalar
        N E[a²].
    char : callable
        E[cos(b·v)] (:func:`gauss_char`, :func:`cauchy_char`, ...).
    x, y : array, shape (..., d)
        Points (broadcast).

    Returns
    -------
    jax.Array
    """
    return m2 * _cos_h2(char)(x, y)


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
    return iid_g4c(m2, m4, width, _cos_h2(char), _cos_h4(char), [x1, x2, x3, x4])


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
    return iid_g6c(ms, width, _cos_h2(char), _cos_h4(char), _cos_h6(char), xs)


def _spec_char(spec: NeuralFieldSpec) -> Char:
    """Cos-net's characteristic function with the spec's σ_b and d."""
    return functools.partial(gauss_char, sigma_b=spec.sigma_b, dim=spec.dim)


# --------------------------------------------------------------------------------------------
# Cos-net and independence breaking
# --------------------------------------------------------------------------------------------


def cosnet_g2(spec: NeuralFieldSpec, x: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Cos-net two-point function G2 = (m2/2) exp(−σ_b² |x − y|² / 2d) (Halverson S11).

    Parameters
    ----------
    spec : NeuralFieldSpec
        Uses ``sigma_a`` (through m2 = N E[a²]), ``sigma_b``, ``dim``.
    x, y : array_like, shape (..., d)
        Points (broadcast).

    Returns
    -------
    ndarray
    """
    m2 = a_moments(spec)[0]
    return np.asarray(cosine_g2(m2, _spec_char(spec), point(x, spec.dim), point(y, spec.dim)))


def cosnet_g4c(spec: NeuralFieldSpec, x1, x2, x3, x4) -> np.ndarray:
    """Cos-net connected four-point function (Halverson S15, corrected).

    G4c = [γ_a⁴ Σ_3 e^{−σ_b² |x^{±±}|²/2d} − 2σ_a⁴ Σ_3 e^{−σ_b² (|x_ij|² + |x_kl|²)/2d}] / (8N)

    with x^{±±} running over x1+x2−x3−x4, x1−x2+x3−x4, x1−x2−x3+x4 and (ij)(kl) over the three
    pairings (12)(34), (13)(24), (14)(23); γ_a⁴ = N² E[a⁴] = 3σ_a⁴ for Gaussian a. This follows
    from eqs. (23) and (27). The printed S15 repeats the (13)(24) pair term and omits (12)(34)
    and (14)(23); the expression here has the three distinct pairings (it vanishes, as it must,
    when the a are Gaussian and the points are far apart in pairs).

    Parameters
    ----------
    spec : NeuralFieldSpec
        Uses ``width`` N, ``sigma_a``/``a_prior``/``a_modes`` (through m2, m4), ``sigma_b``,
        ``dim``.
    x1, x2, x3, x4 : array_like, shape (..., d)
        Points.

    Returns
    -------
    ndarray
    """
    m2, m4, _ = a_moments(spec)
    xs = [point(x, spec.dim) for x in (x1, x2, x3, x4)]
    return np.asarray(cosine_g4c(m2, m4, spec.width, _spec_char(spec), *xs))


def cosnet_g6c(spec: NeuralFieldSpec, x1, x2, x3, x4, x5, x6) -> np.ndarray:
    """Cos-net connected six-point function (sixth joint cumulant), exactly O(1/N²).

    G6c = [m6 H6 − m4 m2 Σ_15 H4 H2 + 2 m2³ Σ_15 H2 H2 H2] / N² with the cosine moments of the
    module docstring and E[cos(b·v)] = exp(−σ_b² |v|²/2d).

    Parameters
    ----------
    spec : NeuralFieldSpec
        As for :func:`cosnet_g4c`.
    x1, ..., x6 : array_like, shape (..., d)
        Points.

    Returns
    -------
    ndarray
    """
    xs = [point(x, spec.dim) for x in (x1, x2, x3, x4, x5, x6)]
    return np.asarray(cosine_g6c(a_moments(spec), spec.width, _spec_char(spec), *xs))


def cosnet_field_neuron(spec: NeuralFieldSpec, x1, x2, y1, y2) -> np.ndarray:
    """Mixed field-neuron correlator ⟨φ(x1) φ(x2) h_i(y1) h_i(y2)⟩ of Cos-net.

    φ = Σ_j a_j h_j with i.i.d. neurons: only j = i (weight E[a²] = m2/N, moment H4) and j ≠ i
    (factorised, H2 H2) survive:

        (m2/N) H4(x1, x2, y1, y2) + (1 − 1/N) m2 H2(x1, x2) H2(y1, y2).

    (⟨φ(x) h_i(y)⟩ itself vanishes since E[a] = 0.)

    Parameters
    ----------
    spec : NeuralFieldSpec
        As for :func:`cosnet_g4c`.
    x1, x2 : array_like, shape (..., d)
        Field points.
    y1, y2 : array_like, shape (..., d)
        Neuron points.

    Returns
    -------
    ndarray
    """
    m2 = a_moments(spec)[0]
    char = _spec_char(spec)
    h2, h4 = _cos_h2(char), _cos_h4(char)
    x1, x2, y1, y2 = (point(v, spec.dim) for v in (x1, x2, y1, y2))
    n = spec.width
    return np.asarray(m2 / n * h4(x1, x2, y1, y2) + (1 - 1 / n) * m2 * h2(x1, x2) * h2(y1, y2))


def ib_cosnet_g4c(spec: NeuralFieldSpec, x1, x2, x3, x4) -> np.ndarray:
    """Connected four-point function of Cos-net with independence breaking (Halverson eqs. 7-9).

    With b_i = sqrt(1 − ε²) b̃_i + ε b_0, G4c = I_N + I_IB where I_N is Cos-net's (each b_i has
    Cos-net's marginal) and, for u = x1 − x2, v = x3 − x4 (and the other two pairings),

        L_iijj − L_ii L_jj = ¼ e^{−σ_b² (|u|² + |v|²)/2d} [cosh(ε² σ_b² u·v / d) − 1],
        I_IB = m2² (1 − 1/N) Σ_3 (L_iijj − L_ii L_jj),

    which does not vanish as N → ∞ when ε > 0 and u·v ≠ 0.

    Parameters
    ----------
    spec : NeuralFieldSpec
        Uses ``width``, ``epsilon``, ``sigma_a``/``a_prior``/``a_modes``, ``sigma_b``, ``dim``.
    x1, x2, x3, x4 : array_like, shape (..., d)
        Points.

    Returns
    -------
    ndarray
    """
    m2 = a_moments(spec)[0]
    xs = [point(x, spec.dim) for x in (x1, x2, x3, x4)]
    s2 = spec.sigma_b**2 / spec.dim
    ib = 0.0
    for i, j, k, l in PAIRINGS_4:
        u, v = xs[i] - xs[j], xs[k] - xs[l]
        uv = np.sum(u * v, axis=-1)
        excess = np.cosh(spec.epsilon**2 * s2 * uv) - 1
        ib = ib + 0.25 * np.exp(-0.5 * s2 * (sq_norm(u) + sq_norm(v))) * excess
    return cosnet_g4c(spec, *xs) + m2**2 * (1 - 1 / spec.width) * ib


# --------------------------------------------------------------------------------------------
# Free scalar, Cauchy, NNFT oscillator, cos(t + θ)
# --------------------------------------------------------------------------------------------


def ball_volume(dim: int, radius: float) -> float:
    """Volume of the d-ball of radius Λ, π^{d/2} Λ^d / Γ(d/2 + 1)."""
    return math.pi ** (dim / 2) * radius**dim / math.gamma(dim / 2 + 1)


def _radial(dim: int, kr: ArrayLike) -> ArrayLike:
    """Angular average of cos(k·r) over the sphere: cos, J0, sin(x)/x for d = 1, 2, 3 (d = 2: NumPy)."""
    if dim == 1:
        return jnp.cos(kr)
    if dim == 2:
        return special.j0(kr)
    return jnp.sinc(kr / np.pi)


_PANEL = np.polynomial.legendre.leggauss(32)


def _composite_gauss_legendre(upper: float, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights on [0, upper]: equal panels of 32-point Gauss-Legendre."""
    panels = max(1, nodes // 32)
    edges = np.linspace(0.0, upper, panels + 1)
    half = 0.5 * np.diff(edges)
    mid = 0.5 * (edges[1:] + edges[:-1])
    k = (mid[:, None] + half[:, None] * _PANEL[0][None]).ravel()
    w = (half[:, None] * _PANEL[1][None]).ravel()
    return k, w


_SPHERE = {1: 2.0, 2: 2 * math.pi, 3: 4 * math.pi}  # area of the unit sphere S^{d−1}


def free_scalar_radial(
    r: ArrayLike, m2: ArrayLike, mass: ArrayLike, cutoff: float, dim: int = 1, *,
    kmax: float | None = None, quad_nodes: int = 4000,
) -> ArrayLike:
    """Free-scalar G2(r) = m2/(2 V_d(Λ)) ∫_{|k|<k_max} d^dk cos(k·r)/(k² + m²) (eq. 29).

    By composite Gauss-Legendre quadrature in |k| (:func:`free_scalar_g2`); differentiable in
    m2 and the mass (d = 1, 3; d = 2 uses SciPy's J0).

    Parameters
    ----------
    r : array
        Distances |x − y|.
    m2, mass : float or jax scalar
        N E[a²] and m.
    cutoff : float
        Λ of the ensemble (in V_d(Λ)).
    dim : {1, 2, 3}
        d.
    kmax : float, optional
        Finite integration cutoff (default Λ).
    quad_nodes : int
        Number of Gauss-Legendre nodes.

    Returns
    -------
    jax.Array, shape of r
    """
    k, w = _composite_gauss_legendre(cutoff if kmax is None else kmax, quad_nodes)
    integrand = k ** (dim - 1) / (k**2 + mass**2) * _radial(dim, r[..., None] * k)
    return m2 / (2 * ball_volume(dim, cutoff)) * _SPHERE[dim] * integrand @ w


def free_scalar_g2(
    spec: NeuralFieldSpec, x: ArrayLike, y: ArrayLike, cutoff: float | None = None,
    quad_nodes: int = 4000,
) -> np.ndarray:
    """Free-scalar two-point function of the cosine network with eq. (29), d = 1, 2, 3.

    G2(r) = m2/(2 V_d(Λ)) ∫_{|k|<Λ} d^dk cos(k·r)/(k² + m²),  V_d(Λ) = vol(B^d_Λ),

    evaluated for finite Λ as a 1-D composite Gauss-Legendre quadrature in |k| of
    S_{d−1} k^{d−1} f_d(kr)/(k² + m²) (f_1 = cos, f_2 = J0, f_3 = sinc; S_{d−1} = 2, 2π, 4π);
    the quadrature error (below 1e-12 relative for Λr ≲ 100 at 4000 nodes) is far below any
    Monte Carlo error. With ``cutoff=math.inf`` the integral takes its Λ → ∞ value,
    (2π)^d G_free(r): π e^{−mr}/m, 2π K0(mr), 2π² e^{−mr}/r, times m2/(2 V_d(Λ_spec)) — the
    leading large-Λ form (eq. 30), exact up to O(1/(Λ r)) oscillating tails.

    Parameters
    ----------
    spec : NeuralFieldSpec
        Uses ``dim``, ``mass``, ``cutoff`` (Λ of the ensemble), ``sigma_a``/``a_prior``.
    x, y : array_like, shape (..., d)
        Points.
    cutoff : float, optional
        Integration cutoff; default ``spec.cutoff``; ``math.inf`` for the continuum form.
    quad_nodes : int
        Number of Gauss-Legendre nodes.

    Returns
    -------
    ndarray
    """
    d, m, lam = spec.dim, spec.mass, spec.cutoff
    if d not in _SPHERE:
        raise ValueError(f"free_scalar closed form needs dim in 1, 2, 3; got {d}")
    r = np.sqrt(sq_norm(point(x, d) - point(y, d)))
    m2 = a_moments(spec)[0]
    if cutoff is not None and math.isinf(cutoff):
        if d == 1:
            integral = math.pi * np.exp(-m * r) / m
        elif d == 2:
            integral = 2 * math.pi * special.k0(m * r)
        else:
            integral = 2 * math.pi**2 * np.exp(-m * r) / r
        return m2 / (2 * ball_volume(d, lam)) * integral
    return np.asarray(free_scalar_radial(r, m2, m, lam, d, kmax=cutoff, quad_nodes=quad_nodes))


def nnft_ho_g2(
    spec: NeuralFieldSpec, t1: ArrayLike, t2: ArrayLike, quad_nodes: int = 4000
) -> np.ndarray:
    """NNFT oscillator two-point function (Hashimoto eq. 2.5, normalised), finite Λ.

    G2(τ) = m2/(4Λ) ∫_{−Λ}^{Λ} db cos(bτ)/(b² + ω²), ω = ``spec.mass`` (= sqrt(k/m)); the
    factor 1/(4Λ) = ½ · 1/(2Λ) is ½ from the c-average and the U(−Λ, Λ) density that eq. (2.5)
    leaves out. As Λ → ∞, 4Λ G2/m2 → (π/ω) e^{−ω|τ|}, the oscillator propagator. Same
    quadrature (and error) as :func:`free_scalar_g2` with d = 1.

    Parameters
    ----------
    spec : NeuralFieldSpec
        Uses ``mass`` (ω), ``cutoff`` (Λ), ``sigma_a``/``a_prior``.
    t1, t2 : array_like
        Times.
    quad_nodes : int
        Number of Gauss-Legendre nodes.

    Returns
    -------
    ndarray
    """
    return free_scalar_g2(spec, t1, t2, quad_nodes=quad_nodes)


def cauchy_g2(spec: NeuralFieldSpec, t1: ArrayLike, t2: ArrayLike) -> np.ndarray:
    """Cauchy-net two-point function G2(τ) = (m2/2) e^{−m|τ|} (Halverson eqs. 31-33).

    With the normalised P(b) = m/(π(b² + m²)), E[cos(bτ)] = e^{−m|τ|}; its Fourier transform
    (σ_a²/2) 2m/(p² + m²) = σ_a² m/(p² + m²) is eq. (32) exactly.

    Parameters
    ----------
    spec : NeuralFieldSpec
        Uses ``mass``, ``sigma_a``/``a_prior``.
    t1, t2 : array_like
        Times.

    Returns
    -------
    ndarray
    """
    char = functools.partial(cauchy_char, mass=spec.mass)
    return np.asarray(cosine_g2(a_moments(spec)[0], char, point(t1, 1), point(t2, 1)))


def cos_theta_g2(spec: NeuralFieldSpec, t1: ArrayLike, t2: ArrayLike) -> np.ndarray:
    """G2 of φ = N^{-1/2} Σ_i cos(t + θ_i), θ_i ~ U[0, 2π]: cos(t1 − t2)/2 at every N.

    Parameters
    ----------
    spec : NeuralFieldSpec
        Unused except for its type (kept for the dispatcher's uniform signature).
    t1, t2 : array_like
        Times.

    Returns
    -------
    ndarray
    """
    return np.asarray(cosine_g2(1.0, _cos_theta_char, point(t1, 1), point(t2, 1)))


def f1_char(spec: NeuralFieldSpec) -> Char | None:
    """E[cos(b·v)] for the F = 1 cosine ensembles other than Cos-net, else None."""
    if spec.architecture == "cauchy":
        return functools.partial(cauchy_char, mass=spec.mass)
    if spec.architecture == "cos_theta":
        return _cos_theta_char
    return None
