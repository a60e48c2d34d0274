"""Single-hidden-layer NNGP networks h_i(x) = act(w_i·x + b_i), act ∈ {erf, relu, tanh}."""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax.scipy.special import erf

from nnqm_ppl.networks.neurons.kernels import BoxMullerNormal
from nnqm_ppl.networks.neurons.network import Network, Params, _gaussian_scale, a_distribution

__all__ = ["mlp"]


_ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "erf": erf,
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
}


def mlp(
    width: int, dim: int = 1, activation: str = "erf", sigma_a: float = 1.0, sigma_w: float = 1.0,
    sigma_b: float = 1.0, a_dist: dist.Distribution | None = None,
) -> Network:
    """Single-hidden-layer network φ(x) = Σ_i a_i act(w_i·x + b_i) (the NNGP of Neal/Williams).

    w ~ N(0, σ_w²/d) per component, b ~ N(0, σ_b²), a ~ N(0, σ_a²/N). As N → ∞ φ is a Gaussian
    process with G2 = σ_a² E[act(u) act(v)], (u, v) Gaussian with covariance
    K(x, y) = σ_b² + σ_w² x·y / d.

    Parameters
    ----------
    width, dim : int
        N and d.
    activation : {"erf", "relu", "tanh"}
        The activation.
    sigma_a, sigma_w, sigma_b : float
        Scales of the output weights, input weights and biases.
    a_dist : numpyro.distributions.Distribution, optional
        Distribution of one a_i; default N(0, σ_a²/N).

    Returns
    -------
    Network
        Sites ``a`` (N,), ``w`` (N, d), ``b`` (N,).
    """
    act = _ACTIVATIONS[activation]
    a_dist = a_distribution(width, sigma_a) if a_dist is None else a_dist

    def prior() -> None:
        with numpyro.plate("neurons", width):
            numpyro.sample("a", a_dist)
            w_dist = BoxMullerNormal(0.0, sigma_w / math.sqrt(dim)).expand((dim,)).to_event(1)
            numpyro.sample("w", w_dist)
            numpyro.sample("b", BoxMullerNormal(0.0, sigma_b))

    def neurons(params: Params, x: jax.Array) -> jax.Array:
        return act(jnp.einsum("...nd,pd->...np", params["w"], x) + params["b"][..., None])

    return Network(f"mlp_{activation}", width, dim, prior, neurons, lambda p: p["a"],
                   _gaussian_scale(a_dist))
