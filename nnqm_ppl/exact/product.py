"""Exact values for d-component lattice paths on a product grid: the tensor-product transfer matrix.

For x_n ∈ R^d (a particle in d dimensions, or a field on L = d spatial sites) the lattice action of
:mod:`nnqm_ppl.physics` (symmetric trapezoid split) factorises into the symmetric kernel

.. math::

    T(x, x') = \\Big(\\frac{m}{2\\pi\\hbar a}\\Big)^{d/2}
               e^{-aV(x)/2\\hbar}\\, e^{-m|x - x'|^2/2\\hbar a}\\, e^{-aV(x')/2\\hbar},

whose kinetic part is a product over components. With every component integrated by the
trapezoid rule on one uniform grid x_i of spacing h (n points), the quadrature transfer matrix on
the n^d-point product grid is

.. math::

    M = D^{1/2} (K \\otimes \\cdots \\otimes K) D^{1/2},\\qquad
    K_{ij} = h \\sqrt{\\frac{m}{2\\pi\\hbar a}}\\, e^{-m(x_i - x_j)^2/2\\hbar a},\\qquad
    D = \\mathrm{diag}\\, e^{-aV(x)/\\hbar},

the d-fold analogue of :mod:`nnqm_ppl.exact.transfer` (d = 1 is the same matrix on the same grid).
M is never formed: M v is d successive 1-D contractions (NumPy, float64), and the largest
eigenpairs come from Lanczos (``scipy.sparse.linalg.eigsh``). M is positive definite (K is a
Gaussian Toeplitz matrix, D > 0), so all λ_j > 0; E_j = −(ħ/a) ln λ_j.

The axis grid follows the scalar rule through a 1-D profile of V
(:mod:`nnqm_ppl.exact.product_grid`, :func:`~nnqm_ppl.exact.product_grid.product_axis`); ``n``
(points per axis), ``spacing`` and ``box`` override it.

**Thermal values on the periodic lattice** (β = N a), over the s largest eigenpairs:

.. math::

    \\langle O \\rangle = \\frac{\\sum_{i<s} \\lambda_i^N \\langle i|O|i\\rangle}{\\sum_{i<s}\\lambda_i^N},
    \\qquad
    C_{AB}(k) = \\frac{\\mathrm{Tr}(M^{N-k} A M^k B)}{\\mathrm{Tr} M^N}
              \\approx \\frac{\\sum_{i<s} \\lambda_i^{N-k} \\langle i|A\\, M^k B|i\\rangle}
                            {\\sum_{i<s} \\lambda_i^N},

with M^k B|i⟩ applied matrix-free (no truncation of the intermediate states) and k > N/2 taken as
C_{BA}(N − k). The discarded outer weight ρ(p) = Σ_{i≥s} λ_i^p is bounded with exact traces:
ρ(p) ≤ λ_r^{p−q} (Tr M^q − Σ_{i<s} λ_i^q), q = 1, 2 (Tr M = Σ_x M_xx, Tr M² = ⟨D|K∘K ⊗ ⋯|D⟩),
λ_r the largest eigenvalue of the deflated operator (1 − P) M (1 − P) (Lanczos; it also catches a
state of a degenerate level that Lanczos missed). The number of states is doubled until
:attr:`ProductTransfer.truncation` = ρ(N)/Σ_{i<s}λ_i^N ≤ ``tol``.

API (other modules build on it)::

    pt = product_transfer(lattice, potential, n=None, states=16, tol=1e-10)
    pt.energies, pt.gaps(3), pt.levels(tol)      # E_j, E_j − E_0, [(E, degeneracy), ...]
    pt.expect(lambda x: (x**2).sum(-1))          # x: (n^d, d) grid points (d = 1: (n,))
    pt.correlator(u, v=None, ks=None)            # A = u·x, B = v·x; k = 0..N//2 by default
    pt.expect_bound(f), pt.correlator_bound(u)   # rigorous truncation bounds (absolute)
    pt.truncation, pt.edge, pt.virial_energy()
    product_grid.fourier_vector(L, k, "cos")     # u of a momentum mode; k = 0: Φ = (1/L)Σφ_j
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnqm_ppl.exact.product_grid import ProductGrid, deflated_extreme, lanczos, level_groups, product_axis
from nnqm_ppl.physics import Lattice, Potential

__all__ = ["ProductTransfer", "product_transfer"]

Array = Any
Op = Callable[[Array], Array]


def _kernel_1d(axis: np.ndarray, lattice: Lattice) -> np.ndarray:
    """K_ij = h sqrt(m/2πħa) exp(−m(x_i − x_j)²/2ħa): the free kernel with its quadrature weight."""
    m, hbar, a = lattice.mass, lattice.hbar, lattice.a
    diff = axis[:, None] - axis[None, :]
    return (axis[1] - axis[0]) * math.sqrt(m / (2.0 * math.pi * hbar * a)) * np.exp(-m * diff**2 / (2.0 * hbar * a))


@dataclass(frozen=True)
class ProductTransfer:
    """The largest eigenpairs of the product-grid transfer matrix M (module docstring).

    Attributes
    ----------
    lattice : Lattice
        Periodic, ``components = d``.
    potential : Potential
    grid : ProductGrid
    eigenvalues : ndarray (s,)
        λ_i, descending.
    vectors : ndarray (n^d, s)
        Orthonormal eigenvectors (sqrt(h^d) times the eigenfunctions on the grid).
    rest : float
        Upper bound of the largest eigenvalue not among them (deflated Lanczos plus residual).
    traces : (float, float)
        Tr M and Tr M² (exact on the grid).
    kernel : ndarray (n, n)
        The 1-D free kernel K with its quadrature weight.
    half : ndarray (n^d,)
        D^{1/2} = e^{−aV/2ħ} on the grid.
    """

    lattice: Lattice
    potential: Potential
    grid: ProductGrid
    eigenvalues: np.ndarray
    vectors: np.ndarray
    rest: float
    traces: tuple[float, float]
    kernel: np.ndarray
    half: np.ndarray

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """M applied to the columns of vectors (n^d, b), matrix-free."""
        return self.half[:, None] * self.grid.product(self.kernel, self.half[:, None] * vectors)

    # ------------------------------------------------------------ spectrum
    @property
    def energies(self) -> np.ndarray:
        """E_i = −(ħ/a) ln λ_i, ascending."""
        return -self.lattice.hbar * np.log(self.eigenvalues) / self.lattice.a

    def gaps(self, n: int = 3) -> np.ndarray:
        """E_k − E_0, k = 1..n (degenerate levels repeat; :meth:`levels` groups them)."""
        e = self.energies
        return e[1 : n + 1] - e[0]

    def levels(self, tol: float = 1e-6) -> list[tuple[float, int]]:
        """[(E, degeneracy)] of the complete levels: energies within ``tol`` grouped.

        The highest computed group is dropped unless the rest of the spectrum lies more than
        ``tol`` above it (else it may be cut).
        """
        groups = level_groups(self.energies, tol)
        e_rest = -self.lattice.hbar * math.log(self.rest) / self.lattice.a if self.rest > 0.0 else math.inf
        return groups if e_rest - groups[-1][0] > tol else groups[:-1]

    @property
    def edge(self) -> float:
        """Largest weight of a computed state on the outermost grid planes (small: the box holds it)."""
        return self.grid.edge(self.vectors)

    # ------------------------------------------------------------ truncation
    def _scaled_rest(self, p: int) -> float:
        """Bound of Σ_{i ≥ s} (λ_i/λ_0)^p: min over q ∈ {1, 2}, q ≤ p, of r^{p−q}(Tr M^q − Σλ^q)/λ_0^q."""
        lam0 = self.eigenvalues[0]
        r = self.eigenvalues / lam0
        out = math.inf
        for q, trace in zip((1, 2), self.traces, strict=True):
            if q <= p:
                scaled = trace / lam0**q
                left = max(scaled - float(np.sum(r**q)), 0.0) + 64.0 * np.finfo(float).eps * scaled * r.size
                out = min(out, (self.rest / lam0) ** (p - q) * left)
        return out

    def _z(self) -> float:
        return float(np.sum((self.eigenvalues / self.eigenvalues[0]) ** self.lattice.slices))

    @property
    def truncation(self) -> float:
        """Bound of the discarded Boltzmann weight Σ_{i≥s} λ_i^N / Σ_{i<s} λ_i^N."""
        return self._scaled_rest(self.lattice.slices) / self._z()

    # ------------------------------------------------------------ thermal values
    def expect(self, f: Op) -> float:
        """Tr(M^N f)/Tr M^N for a function f of x (given the grid points, (n^d, d); d = 1: (n,))."""
        w = (self.eigenvalues / self.eigenvalues[0]) ** self.lattice.slices
        diag = self.grid.values(f) @ self.vectors**2
        return float(np.sum(w * diag) / np.sum(w))

    def expect_bound(self, f: Op) -> float:
        """Bound of |exact − :meth:`expect`|: (max|f| + |⟨f⟩|)·:attr:`truncation`."""
        return float((np.max(np.abs(self.grid.values(f))) + abs(self.expect(f))) * self.truncation)

    def virial_energy(self) -> float:
        """⟨V + x·∇V/2⟩ (→ E_0 of the lattice theory as β → ∞)."""
        pot = self.potential

        def virial(x: Array) -> Array:
            grad = np.asarray(pot.derivative(x))
            dot = x * grad if pot.components == 1 else np.sum(x * grad, axis=-1)
            return np.asarray(pot(x)) + 0.5 * dot

        return self.expect(virial)

    def _linear(self, u: Array) -> np.ndarray:
        u = np.atleast_1d(np.asarray(u, dtype=float))
        if u.shape != (self.lattice.components,):
            raise ValueError(f"correlator: u must have {self.lattice.components} components, got {u.shape}")
        pts = self.grid.points()
        return pts * u[0] if pts.ndim == 1 else pts @ u

    def _ks(self, ks: Array | None) -> np.ndarray:
        n = self.lattice.slices
        ks = np.arange(n // 2 + 1) if ks is None else np.asarray(ks, dtype=int)
        if np.any(ks < 0) or np.any(ks > n):
            raise ValueError(f"correlator: separations must lie in 0..{n}")
        return ks

    def _sweep(self, a: np.ndarray, b: np.ndarray, kmax: int) -> np.ndarray:
        """Σ_i λ_i^{N−k}⟨i|A M^k B|i⟩ / Σ λ^N for k = 0..kmax, M^k B|i⟩ propagated matrix-free."""
        lam0, n = self.eigenvalues[0], self.lattice.slices
        r = self.eigenvalues / lam0
        left = a[:, None] * self.vectors
        w = b[:, None] * self.vectors
        out = np.empty(kmax + 1)
        for k in range(kmax + 1):
            out[k] = np.sum(r ** (n - k) * np.sum(left * w, axis=0))
            if k < kmax:
                w = self.apply(w) / lam0
        return out / np.sum(r**n)

    def correlator(self, u: Array, v: Array | None = None, ks: Array | None = None) -> np.ndarray:
        """C(k) = Tr(M^{N−k} A M^k B)/Tr M^N with A = u·x, B = v·x (v defaults to u).

        Parameters
        ----------
        u, v : array (d,)
            The linear observables (a component: a unit vector; Φ: :func:`fourier_vector` (L, 0)).
        ks : sequence of int, optional
            Separations in 0..N (default 0..N//2); k > N/2 is computed as C_{BA}(N − k).

        Returns
        -------
        ndarray (len(ks),)
        """
        a = self._linear(u)
        b = a if v is None else self._linear(v)
        ks = self._ks(ks)
        n = self.lattice.slices
        low = np.minimum(ks, n - ks)
        forward = self._sweep(a, b, int(np.max(low)))
        backward = forward if v is None else self._sweep(b, a, int(np.max(low)))
        return np.where(ks <= n - ks, forward[low], backward[low])

    def correlator_bound(self, u: Array, v: Array | None = None, ks: Array | None = None) -> np.ndarray:
        """Bound of |exact − :meth:`correlator`|: max|A| max|B| (ρ(N − k) + ρ(N)) / Σ_{i<s} λ_i^N.

        ρ(p) bounds Σ_{i≥s} λ_i^p (module docstring); |⟨i|A M^k B|i⟩| ≤ λ_0^k max|A| max|B|.
        """
        a = np.max(np.abs(self._linear(u)))
        b = a if v is None else np.max(np.abs(self._linear(v)))
        ks = self._ks(ks)
        n = self.lattice.slices
        outer = np.array([self._scaled_rest(n - int(k)) for k in np.minimum(ks, n - ks)])
        return a * b * (outer + self._scaled_rest(n)) / self._z()


def product_transfer(
    lattice: Lattice,
    potential: Potential,
    *,
    n: int | None = None,
    spacing: float | None = None,
    box: tuple[float, float] | None = None,
    states: int = 16,
    tol: float = 1e-10,
    max_states: int = 512,
) -> ProductTransfer:
    """The product-grid transfer matrix of a periodic d-component lattice, its largest eigenpairs.

    Parameters
    ----------
    lattice : Lattice
        Periodic, ``components = d`` (N = slices ≥ 2).
    potential : Potential
        V: R^d -> R with ``components = d`` (radial, separable, lattice field, callable).
    n, spacing, box : optional
        The axis grid (default: the rule of the module docstring, :func:`product_axis`).
    states : int
        Eigenpairs to start with; doubled until :attr:`ProductTransfer.truncation` ≤ ``tol`` and no
        state above the smallest computed one was missed.
    tol : float
        Largest discarded Boltzmann weight (relative).
    max_states : int
        Refuse (ValueError) rather than go beyond this many states.

    Returns
    -------
    ProductTransfer
    """
    if lattice.boundary != "periodic":
        raise ValueError("product_transfer: the thermal values are for the periodic lattice")
    if potential.components != lattice.components:
        raise ValueError(f"product_transfer: V has {potential.components} components, the lattice "
                         f"{lattice.components}")
    axis = product_axis(potential, lattice.mass, lattice.hbar, beta=lattice.beta, lattice=lattice, n=n,
                        spacing=spacing, box=box)
    grid = ProductGrid(axis, lattice.components)
    kernel = _kernel_1d(axis, lattice)
    diag = np.exp(-lattice.a * grid.values(potential) / lattice.hbar)
    traces = (float(np.sum(diag)) * kernel[0, 0] ** grid.components,
              float(diag @ grid.product(kernel**2, diag[:, None])[:, 0]))
    half = np.sqrt(diag)

    def matmat(x: np.ndarray) -> np.ndarray:
        return half[:, None] * grid.product(kernel, half[:, None] * x)

    s = states
    while True:
        s = min(s, max_states, grid.size - 2)
        lam, vec = lanczos(matmat, grid.size, s, "LA")
        rest = deflated_extreme(matmat, vec, "LA")
        pt = ProductTransfer(lattice, potential, grid, lam, vec, rest, traces, kernel, half)
        missed = rest > lam[-1] * (1.0 + 1e-9)
        if pt.truncation <= tol and not missed:
            return pt
        if s >= min(max_states, grid.size - 2):
            why = "a state was missed" if missed else f"truncation {pt.truncation:.2e} > tol {tol:g}"
            raise ValueError(f"product_transfer: {why} with {s} states; raise max_states or shrink the grid")
        s *= 2
