"""The reference Gaussian action S_0 of the ``fourier`` path network and its normal-mode basis.

The reference itself (:class:`ReferenceGaussian`), the eigenvalues of its Hessian, and the
orthonormal real transforms (rfft/irfft, DST-I, DCT-I; O(N log N)) that apply its eigenbasis.

Fourier acceleration (see :mod:`nnqm_ppl.networks.paths`): the path is written as
x = x_cl + B diag(sqrt(ħ/λ_k)) z in the eigenbasis B of the Hessian of
S_0 (:func:`reference_gaussian`, :func:`mode_eigenvalues`), applied by :func:`rfft_synthesis`
(periodic), :func:`dst1` (fixed ends) or :func:`dct1` (half line).

Vector-valued paths (x_n ∈ R^d): the reference is V_0(x) = ½ m (x - x̄)ᵀ Ω² (x - x̄) with a
symmetric positive-definite frequency matrix Ω. Its eigenbasis Q (``eigh``, :func:`normal_modes`)
splits S_0 into d scalar reference actions of the rotated path w = Qᵀx, one per normal mode with
frequency ω_j, so every formula above applies per mode (arrays broadcast over a leading mode axis).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from nnqm_ppl.physics import Lattice, Potential, quadratic_form

__all__ = [
    "ReferenceGaussian",
    "reference_gaussian",
    "is_quadratic",
    "normal_modes",
    "mode_eigenvalues",
    "rfft_synthesis",
    "dst1",
    "dct1",
]

Array = Any

#: Number of Gauss–Hermite nodes for the self-consistent ⟨V''⟩ (exact for polynomials of degree < 80).
_GH_NODES = 40


# --------------------------------------------------------------------------------------------
# The reference Gaussian action S_0
# --------------------------------------------------------------------------------------------


class ReferenceGaussian(NamedTuple):
    """Reference potential V_0(x) = ½ m ω0² (x - center)² of the Fourier network (x ∈ R^d: Ω²).

    Attributes
    ----------
    omega0 : float, or array (d, d)
        ω0 > 0 (needed: it is the only restoring force on the zero mode of open and closed paths;
        0 only for the free particle with fixed ends, where the pinned ends restore);
        for d > 1 the symmetric positive-definite frequency matrix Ω, V_0 = ½ m (x - x̄)ᵀ Ω² (x - x̄).
    center : float, or array (d,)
        x̄, the minimum of V_0.
    """

    omega0: float | np.ndarray
    center: float | np.ndarray


def is_quadratic(potential: Potential) -> bool:
    """Whether V is a known quadratic polynomial (then the path measure is Gaussian)."""
    return quadratic_form(potential) is not None


def reference_gaussian(potential: Potential, mass: float = 1.0, hbar: float = 1.0) -> ReferenceGaussian:
    """The reference Gaussian used to whiten the action (the Fourier-acceleration heuristic).

    For a quadratic V = c0 + c1 x + c2 x² the reference is exact: ω0 = √(2 c2 / m) and
    x̄ = -c1 / (2 c2), so S_E - S_0 is a constant. Otherwise x̄ = 0 and ω0 solves the
    self-consistent harmonic (Gaussian variational) condition

    .. math::

        m\\,\\omega_0^2 = \\big\\langle V''(x) \\big\\rangle_{x \\sim N(\\bar x,\\, \\hbar / 2 m \\omega_0)},

    i.e. the curvature of V averaged over the ground state of the oscillator it defines. It reduces
    to √(2 c2/m) when the quadratic term dominates, stays positive and sensible when c2 is small or
    negative (double well: the average curvature over the width of the wells) and gives ω0 = 2 for
    V = x²/2 + x⁴ (ω³ - ω - 6 = 0). The sampled density is e^{-S_E/ħ} whatever ω0 is; ω0 only
    sets how well the Gaussian part is whitened.

    Parameters
    ----------
    potential : Potential
    mass, hbar : float

    Returns
    -------
    ReferenceGaussian

    Notes
    -----
    For d > 1 (:func:`_vector_reference`) the reference is per normal mode of the quadratic part.
    """
    if potential.components > 1:
        return _vector_reference(potential, mass, hbar)
    if is_quadratic(potential):
        c0, c1, c2 = potential.coeffs + (0.0,) * (3 - len(potential.coeffs))
        if c2 == 0.0:  # constant V, the free particle (fixed ends only): S_0 is the kinetic term itself
            return ReferenceGaussian(0.0, 0.0)
        return ReferenceGaussian(float(np.sqrt(2.0 * c2 / mass)), float(-c1 / (2.0 * c2)))
    nodes, weights = np.polynomial.hermite_e.hermegauss(_GH_NODES)
    weights = weights / weights.sum()
    curvature = jax.vmap(jax.grad(jax.grad(lambda x: potential(x))))

    def excess(log_omega: float) -> float:
        omega = np.exp(log_omega)
        x = nodes * np.sqrt(hbar / (2.0 * mass * omega))
        return float(mass * omega**2 - np.dot(weights, np.asarray(curvature(jnp.asarray(x)))))

    lo, hi = -1.0, 1.0
    while excess(lo) > 0.0:
        lo -= 2.0
    while excess(hi) < 0.0:
        hi += 2.0
    for _ in range(100):  # bisection in log ω: excess < 0 at lo, > 0 at hi
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if excess(mid) < 0.0 else (lo, mid)
    return ReferenceGaussian(float(np.exp(0.5 * (lo + hi))), 0.0)


def _vector_reference(potential: Potential, mass: float, hbar: float) -> ReferenceGaussian:
    """The reference of a vector potential: Ω² = M/m with M the curvature matrix below.

    - Quadratic V = V(0) + bᵀx + ½ xᵀHx: M = H and x̄ = -H⁻¹b (exact: S_E - S_0 is constant).
    - :meth:`~nnqm_ppl.physics.Potential.separable`: M = K + diag(κ_c), κ_c = 2 c_{c,2} for
      a P_c of degree ≤ 2, else m ω0(P_c)² with ω0(P_c) the scalar self-consistent frequency of
      :func:`reference_gaussian`; x̄ = 0. Diagonalising M whitens the coupled quadratic part
      (the spatial gradient of a lattice field) per normal mode.
    - :meth:`~nnqm_ppl.physics.Potential.radial_polynomial`: M = m ω0(R)² 1 with R(x) the
      polynomial read along one axis.
    - A callable: M = ∇∇V(0), x̄ = 0.

    Raises
    ------
    ValueError
        If M is not positive definite (pass ``reference=`` to the network instead).
    """
    d = potential.components
    form = quadratic_form(potential)
    center = np.zeros(d)
    if form is not None:
        curvature = form[0]
        center = -np.linalg.solve(form[0], form[1])
    elif potential.radial is not None:
        curvature = mass * reference_gaussian(Potential(coeffs=potential.radial), mass, hbar).omega0 ** 2 * np.eye(d)
    elif potential.site is not None:
        scalar: dict[tuple[float, ...], float] = {}
        for p in potential.site:
            if p not in scalar:
                quadratic = len(p) <= 3
                scalar[p] = 2.0 * (p + (0.0, 0.0))[2] if quadratic else (
                    mass * reference_gaussian(Potential(coeffs=p), mass, hbar).omega0 ** 2)
        coupling = 0.0 if potential.coupling is None else np.asarray(potential.coupling)
        curvature = coupling + np.diag([scalar[p] for p in potential.site])
    else:
        curvature = np.asarray(jax.hessian(potential)(jnp.zeros(d)))
    w, q = (np.asarray(v) for v in jnp.linalg.eigh(jnp.asarray(curvature) / mass))
    if w[0] <= 0.0:
        raise ValueError("reference_gaussian: the curvature matrix is not positive definite; pass reference=")
    return ReferenceGaussian((q * np.sqrt(w)) @ q.T, center)


def normal_modes(reference: ReferenceGaussian) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies ω_j (ascending) and orthonormal columns Q of the frequency matrix Ω = Q diag(ω) Qᵀ.

    Parameters
    ----------
    reference : ReferenceGaussian
        With a d × d ``omega0``.

    Returns
    -------
    omega : ndarray (d,)
    basis : ndarray (d, d)
    """
    w, q = jnp.linalg.eigh(jnp.asarray(reference.omega0, dtype=float))
    return np.asarray(w), np.asarray(q)


