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
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax.scipy.special import erf
from numpyro import handlers
from numpyro.distributions import constraints

if TYPE_CHECKING:
    from nnqm_ppl.spec import NeuralFieldSpec

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
    "network_from_spec",
    "as_points",
    "sample_params",
    "sample_fields",
]

Params = dict[str, jax.Array]

#: Spread of each mode of the bimodal P(a), in units of σ_a / sqrt(N).
MIXTURE_SPREAD = 0.25


# fdlibm's __kernel_sin / __kernel_cos minimax coefficients on [−π/4, π/4]
_SIN = (-1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04,
        2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10)
_COS = (4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05,
        -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11)
_PIO2_HI = 1.57079632673412561417e00  # first 33 bits of π/2: n·_PIO2_HI is exact for |n| < 2^20
_PIO2_LO = 6.07710050650619224932e-11  # π/2 − _PIO2_HI


def _poly(z: jax.Array, coef: tuple[float, ...]) -> jax.Array:
    out = jnp.full_like(z, coef[-1])
    for c in coef[-2::-1]:
        out = c + z * out
    return out


def _reduce(u: jax.Array) -> tuple[jax.Array, ...]:
    """u = n π/2 + r: (n as int64, sin r, cos r), |r| ≤ π/4 (see :func:`sincos`)."""
    n = jnp.round(u * (2.0 / math.pi))
    r = (u - n * _PIO2_HI) - n * _PIO2_LO
    z = r * r
    s = r + r * z * _poly(z, _SIN)
    hz = 0.5 * z
    w = 1.0 - hz
    c = w + (((1.0 - w) - hz) + z * z * _poly(z, _COS))
    return n.astype(jnp.int64), s, c


def sincos(u: jax.Array) -> tuple[jax.Array, jax.Array]:
    """sin u and cos u in float64 from one shared argument reduction (vectorisable).

    u = n π/2 + r with n = round(2u/π) and r = (u − n P_hi) − n P_lo (Cody–Waite, π/2 split into
    a 33-bit head and its tail), |r| ≤ π/4; sin r and cos r are fdlibm's minimax polynomials
    (|error| < 2^-58 on the interval), and the quadrant n mod 4 permutes and signs them:
    (sin u, cos u) = (s, c), (c, −s), (−s, −c), (−c, s). XLA's ``cos`` on CPU is a scalar call
    (~10 ns) unless the loop around it vectorises (e.g. a cosine summed over an axis, as in
    :mod:`nnqm_ppl.observables.correlators`); this is a fused elementwise loop (~1–2 ns).

    Parameters
    ----------
    u : Array
        Arguments (float64, any shape).

    Returns
    -------
    (sin u, cos u) : tuple of Array
        Absolute error ≤ 2^-53 (1 + |u|) for |u| < 2^20 π/2, i.e. within the rounding of u itself
        (tested against NumPy's libm).
    """
    n, s, c = _reduce(u)
    q = n & 3
    odd = (q & 1) == 1
    sin_u = jnp.where(odd, c, s)
    cos_u = jnp.where(odd, s, c)
    return jnp.where(q >= 2, -sin_u, sin_u), jnp.where((q == 1) | (q == 2), -cos_u, cos_u)


def _cos_quarter(u: jax.Array, k: jax.Array | int) -> jax.Array:
    """cos(u − k π/2) (k = 1: sin u), bitwise equal to the matching output of :func:`sincos`.

    One output, so XLA computes it once per element where a two-output ``sincos`` would be
    recomputed for each consumer.
    """
    n, s, c = _reduce(u)
    q = (n - k) & 3
    cos_u = jnp.where((q & 1) == 1, s, c)
    return jnp.where((q == 1) | (q == 2), -cos_u, cos_u)


