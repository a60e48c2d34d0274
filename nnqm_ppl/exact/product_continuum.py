"""Continuum truth for x ∈ R^d: H = −(ħ²/2m) Σ_c ∂²_c + V(x) on a product sinc-DVR grid.

The d-dimensional analogue of :mod:`nnqm_ppl.exact.diagonalize`: on the product grid of
:mod:`nnqm_ppl.exact.product_grid` (one axis of spacing πħ/(3p_max) by default, the box from the
1-D profile of V) the Hamiltonian is

.. math::

    H = \\sum_{c=1}^{d} 1 \\otimes \\cdots \\otimes K_c \\otimes \\cdots \\otimes 1 + \\mathrm{diag}\\,V(x),

K the 1-D Colbert–Miller kinetic matrix (:func:`~nnqm_ppl.exact.diagonalize.dvr_kinetic`),
applied matrix-free (d batched 1-D contractions), never as an (n^d)² matrix. The lowest s levels
come from Lanczos (``eigsh``, smallest); functions of x are diagonal in the DVR.

**Thermal values** over the computed states, with rigorous bounds of what is left out. With
ε_i = E_i − E_0, Z_s = Σ_{i<s} e^{−βε_i/ħ} and ε_r a lower bound of the lowest level not computed
(deflated Lanczos minus its residual), the discarded weight is bounded by Golden–Thompson,
Tr e^{−β'H} ≤ Tr(e^{−β'T} e^{−β'V}) = Σ_x Π_c (e^{−β'K/ħ})_{x_c x_c} e^{−β'V(x)/ħ} (exact on
the grid):

.. math::

    \\rho(\\beta) = \\sum_{i \\ge s} e^{-\\beta\\varepsilon_i/\\hbar}
    \\le \\min_{\\beta' \\le \\beta} e^{-(\\beta - \\beta')\\varepsilon_r/\\hbar}
        \\Big(e^{\\beta' E_0/\\hbar}\\,\\mathrm{Tr}\\, e^{-\\beta' T} e^{-\\beta' V}
              - \\sum_{i<s} e^{-\\beta'\\varepsilon_i/\\hbar}\\Big).

The correlator of A = u·x (Hashimoto et al. §3.4: x(τ)·x(0) per component, Φ of a field) is

.. math::

    C(\\tau) = \\frac{1}{Z}\\sum_{ij} e^{-(\\beta - \\tau)\\varepsilon_i/\\hbar - \\tau\\varepsilon_j/\\hbar}
               |\\langle i|A|j\\rangle|^2
             \\;\\xrightarrow{\\beta\\to\\infty}\\;
             \\sum_j |\\langle 0|A|j\\rangle|^2 e^{-\\tau\\varepsilon_j/\\hbar},

summed over the computed states; at τ = 0 (and τ = β) it is the exact diagonal ⟨i|A²|i⟩. The
missing weight m_i = ⟨i|A²|i⟩ − Σ_{j<s} |A_ij|² ≥ 0 bounds the rest at τ > 0: every left-out term
is positive and at most m_i e^{−τ ε_r/ħ} (:meth:`ProductSpectrum.correlator_bound`).
β = None means β = ∞: the ground level, averaged over its multiplet.

API::

    ps = product_spectrum(potential, mass=1.0, hbar=1.0, beta=None, n=None, states=16)
    ps.energies, ps.levels(tol)                   # [(E, degeneracy)] of the complete levels
    ps.expect(f, beta=None), ps.expect_bound(f, beta=None)
    ps.correlator(u, taus, beta=None), ps.correlator_bound(u, taus, beta=None)
    ps.truncation(beta), ps.edge
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnqm_ppl.exact.diagonalize import dvr_kinetic
from nnqm_ppl.exact.product_grid import ProductGrid, deflated_extreme, lanczos, level_groups, product_axis
from nnqm_ppl.physics import Potential

__all__ = ["ProductSpectrum", "product_spectrum"]

Array = Any
Op = Callable[[Array], Array]

#: levels within this (relative to max(1, |E_0|)) of E_0 form the ground multiplet (β = ∞)
_GROUND_TOL = 1e-8


@dataclass(frozen=True)
class ProductSpectrum:
    """The lowest eigenpairs of H on a product sinc-DVR grid (module docstring).

    Attributes
    ----------
    potential : Potential
    mass, hbar : float
    grid : ProductGrid
    energies : ndarray (s,)
        E_i, ascending.
    vectors : ndarray (n^d, s)
        Orthonormal eigenvectors (sqrt(h^d) ψ_i at the grid points).
    rest : float
        Lower bound of the lowest level not among them.
    kinetic : ndarray (n, n)
        The 1-D DVR kinetic matrix.
    v : ndarray (n^d,)
        V on the grid.
    """

    potential: Potential
    mass: float
    hbar: float
    grid: ProductGrid
    energies: np.ndarray
    vectors: np.ndarray
    rest: float
    kinetic: np.ndarray
    v: np.ndarray

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """H applied to the columns of vectors (n^d, b), matrix-free."""
        out = self.v[:, None] * vectors
        for c in range(self.grid.components):
            out = out + self.grid.along(self.kinetic, vectors, c)
        return out

    def levels(self, tol: float = 1e-6) -> list[tuple[float, int]]:
        """[(E, degeneracy)] of the complete levels (energies within ``tol`` grouped).

        The highest computed group is dropped unless :attr:`rest` lies more than ``tol`` above it.
        """
        groups = level_groups(self.energies, tol)
        return groups if self.rest - groups[-1][0] > tol else groups[:-1]

    @property
    def edge(self) -> float:
        """Largest weight of a computed state on the outermost grid planes."""
        return self.grid.edge(self.vectors)

    # ------------------------------------------------------------ weights and truncation
    def _eps(self) -> np.ndarray:
        return (self.energies - self.energies[0]) / self.hbar

    def _weights(self, beta: float | None) -> np.ndarray:
        """Unnormalised weights: e^{−βε_i/ħ}, or 1 on the ground multiplet (β = None)."""
        if beta is None:
            return (self._eps() * self.hbar <= _GROUND_TOL * max(1.0, abs(self.energies[0]))).astype(float)
        return np.exp(-beta * self._eps())

    def _golden_thompson(self, beta: float) -> float:
        """e^{βE_0/ħ} Tr(e^{−βT/ħ} e^{−βV/ħ}) on the grid (inf when it would overflow)."""
        exponent = -beta * (self.v - self.energies[0]) / self.hbar
        if np.max(exponent) > 700.0:
            return math.inf
        w, q = np.linalg.eigh(self.kinetic)
        diag = (q**2) @ np.exp(-beta * w / self.hbar)
        outer = diag
        for _ in range(self.grid.components - 1):
            outer = np.outer(outer, diag).ravel()
        return float(outer @ np.exp(exponent))

    def _rest_weight(self, beta: float) -> float:
        """Bound of Σ_{i≥s} e^{−βε_i/ħ} (Golden–Thompson at β' = β/8, β/4, β/2, β)."""
        eps, eps_r = self._eps(), (self.rest - self.energies[0]) / self.hbar
        out = math.inf
        for part in (0.125, 0.25, 0.5, 1.0):
            b = part * beta
            gt = self._golden_thompson(b)
            left = max(gt - float(np.sum(np.exp(-b * eps))), 0.0) + 64.0 * np.finfo(float).eps * gt * eps.size
            out = min(out, math.exp(-(beta - b) * eps_r) * left)
        return out

    def truncation(self, beta: float | None) -> float:
        """Bound of the discarded weight ρ(β)/Z_s (0 at β = None: the ground level alone)."""
        return 0.0 if beta is None else self._rest_weight(beta) / float(np.sum(self._weights(beta)))

    # ------------------------------------------------------------ values
    def expect(self, f: Op, beta: float | None = None) -> float:
        """⟨f(x)⟩: Tr(e^{−βH/ħ} f)/Z over the computed states, or the ground level (β = None)."""
        w = self._weights(beta)
        return float(np.sum(w * (self.grid.values(f) @ self.vectors**2)) / np.sum(w))

    def expect_bound(self, f: Op, beta: float | None = None) -> float:
        """Bound of |exact − :meth:`expect`|: (max|f| + |⟨f⟩|) ρ(β)/Z_s."""
        scale = np.max(np.abs(self.grid.values(f))) + abs(self.expect(f, beta))
        return float(scale * self.truncation(beta))

    def _linear(self, u: Array) -> np.ndarray:
        u = np.atleast_1d(np.asarray(u, dtype=float))
        if u.shape != (self.grid.components,):
            raise ValueError(f"correlator: u must have {self.grid.components} components, got {u.shape}")
        pts = self.grid.points()
        return pts * u[0] if pts.ndim == 1 else pts @ u

    def _elements(self, u: Array) -> tuple[np.ndarray, np.ndarray, float]:
        """|A_ij|² over the computed states, the missing weights m_i, and max|A| on the grid."""
        a = self._linear(u)
        amat = (a[:, None] * self.vectors).T @ self.vectors
        diag = (a**2) @ self.vectors**2
        return amat**2, np.maximum(diag - np.sum(amat**2, axis=1), 0.0), float(np.max(np.abs(a)))

    def _taus(self, taus: Array, beta: float | None) -> np.ndarray:
        taus = np.atleast_1d(np.asarray(taus, dtype=float))
        if np.any(taus < 0) or (beta is not None and np.any(taus > beta)):
            raise ValueError("correlator: τ must lie in [0, β]")
        return taus if beta is None else np.minimum(taus, beta - taus)  # C(τ) = C(β − τ)

    def correlator(self, u: Array, taus: Array, beta: float | None = None) -> np.ndarray:
        """C(τ) = Tr(e^{−(β−τ)H/ħ} A e^{−τH/ħ} A)/Z of A = u·x (formula in the module docstring).

        Parameters
        ----------
        u : array (d,)
            The linear observable (a unit vector: one component; :func:`fourier_vector`: a mode).
        taus : array
            Euclidean times in [0, β] (β = None: τ ≥ 0, the ground-state correlator).
        beta : float, optional

        Returns
        -------
        ndarray (len(taus),)
        """
        a2, missing, _ = self._elements(u)
        full = np.sum(a2, axis=1) + missing  # ⟨i|A²|i⟩
        eps, w = self._eps(), self._weights(beta)
        out = []
        for t in self._taus(taus, beta):
            left = w * np.exp(t * eps) if beta is not None else w
            value = left @ (full if t == 0.0 else a2 @ np.exp(-t * eps))
            out.append(value / np.sum(w))
        return np.array(out)

    def correlator_bound(self, u: Array, taus: Array, beta: float | None = None) -> np.ndarray:
        """Bound of |exact − :meth:`correlator`| from the missing weights and ρ (module docstring).

        β = ∞: Σ_g m_g e^{−τε_r/ħ} over the ground multiplet (0 at τ = 0). Finite β, τ' = min(τ,
        β − τ): [Σ_i e^{−(β−τ')ε_i} m_i e^{−τ'ε_r} + Σ_j e^{−τ'ε_j} m_j e^{−(β−τ')ε_r}
        + max|A|² e^{−τ'ε_r} ρ(β − τ') + C ρ(β)] / Z_s (the first two vanish at τ' = 0).
        """
        _, missing, amax = self._elements(u)
        eps, eps_r, w = self._eps(), (self.rest - self.energies[0]) / self.hbar, self._weights(beta)
        values = self.correlator(u, taus, beta)
        out = []
        for t, c in zip(self._taus(taus, beta), values, strict=True):
            m = missing if t > 0.0 else np.zeros_like(missing)
            if beta is None:
                out.append(float(w @ m) * math.exp(-t * eps_r) / np.sum(w))
                continue
            seen = np.exp(-(beta - t) * eps) @ m * math.exp(-t * eps_r) + np.exp(-t * eps) @ m * math.exp(
                -(beta - t) * eps_r)
            unseen = amax**2 * math.exp(-t * eps_r) * self._rest_weight(beta - t) + abs(c) * self._rest_weight(beta)
            out.append(float((seen + unseen) / np.sum(w)))
        return np.array(out)


def product_spectrum(
    potential: Potential,
    mass: float = 1.0,
    hbar: float = 1.0,
    *,
    beta: float | None = None,
    n: int | None = None,
    spacing: float | None = None,
    box: tuple[float, float] | None = None,
    states: int = 16,
    tol: float = 1e-10,
    max_states: int = 512,
) -> ProductSpectrum:
    """The lowest levels of H = −(ħ²/2m)Σ_c ∂²_c + V on a product sinc-DVR grid.

    Parameters
    ----------
    potential : Potential
        V: R^d -> R (``components = d``).
    mass, hbar : float
    beta : float, optional
        Widen the box for thermal values at this β, and double the states until
        :meth:`ProductSpectrum.truncation` (β) ≤ ``tol``.
    n, spacing, box : optional
        The axis grid (default: :func:`~nnqm_ppl.exact.product_grid.product_axis`).
    states : int
        Eigenpairs to start with (doubled also when Lanczos missed a state below the highest).
    tol : float
    max_states : int
        Refuse (ValueError) rather than go beyond this many states.

    Returns
    -------
    ProductSpectrum
    """
    axis = product_axis(potential, mass, hbar, beta=beta, n=n, spacing=spacing, box=box)
    grid = ProductGrid(axis, potential.components)
    kinetic = dvr_kinetic(axis, mass, hbar)
    v = grid.values(potential)
    top = grid.components * float(np.linalg.eigvalsh(kinetic)[-1]) + float(np.max(v)) + 1.0  # > ‖H‖

    def matmat(x: np.ndarray) -> np.ndarray:
        out = v[:, None] * x
        for c in range(grid.components):
            out = out + grid.along(kinetic, x, c)
        return out

    s = states
    while True:
        s = min(s, max_states, grid.size - 2)
        e, vec = lanczos(matmat, grid.size, s, "SA")
        rest = deflated_extreme(matmat, vec, "SA", shift=top)
        ps = ProductSpectrum(potential, float(mass), float(hbar), grid, e, vec, rest, kinetic, v)
        missed = rest < e[-1] - 1e-9 * max(1.0, abs(e[-1]))
        if ps.truncation(beta) <= tol and not missed:
            return ps
        if s >= min(max_states, grid.size - 2):
            why = "a state was missed" if missed else f"truncation {ps.truncation(beta):.2e} > tol {tol:g}"
            raise ValueError(f"product_spectrum: {why} with {s} states; raise max_states or shrink the grid")
        s *= 2
