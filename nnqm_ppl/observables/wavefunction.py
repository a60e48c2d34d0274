r"""Ground-state wave function from paths: ``|ψ0|²`` from periodic paths, ``ψ0`` from the half-line.

* At large ``β`` every site of a path is distributed as ``|ψ0(x)|²`` (thermal corrections
  ``O(e^{−β(E_1−E_0)})``), so a histogram of all sites estimates ``|ψ0|²``.
* For the half-line network of Hashimoto et al. (eq. 5.2–5.7) the end ``y = x(τ=0)`` is sampled
  with density ``∫ Π dx_n e^{−S_E/ħ} ∝ ψ0(y)``: a histogram of the end estimates ``ψ0`` itself
  (normalised to unit integral, or in ``L²``).

Each draw contributes its bin fractions ``f_b`` (one indicator per site, averaged over the
sites); the density ``f̄_b/Δ_b`` has the ArviZ MCSE of ``f_b/Δ_b``, at least ``1/(nΔ_b)`` for n
draws (an empty bin's series is constant, ArviZ MCSE 0, yet it resolves no less than one count).
Sites outside the edges count in the denominator, so the density is normalised over the whole
line. A bin average differs from the density at the bin centre by ``≈ p''Δ²/24``.
"""

from __future__ import annotations

from typing import Literal

import jax.numpy as jnp
import numpy as np

from nnqm_ppl.observables.estimate import derived_estimate, mean_estimate
from nnqm_ppl.observables.lattice import window
from nnqm_ppl.windows import Boundary

__all__ = ["bin_fraction_series", "position_density", "psi0"]


def bin_fraction_series(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Per-draw fraction of the values in each bin.

    Parameters
    ----------
    values : array_like, shape (chain, draw, S)
        ``S`` values per draw (sites of a path, or one end).
    edges : array_like, shape (B + 1,)
        Increasing bin edges; bins are ``[e_b, e_{b+1})``, the last one closed.

    Returns
    -------
    ndarray, shape (chain, draw, B)
        ``(1/S) Σ_s 1[e_b ≤ v_s < e_{b+1}]``.
    """
    v = np.asarray(values, dtype=np.float64)
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0):
        raise ValueError("edges must be a strictly increasing 1-d array of at least 2 values")
    nb = e.size - 1
    idx = np.searchsorted(e, v, side="right") - 1
    idx[v == e[-1]] = nb - 1
    inside = (idx >= 0) & (idx < nb)
    n_draws = v.shape[0] * v.shape[1]
    flat = np.arange(n_draws).reshape(v.shape[:2])[..., None] * nb + idx
    counts = np.bincount(flat[inside], minlength=n_draws * nb).reshape(*v.shape[:2], nb)
    return counts / v.shape[2]


def _density(fractions: np.ndarray, edges: np.ndarray) -> dict[str, np.ndarray]:
    r"""Bin densities ``f̄_b/Δ_b`` with the ArviZ MCSE, floored at one draw's count.

    A bin that no draw reached has a constant (zero) series, whose ArviZ MCSE is 0, yet an empty
    bin only says the probability is of order one count or less. The MCSE is therefore at least
    ``1/(n Δ_b)`` (n draws), the resolution of a single draw in the bin: an empty bin is then
    consistent with an exact density p_b within k MCSE when ``p_b Δ_b n ≤ k`` expected counts.
    """
    e = np.asarray(edges, dtype=np.float64)
    width = np.diff(e)
    est = mean_estimate(fractions / width)
    n = fractions.shape[0] * fractions.shape[1]
    return {
        "x": 0.5 * (e[1:] + e[:-1]),
        "value": np.atleast_1d(est.value),
        "mcse": np.maximum(np.atleast_1d(est.mcse), 1.0 / (n * width)),
    }


def position_density(
    x: np.ndarray,
    edges: np.ndarray,
    *,
    boundary: Boundary = "periodic",
    skip: int | None = None,
) -> dict[str, np.ndarray]:
    r"""``|ψ0(x)|²`` as the density of all sites of the paths (large ``β``).

    .. math:: \hat p_b = \frac{1}{Δ_b}\,\overline{\frac{1}{M}\sum_{n} 1[x_n ∈ \text{bin } b]}

    Parameters
    ----------
    x : array_like, shape (chain, draw, L)
        Paths; the sites of :func:`~nnqm_ppl.observables.lattice.window` are histogrammed.
    edges : array_like, shape (B + 1,)
        Bin edges.
    boundary, skip
        See :func:`~nnqm_ppl.observables.lattice.window`.

    Returns
    -------
    dict
        ``{"x": centres, "value": density, "mcse": MCSE}``, arrays of shape ``(B,)``.
    """
    return _density(bin_fraction_series(window(x, boundary, skip), edges), edges)


def psi0(
    x: np.ndarray,
    edges: np.ndarray,
    *,
    site: int = 0,
    normalize: Literal["density", "l2"] = "density",
) -> dict[str, np.ndarray]:
    r"""``ψ0(y)`` from the half-line network: the density of the sampled end ``y = x_site``.

    ``normalize="density"``: ``p_b = f̄_b/Δ_b`` with ``∫ p = 1`` over the whole line (MCSE per bin
    from ArviZ). ``normalize="l2"``: ``ψ_b = p_b / sqrt(Σ_c p_c² Δ_c)``, unit ``L²`` norm over the
    binned range (the sum replaces ``∫ψ²``: bin-width error ``O(Δ²)`` and the tails beyond the edges
    are left out), with the delta-method MCSE of this ratio.

    Parameters
    ----------
    x : array_like, shape (chain, draw, L)
        Half-line paths.
    edges : array_like, shape (B + 1,)
        Bin edges.
    site : int
        Index of the end ``y = x(τ=0)`` in the path (default the first site).
    normalize : {"density", "l2"}
        Normalisation, above.

    Returns
    -------
    dict
        ``{"x": centres, "value": ψ0, "mcse": MCSE}``, arrays of shape ``(B,)``.
    """
    xa = np.asarray(x, dtype=np.float64)
    if xa.ndim != 3:
        raise ValueError("paths need shape (chain, draw, L)")
    e = np.asarray(edges, dtype=np.float64)
    fractions = bin_fraction_series(xa[:, :, site : site + 1 or None], e)
    if normalize == "density":
        return _density(fractions, e)
    if normalize != "l2":
        raise ValueError(f"normalize must be 'density' or 'l2', got {normalize!r}")
    width = jnp.asarray(np.diff(e))

    def l2(f: jnp.ndarray) -> jnp.ndarray:
        p = f / width
        return p / jnp.sqrt(jnp.sum(p**2 * width))

    est = derived_estimate(l2, fractions)
    return {
        "x": 0.5 * (e[1:] + e[:-1]),
        "value": np.atleast_1d(est.value),
        "mcse": np.atleast_1d(est.mcse),
    }
