"""Gauss-net (Halverson eqs. S12-S13): h_i(x) = exp(b_i·x + c_i) / sqrt(exp(2(σ_c² + σ_b² x²/d)))."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist

from nnqm_ppl.networks.neurons.kernels import BoxMullerNormal
from nnqm_ppl.networks.neurons.network import Network, Params, _gaussian_scale, a_distribution

__all__ = ["gaussnet"]


def gaussnet(
    width: int, dim: int = 1, sigma_a: float = 1.0, sigma_b: float = 1.0, sigma_c: float = 0.0,
    a_dist: dist.Distribution | None = None,
) -> Network:
    """Gauss-net without output bias (Halverson eqs. S12-S13).

    φ(x) = Σ_i a_i exp(b_i·x + c_i) / sqrt(exp(2(σ_c² + σ_b² |x|²/d))), a ~ N(0, σ_a²/(2N)),
    b ~ N(0, σ_b²/d) per component, c ~ N(0, σ_c²). The input-dependent normalisation is part
    of the neuron h_i. G2 equals Cos-net's (S11); G4c (S14) is not translation invariant.

    Parameters
    ----------
    width, dim : int
        N and d.
    sigma_a, sigma_b, sigma_c : float
        σ_a, σ_b, σ_c (σ_c = 0 makes c = 0 exactly).
    a_dist : numpyro.distributions.Distribution, optional
        Distribution of one a_i; default N(0, σ_a²/(2N)).

    Returns
    -------
    Network
        Sites ``a`` (N,), ``b`` (N, d) and, when σ_c > 0, ``c`` (N,).
    """
    a_dist = a_distribution(width, sigma_a / math.sqrt(2.0)) if a_dist is None else a_dist
    sb = sigma_b / math.sqrt(dim)

    def prior() -> None:
        with numpyro.plate("neurons", width):
            numpyro.sample("a", a_dist)
            numpyro.sample("b", BoxMullerNormal(0.0, sb).expand((dim,)).to_event(1))
            if sigma_c > 0:
                numpyro.sample("c", BoxMullerNormal(0.0, sigma_c))

    def neurons(params: Params, x: jax.Array) -> jax.Array:
        c = params["c"] if sigma_c > 0 else jnp.zeros(params["b"].shape[:-1])
        log_norm = sigma_c**2 + sb**2 * jnp.sum(x * x, axis=-1)  # (P,)
        z = jnp.einsum("...nd,pd->...np", params["b"], x) + c[..., None] - log_norm
        return jnp.exp(z)

    return Network("gaussnet", width, dim, prior, neurons, lambda p: p["a"],
                   _gaussian_scale(a_dist))