class BoxMullerNormal(dist.Normal):
    """N(loc, scale²) sampled exactly by the Box–Muller transform (density, log_prob: ``Normal``).

    From two independent uniforms U_1 = (k_1 + 1) 2^-53 ∈ (0, 1] and U_2 = k_2 2^-53 ∈ [0, 1)
    (k_i the top 53 bits of ``jax.random.bits``), R = sqrt(−2 ln U_1) and Θ = 2π U_2 give two
    independent standard normals R cos Θ and R sin Θ (Box & Muller 1958): exact in distribution
    up to the 2^-53 grid of the uniforms (the tail is cut at R = sqrt(106 ln 2) ≈ 8.6, as
    ``jax.random.normal``'s is at ≈ 8.3). One 64-bit word per normal, one log and sqrt per
    pair, and :func:`sincos`'s kernel for each normal (as the single-output cos(Θ − kπ/2), bit
    for bit sincos's values, so that XLA does not compute the pair's sincos twice); the same
    key gives the same numbers.
    """

    def sample(self, key: jax.Array, sample_shape: tuple[int, ...] = ()) -> jax.Array:
        """Draw normals of shape ``sample_shape + batch_shape``."""
        shape = tuple(sample_shape) + self.batch_shape + self.event_shape
        size = math.prod(shape)
        half = (size + 1) // 2
        # the 53-bit integers go to float64 through int64 (exact either way; XLA:CPU converts
        # uint64 with a scalar fix-up loop, int64 with one vector instruction)
        k = (jax.random.bits(key, (2, half), jnp.uint64) >> 11).astype(jnp.int64)
        u1 = (k[0] + 1).astype(jnp.float64) * 2.0**-53
        u2 = k[1].astype(jnp.float64) * 2.0**-53
        # R and Θ computed once per pair (the barrier), then the rows R cos Θ and R sin Θ from
        # one single-output kernel (sin Θ = cos(Θ − π/2) by a quadrant shift, bit for bit what
        # sincos gives): XLA recomputes a two-output sincos, and R, once per consumer
        radius, theta = jax.lax.optimization_barrier(
            (jnp.sqrt(-2.0 * jnp.log(u1)), 2.0 * math.pi * u2))
        quarter = jnp.arange(2)[:, None]
        z = (radius * _cos_quarter(theta, quarter)).reshape(-1)[:size]
        z = z.reshape(shape)
        return self.loc + self.scale * z


@dataclass(frozen=True)
class CosinePhases:
    """Cosine neurons h_i(x) = A_i cos(ω_i·x + c_i) with phases c_i ~ U[−π, π] i.i.d.

    The phases are independent of each other and of every other parameter, so the phase
    average of a product of one neuron at k points is, with z_p = exp(i ω_i·x_p),

        E_c[Π_p h_i(x_p)] = 2^{1−k} A_i^k Σ_{s ∈ {±1}^k, s_1 = +1, Σ s = 0} Re Π_p z_p^{s_p}

    (Halverson eqs. 23, 27 before the average over b).

    Attributes
    ----------
    site : str
        Name of the phase sample site.
    frequency : callable
        ``frequency(params) -> ω`` of shape (..., N, d).
    amplitude : callable or None
        ``amplitude(params) -> A`` of shape (..., N); None for A = 1.
    """

    site: str
    frequency: Callable[[Params], jax.Array]
    amplitude: Callable[[Params], jax.Array] | None = None


def _gaussian_scale(a_dist: dist.Distribution) -> float | None:
    """s if ``a_dist`` is a scalar N(0, s²) (concrete parameters), else None."""
    if not isinstance(a_dist, dist.Normal) or a_dist.batch_shape != ():
        return None
    try:
        loc, scale = float(a_dist.loc), float(a_dist.scale)
    except (TypeError, jax.errors.ConcretizationTypeError):
        return None
    return scale if loc == 0.0 else None


