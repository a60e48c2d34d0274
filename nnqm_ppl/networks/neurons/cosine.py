"""Cosine neurons h_i(x) = F(b_i) cos(b_i·x + c_i), c_i ~ U[−π, π] (Halverson eqs. 18, 24).

:func:`cosine_network` for any F and any NumPyro distribution of b, with the special cases Cos-net
(:func:`cosnet`), the free scalar (:func:`free_scalar`, b uniform in the d-ball,
:class:`UniformBall`), the d = 1 Cauchy net (:func:`cauchy`), the NNFT harmonic oscillator
(:func:`nnft_ho`), Cos-net with independence breaking (:func:`ib_cosnet`) and the toy
φ_θ(t) = cos(t + θ) (:func:`cos_theta`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints

from nnqm_ppl.networks.neurons.kernels import BoxMullerNormal, sincos
from nnqm_ppl.networks.neurons.network import (
    CosinePhases,
    Network,
    Params,
    _gaussian_scale,
    a_distribution,
)

__all__ = [
    "UniformBall",
    "cosine_network",
    "cosnet",
    "free_scalar",
    "cauchy",
    "nnft_ho",
    "ib_cosnet",
    "cos_theta",
]


class UniformBall(dist.Distribution):
    """Uniform distribution on the d-ball of radius Λ (the P(b) of Halverson eq. 29).

    Sampled as Λ U^{1/d} n̂ with n̂ uniform on the sphere; density 1 / vol(B^d_Λ) inside.

    Parameters
    ----------
    dim : int
        Dimension d.
    radius : float
        Radius Λ.
    """

    arg_constraints = {"radius": constraints.positive}
    support = constraints.real_vector
    reparametrized_params = ["radius"]

    def __init__(self, dim: int, radius: float = 1.0, *, validate_args: bool | None = None) -> None:
        self.dim = int(dim)
        self.radius = radius
        super().__init__(batch_shape=jnp.shape(radius), event_shape=(self.dim,),
                         validate_args=validate_args)

    def sample(self, key: jax.Array, sample_shape: tuple[int, ...] = ()) -> jax.Array:
        """Draw points uniformly inside the ball."""
        k_dir, k_rad = jax.random.split(key)
        shape = sample_shape + self.batch_shape
        n = jax.random.normal(k_dir, shape + (self.dim,))
        n = n / jnp.linalg.norm(n, axis=-1, keepdims=True)
        r = jnp.asarray(self.radius)[..., None] * jax.random.uniform(k_rad, shape + (1,)) ** (
            1.0 / self.dim
        )
        return r * n

    def log_prob(self, value: jax.Array) -> jax.Array:
        """log(1 / vol) inside the ball, −inf outside."""
        log_vol = (
            0.5 * self.dim * math.log(math.pi)
            - math.lgamma(0.5 * self.dim + 1.0)
            + self.dim * jnp.log(self.radius)
        )
        inside = jnp.linalg.norm(value, axis=-1) <= self.radius
        return jnp.where(inside, -log_vol, -jnp.inf)


def cosine_network(
    width: int,
    dim: int,
    b_dist: dist.Distribution,
    F: Callable[[jax.Array], jax.Array] | None = None,
    a_dist: dist.Distribution | None = None,
    name: str = "cosine",
) -> Network:
    """φ(x) = Σ_i a_i F(b_i) cos(b_i·x + c_i), c_i ~ U[−π, π] (Halverson eqs. 18, 24).

    Its two-point function is G2(x, y) = N E[a²] E_b[F(b)² cos(b·(x − y))] / 2 (eq. 25).

    Parameters
    ----------
    width : int
        Number of neurons N.
    dim : int
        Input dimension d.
    b_dist : numpyro.distributions.Distribution
        Distribution of one neuron's b: event shape (d,), or a scalar distribution whose d
        components are then i.i.d.
    F : callable, optional
        ``F(b)`` for b of shape (..., d), returning shape (...). Default F = 1.
    a_dist : numpyro.distributions.Distribution, optional
        Distribution of one a_i; default N(0, 1/N).
    name : str
        Architecture name.

    Returns
    -------
    Network
        Sites ``a`` (N,), ``b`` (N, d), ``c`` (N,).
    """
    if b_dist.event_shape == ():
        b_dist = b_dist.expand((dim,)).to_event(1)
    if b_dist.event_shape != (dim,):
        raise ValueError(f"b_dist must have event shape () or ({dim},), got {b_dist.event_shape}")
    a_dist = a_distribution(width) if a_dist is None else a_dist

    def prior() -> None:
        with numpyro.plate("neurons", width):
            numpyro.sample("a", a_dist)
            numpyro.sample("b", b_dist)
            numpyro.sample("c", dist.Uniform(-jnp.pi, jnp.pi))

    def neurons(params: Params, x: jax.Array) -> jax.Array:
        b = params["b"]
        h = sincos(jnp.einsum("...nd,pd->...np", b, x) + params["c"][..., None])[1]
        return h if F is None else F(b)[..., None] * h

    phases = CosinePhases("c", lambda p: p["b"], None if F is None else lambda p: F(p["b"]))
    return Network(name, width, dim, prior, neurons, lambda p: p["a"], _gaussian_scale(a_dist),
                   phases)


def cosnet(
    width: int, dim: int = 1, sigma_a: float = 1.0, sigma_b: float = 1.0,
    a_dist: dist.Distribution | None = None,
) -> Network:
    """Cos-net: F = 1, b ~ N(0, σ_b²/d) per component, a ~ N(0, σ_a²/N) (Halverson eq. S10).

    The neuron is cos(Σ_j b_ij x_j + c_i) (eq. 18); G2 = σ_a²/2 exp(−σ_b² |x − y|² / 2d) (S11).

    Parameters
    ----------
    width, dim : int
        N and d.
    sigma_a, sigma_b : float
        σ_a and σ_b.
    a_dist : numpyro.distributions.Distribution, optional
        Distribution of one a_i; default N(0, σ_a²/N).

    Returns
    -------
    Network
    """
    a_dist = a_distribution(width, sigma_a) if a_dist is None else a_dist
    b_dist = BoxMullerNormal(0.0, sigma_b / math.sqrt(dim))
    return cosine_network(width, dim, b_dist, None, a_dist, "cosnet")


def free_scalar(
    width: int, dim: int = 1, mass: float = 1.0, cutoff: float = 10.0, sigma_a: float = 1.0,
    a_dist: dist.Distribution | None = None,
) -> Network:
    """Free scalar of mass m: F(b) = 1/sqrt(b² + m²), b uniform in the d-ball of radius Λ (eq. 29).

    Power spectrum σ_a² (2π)^d / (2 vol(B^d_Λ)) / (p² + m²) for |p| < Λ (eq. 30).

    Parameters
    ----------
    width, dim : int
        N and d.
    mass : float
        m.
    cutoff : float
        Λ, the momentum cutoff.
    sigma_a : float
        σ_a.
    a_dist : numpyro.distributions.Distribution, optional
        Distribution of one a_i; default N(0, σ_a²/N).

    Returns
    -------
    Network
    """
    a_dist = a_distribution(width, sigma_a) if a_dist is None else a_dist

    def F(b: jax.Array) -> jax.Array:
        return 1.0 / jnp.sqrt(jnp.sum(b * b, axis=-1) + mass**2)

    return cosine_network(width, dim, UniformBall(dim, cutoff), F, a_dist, "free_scalar")


def cauchy(
    width: int, mass: float = 1.0, sigma_a: float = 1.0, a_dist: dist.Distribution | None = None
) -> Network:
    """d = 1 Cauchy net: F = 1, P(b) = m / (π (b² + m²)) (Halverson eq. 31).

    G2(τ) = σ_a²/2 e^{−m|τ|}: the characteristic function of the Cauchy law.

    Parameters
    ----------
    width : int
        N.
    mass : float
        m, the scale of the Cauchy distribution.
    sigma_a : float
        σ_a.
    a_dist : numpyro.distributions.Distribution, optional
        Distribution of one a_i; default N(0, σ_a²/N).

    Returns
    -------
    Network
    """
    a_dist = a_distribution(width, sigma_a) if a_dist is None else a_dist
    return cosine_network(width, 1, dist.Cauchy(0.0, mass), None, a_dist, "cauchy")


def nnft_ho(
    width: int, omega: float = 1.0, cutoff: float = 10.0, sigma_a: float = 1.0,
    a_dist: dist.Distribution | None = None,
) -> Network:
    """NNFT harmonic oscillator x(τ) = Σ_n a_n cos(b_n τ + c_n) / sqrt(b_n² + k/m) (Hashimoto 2.1).

    b ~ U(−Λ, Λ) (eq. 2.3); the spring constant enters only as k/m = ω², so ``omega`` is the
    oscillator frequency (the spec's ``mass``). a ~ N(0, σ_a²/N) (eq. 2.2 has σ_a = 1), so
    G2(τ) = σ_a²/(4Λ) ∫_{−Λ}^{Λ} db cos(bτ) / (b² + ω²), the normalised eq. (2.5).

    Parameters
    ----------
    width : int
        N.
    omega : float
        ω = sqrt(k/m).
    cutoff : float
        Λ.
    sigma_a : float
        σ_a.
    a_dist : numpyro.distributions.Distribution, optional
        Distribution of one a_i; default N(0, σ_a²/N).

    Returns
    -------
    Network
    """
    a_dist = a_distribution(width, sigma_a) if a_dist is None else a_dist

    def F(b: jax.Array) -> jax.Array:
        return 1.0 / jnp.sqrt(b[..., 0] ** 2 + omega**2)

    return cosine_network(width, 1, dist.Uniform(-cutoff, cutoff), F, a_dist, "nnft_ho")


def ib_cosnet(
    width: int, dim: int = 1, sigma_a: float = 1.0, sigma_b: float = 1.0, epsilon: float = 0.5,
    a_dist: dist.Distribution | None = None,
) -> Network:
    """Cos-net with independence breaking through a shared frequency component.

    b_i = sqrt(1 − ε²) b̃_i + ε b_0 with b̃_i, b_0 ~ N(0, σ_b²/d) per component and one b_0 per
    network. Each b_i has Cos-net's marginal, so G2 is Cos-net's, but H_iijj ≠ H_ii H_jj for
    i ≠ j, so I_IB of Halverson eq. (9) is non-zero and G4c → I_IB ≠ 0 as N → ∞ (ε > 0).

    Parameters
    ----------
    width, dim : int
        N and d.
    sigma_a, sigma_b : float
        σ_a and σ_b.
    epsilon : float
        ε in [0, 1]; ε = 0 is Cos-net (the independence limit, eq. 11).
    a_dist : numpyro.distributions.Distribution, optional
        Distribution of one a_i; default N(0, σ_a²/N).

    Returns
    -------
    Network
        Sites ``a`` (N,), ``b_shared`` (d,), ``b_indep`` (N, d), ``c`` (N,).
    """
    a_dist = a_distribution(width, sigma_a) if a_dist is None else a_dist
    b_one = BoxMullerNormal(0.0, sigma_b / math.sqrt(dim)).expand((dim,)).to_event(1)
    keep = math.sqrt(1.0 - epsilon**2)

    def prior() -> None:
        numpyro.sample("b_shared", b_one)
        with numpyro.plate("neurons", width):
            numpyro.sample("a", a_dist)
            numpyro.sample("b_indep", b_one)
            numpyro.sample("c", dist.Uniform(-jnp.pi, jnp.pi))

    def frequency(params: Params) -> jax.Array:
        return keep * params["b_indep"] + epsilon * params["b_shared"][..., None, :]

    def neurons(params: Params, x: jax.Array) -> jax.Array:
        u = jnp.einsum("...nd,pd->...np", frequency(params), x) + params["c"][..., None]
        return sincos(u)[1]

    return Network("ib_cosnet", width, dim, prior, neurons, lambda p: p["a"],
                   _gaussian_scale(a_dist), CosinePhases("c", frequency))


def cos_theta(width: int = 1) -> Network:
    """The toy φ_θ(t) = cos(t + θ), θ ~ U[0, 2π]; for width N, φ = N^{-1/2} Σ_i cos(t + θ_i).

    G2(t1, t2) = cos(t1 − t2)/2 at every N; the output weights are fixed, a_i = N^{-1/2}.

    Parameters
    ----------
    width : int
        N (1 is the toy itself).

    Returns
    -------
    Network
        Site ``theta`` (N,).
    """

    def prior() -> None:
        with numpyro.plate("neurons", width):
            numpyro.sample("theta", dist.Uniform(0.0, 2.0 * jnp.pi))

    def neurons(params: Params, x: jax.Array) -> jax.Array:
        return sincos(x[:, 0] + params["theta"][..., None])[1]

    def readout(params: Params) -> jax.Array:
        return jnp.full(params["theta"].shape, 1.0 / math.sqrt(width))

    return Network("cos_theta", width, 1, prior, neurons, readout)
