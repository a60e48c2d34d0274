"""Exact samplers for the Markov input processes of deep NN-QM: Ornstein–Uhlenbeck and Brownian.

These are the "seed" quantum systems of Ferko & Halverson (2504.05462): symmetric Markov processes
are reflection positive (the second mechanism of the talk, "Mechanisms for reflection
positivity"), and by Theorem 4 any random network applied to them stays reflection positive
(:mod:`nnqm_ppl.networks.deep`).

Conventions (one diffusion constant ``D`` for both processes, Nelson's stochastic mechanics):

- Ornstein–Uhlenbeck, ``dx = −γ x dt + sqrt(2D) dW``, sampled *exactly* on any increasing grid by
  the AR(1) update

  .. math::

      x_{t+\\Delta t} = e^{-\\gamma \\Delta t} x_t
          + \\sqrt{\\tfrac{D}{\\gamma}\\,(1 - e^{-2\\gamma\\Delta t})}\\;\\xi, \\qquad \\xi \\sim N(0, 1),

  started from the stationary law ``N(0, D/γ)``, so ``Cov(x_t, x_s) = (D/γ) e^{−γ|t−s|}``. With
  ``D = ħ/(2m)`` and ``γ = ω`` this is the harmonic-oscillator ground-state process
  (stationary variance ``ħ/(2mω) = ⟨0|x²|0⟩``, spectrum gap ``ω``).
- Brownian motion, ``dx = sqrt(2D) dW`` with ``x(t_0) = 0`` at the first grid time, so
  ``Cov(x_t, x_s) = 2D min(t − t_0, s − t_0)`` (``D = 1/2``: the standard Wiener process).

All samplers take an explicit PRNG key, draw all noise at once and run one ``lax.scan`` over time,
vectorised over paths. Output shape ``(n_paths, n_times)`` or ``(n_paths, n_times, dim)``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = ["ou_paths", "vector_ou_paths", "brownian_paths"]


def _check_times(times: np.ndarray | jnp.ndarray) -> jnp.ndarray:
    t = jnp.asarray(times, dtype=jnp.float64)
    if t.ndim != 1 or t.shape[0] < 1:
        raise ValueError("times must be a non-empty 1-D array")
    if t.shape[0] > 1 and not bool(jnp.all(jnp.diff(t) > 0)):
        raise ValueError("times must be strictly increasing")
    return t


def _check_n_paths(n_paths: int) -> int:
    if int(n_paths) < 1:
        raise ValueError(f"n_paths must be >= 1, got {n_paths}")
    return int(n_paths)


def _positive_vector(name: str, value: float | np.ndarray, dim: int | None = None) -> jnp.ndarray:
    v = jnp.atleast_1d(jnp.asarray(value, dtype=jnp.float64))
    if v.ndim != 1 or not bool(jnp.all(v > 0)) or not bool(jnp.all(jnp.isfinite(v))):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    if dim is not None and v.shape[0] not in (1, dim):
        raise ValueError(f"{name} must be a scalar or have length {dim}, got {v.shape[0]}")
    return v if dim is None else jnp.broadcast_to(v, (dim,))


def vector_ou_paths(
    key: jax.Array,
    n_paths: int,
    times: np.ndarray | jnp.ndarray,
    *,
    rates: np.ndarray | jnp.ndarray,
    diffusion: float | np.ndarray = 0.5,
) -> jnp.ndarray:
    """Exact stationary paths of a vector OU process with independent components.

    Component ``i`` obeys ``dx_i = −γ_i x_i dt + sqrt(2 D_i) dW_i`` and is updated exactly by
    ``x_i(t+Δt) = e^{−γ_i Δt} x_i(t) + sqrt(D_i/γ_i (1 − e^{−2γ_i Δt})) ξ_i``, started from its
    stationary law ``N(0, D_i/γ_i)``; hence ``Cov(x_i(t), x_j(s)) = δ_ij (D_i/γ_i) e^{−γ_i|t−s|}``
    (:func:`nnqm_ppl.exact.processes.ou_covariance`).

    Parameters
    ----------
    key : jax.Array
        PRNG key.
    n_paths : int
        Number of independent paths.
    times : array, shape (n_times,)
        Strictly increasing sampling times (any spacing).
    rates : array, shape (dim,)
        Relaxation rates γ_i > 0 (the energy gaps of the components).
    diffusion : float or array of shape (dim,)
        Diffusion constants D_i > 0 (``ħ/(2m)`` for the oscillator ground state).

    Returns
    -------
    jnp.ndarray, shape (n_paths, n_times, dim)
    """
    n = _check_n_paths(n_paths)
    t = _check_times(times)
    gam = _positive_vector("rates", rates)
    dif = _positive_vector("diffusion", diffusion, gam.shape[0])
    var = dif / gam
    xi = jax.random.normal(key, (t.shape[0], n, gam.shape[0]))
    decay = jnp.exp(-gam[None, :] * jnp.diff(t)[:, None])  # (n_times - 1, dim)
    kick = jnp.sqrt(var[None, :] * (1.0 - decay**2))
    x0 = jnp.sqrt(var) * xi[0]

    def step(x, inputs):
        c, s, z = inputs
        x = c * x + s * z
        return x, x

    _, rest = lax.scan(step, x0, (decay[:, None, :], kick[:, None, :], xi[1:]))
    return jnp.moveaxis(jnp.concatenate([x0[None], rest], axis=0), 0, 1)


def ou_paths(
    key: jax.Array,
    n_paths: int,
    times: np.ndarray | jnp.ndarray,
    *,
    rate: float = 1.0,
    diffusion: float = 0.5,
) -> jnp.ndarray:
    """Exact stationary Ornstein–Uhlenbeck paths, ``Cov(x_t, x_s) = (D/γ) e^{−γ|t−s|}``.

    The scalar case of :func:`vector_ou_paths`. With ``diffusion = ħ/(2m)`` and ``rate = ω`` the
    paths are the Euclidean paths of the harmonic-oscillator ground state (Nelson): stationary
    variance ``ħ/(2mω)``, Källén–Lehmann spectrum a single level at ``E_1 − E_0 = ω``.

    Parameters
    ----------
    key : jax.Array
        PRNG key.
    n_paths : int
        Number of independent paths.
    times : array, shape (n_times,)
        Strictly increasing sampling times.
    rate : float
        γ > 0.
    diffusion : float
        D > 0.

    Returns
    -------
    jnp.ndarray, shape (n_paths, n_times)
    """
    return vector_ou_paths(key, n_paths, times, rates=rate, diffusion=diffusion)[..., 0]


def brownian_paths(
    key: jax.Array,
    n_paths: int,
    times: np.ndarray | jnp.ndarray,
    *,
    diffusion: float = 0.5,
) -> jnp.ndarray:
    """Brownian paths pinned at zero at the first grid time.

    ``x(t_0) = 0`` and ``x(t_{k+1}) = x(t_k) + sqrt(2 D Δt_k) ξ_k``, so
    ``Cov(x_t, x_s) = 2D min(t − t_0, s − t_0)``
    (:func:`nnqm_ppl.exact.processes.brownian_covariance`). Mean-square continuous, not stationary.

    Parameters
    ----------
    key : jax.Array
        PRNG key.
    n_paths : int
        Number of independent paths.
    times : array, shape (n_times,)
        Strictly increasing times; the path starts at ``times[0]``.
    diffusion : float
        D > 0 (``D = 1/2``: the standard Wiener process, covariance ``min``).

    Returns
    -------
    jnp.ndarray, shape (n_paths, n_times)
    """
    n = _check_n_paths(n_paths)
    t = _check_times(times)
    d = _positive_vector("diffusion", diffusion)[0]
    xi = jax.random.normal(key, (t.shape[0] - 1, n))
    steps = jnp.sqrt(2.0 * d * jnp.diff(t))[:, None] * xi
    _, rest = lax.scan(lambda x, s: (x + s, x + s), jnp.zeros(n), steps)
    return jnp.concatenate([jnp.zeros((1, n)), rest], axis=0).T
