"""The product grid of the d-component exact solvers: axis rule, matrix-free contractions, Lanczos.

Shared by :mod:`nnqm_ppl.exact.product` (transfer matrix) and
:mod:`nnqm_ppl.exact.product_continuum` (Hamiltonian). One uniform axis grid x_i (n points)
serves every component; a vector on the n^d-point grid is flattened row-major (component 0
slowest), and an operator that is a product (or a sum) of 1-D matrices acts by d batched 1-D
contractions, never as an (n^d)² matrix.

**Grid rule** (:func:`product_axis`). The box is the scalar rule
(:func:`~nnqm_ppl.exact.diagonalize.semiclassical_box`: the lowest 10 states, the thermal states
at β, tunnelling depth 25) applied to a one-dimensional *profile* W(y) ≤ min{V(x): x_c = y} + const
(:func:`profile`), so that the box is at least as wide as the classically relevant range of every
component:

- d = 1, and a separable V without coupling: V itself (each P_c; their envelope);
- a radial V = f(|x|²): the exact profile min_{s ≥ y²} f(s);
- a separable V = ½xᵀKx + Σ_c P_c(x_c) with a coupling (a lattice field): the lower bound
  ½μy² + P_c(y) − c_{c,2}y², μ the smallest eigenvalue of K + diag(2c_{c,2});
- a callable: V along each axis, V(y e_c) (a callable whose valleys leave the axes needs an
  explicit ``box``).

Several profiles are combined by their envelope (each shifted to minimum 0, the pointwise minimum).
The spacing is the scalar one: πħ/(3p_max) for the Hamiltonian (as
:func:`~nnqm_ppl.exact.diagonalize.diagonalize` starts), min(σ/1.2, πħ/(3p_max)) with
σ = sqrt(ħa/m) for a transfer kernel (:func:`~nnqm_ppl.exact.transfer.quadrature_spacing`).
``n`` (points per axis), ``spacing`` and ``box`` override it; :meth:`ProductGrid.edge` reports the
largest weight a state puts on the outermost grid planes (a check of the box).

Practical sizes on 2 cores: see ``tests/test_exact_product.py`` (timings recorded there).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from nnqm_ppl.exact.diagonalize import semiclassical_box
from nnqm_ppl.exact.transfer import quadrature_spacing
from nnqm_ppl.physics import Lattice, Potential, check_potential

__all__ = [
    "ProductGrid",
    "product_axis",
    "profile",
    "fourier_vector",
    "level_groups",
    "lanczos",
    "deflated_extreme",
    "MAX_POINTS",
]

Array = Any
Op = Callable[[Array], Array]

#: largest product grid n^d accepted (8 bytes each: a vector of 40 MB)
MAX_POINTS = 5_000_000

_LANCZOS_SEED = 20240512  # fixed start vector: reproducible results


def _confining(poly: np.polynomial.Polynomial) -> bool:
    try:
        check_potential(tuple(poly.coef))
    except ValueError:
        return False
    return True


def _envelope(rows: list[Array]) -> np.ndarray:
    """Pointwise minimum of 1-D profiles, each shifted to minimum 0 (its sublevel sets contain theirs)."""
    rows = [np.asarray(r, dtype=float) for r in rows]
    return np.min([r - np.min(r) for r in rows], axis=0)


def profile(potential: Potential) -> Callable[[Array], Array]:
    """The 1-D profile W(y) of the grid rule (module docstring): a lower bound of min{V : x_c = y}.

    Parameters
    ----------
    potential : Potential
        Any V: R^d -> R.

    Returns
    -------
    callable
        NumPy array -> array, what :func:`~nnqm_ppl.exact.diagonalize.semiclassical_box` reads.
    """
    d = potential.components
    if d == 1:
        return potential
    if potential.radial is not None:
        f = np.polynomial.Polynomial(potential.radial[::2])  # f(s), s = |x|²
        crit = [float(z.real) for z in f.deriv().roots() if abs(z.imag) < 1e-12 and z.real > 0.0]

        def radial(y: Array) -> np.ndarray:
            s = np.asarray(y, dtype=float) ** 2
            grid = np.linspace(0.0, max([float(np.max(s)), *crit]) + 1.0, 4001)
            tail = np.minimum.accumulate(f(grid)[::-1])[::-1]  # min over s' >= grid point
            return np.minimum(f(s), tail[np.searchsorted(grid, s)])

        return radial
    if potential.site is not None:
        coupling = np.zeros((d, d)) if potential.coupling is None else np.asarray(potential.coupling)
        if not np.any(coupling):
            parts = [np.polynomial.Polynomial(p) for p in potential.site]
        else:  # V >= Σ_c [μ x_c²/2 + P_c(x_c) - c_{c,2} x_c²], μ = λ_min(K + diag(2 c_2))
            padded = [np.array(p + (0.0, 0.0, 0.0)) for p in potential.site]
            mu = float(np.linalg.eigvalsh(coupling + np.diag([2.0 * p[2] for p in padded]))[0])
            parts = [np.polynomial.Polynomial(np.concatenate([p[:2], [0.5 * mu], p[3:]])) for p in padded]
        if not all(_confining(q) for q in parts):
            raise ValueError("product grid: the coupling leaves no confining profile; give box= explicitly")
        return lambda y: _envelope([q(np.asarray(y, dtype=float)) for q in parts])
    eye = np.eye(d)
    return lambda y: _envelope([potential(np.asarray(y, dtype=float)[..., None] * eye[c]) for c in range(d)])


def product_axis(
    potential: Potential,
    mass: float,
    hbar: float,
    *,
    beta: float | None,
    lattice: Lattice | None = None,
    n: int | None = None,
    spacing: float | None = None,
    box: tuple[float, float] | None = None,
) -> np.ndarray:
    """The axis grid shared by every component (rule in the module docstring).

    Parameters
    ----------
    potential : Potential
    mass, hbar : float
    beta : float or None
        Inverse temperature for the thermal part of the box (None: the lowest 10 states).
    lattice : Lattice, optional
        A transfer kernel's lattice: the spacing is then :func:`quadrature_spacing` (≤ σ/1.2).
    n, spacing, box : optional
        Points per axis, spacing, (lo, hi): override the rule (``n`` wins over ``spacing``).

    Returns
    -------
    ndarray (n,)
    """
    if box is None or (n is None and spacing is None):
        lo, hi, p_max = semiclassical_box(profile(potential), mass, hbar, beta=beta)
        box = (lo, hi) if box is None else box
        if spacing is None:
            spacing = quadrature_spacing(lattice, p_max) if lattice else math.pi * hbar / (3.0 * p_max)
    if n is None:
        n = int(np.ceil((box[1] - box[0]) / spacing)) + 1
    if n < 3:
        raise ValueError(f"product grid: need at least 3 points per axis, got {n}")
    return np.linspace(float(box[0]), float(box[1]), int(n))


@dataclass(frozen=True)
class ProductGrid:
    """The product grid axis^d, vectors on it flattened row-major (component 0 slowest).

    Attributes
    ----------
    axis : ndarray (n,)
        The uniform axis grid.
    components : int
        d.
    """

    axis: np.ndarray
    components: int

    def __post_init__(self) -> None:
        if self.size > MAX_POINTS:
            raise ValueError(f"product grid of {self.n}^{self.components} = {self.size} points exceeds "
                             f"{MAX_POINTS}: pass a smaller n")

    @property
    def n(self) -> int:
        """Points per axis."""
        return int(self.axis.size)

    @property
    def h(self) -> float:
        """Spacing."""
        return float(self.axis[1] - self.axis[0])

    @property
    def size(self) -> int:
        """n^d."""
        return self.n**self.components

    def points(self) -> np.ndarray:
        """The grid points: (n^d, d), or (n,) for d = 1 (the shape a Potential acts on)."""
        if self.components == 1:
            return self.axis
        mesh = np.meshgrid(*([self.axis] * self.components), indexing="ij")
        return np.stack(mesh, axis=-1).reshape(self.size, self.components)

    def values(self, f: Op) -> np.ndarray:
        """f at the grid points as a vector (n^d,)."""
        return np.broadcast_to(np.asarray(f(self.points()), dtype=float), (self.size,))

    def along(self, matrix: np.ndarray, vectors: np.ndarray, c: int) -> np.ndarray:
        """(1 ⊗ … ⊗ matrix_c ⊗ … ⊗ 1) applied to the columns of vectors (n^d, b)."""
        n = self.n
        shaped = vectors.reshape(n**c, n, -1)
        return np.matmul(matrix, shaped).reshape(vectors.shape)

    def product(self, matrix: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """(matrix ⊗ … ⊗ matrix) applied to the columns of vectors: d 1-D contractions."""
        for c in range(self.components):
            vectors = self.along(matrix, vectors, c)
        return vectors

    def edge(self, vectors: np.ndarray) -> float:
        """Largest weight Σ|v|² a column of ``vectors`` puts on the outermost grid planes."""
        inner = np.ones((self.n,) * self.components, dtype=bool)
        inner[(slice(1, -1),) * self.components] = False
        return float(np.max(np.sum(vectors[inner.ravel()] ** 2, axis=0)))


def fourier_vector(sites: int, k: int, part: str = "cos") -> np.ndarray:
    """u with u·φ = (1/L) Σ_j φ_j cos(2πkj/L) (or sin): a momentum mode; k = 0 is Φ = (1/L)Σφ_j."""
    phase = 2.0 * np.pi * k * np.arange(sites) / sites
    if part not in ("cos", "sin"):
        raise ValueError(f"fourier_vector: part must be 'cos' or 'sin', got {part!r}")
    return (np.cos(phase) if part == "cos" else np.sin(phase)) / sites


def level_groups(energies: Array, tol: float) -> list[tuple[float, int]]:
    """Consecutive (ascending) energies within ``tol`` of a group's first one: [(mean E, degeneracy)]."""
    groups: list[list[float]] = []
    for e in np.asarray(energies, dtype=float):
        if groups and e - groups[-1][0] <= tol:
            groups[-1].append(float(e))
        else:
            groups.append([float(e)])
    return [(float(np.mean(g)), len(g)) for g in groups]