@dataclass(frozen=True)
class Network:
    """A field φ(x) = Σ_i a_i h_i(x) of ``width`` random neurons on R^dim.

    Attributes
    ----------
    name : str
        Architecture name.
    width : int
        Number of neurons N.
    dim : int
        Input dimension d.
    prior : callable
        NumPyro model with no arguments; its sample sites are the parameters of one network.
    neurons : callable
        ``neurons(params, x) -> h`` with ``x`` of shape (P, d) and ``h`` of shape
        (..., N, P) for parameters with leading batch shape (...).
    readout : callable
        ``readout(params) -> a`` of shape (..., N).
    readout_scale : float or None
        s where the readout is the sample site ``a`` with a_i i.i.d. N(0, s²), independent of the
        neurons (then φ | neurons is Gaussian, N(0, s² Σ_i h_i(x) h_i(y))); None otherwise.
    phases : CosinePhases or None
        Set for cosine neurons with uniform phases (see :class:`CosinePhases`).
    """

    name: str
    width: int
    dim: int
    prior: Callable[[], None]
    neurons: Callable[[Params, jax.Array], jax.Array]
    readout: Callable[[Params], jax.Array]
    readout_scale: float | None = None
    phases: CosinePhases | None = None

    def forward(self, params: Params, x: jax.Array) -> jax.Array:
        """The field φ(x) = Σ_i a_i h_i(x) (Halverson eq. 1).

        Parameters
        ----------
        params : dict of str to Array
            Parameter values, each with an optional leading batch shape (...).
        x : Array, shape (P, d)
            Input points (see :func:`as_points`).

        Returns
        -------
        Array, shape (..., P)
            The field of every network in the batch at every point.
        """
        return jnp.einsum("...n,...np->...p", self.readout(params), self.neurons(params, x))


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


def a_distribution(
    width: int, sigma_a: float = 1.0, kind: str = "gaussian", modes: float = 1.0
) -> dist.Distribution:
    """The distribution of one output weight a_i.

    Parameters
    ----------
    width : int
        N; the scale of a is σ_a / sqrt(N), so E[a²] = O(1/N) as in Halverson eq. (6).
    sigma_a : float
        σ_a.
    kind : {"gaussian", "mixture"}
        ``gaussian``: N(0, σ_a²/N). ``mixture``: equal-weight mixture of
        N(±modes·σ_a/sqrt(N), (MIXTURE_SPREAD·σ_a)²/N), an even bimodal P(a) (Halverson's
        non-trivial classical configurations); bimodal when ``modes > MIXTURE_SPREAD``.
    modes : float
        Position of the modes in units of σ_a / sqrt(N) (``mixture`` only).

    Returns
    -------
    numpyro.distributions.Distribution
        A scalar distribution, even in a.
    """
    scale = sigma_a / math.sqrt(width)
    if kind == "gaussian":
        return BoxMullerNormal(0.0, scale)
    if kind == "mixture":
        loc = jnp.array([-modes * scale, modes * scale])
        comps = dist.Normal(loc, MIXTURE_SPREAD * scale)
        return dist.MixtureSameFamily(dist.Categorical(probs=jnp.array([0.5, 0.5])), comps)
    raise ValueError(f"unknown a prior {kind!r}; choose gaussian or mixture")


def as_points(x: jax.typing.ArrayLike, dim: int) -> jax.Array:
    """Input points as an array of shape (P, d).

    Parameters
    ----------
    x : array_like
        Shape (P, d); for d = 1 also a scalar or shape (P,).
    dim : int
        Input dimension d.

    Returns
    -------
    Array, shape (P, d), float64.
    """
    a = jnp.asarray(x, dtype=jnp.float64)
    if dim == 1 and (a.ndim < 2 or a.shape[-1] != 1):
        a = a.reshape(-1, 1)
    a = jnp.atleast_2d(a)
    if a.ndim != 2 or a.shape[-1] != dim:
        raise ValueError(f"points must have shape (P, {dim}), got {a.shape}")
    return a


# --------------------------------------------------------------------------------------------
# Cosine neurons (Halverson eqs. 18, 24)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Gauss-net, NNGP MLPs, cos(t + θ)
# --------------------------------------------------------------------------------------------


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


