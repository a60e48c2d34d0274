"""Float64 kernels the neurons are drawn and evaluated with: :func:`sincos` and Box–Muller normals.

:func:`sincos` is a vectorisable float64 sine/cosine (~10× cheaper than XLA's scalar ``cos`` on
CPU); :class:`BoxMullerNormal` samples exact normals by the Box–Muller transform of 53-bit
uniforms (~1.5× cheaper than ``jax.random.normal``'s float64 inverse-erf).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpyro.distributions as dist

__all__ = ["BoxMullerNormal", "sincos"]


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