def lanczos(matmat: Op, size: int, k: int, which: str) -> tuple[np.ndarray, np.ndarray]:
    """The k extreme eigenpairs (``which`` = "LA": largest first; "SA": smallest first) by ARPACK."""
    if not 1 <= k <= size - 2:
        raise ValueError(f"Lanczos: {k} states on a grid of {size} points (at most {size - 2})")
    op = LinearOperator((size, size), matvec=lambda v: matmat(v.reshape(size, 1))[:, 0], matmat=matmat,
                        dtype=float)
    v0 = np.random.default_rng(_LANCZOS_SEED).standard_normal(size)
    vals, vecs = eigsh(op, k=k, which=which, v0=v0, ncv=min(size, max(2 * k + 1, 20)))
    order = np.argsort(-vals if which == "LA" else vals)
    return vals[order], vecs[:, order]


def deflated_extreme(matmat: Op, vectors: np.ndarray, which: str, shift: float = 0.0) -> float:
    """The extreme eigenvalue of the operator on the complement of ``vectors``, made a safe bound.

    The operator (1 − P) A (1 − P) + shift·P, P = V Vᵀ (the computed states). "LA": Ritz value plus
    the residual norm (an upper bound of the largest remaining λ); "SA": minus it (a lower bound of
    the lowest remaining E; ``shift`` must lie above it).
    """
    def deflated(x: np.ndarray) -> np.ndarray:
        px = vectors @ (vectors.T @ x)
        y = matmat(x - px)
        return y - vectors @ (vectors.T @ y) + shift * px

    vals, vecs = lanczos(deflated, vectors.shape[0], 1, which)
    residual = float(np.linalg.norm(deflated(vecs) - vals[0] * vecs))
    return float(vals[0] + (residual if which == "LA" else -residual))