def network_from_spec(spec: NeuralFieldSpec) -> Network:
    """Build the :class:`Network` a ``neural_field`` model file describes.

    Parameters
    ----------
    spec : NeuralFieldSpec
        ``architecture`` selects the builder; ``a_prior``/``a_modes`` select P(a) (not used by
        ``cos_theta``, whose weights are fixed). ``nnft_ho`` takes ω = ``mass``.

    Returns
    -------
    Network
    """
    s = spec
    scale = s.sigma_a / math.sqrt(2.0) if s.architecture == "gaussnet" else s.sigma_a
    a = a_distribution(s.width, scale, s.a_prior, s.a_modes)
    builders: dict[str, Callable[[], Network]] = {
        "cosnet": lambda: cosnet(s.width, s.dim, s.sigma_a, s.sigma_b, a),
        "gaussnet": lambda: gaussnet(s.width, s.dim, s.sigma_a, s.sigma_b, s.sigma_c, a),
        "free_scalar": lambda: free_scalar(s.width, s.dim, s.mass, s.cutoff, s.sigma_a, a),
        "cauchy": lambda: cauchy(s.width, s.mass, s.sigma_a, a),
        "mlp": lambda: mlp(s.width, s.dim, s.activation, s.sigma_a, s.sigma_w, s.sigma_b, a),
        "nnft_ho": lambda: nnft_ho(s.width, s.mass, s.cutoff, s.sigma_a, a),
        "cos_theta": lambda: cos_theta(s.width),
        "ib_cosnet": lambda: ib_cosnet(s.width, s.dim, s.sigma_a, s.sigma_b, s.epsilon, a),
    }
    if s.architecture not in builders:
        raise ValueError(f"unknown architecture {s.architecture!r}")
    return builders[s.architecture]()


# --------------------------------------------------------------------------------------------
# Exact draws
# --------------------------------------------------------------------------------------------


def _one_network(net: Network, key: jax.Array) -> Params:
    tr = handlers.trace(handlers.seed(net.prior, key)).get_trace()
    return {name: site["value"] for name, site in tr.items() if site["type"] == "sample"}


def sample_params(net: Network, key: jax.Array, num: int, start: int | jax.Array = 0) -> Params:
    """Draw ``num`` independent networks from the prior (vectorised, exact).

    Network ``n`` is drawn by ``seed(prior, fold_in(key, n))`` for n = start, ..., start+num−1,
    so the same key gives the same networks whatever the batching.

    Parameters
    ----------
    net : Network
        The architecture.
    key : Array
        PRNG key.
    num : int
        Number of networks M.
    start : int or Array
        Index of the first network.

    Returns
    -------
    dict of str to Array
        Every sample site, each with a leading axis of length ``num``.
    """
    keys = jax.vmap(lambda n: jax.random.fold_in(key, n))(start + jnp.arange(num))
    return jax.vmap(lambda k: _one_network(net, k))(keys)


def sample_fields(net: Network, key: jax.Array, x: jax.typing.ArrayLike, num: int) -> jax.Array:
    """Draw ``num`` networks and evaluate each at the points ``x``.

    Materialises all ``num`` networks; for large M use the streaming estimators of
    :mod:`nnqm_ppl.observables.correlators`.

    Parameters
    ----------
    net : Network
        The architecture.
    key : Array
        PRNG key (network n uses ``fold_in(key, n)``).
    x : array_like, shape (P, d)
        Input points.
    num : int
        Number of networks M.

    Returns
    -------
    Array, shape (M, P)
        φ of every network at every point.
    """
    pts = as_points(x, net.dim)
    return _fields_jit(net, key, pts, num)


@partial(jax.jit, static_argnums=(0, 3))
def _fields_jit(net: Network, key: jax.Array, x: jax.Array, num: int) -> jax.Array:
    return net.forward(sample_params(net, key, num), x)