def _mode_angles(lattice: Lattice) -> np.ndarray:
    """θ_k of the modes in the order of the synthesis transforms (see :func:`mode_eigenvalues`)."""
    n = lattice.slices
    if lattice.boundary == "periodic":
        k = np.concatenate([[0], np.repeat(np.arange(1, (n - 1) // 2 + 1), 2), [n // 2] * (1 - n % 2)])
        return 2.0 * np.pi * k / n
    if lattice.boundary == "fixed":
        return np.pi * np.arange(1, n) / n
    return np.pi * np.arange(0, n + 1) / n


def mode_eigenvalues(lattice: Lattice, omega0: float) -> np.ndarray:
    """Eigenvalues λ_k of the reference Hessian, in the order of the basis used by ``fourier``.

    .. math:: \\lambda_k = \\frac{4m}{a}\\sin^2\\frac{\\theta_k}{2} + a\\, m\\, \\omega_0^2

    with θ_k = 2πk/N for the packed real Fourier modes [0, 1c, 1s, 2c, 2s, …, N/2] (periodic),
    θ_k = πk/N, k = 1..N-1 (fixed ends, DST-I) and k = 0..N (half line, DCT-I).

    Parameters
    ----------
    lattice : Lattice
    omega0 : float, or array (d, 1)
        One frequency, or one per normal mode (then λ has a leading mode axis).

    Returns
    -------
    ndarray, shape (n_free(lattice),), or (d, n_free(lattice))
    """
    theta = _mode_angles(lattice)
    m, a = lattice.mass, lattice.a
    return 4.0 * m / a * np.sin(theta / 2.0) ** 2 + a * m * omega0**2


# --------------------------------------------------------------------------------------------
# Orthonormal real transforms built on rfft / irfft (O(N log N))
# --------------------------------------------------------------------------------------------


def rfft_synthesis(c: Array) -> Array:
    """Path from its coefficients in the orthonormal real Fourier basis of a periodic lattice.

    The coefficients are packed as [c_0, c_1^cos, c_1^sin, …, c_K^cos, c_K^sin, c_{N/2}] (the last
    only for even N), and

    .. math::

        x_n = \\frac{c_0}{\\sqrt N} + \\sqrt{\\frac 2N}\\sum_{k=1}^{K}\\big(c_k^{\\cos}\\cos\\tfrac{2\\pi kn}{N}
              - c_k^{\\sin}\\sin\\tfrac{2\\pi kn}{N}\\big) + \\frac{c_{N/2}}{\\sqrt N}(-1)^n,

    an orthogonal map (``irfft`` with ``norm="ortho"``). Acts on the last axis.

    Parameters
    ----------
    c : array, shape (..., N)

    Returns
    -------
    array, shape (..., N)
    """
    c = jnp.asarray(c, dtype=float)
    n = c.shape[-1]
    k = (n - 1) // 2
    pairs = c[..., 1 : 1 + 2 * k].reshape(c.shape[:-1] + (k, 2))
    parts = [c[..., :1].astype(complex), (pairs[..., 0] + 1j * pairs[..., 1]) / np.sqrt(2.0)]
    if n % 2 == 0:
        parts.append(c[..., -1:].astype(complex))
    return jnp.fft.irfft(jnp.concatenate(parts, axis=-1), n=n, norm="ortho")


def dst1(u: Array) -> Array:
    """Orthonormal type-I discrete sine transform (its own inverse), via one rfft.

    .. math:: y_k = \\sqrt{\\tfrac{2}{N}} \\sum_{n=1}^{N-1} u_n \\sin\\frac{\\pi k n}{N},
              \\quad k = 1..N-1,

    computed from the odd extension (0, u, 0, -u reversed) of length 2N, whose rfft is
    -2i Σ_n u_n sin(πkn/N). Equals ``scipy.fft.dst(u, type=1, norm="ortho")``. Acts on the last axis.

    Parameters
    ----------
    u : array, shape (..., N - 1)

    Returns
    -------
    array, shape (..., N - 1)
    """
    u = jnp.asarray(u, dtype=float)
    n = u.shape[-1] + 1
    zero = jnp.zeros(u.shape[:-1] + (1,))
    ext = jnp.concatenate([zero, u, zero, -u[..., ::-1]], axis=-1)
    return -jnp.imag(jnp.fft.rfft(ext, axis=-1)[..., 1:n]) / np.sqrt(2.0 * n)


def dct1(u: Array) -> Array:
    """Orthonormal type-I discrete cosine transform (its own inverse), via one rfft.

    .. math:: y_k = \\sqrt{\\tfrac{2}{N}}\\, \\alpha_k \\sum_{n=0}^{N} \\alpha_n u_n \\cos\\frac{\\pi k n}{N},
              \\quad \\alpha_0 = \\alpha_N = 1/\\sqrt 2,\\ \\alpha_{\\rm else} = 1,

    computed from the even extension of h = u/α, of length 2N, whose rfft is
    h_0 + (-1)^k h_N + 2 Σ_{0<n<N} h_n cos(πkn/N). Equals
    ``scipy.fft.dct(u, type=1, norm="ortho")``. Acts on the last axis.

    Parameters
    ----------
    u : array, shape (..., N + 1)

    Returns
    -------
    array, shape (..., N + 1)
    """
    u = jnp.asarray(u, dtype=float)
    n = u.shape[-1] - 1
    alpha = _dct1_alpha(n)
    h = u / alpha
    ext = jnp.concatenate([h, h[..., -2:0:-1]], axis=-1)
    return alpha * jnp.real(jnp.fft.rfft(ext, axis=-1)) / np.sqrt(2.0 * n)


def _dct1_alpha(n: int) -> np.ndarray:
    """α_n of the orthonormal DCT-I on n + 1 points (1/√2 at both ends, else 1)."""
    alpha = np.ones(n + 1)
    alpha[[0, -1]] = 1.0 / np.sqrt(2.0)
    return alpha
