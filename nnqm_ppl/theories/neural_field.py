"""Neural-field theories (Halverson): fields φ(x) = Σ_i a_i h_i(x) of random neurons, drawn exactly.

One architecture lives in one place: :data:`ARCHITECTURES` maps each name of
:data:`nnqm_ppl.spec.NEURAL_ARCHITECTURES` to an :class:`Architecture` holding its builder (spec →
:class:`~nnqm_ppl.networks.neurons.Network`), its closed-form correlators
(:mod:`nnqm_ppl.exact.analytic`, bound to the spec's parameters) and what a ``network`` fit needs
(the parameters it may infer and its differentiable correlator, one :class:`NetworkFit` per
observable, keyed as :data:`nnqm_ppl.spec.NETWORK_FIT_PARAMETERS`). :func:`network_from_spec`,
:func:`g2`, :func:`g4c`, :func:`g6c`, :func:`exact_correlators` and
:func:`nnqm_ppl.fitting.network_correlator` dispatch through it; the test suite checks its keys
against the spec's name tuples.

Adding an architecture: its network in :mod:`nnqm_ppl.networks.neurons`, its closed forms in
:mod:`nnqm_ppl.exact.analytic`, its name in ``spec.NEURAL_ARCHITECTURES`` (and
``spec.NETWORK_FIT_PARAMETERS`` if it can be fitted), and one entry here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from nnqm_ppl.exact import analytic
from nnqm_ppl.networks.neurons import (
    Network,
    a_distribution,
    cauchy,
    cos_theta,
    cosnet,
    free_scalar,
    gaussnet,
    ib_cosnet,
    mlp,
    nnft_ho,
)
from nnqm_ppl.spec import NeuralFieldSpec

__all__ = [
    "Architecture",
    "NetworkFit",
    "ARCHITECTURES",
    "network_from_spec",
    "moments",
    "g2",
    "g4c",
    "g6c",
    "exact_correlators",
]

#: Gauss–Legendre nodes of the free-scalar integral in a network fit (12 panels of 32).
_FIT_QUAD_NODES = 400

#: A differentiable correlator of a fit: ``(params, tau, dim, cutoff) -> G(τ)`` in JAX.
FitCorrelator = Callable[[dict[str, jax.Array], np.ndarray, int, float], jax.Array]


@dataclass(frozen=True)
class NetworkFit:
    """What a ``network`` fit of one observable of one architecture needs.

    Attributes
    ----------
    parameters : tuple of str
        The hyperparameters the fit may infer (the others are fixed at the model's values).
    correlator : callable
        ``correlator(params, tau, dim, cutoff)``: the closed form in ``jax.numpy`` (for NUTS),
        ``params`` holding ``sigma_a``, ``sigma_b``, ``mass``, ``width`` as the formula needs.
    """

    parameters: tuple[str, ...]
    correlator: FitCorrelator


@dataclass(frozen=True)
class Architecture:
    """One neural-field architecture: how to build it, its exact correlators, how to fit it.

    Attributes
    ----------
    build : callable
        ``build(spec, a)`` → :class:`~nnqm_ppl.networks.neurons.Network`, with ``a`` the
        NumPyro distribution of the output weights (:func:`network_from_spec` makes it).
    g2, g4c, g6c : callable or None
        ``g2(spec, x, y)``, ``g4c(spec, x1, …, x4)``, ``g6c(spec, x1, …, x6)``: closed forms
        (NumPy arrays; ``g2`` may itself return None where the spec has none), None where the
        architecture has none.
    a_factor : float
        The scale of P(a) in units of σ_a/sqrt(N): Gauss-net's a has variance σ_a²/(2N) (eq. S13).
    fixed_weights : bool
        The output weights are fixed at N^{-1/2} (cos(t + θ)): m_k = 1 and no P(a).
    fits : mapping
        Observable (``G2``, ``G4c``) → :class:`NetworkFit`; empty if it cannot be fitted.
    """

    build: Callable[[NeuralFieldSpec, Any], Network]
    g2: Callable[..., np.ndarray | None] | None = None
    g4c: Callable[..., np.ndarray] | None = None
    g6c: Callable[..., np.ndarray] | None = None
    a_factor: float = 1.0
    fixed_weights: bool = False
    fits: Mapping[str, NetworkFit] = field(default_factory=dict)


def moments(spec: NeuralFieldSpec) -> tuple[float, float, float]:
    """Scaled moments ``(m2, m4, m6)``, m_k = N^{k/2} E[a^k], of the spec's output weights.

    :func:`nnqm_ppl.exact.analytic.a_moments` at the architecture's scale σ_a · ``a_factor``;
    ``(1, 1, 1)`` for fixed weights.
    """
    arch = ARCHITECTURES[spec.architecture]
    if arch.fixed_weights:
        return 1.0, 1.0, 1.0
    return analytic.a_moments(spec.sigma_a * arch.a_factor, spec.a_prior, spec.a_modes)


def network_from_spec(spec: NeuralFieldSpec) -> Network:
    """Build the :class:`~nnqm_ppl.networks.neurons.Network` a ``neural_field`` model file describes.

    Parameters
    ----------
    spec : NeuralFieldSpec
        ``architecture`` selects the entry of :data:`ARCHITECTURES`; ``a_prior``/``a_modes``
        select P(a) (not used by ``cos_theta``, whose weights are fixed). ``nnft_ho`` takes
        ω = ``mass``.

    Returns
    -------
    Network
    """
    if spec.architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {spec.architecture!r}")
    arch = ARCHITECTURES[spec.architecture]
    a = a_distribution(spec.width, spec.sigma_a * arch.a_factor, spec.a_prior, spec.a_modes)
    return arch.build(spec, a)


def g2(spec: NeuralFieldSpec, x: ArrayLike, y: ArrayLike) -> np.ndarray | None:
    """Exact two-point function of a ``neural_field`` spec, or None where no closed form exists.

    ``free_scalar`` and ``nnft_ho`` at the spec's finite cutoff (quadrature); ``ib_cosnet``
    equals Cos-net; ``mlp`` with tanh is None. ``x``, ``y``: points of shape (..., d) (scalars
    for d = 1).
    """
    fn = ARCHITECTURES[spec.architecture].g2
    return None if fn is None else fn(spec, x, y)


def g4c(spec: NeuralFieldSpec, x1, x2, x3, x4) -> np.ndarray | None:
    """Exact connected four-point function of a spec, or None where no closed form exists.

    Closed forms: Cos-net and Gauss-net (S14, S15 corrected), Cos-net with independence breaking
    (eqs. 7-9), the Cauchy net and cos(t + θ) (cosine neurons with F = 1, whose b-average is the
    characteristic function e^{−m|v|}, resp. b = 1).
    """
    fn = ARCHITECTURES[spec.architecture].g4c
    return None if fn is None else fn(spec, x1, x2, x3, x4)


def g6c(spec: NeuralFieldSpec, x1, x2, x3, x4, x5, x6) -> np.ndarray | None:
    """Exact connected six-point function for the i.i.d. F = 1 cosine ensembles (``cosnet``,
    ``cauchy``, ``cos_theta``), else None."""
    fn = ARCHITECTURES[spec.architecture].g6c
    return None if fn is None else fn(spec, x1, x2, x3, x4, x5, x6)


def exact_correlators(spec: NeuralFieldSpec, points: np.ndarray, orders: tuple[int, ...] = (2, 4)) -> dict:
    """Closed-form ``G2`` (matrix over the points), ``G4c`` and ``G6c`` where they exist (else None).

    Parameters
    ----------
    spec : NeuralFieldSpec
        The architecture.
    points : ndarray, shape (P, d)
        x_1..x_P; ``G4c`` uses the first four, ``G6c`` the first six.
    orders : tuple of int
        Which orders to evaluate besides 2.

    Returns
    -------
    dict
        JSON-ready lists (or None where no closed form exists).
    """
    pts = np.asarray(points, dtype=float)
    g2_ = [[g2(spec, p, q) for q in pts] for p in pts]
    out: dict[str, Any] = {
        "G2": None if any(v is None for row in g2_ for v in row) else np.asarray(g2_, dtype=float),
        "G4c": g4c(spec, *pts[:4]) if 4 in orders and len(pts) >= 4 else None,
        "G6c": g6c(spec, *pts[:6]) if 6 in orders and len(pts) >= 6 else None,
    }
    return {k: (None if v is None else np.asarray(v, dtype=float).tolist()) for k, v in out.items()}


# --------------------------------------------------------------------------------------------
# The closed forms of each architecture, bound to a spec's parameters
# --------------------------------------------------------------------------------------------


def _m2(s: NeuralFieldSpec) -> float:
    return moments(s)[0]


def _cos(s: NeuralFieldSpec) -> dict[str, Any]:
    return {"sigma_b": s.sigma_b, "dim": s.dim}


def _cosnet_g4c(s: NeuralFieldSpec, *xs: ArrayLike) -> np.ndarray:
    m2, m4, _ = moments(s)
    return analytic.cosnet_g4c(*xs, m2=m2, m4=m4, width=s.width, **_cos(s))


def _ib_cosnet_g4c(s: NeuralFieldSpec, *xs: ArrayLike) -> np.ndarray:
    m2, m4, _ = moments(s)
    return analytic.ib_cosnet_g4c(*xs, m2=m2, m4=m4, width=s.width, epsilon=s.epsilon, **_cos(s))


def _gaussnet_g4c(s: NeuralFieldSpec, *xs: ArrayLike) -> np.ndarray:
    m2, m4, _ = moments(s)
    return analytic.gaussnet_g4c(*xs, m2=m2, m4=m4, width=s.width, sigma_b=s.sigma_b, sigma_c=s.sigma_c, dim=s.dim)


def _cauchy_g4c(s: NeuralFieldSpec, *xs: ArrayLike) -> np.ndarray:
    m2, m4, _ = moments(s)
    return analytic.cauchy_g4c(*xs, m2=m2, m4=m4, width=s.width, mass=s.mass)


def _mlp_g2(s: NeuralFieldSpec, x: ArrayLike, y: ArrayLike) -> np.ndarray | None:
    return analytic.mlp_g2(x, y, m2=_m2(s), activation=s.activation, sigma_w=s.sigma_w, sigma_b=s.sigma_b,
                           dim=s.dim)


# --------------------------------------------------------------------------------------------
# The differentiable correlators of the network fits (jax.numpy, Gaussian a: m4 = 3 m2²)
# --------------------------------------------------------------------------------------------


def _cosnet_fit_g2(params: dict, tau: np.ndarray, dim: int, cutoff: float) -> jax.Array:
    """Cos-net G2(r) = (σ_a²/2) exp(−σ_b² r²/2d) (Halverson S11), at x = 0, y = r ê_1."""
    r = jnp.asarray(tau)
    char = partial(analytic.gauss_char, sigma_b=params["sigma_b"], dim=dim)
    zero = jnp.zeros((len(r), dim))
    return analytic.cosine_g2(params["sigma_a"] ** 2, char, zero, zero.at[:, 0].set(r))


def _cosnet_fit_g4c(params: dict, tau: np.ndarray, dim: int, cutoff: float) -> jax.Array:
    """Cos-net G4c at x1 = x2 = 0, x3 = x4 = s ê_1: [m4 (χ(2s) + 2)/8 − m2² (1/4 + χ(s)²/2)] / N,
    χ(v) = exp(−σ_b² v²/2d) (Halverson eq. 8 with H4 of eq. 23)."""
    r = jnp.asarray(tau)
    m2 = params["sigma_a"] ** 2
    char = partial(analytic.gauss_char, sigma_b=params["sigma_b"], dim=dim)
    zero = jnp.zeros((len(r), dim))
    far = zero.at[:, 0].set(r)
    return analytic.cosine_g4c(m2, 3 * m2**2, params["width"], char, zero, zero, far, far)


def _cauchy_fit_g2(params: dict, tau: np.ndarray, dim: int, cutoff: float) -> jax.Array:
    """Cauchy G2(τ) = (σ_a²/2) e^{−m|τ|} (eqs. 31-33)."""
    r = jnp.asarray(tau)
    char = partial(analytic.cauchy_char, mass=params["mass"])
    return analytic.cosine_g2(params["sigma_a"] ** 2, char, jnp.zeros((len(r), 1)), r[:, None])


def _free_scalar_fit_g2(params: dict, tau: np.ndarray, dim: int, cutoff: float) -> jax.Array:
    """Free scalar, d = 1: G2(r) = σ_a²/(4Λ) ∫_{−Λ}^{Λ} dk cos(kr)/(k² + m²) (eq. 29), by composite
    Gauss–Legendre quadrature (:data:`_FIT_QUAD_NODES` nodes)."""
    r = jnp.asarray(tau)
    return analytic.free_scalar_radial(r, params["sigma_a"] ** 2, params["mass"], cutoff, 1,
                                       quad_nodes=_FIT_QUAD_NODES)


# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------

ARCHITECTURES: dict[str, Architecture] = {
    "cosnet": Architecture(
        build=lambda s, a: cosnet(s.width, s.dim, s.sigma_a, s.sigma_b, a),
        g2=lambda s, x, y: analytic.cosnet_g2(x, y, m2=_m2(s), **_cos(s)),
        g4c=_cosnet_g4c,
        g6c=lambda s, *xs: analytic.cosnet_g6c(*xs, moments=moments(s), width=s.width, **_cos(s)),
        fits={
            "G2": NetworkFit(("sigma_a", "sigma_b"), _cosnet_fit_g2),
            "G4c": NetworkFit(("width", "sigma_a", "sigma_b"), _cosnet_fit_g4c),
        },
    ),
    "gaussnet": Architecture(
        build=lambda s, a: gaussnet(s.width, s.dim, s.sigma_a, s.sigma_b, s.sigma_c, a),
        g2=lambda s, x, y: analytic.gaussnet_g2(x, y, m2=_m2(s), sigma_b=s.sigma_b, sigma_c=s.sigma_c, dim=s.dim),
        g4c=_gaussnet_g4c,
        a_factor=1 / math.sqrt(2.0),
    ),
    "free_scalar": Architecture(
        build=lambda s, a: free_scalar(s.width, s.dim, s.mass, s.cutoff, s.sigma_a, a),
        g2=lambda s, x, y: analytic.free_scalar_g2(x, y, m2=_m2(s), mass=s.mass, cutoff=s.cutoff, dim=s.dim),
        fits={"G2": NetworkFit(("sigma_a", "mass"), _free_scalar_fit_g2)},
    ),
    "cauchy": Architecture(
        build=lambda s, a: cauchy(s.width, s.mass, s.sigma_a, a),
        g2=lambda s, x, y: analytic.cauchy_g2(x, y, m2=_m2(s), mass=s.mass),
        g4c=_cauchy_g4c,
        g6c=lambda s, *xs: analytic.cauchy_g6c(*xs, moments=moments(s), width=s.width, mass=s.mass),
        fits={"G2": NetworkFit(("sigma_a", "mass"), _cauchy_fit_g2)},
    ),
    "mlp": Architecture(
        build=lambda s, a: mlp(s.width, s.dim, s.activation, s.sigma_a, s.sigma_w, s.sigma_b, a),
        g2=_mlp_g2,
    ),
    "nnft_ho": Architecture(
        build=lambda s, a: nnft_ho(s.width, s.mass, s.cutoff, s.sigma_a, a),
        g2=lambda s, x, y: analytic.nnft_ho_g2(x, y, m2=_m2(s), omega=s.mass, cutoff=s.cutoff),
    ),
    "cos_theta": Architecture(
        build=lambda s, a: cos_theta(s.width),
        g2=lambda s, x, y: analytic.cos_theta_g2(x, y),
        g4c=lambda s, *xs: analytic.cos_theta_g4c(*xs, width=s.width),
        g6c=lambda s, *xs: analytic.cos_theta_g6c(*xs, width=s.width),
        fixed_weights=True,
    ),
    "ib_cosnet": Architecture(
        build=lambda s, a: ib_cosnet(s.width, s.dim, s.sigma_a, s.sigma_b, s.epsilon, a),
        g2=lambda s, x, y: analytic.cosnet_g2(x, y, m2=_m2(s), **_cos(s)),
        g4c=_ib_cosnet_g4c,
    ),
}
