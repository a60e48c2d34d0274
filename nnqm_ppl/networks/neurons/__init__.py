"""Fields built out of random neurons, φ(x) = Σ_i a_i h_i(x), as NumPyro generative models.

Every architecture is a :class:`Network`: a NumPyro ``prior`` (a plain model function in which
every parameter of one network is a ``numpyro.sample`` site, so ``seed``, ``trace``,
``condition`` and ``Predictive`` work), a pure ``neurons(params, x)`` giving the post-activations
h_i(x) and a pure ``readout(params)`` giving the output weights a_i. Both are vectorised over the
input points and over any leading batch of draws, so ``forward(params, x) = Σ_i a_i h_i(x)``
evaluates many networks at many points in one call.

Architectures (Halverson, "Building Quantum Field Theories Out of Neurons", 2021;
Hashimoto et al. 2024 for ``nnft_ho``):

- cosine neurons h_i(x) = F(b_i) cos(b_i·x + c_i), c_i ~ U[−π, π] (eqs. 18, 24):
  :func:`cosine_network` for any F and any NumPyro distribution of b, with the special cases
  Cos-net (F = 1, b ~ N(0, σ_b²/d), eq. S10), the free scalar (F = 1/sqrt(b² + m²), b uniform
  in the d-ball of radius Λ, eq. 29), the d = 1 Cauchy net (F = 1, P(b) ∝ 1/(b² + m²), eq. 31)
  and the NNFT harmonic oscillator (Hashimoto eq. 2.1, b ~ U(−Λ, Λ));
- Gauss-net, h_i(x) = exp(b_i·x + c_i) / sqrt(exp(2(σ_c² + σ_b² x²/d))) (eqs. S12-S13);
- single-hidden-layer NNGP networks h_i(x) = act(w_i·x + b_i), act ∈ {erf, relu, tanh};
- the toy φ_θ(t) = cos(t + θ), θ ~ U[0, 2π], generalised to width N as N^{-1/2} Σ_i cos(t + θ_i);
- Cos-net with independence breaking: b_i = sqrt(1 − ε²) b̃_i + ε b_0 with one shared b_0 per
  network (each b_i keeps Cos-net's marginal, but the neurons are dependent, so the I_IB term of
  eq. 9 survives N → ∞).

P(a) is N(0, σ_a²/N) by default, or the even bimodal mixture of :func:`a_distribution`.

Draws are exact: :func:`sample_params` and :func:`sample_fields` give network ``n`` the key
``fold_in(key, n)``, so the same seed gives the same networks however they are batched. Gaussian
parameters are :class:`BoxMullerNormal` sites (exact normals by the Box–Muller transform of 53-bit
uniforms, ~1.5× cheaper than ``jax.random.normal``'s float64 inverse-erf), and cosines use
:func:`sincos` (a vectorisable float64 kernel, ~10× cheaper than XLA's scalar ``cos`` on CPU).

A :class:`Network` may also declare the structure the exact conditional estimators of
:mod:`nnqm_ppl.observables.correlators` integrate out: ``readout_scale`` (a_i i.i.d.
N(0, s²) and φ = Σ_i a_i h_i) and ``phases`` (h_i = A_i cos(ω_i·x + c_i), c_i ~ U[−π, π]
independent of everything else).

Modules, by architecture family: :mod:`~nnqm_ppl.networks.neurons.network` (the shared
:class:`Network`, P(a), input points, exact draws), :mod:`~nnqm_ppl.networks.neurons.kernels`
(:func:`sincos`, :class:`BoxMullerNormal`), :mod:`~nnqm_ppl.networks.neurons.cosine` (cosine
neurons), :mod:`~nnqm_ppl.networks.neurons.gaussnet` and :mod:`~nnqm_ppl.networks.neurons.mlp`.
Every public name is importable from this package. A network never sees a spec: the ``neural_field``
model file is turned into one by :func:`nnqm_ppl.theories.neural_field.network_from_spec`.
"""

from nnqm_ppl.networks.neurons.cosine import (
    UniformBall,
    cauchy,
    cos_theta,
    cosine_network,
    cosnet,
    free_scalar,
    ib_cosnet,
    nnft_ho,
)
from nnqm_ppl.networks.neurons.gaussnet import gaussnet
from nnqm_ppl.networks.neurons.kernels import BoxMullerNormal, sincos
from nnqm_ppl.networks.neurons.kernels import _cos_quarter as _cos_quarter  # tested beside sincos
from nnqm_ppl.networks.neurons.mlp import mlp
from nnqm_ppl.networks.neurons.network import (
    MIXTURE_SPREAD,
    CosinePhases,
    Network,
    a_distribution,
    as_points,
    sample_fields,
    sample_params,
)

__all__ = [
    "Network",
    "CosinePhases",
    "BoxMullerNormal",
    "sincos",
    "UniformBall",
    "MIXTURE_SPREAD",
    "a_distribution",
    "cosine_network",
    "cosnet",
    "free_scalar",
    "cauchy",
    "nnft_ho",
    "gaussnet",
    "mlp",
    "cos_theta",
    "ib_cosnet",
    "as_points",
    "sample_params",
    "sample_fields",
]
