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

Everything here is float64 and depends on no other layer of the suite: every function takes
plain parameters (moments of a, widths, scales, masses) and points, never a spec; a neural-field
spec is turned into these parameters by the architecture registry of
:mod:`nnqm_ppl.theories.neural_field`, which also dispatches its ``g2``/``g4c``/``g6c``.

The formulas are split by architecture family: :mod:`~nnqm_ppl.exact.analytic.cosine` (cosine
neurons with F = 1 on a characteristic function, in ``jax.numpy`` so the network fits of
:mod:`nnqm_ppl.fitting` differentiate the same code; the Cauchy net and cos(t + θ)),
:mod:`~nnqm_ppl.exact.analytic.cosnet` (Cos-net, its field-neuron correlator, independence
breaking), :mod:`~nnqm_ppl.exact.analytic.free_scalar` (free scalar, NNFT oscillator),
:mod:`~nnqm_ppl.exact.analytic.gauss` (Gauss-net), :mod:`~nnqm_ppl.exact.analytic.nngp` (MLP
kernels) and :mod:`~nnqm_ppl.exact.analytic.iid` (weight moments, cumulant combinatorics). Every
public name is importable from this package.
"""

from nnqm_ppl.exact.analytic.cosine import (
    cauchy_char,
    cauchy_g2,
    cauchy_g4c,
    cauchy_g6c,
    cos_theta_char,
    cos_theta_g2,
    cos_theta_g4c,
    cos_theta_g6c,
    cosine_g2,
    cosine_g4c,
    cosine_g6c,
    gauss_char,
)
from nnqm_ppl.exact.analytic.cosnet import cosnet_field_neuron, cosnet_g2, cosnet_g4c, cosnet_g6c, ib_cosnet_g4c
from nnqm_ppl.exact.analytic.free_scalar import ball_volume, free_scalar_g2, free_scalar_radial, nnft_ho_g2
from nnqm_ppl.exact.analytic.gauss import gaussnet_g2, gaussnet_g4c
from nnqm_ppl.exact.analytic.iid import a_moments
from nnqm_ppl.exact.analytic.nngp import mlp_g2, nngp_g2_quadrature

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
    "cauchy_g4c",
    "cauchy_g6c",
    "free_scalar_g2",
    "nnft_ho_g2",
    "cos_theta_g2",
    "cos_theta_g4c",
    "cos_theta_g6c",
    "mlp_g2",
    "nngp_g2_quadrature",
    "ball_volume",
    "gauss_char",
    "cauchy_char",
    "cos_theta_char",
    "cosine_g2",
    "cosine_g4c",
    "cosine_g6c",
    "free_scalar_radial",
]
