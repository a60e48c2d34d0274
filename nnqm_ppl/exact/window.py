"""Exact window averages of an open lattice path (fixed ends, half line) from the transfer matrix.

With pinned or free ends the path ensemble is not translation invariant: ``⟨f(x_j)⟩`` depends on
the site ``j``. The Monte Carlo averages every observable over the interior window of
:func:`nnqm_ppl.windows.window_sites` (one definition for both sides), so the exact
value of what it estimates is the same average, site by site, of transfer-matrix expectation
values (:class:`~nnqm_ppl.exact.transfer.TransferMatrix`, products of powers of ``T`` between the
boundary vectors). With ``W = (w_1 … w_M)`` the window sites and
``P_{jk} = ⟨x_{w_j} x_{w_k}⟩``:

.. math::

    ⟨x^p⟩_W = \\frac{1}{M} \\sum_j ⟨x_{w_j}^p⟩, \\qquad
    C_W(n) = \\frac{1}{M - n} \\sum_{j=1}^{M-n} P_{j, j+n}, \\qquad
    C^c_W(n) = C_W(n) - \\frac{1}{M - n} \\sum_{j=1}^{M-n} ⟨x_{w_j}⟩⟨x_{w_{j+n}}⟩,

the point-split ``⟨p²⟩ = mħ/a − m² ⟨(x_{j+1} − x_j)²⟩_W / a²`` over the ``M − 1`` links,
``Δx·Δp = sqrt((⟨x²⟩_W − ⟨x⟩_W²) ⟨p²⟩)`` and the commutator
``(m/a) ⟨x_j (x_{j+1} − 2x_j + x_{j−1})⟩`` over the ``M − 2`` interior window sites: each the
expectation of the per-draw estimator of :mod:`nnqm_ppl.observables.quantum`, or the same smooth
function of such expectations as the delta-method estimate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnqm_ppl.exact.transfer import TransferMatrix
from nnqm_ppl.windows import pair_means, window_sites

__all__ = ["path_sites", "window_density", "window_exact"]

Array = Any


def path_sites(tm: TransferMatrix) -> range:
    """The window sites of the lattice's full path ``x_0 … x_N`` (:func:`window_sites`)."""
    lat = tm.lattice
    if lat.boundary == "periodic":
        raise ValueError("a periodic lattice is translation invariant: use the site expectations")
    return window_sites(lat.slices + 1, lat.boundary)


def window_density(tm: TransferMatrix, y: Array) -> Array:
    """The density of x averaged over the window sites, ``(1/M) Σ_j ρ_{w_j}(y)``, at the points y."""
    return np.mean([tm.density(y, site=s) for s in path_sites(tm)], axis=0)


def window_exact(tm: TransferMatrix, grid: Array) -> dict[str, Any]:
    """The exact values of the window-averaged estimators on an open lattice.

    Parameters
    ----------
    tm : TransferMatrix
        Of a ``fixed`` or ``half_line`` lattice.
    grid : array
        Points at which the window-averaged density of x is evaluated.

    Returns
    -------
    dict
        ``sites`` (the window, full-path indices), ``mean`` (⟨x⟩ at each window site), ``x2``,
        ``x4``, ``E0`` (virial ⟨V + xV'/2⟩), ``p2``, ``uncertainty``, ``commutator``,
        ``correlator`` and ``correlator_connected`` (``C_W(n)``, ``C^c_W(n)`` for
        ``n = 0 … M − 1``) and ``density`` (the mean density of the window sites on ``grid``);
        formulas in the module docstring.
    """
    lat, pot = tm.lattice, tm.potential
    sites = path_sites(tm)
    m_sites = len(sites)
    pairs = tm.site_pairs(_x, sites)
    mean = tm.site_values(_x, sites)
    full = np.array([np.mean(np.diagonal(pairs, n)) for n in range(m_sites)])
    connected = full - np.asarray(pair_means(mean, m_sites))
    x2 = float(full[0])
    diag, bond = np.diagonal(pairs), np.diagonal(pairs, 1)
    link = float(np.mean(diag[1:] + diag[:-1] - 2.0 * bond))
    p2 = lat.mass * lat.hbar / lat.a - lat.mass**2 * link / lat.a**2
    curvature = bond[1:] + bond[:-1] - 2.0 * diag[1:-1]
    return {
        "sites": list(sites),
        "mean": mean,
        "x2": x2,
        "x4": float(np.mean(tm.site_values(lambda x: x**4, sites))),
        "E0": float(np.mean(tm.site_values(lambda x: pot(x) + 0.5 * x * pot.derivative(x), sites))),
        "p2": float(p2),
        "uncertainty": float(np.sqrt((x2 - np.mean(mean) ** 2) * p2)),
        "commutator": float(lat.mass * np.mean(curvature) / lat.a),
        "correlator": full,
        "correlator_connected": connected,
        "density": window_density(tm, grid),
    }


def _x(x: Array) -> Array:
    return x
