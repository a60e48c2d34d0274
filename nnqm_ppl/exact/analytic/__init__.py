"""Closed-form correlators of the neural-network field ensembles.

For a field φ = Σ_i a_i h_i(x) of i.i.d. neurons with even P(a), write m_k = N^{k/2} E[a^k]
(m_2 = σ_a², m_4 = γ_a⁴ of Halverson's eq. 8; Gaussian a has m_4 = 3σ_a⁴, m_6 = 15σ_a⁶) and
H_k for the neuron moments E[h(x_1)...h(x_k)]. Cumulants of a sum of i.i.d. terms add, so

    G2 = m_2 H_2,
    G4c = (m_4 H_4 − m_2² Σ_3 H_2 H_2) / N                          (Halverson eqs. 7-8),
    G6c = (m_6 H_6 − m_4 m_2 Σ_15 H_4 H_2 + 2 m_2³ Σ_15 H_2 H_2 H_2) / N²,

exactly, at every N. For cosine neurons h = F(b) cos(b·x + c), c ~ U[−π, π], the c-average of
a product of 2n cosines keeps the sign patterns whose phases cancel (eq. 23):
H_2 = ½ E[F² cos(b·x_12)], H_4 = ⅛ E[F⁴ Σ_3 cos(b·x^{++−−})], H_6 = 1/32 E[F⁶ Σ_10 cos(...)].
With F = 1 these are values of the characteristic function of P(b).

Everything here is float64 and depends on no other layer of the suite; a spec is read only
through its attributes, and every spec-taking function returns NumPy arrays.

The formulas are split by architecture family: :mod:`~nnqm_ppl.exact.analytic.cosine` (Cos-net,
independence breaking, free scalar, NNFT oscillator, Cauchy, cos(t + θ); written in
``jax.numpy`` on plain parameters, which the network fits of :mod:`nnqm_ppl.fitting` call too),
:mod:`~nnqm_ppl.exact.analytic.gauss` (Gauss-net), :mod:`~nnqm_ppl.exact.analytic.nngp` (MLP
kernels) and :mod:`~nnqm_ppl.exact.analytic.iid` (weight moments, cumulant combinatorics). This
module dispatches on a spec's architecture (:func:`g2`, :func:`g4c`, :func:`g6c`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from nnqm_ppl.exact.analytic.cosine import (
    ball_volume,
    cauchy_char,
    cauchy_g2,
    cos_theta_g2,
    cosine_g2,
    cosine_g4c,
    cosine_g6c,
    cosnet_field_neuron,
    cosnet_g2,
    cosnet_g4c,
    cosnet_g6c,
    f1_char,
    free_scalar_g2,
    free_scalar_radial,
    gauss_char,
    ib_cosnet_g4c,
    nnft_ho_g2,
)
from nnqm_ppl.exact.analytic.gauss import gaussnet_g2, gaussnet_g4c
from nnqm_ppl.exact.analytic.iid import a_moments, point
from nnqm_ppl.exact.analytic.nngp import mlp_g2, nngp_g2_quadrature

if TYPE_CHECKING:
    from nnqm_ppl.spec import NeuralFieldSpec

__all__ = [
    "a_moments",
    "cosnet_g2",
    "cosnet_g4c",
    "cosnet_g6c",
    "cosnet_field_neuron",
    "gaussnet_g2",
    "gaussnet_g4c",
    "ib_cosnet_g4c",
    "cauchy_g2",
    "free_scalar_g2",
    "nnft_ho_g2",
    "cos_theta_g2",
    "mlp_g2",
    "nngp_g2_quadrature",
    "ball_volume",
    "gauss_char",
    "cauchy_char",
    "cosine_g2",
    "cosine_g4c",
    "cosine_g6c",
    "free_scalar_radial",
    "g2",
    "g4c",
    "g6c",
]


def g2(spec: NeuralFieldSpec, x: ArrayLike, y: ArrayLike) -> np.ndarray | None:
    """Exact two-point function of a ``neural_field`` spec, or None where no closed form exists.

    Parameters
    ----------
    spec : NeuralFieldSpec
        The model.
    x, y : array_like, shape (..., d)
        Points (for d = 1 also scalars).

    Returns
    -------
    ndarray or None
        ``free_scalar`` and ``nnft_ho`` at the spec's finite cutoff (quadrature);
        ``ib_cosnet`` equals Cos-net; ``mlp`` with tanh is None.
    """
    table = {
        "cosnet": cosnet_g2,
        "ib_cosnet": cosnet_g2,
        "gaussnet": gaussnet_g2,
        "free_scalar": free_scalar_g2,
        "nnft_ho": nnft_ho_g2,
        "cauchy": cauchy_g2,
        "cos_theta": cos_theta_g2,
        "mlp": mlp_g2,
    }
    fn = table.get(spec.architecture)
    return None if fn is None else fn(spec, x, y)


def g4c(spec: NeuralFieldSpec, x1, x2, x3, x4) -> np.ndarray | None:
    """Exact connected four-point function of a spec, or None where no closed form exists.

    Closed forms: Cos-net and Gauss-net (S14, S15 corrected), Cos-net with independence breaking
    (eqs. 7-9), the Cauchy net and cos(t + θ) (cosine neurons with F = 1, whose b-average is the
    characteristic function e^{−m|v|}, resp. b = 1).

    Parameters
    ----------
    spec : NeuralFieldSpec
        The model.
    x1, x2, x3, x4 : array_like, shape (..., d)
        Points.

    Returns
    -------
    ndarray or None
    """
    arch = spec.architecture
    xs = (x1, x2, x3, x4)
    if arch == "cosnet":
        return cosnet_g4c(spec, *xs)
    if arch == "gaussnet":
        return gaussnet_g4c(spec, *xs)
    if arch == "ib_cosnet":
        return ib_cosnet_g4c(spec, *xs)
    char = f1_char(spec)
    if char is None:
        return None
    m2, m4, _ = a_moments(spec)
    pts = [point(x, spec.dim) for x in xs]
    return np.asarray(cosine_g4c(m2, m4, spec.width, char, *pts))


def g6c(spec: NeuralFieldSpec, x1, x2, x3, x4, x5, x6) -> np.ndarray | None:
    """Exact connected six-point function for the i.i.d. F = 1 cosine ensembles, else None.

    Parameters
    ----------
    spec : NeuralFieldSpec
        The model (``cosnet``, ``cauchy`` or ``cos_theta``).
    x1, ..., x6 : array_like, shape (..., d)
        Points.

    Returns
    -------
    ndarray or None
    """
    xs = (x1, x2, x3, x4, x5, x6)
    if spec.architecture == "cosnet":
        return cosnet_g6c(spec, *xs)
    char = f1_char(spec)
    if char is None:
        return None
    pts = [point(x, spec.dim) for x in xs]
    return np.asarray(cosine_g6c(a_moments(spec), spec.width, char, *pts))

