"""Exact values for vector-valued lattice paths x_n ∈ R^d, built from the scalar ones.

The lattice action of :mod:`nnqm_ppl.physics` with x_n ∈ R^d is
S_E = Σ_n [m |x_{n+1} - x_n|²/(2a) + a (V(x_n) + V(x_{n+1}))/2]. Two cases reduce to the
scalar theory on the same lattice (same a, β, boundary), with no new formula:

- **Separable** V(x) = Σ_c P_c(x_c) (no coupling): the kinetic term is a sum over components,
  so the weight factorises, e^{-S_E/ħ} = Π_c e^{-S_E^{(c)}[x_c]/ħ}, and component c is the
  scalar path integral of P_c. Its transfer matrix (:func:`nnqm_ppl.exact.transfer.transfer_matrix`)
  gives ⟨x_c²⟩, ⟨x_c⁴⟩ and the correlator per component (:func:`separable_transfer_matrices`).
- **Quadratic** V(x) = V(0) + bᵀx + ½ xᵀ H x (coupled oscillators, a free lattice field):
  with H = Q diag(m ω_j²) Qᵀ the normal-mode path w_n = Qᵀ(x_n - x̄), x̄ = -H⁻¹b, is d
  independent scalar lattice oscillators of frequencies ω_j (|x_{n+1} - x_n|² = |w_{n+1} - w_n|²
  since Q is orthogonal), so on the periodic lattice

  .. math::

      \\langle (x_n - \\bar x)(x_0 - \\bar x)^T \\rangle = Q\\, \\mathrm{diag}\\big(G_{\\omega_j}(n)\\big)\\, Q^T,

  with G_ω the scalar lattice oscillator's two-point function
  (:func:`nnqm_ppl.exact.harmonic.lattice_correlator`) (:func:`quadratic_correlator`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from nnqm_ppl.exact.harmonic import lattice_correlator
from nnqm_ppl.exact.transfer import TransferMatrix, transfer_matrix
from nnqm_ppl.physics import Lattice, Potential, quadratic_form

__all__ = ["component_lattice", "separable_transfer_matrices", "quadratic_mean", "quadratic_correlator"]

Array = Any


def component_lattice(lattice: Lattice, c: int) -> Lattice:
    """The scalar lattice of component c: same β, N, m, ħ, boundary; end points x_ini[c], x_fin[c]."""
    ends = {} if lattice.boundary != "fixed" else {"x_ini": lattice.x_ini[c], "x_fin": lattice.x_fin[c]}
    return replace(lattice, components=1, **ends)


def separable_transfer_matrices(lattice: Lattice, potential: Potential) -> list[TransferMatrix]:
    """The scalar transfer matrix of every component of a separable potential (no coupling).

    Parameters
    ----------
    lattice : Lattice
        With ``components = d`` > 1.
    potential : Potential
        From :meth:`~nnqm_ppl.physics.Potential.separable` without coupling (K = 0).

    Returns
    -------
    list of TransferMatrix
        Component c: the scalar theory of P_c on :func:`component_lattice` (identical components
        share one matrix).
    """
    coupled = potential.coupling is not None and np.any(np.asarray(potential.coupling) != 0.0)
    if potential.site is None or coupled:
        raise ValueError("separable_transfer_matrices: needs a separable potential without coupling")
    done: dict[tuple[Any, ...], TransferMatrix] = {}
    out = []
    for c, p in enumerate(potential.site):
        lat = component_lattice(lattice, c)
        key = (p, lat.x_ini, lat.x_fin)
        if key not in done:
            done[key] = transfer_matrix(lat, Potential.from_coeffs(p))
        out.append(done[key])
    return out


def _form(potential: Potential) -> tuple[np.ndarray, np.ndarray]:
    form = quadratic_form(potential)
    if form is None:
        raise ValueError("the closed form needs a quadratic potential")
    return form


def quadratic_mean(potential: Potential) -> np.ndarray:
    """x̄ = -H⁻¹b, the minimum of a quadratic V and the mean of x_n on the periodic lattice."""
    h, b = _form(potential)
    return -np.linalg.solve(h, b)


def quadratic_correlator(lattice: Lattice, potential: Potential) -> np.ndarray:
    """The connected two-point function ⟨(x_n - x̄)(x_0 - x̄)ᵀ⟩, n = 0..N, of a quadratic V.

    Parameters
    ----------
    lattice : Lattice
        Periodic, with ``components = d``.
    potential : Potential
        Quadratic (:func:`nnqm_ppl.physics.quadratic_form`).

    Returns
    -------
    ndarray (N + 1, d, d)
        Q diag(G_{ω_j}(n)) Qᵀ with m ω_j² the eigenvalues of H (formula in the module doc).
    """
    h, _ = _form(potential)
    w, q = np.linalg.eigh(h)
    scalar = replace(lattice, components=1)
    g = np.stack([lattice_correlator(scalar, float(np.sqrt(wj / lattice.mass))) for wj in w], axis=-1)
    return np.einsum("cj,nj,dj->ncd", q, g, q)
