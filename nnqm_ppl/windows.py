"""The window of a lattice path: which sites enter its translation averages.

One definition, below both sides that use it: the Monte Carlo estimators of
:mod:`nnqm_ppl.observables.lattice` average over these sites and pairs, and the exact window
averages of :mod:`nnqm_ppl.exact.window` average the transfer-matrix site values over the same
ones, so the estimate and its exact value cannot drift apart.

* ``"periodic"`` — every site; all ``N`` translations (``x_N ≡ x_0``).
* ``"open"`` — a stationary open segment: every site, products over the ``M − n`` pairs that fit.
* ``"fixed"`` / ``"half_line"`` — ``skip`` sites dropped at each end (default ``L // 4``), the
  interior window treated as an open segment.
"""

from __future__ import annotations

from typing import Literal

import jax.numpy as jnp

__all__ = ["Boundary", "is_periodic", "window_sites", "pair_means"]

Boundary = Literal["periodic", "open", "fixed", "half_line"]
_BOUNDARIES = ("periodic", "open", "fixed", "half_line")


def is_periodic(boundary: Boundary) -> bool:
    """Whether ``boundary`` wraps (``x_N ≡ x_0``); raises ``ValueError`` for an unknown name."""
    if boundary not in _BOUNDARIES:
        raise ValueError(f"boundary must be one of {_BOUNDARIES}, got {boundary!r}")
    return boundary == "periodic"


def window_sites(length: int, boundary: Boundary = "periodic", skip: int | None = None) -> range:
    """The indices of the sites of a path of ``length`` sites that enter translation averages.

    Parameters
    ----------
    length : int
        ``L``, the number of sites of the path (``N`` periodic, ``N + 1`` fixed or half-line:
        the full path ``x_0 … x_N`` of :func:`nnqm_ppl.physics.full_path`).
    boundary : {"periodic", "open", "fixed", "half_line"}
        See the module docstring.
    skip : int, optional
        Sites dropped at each end of an open path. Default ``0`` for ``"periodic"`` and
        ``"open"``, ``L // 4`` for ``"fixed"`` and ``"half_line"`` (the interior half of the path).

    Returns
    -------
    range
        ``range(skip, L − skip)``: the ``M`` window sites. Averages over the window use, for a
        separation ``n``, the ``M − n`` pairs ``(j, j + n)`` with both sites in it (all ``M``
        pairs, wrapping round, on a periodic path); links are the pairs at ``n = 1`` and the
        interior sites (both neighbours in the window) are ``range(skip + 1, L − skip − 1)``.
    """
    periodic = is_periodic(boundary)
    if skip is None:
        skip = length // 4 if boundary in ("fixed", "half_line") else 0
    if periodic and skip:
        raise ValueError("a periodic path has no ends to skip")
    if skip < 0 or length - 2 * skip < 2:
        raise ValueError(f"skip={skip} leaves fewer than 2 of the {length} sites")
    return range(skip, length - skip)


def pair_means(means: jnp.ndarray, n_tau: int) -> jnp.ndarray:
    r"""``(1/(M − n)) Σ_j ō_j ō_{j+n}`` for ``n = 0 … n_tau − 1``: the disconnected part of a
    window-averaged correlator, over the same ``M − n`` pairs as
    :func:`~nnqm_ppl.observables.lattice.correlator_series`.

    Parameters
    ----------
    means : array, shape (M,)
        Means ``ō_j`` of the operator at the ``M`` window sites (a JAX or NumPy array).
    n_tau : int
        Number of separations (``≤ M``).

    Returns
    -------
    jax.Array, shape (n_tau,)
    """
    m = means.shape[-1]
    return jnp.stack([jnp.mean(means[: m - n] * means[n:]) for n in range(n_tau)])
