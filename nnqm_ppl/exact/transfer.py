"""Exact values on the lattice itself (same a, β, boundary) from the transfer matrix.

The lattice action of :mod:`nnqm_ppl.physics` (trapezoid split) factorises into the symmetric
kernel

.. math::

    T(x, x') = \\sqrt{\\frac{m}{2\\pi\\hbar a}}
               \\exp\\Big(-\\frac{1}{\\hbar}\\Big[\\frac{m (x - x')^2}{2a}
               + \\frac{a}{2}\\big(V(x) + V(x')\\big)\\Big]\\Big),

so the lattice partition functions are Tr T^N (periodic), ∫∫ T^N (half line) and
T^N(x_ini, x_fin) (fixed). Each site integral is done by the trapezoid rule on a uniform grid
x_i of spacing h: with M_ij = h T(x_i, x_j) = Σ_n λ_n U_in U_jn, all lattice expectation values
become finite sums over the eigenpairs (λ_n, U_n). For integrands analytic in a strip the uniform
trapezoid rule on the line converges exponentially; its error for the Gaussian kernel is
≈ 2 exp(-2π² σ²/h²), σ = sqrt(ħa/m), about 1e-12 at the default h = σ/1.2. Functions are
evaluated off the grid by the Nyström extension φ_n(y) = Σ_j h T(y, x_j) φ_n(x_j) / λ_n.

Lattice energies are E_n = -(ħ/a) ln λ_n. A site ``n`` refers to the full path x_0..x_N of
:func:`nnqm_ppl.physics.full_path` (periodic: every site is equivalent).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from nnqm_ppl.exact.diagonalize import semiclassical_box
from nnqm_ppl.physics import Lattice, Potential

__all__ = ["TransferMatrix", "transfer_matrix", "kernel", "kernel_matrix", "quadrature_spacing", "periodic_correlator"]

Array = Any
Op = Callable[[Array], Array]

_SIGMA_PER_SPACING = 1.2  # default h = σ / 1.2: trapezoid error of the kernel ≈ 2e^{-28} ≈ 1e-12

#: half-width of the free bridge's grid beyond its ends, in its widest standard deviation sqrt(ħβ/4m)
_BRIDGE_WIDTHS = 12.0

#: Power iterations for the scale of the transfer matrix (:func:`periodic_correlator`).
_POWER_STEPS = 20


@jax.jit
def kernel_matrix(x: Array, y: Array, vx: Array, vy: Array, a: float, mass: float, hbar: float) -> Array:
    """The transfer kernel T(x_i, y_j) (formula in the module doc) from V(x_i), V(y_j), in JAX.

    Parameters
    ----------
    x, y : array (n,), (k,)
        Points.
    vx, vy : array (n,), (k,)
        The potential at them (differentiable: the coupling fits take gradients through V).
    a, mass, hbar : float
        Lattice spacing, m, ħ.

    Returns
    -------
    jax.Array (n, k)
        Compiled once per shape (an eager evaluation costs ~100x more on small grids).
    """
    x, y = x[:, None], y[None, :]
    expo = mass * (x - y) ** 2 / (2.0 * a) + 0.5 * a * (vx[:, None] + vy[None, :])
    return jnp.sqrt(mass / (2.0 * jnp.pi * hbar * a)) * jnp.exp(-expo / hbar)


def kernel(x: Array, y: Array, lattice: Lattice, potential: Potential) -> Array:
    """The transfer kernel T(x_i, y_j) of a lattice and potential as a matrix (:func:`kernel_matrix`)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    vx, vy = np.asarray(potential(x)), np.asarray(potential(y))
    return np.asarray(kernel_matrix(x, y, vx, vy, lattice.a, lattice.mass, lattice.hbar))


def quadrature_spacing(lattice: Lattice, p_max: float) -> float:
    """Default quadrature spacing h = min(σ/1.2, πħ/(3 p_max)), σ = sqrt(ħa/m) the kernel width.

    The trapezoid error of the Gaussian kernel is then ≈ 2 exp(-2π²σ²/h²) ≈ 1e-12, and the
    states with momenta up to p_max are resolved.
    """
    sigma = math.sqrt(lattice.hbar * lattice.a / lattice.mass)
    return min(sigma / _SIGMA_PER_SPACING, math.pi * lattice.hbar / (3.0 * p_max))


def _perron_root(mat: Array) -> Array:
    """Rayleigh quotient v·Mv / v·v after :data:`_POWER_STEPS` power iterations from v = 1."""

    def step(v, _):
        w = mat @ v
        return w / jnp.linalg.norm(w), None

    v, _ = jax.lax.scan(step, jnp.ones(mat.shape[0]) / math.sqrt(mat.shape[0]), None, length=_POWER_STEPS)
    return v @ (mat @ v)


def periodic_correlator(grid: Array, v: Array, lattice: Lattice, ks: Sequence[int] | Array) -> Array:
    """Lattice correlator ⟨x_0 x_k⟩ of a periodic chain, differentiable in the potential.

    G(k) = Tr(X M^k X M^{N−k}) / Tr M^N with M_ij = h T(x_i, x_j) (:func:`kernel_matrix`,
    trapezoid rule on ``grid``) and X = diag(x_i): the quantity of
    :meth:`TransferMatrix.correlator`, without eigenvectors (whose derivatives are
    ill-conditioned for the many near-zero eigenvalues). Powers are accumulated by
    ``lax.scan``. M is divided by a constant c, the Rayleigh quotient of its Perron vector after
    :data:`_POWER_STEPS` power iterations (close to the largest eigenvalue, so M^N neither
    overflows nor underflows), under ``stop_gradient``: any constant cancels in the ratio and
    its gradient. (``eigvalsh`` for c cost ~20x the rest of a gradient evaluation.)

    Parameters
    ----------
    grid : ndarray (n,)
        Uniform quadrature grid.
    v : array (n,)
        V(x_i) on the grid.
    lattice : Lattice
        a, N = slices, m, ħ (periodic).
    ks : sequence of int
        Separations 0 ≤ k ≤ N.

    Returns
    -------
    jax.Array (len(ks),)
    """
    n = lattice.slices
    x = jnp.asarray(grid)
    mat = (grid[1] - grid[0]) * kernel_matrix(x, x, v, v, lattice.a, lattice.mass, lattice.hbar)
    mat = mat / jax.lax.stop_gradient(_perron_root(mat))

    def step(p, _):
        return p @ mat, p

    _, powers = jax.lax.scan(step, jnp.eye(len(grid)), None, length=n + 1)  # M^0 .. M^N
    ks = np.asarray(ks, dtype=int)
    xx = x[:, None] * x[None, :]
    num = jnp.einsum("ij,kij,kij->k", xx, powers[ks], powers[n - ks])
    return num / jnp.trace(powers[n])


@dataclass(frozen=True)
class TransferMatrix:
    """The eigen-decomposition of the quadrature transfer matrix M_ij = h T(x_i, x_j).

    Attributes
    ----------
    lattice : Lattice
    potential : Potential
    x : array (n,)
        Quadrature grid (uniform spacing h).
    eigenvalues : array (n,)
        λ_n, descending.
    vectors : array (n, n)
        Orthonormal columns U_in = sqrt(h) φ_n(x_i); φ_0 > 0.
    """

    lattice: Lattice
    potential: Potential
    x: Array
    eigenvalues: Array
    vectors: Array

    # ---------------------------------------------------------------- spectrum
    @property
    def h(self) -> float:
        """Grid spacing."""
        return float(self.x[1] - self.x[0])

    @property
    def energies(self) -> Array:
        """Lattice energies E_n = -(ħ/a) ln λ_n (for the levels with λ_n > 0)."""
        lam = self.eigenvalues
        return -self.lattice.hbar * np.log(np.where(lam > 0, lam, np.nan)) / self.lattice.a

    def gaps(self, n: int = 3) -> Array:
        """Lattice gaps E_k - E_0, k = 1..n."""
        e = self.energies
        return e[1 : n + 1] - e[0]

    # ---------------------------------------------------------------- chain structure
    @property
    def _r(self) -> Array:
        return np.clip(self.eigenvalues / self.eigenvalues[0], 0.0, 1.0)

    @property
    def _bonds(self) -> int:
        """Number of transfer steps S between the first and the last free site."""
        return self.lattice.slices - (2 if self.lattice.boundary == "fixed" else 0)

    @property
    def _offset(self) -> int:
        return 1 if self.lattice.boundary == "fixed" else 0

    def _ends(self, y: Array) -> tuple[Array, Array]:
        """Boundary functions u(y), v(y) of an open chain (1 on a half line; T(x_ini, y) ...)."""
        lat = self.lattice
        y = np.asarray(y, dtype=float)
        if lat.boundary == "half_line":
            return np.ones_like(y), np.ones_like(y)
        u = kernel(np.array([lat.x_ini]), y, lat, self.potential)[0]
        v = kernel(np.array([lat.x_fin]), y, lat, self.potential)[0]
        return u, v

    def _chain_pos(self, site: int | None) -> int:
        s = (self.lattice.slices // 2 if site is None else site) - self._offset
        if self.lattice.boundary != "periodic" and not 0 <= s <= self._bonds:
            raise ValueError(f"site {site} is not a free site of a {self.lattice.boundary} lattice")
        return 0 if self.lattice.boundary == "periodic" else s

    def _extend(self, y: Array) -> Array:
        """E_n(y) = Σ_j h T(y, x_j) U_jn / λ_0 (= r_n U_in on the grid)."""
        k = kernel(y, self.x, self.lattice, self.potential)
        return self.h * (k @ self.vectors) / self.eigenvalues[0]

    def operator(self, f: Op) -> Array:
        """The matrix F = Uᵀ diag(f(x_i)) U of a function of x in the eigenbasis."""
        return self.vectors.T @ (np.asarray(f(self.x))[:, None] * self.vectors)

    def _chain_vectors(self, sites: Sequence[int]) -> tuple[Array, Array, float]:
        """Open chain: α_s = ũ r^s, ω_s = r^{S−s} ṽ (rows, one per site) and z = Σ ũ r^S ṽ."""
        if self.lattice.boundary == "periodic":
            raise ValueError("a periodic lattice has no chain ends")
        pos = np.array([self._chain_pos(s) for s in sites])
        r = self._r
        u, v = self._ends(self.x)
        ut, vt = self.vectors.T @ u, self.vectors.T @ v
        alpha = ut[None, :] * r[None, :] ** pos[:, None]
        omega = r[None, :] ** (self._bonds - pos)[:, None] * vt[None, :]
        return alpha, omega, float(np.sum(ut * r**self._bonds * vt))

    def site_values(self, f: Op, sites: Sequence[int]) -> Array:
        """⟨f(x_s)⟩ at each of the given free sites of an open chain: α_s F ω_s / z.

        With ũ = Uᵀu, ṽ = Uᵀv (boundary vectors), r = λ/λ_0, s the position of the site in the
        chain of S bonds, α_s = ũ r^s, ω_s = r^{S−s} ṽ, z = Σ ũ r^S ṽ and F from
        :meth:`operator` (the expression of :meth:`two_point` at k = 0, for many sites at once).
        """
        alpha, omega, z = self._chain_vectors(sites)
        return np.einsum("sn,nm,sm->s", alpha, self.operator(f), omega) / z

    def site_pairs(self, f: Op, sites: Sequence[int]) -> Array:
        """The matrix ⟨f(x_s) f(x_t)⟩ over the given free sites (ascending) of an open chain.

        For s ≤ t it is α_s F diag(r^{t−s}) F ω_t / z (notation of :meth:`site_values`).
        """
        alpha, omega, z = self._chain_vectors(sites)
        op = self.operator(f)
        pos = np.array([self._chain_pos(s) for s in sites])
        sep = pos[None, :] - pos[:, None]
        powers = self._r[None, None, :] ** np.maximum(sep, 0)[:, :, None]
        upper = np.einsum("sm,stm,tm->st", alpha @ op, powers, omega @ op) / z
        return np.where(sep >= 0, upper, upper.T)

    # ---------------------------------------------------------------- expectation values
    def two_point(
        self, fs: Sequence[Op], gs: Sequence[Op], ks: Sequence[int] | Array, site: int | None = None
    ) -> Array:
        """⟨f_i(x_site) g_j(x_{site+k})⟩ for all pairs (i, j) and separations k.

        Periodic: Σ_{nm} λ_n^{N-k} ⟨n|f|m⟩ λ_m^k ⟨m|g|n⟩ / Σ λ^N. Open chain with boundary
        vectors u, v over S bonds and s the site's position in it:
        Σ (ũ λ^s)_n ⟨n|f|m⟩ λ_m^k ⟨m|g|l⟩ (λ^{S-s-k} ṽ)_l / Σ ũ λ^S ṽ, with ũ = U^T u.

        Parameters
        ----------
        fs, gs : sequences of callables
            Functions of x (operators diagonal in x).
        ks : sequence of int
            Separations k ≥ 0 (periodic: 0..N; open: up to the last free site).
        site : int, optional
            Site of f (default: the middle site N // 2; irrelevant for periodic).

        Returns
        -------
        array, shape (len(ks), len(fs), len(gs))
        """
        u_mat = self.vectors
        f = np.stack([u_mat.T @ (np.asarray(op(self.x))[:, None] * u_mat) for op in fs])
        g = np.stack([u_mat.T @ (np.asarray(op(self.x))[:, None] * u_mat) for op in gs])
        ks = np.asarray(ks, dtype=int)
        r = self._r
        s = self._chain_pos(site)
        if self.lattice.boundary == "periodic":
            n = self.lattice.slices
            left, right = r[None, :] ** (n - ks)[:, None], r[None, :] ** ks[:, None]
            return np.einsum("kn,inm,km,jmn->kij", left, f, right, g, optimize=True) / np.sum(r**n)
        if int(np.max(ks)) > self._bonds - s:
            raise ValueError("separation runs past the last free site")
        u, v = self._ends(self.x)
        ut, vt = u_mat.T @ u, u_mat.T @ v
        alpha = ut * r**s
        omega = r[None, :] ** (self._bonds - s - ks)[:, None] * vt[None, :]
        z = np.sum(ut * r**self._bonds * vt)
        right = r[None, :] ** ks[:, None]
        out = np.einsum("n,inm,km,jml,kl->kij", alpha, f, right, g, omega, optimize=True)
        return out / z

    def expect(self, f: Op, site: int | None = None) -> float:
        """⟨f(x_site)⟩ on the lattice at the given β (default site N // 2)."""
        return float(self.two_point([np.ones_like], [f], [0], site)[0, 0, 0])

    def correlator(self, ks: Sequence[int] | Array | None = None, site: int | None = None) -> Array:
        """⟨x_site x_{site+k}⟩ (periodic: C(τ = ka) for k = 0..N by default)."""
        if ks is None:
            ks = self.correlator_separations(site)
        return self.two_point([_x], [_x], ks, site)[:, 0, 0]

    def spectral_lines(self, levels: int, f: Op | None = None, tol: float = 1e-10) -> tuple[Array, Array]:
        """The first ``levels`` states that ``f`` (default x) connects to the ground state.

        At β → ∞ the periodic correlator is Σ_n |⟨0|f|n⟩|² (e^{−E_n τ} + e^{−E_n (β−τ)}) with
        E_n the lattice energies above E_0; these are the true values of a spectral fit.

        Parameters
        ----------
        levels : int
            How many states (those with |⟨0|f|n⟩|² > ``tol`` × the largest, in order of energy).
        f : callable, optional
            The operator, a function of x (default x).
        tol : float
            Relative weight below which a state counts as not connected (e.g. even states for
            x and an even potential).

        Returns
        -------
        (energies, weights) : (ndarray, ndarray)
            E_n − E_0 and |⟨0|f|n⟩|² of the connected states, n ≥ 1, in order of energy.
        """
        op = _x if f is None else f
        u = self.vectors
        elements = u[:, 0] @ (op(self.x)[:, None] * u[:, 1:])
        weights = elements**2
        keep = np.nonzero(weights > tol * np.max(weights))[0][:levels]
        return (self.energies[1:] - self.energies[0])[keep], weights[keep]

    def correlator_separations(self, site: int | None = None) -> Array:
        """Separations k of :meth:`correlator`: 0..N (periodic), else up to the last free site."""
        last = self.lattice.slices if self.lattice.boundary == "periodic" else self._bonds
        return np.arange(last - self._chain_pos(site) + 1)

    def connected_matrix(
        self, ops: Sequence[Op], ks: Sequence[int] | Array, site: int | None = None
    ) -> Array:
        """Connected correlators ⟨O_i(x_site) O_j(x_{site+k})⟩ - ⟨O_i(x_site)⟩⟨O_j(x_{site+k})⟩.

        For the GEVP over {x, x², x³}: ``connected_matrix([x, x², x³], range(N + 1))``.

        Returns
        -------
        array, shape (len(ks), len(ops), len(ops))
        """
        full = self.two_point(ops, ops, ks, site)
        at_site = self.two_point([np.ones_like], ops, [0], site)[0, 0]
        later = self.two_point([np.ones_like], ops, ks, site)[:, 0, :]
        return full - at_site[None, :, None] * later[:, None, :]

    def bond_square(self, site: int | None = None) -> float:
        """⟨(x_{n+1} - x_n)²⟩ = ⟨x_n²⟩ + ⟨x_{n+1}²⟩ - 2⟨x_n x_{n+1}⟩."""
        s = self.lattice.slices // 2 if site is None else site
        g = self.two_point([_x, _x2], [_x], [1], s)[0, :, 0]
        return float(self.expect(_x2, s) + self.expect(_x2, s + 1) - 2.0 * g[0])

    def p2(self, site: int | None = None) -> float:
        """Point-split kinetic estimator ⟨p²⟩ = mħ/a - m²⟨(x_{n+1} - x_n)²⟩/a²."""
        lat = self.lattice
        return lat.mass * lat.hbar / lat.a - lat.mass**2 * self.bond_square(site) / lat.a**2

    def virial_energy(self, site: int | None = None) -> float:
        """Virial estimator ⟨V(x) + x V'(x)/2⟩ (→ E_0 of the lattice theory as β → ∞)."""
        pot = self.potential
        return self.expect(lambda x: pot(x) + 0.5 * x * pot.derivative(x), site)

    def uncertainty(self, site: int | None = None) -> float:
        """Δx·Δp = sqrt((⟨x²⟩ - ⟨x⟩²) ⟨p²⟩), with ⟨p⟩ = 0 and the point-split ⟨p²⟩."""
        var = self.expect(_x2, site) - self.expect(_x, site) ** 2
        return float(np.sqrt(var * self.p2(site)))

    def commutator(self, site: int | None = None) -> float:
        """Point-split commutator m⟨x_n(x_{n+1} - x_n) - (x_n - x_{n-1})x_n⟩/a.

        The lattice Schwinger–Dyson equation ⟨x_n ∂S/∂x_n⟩ = ħ makes this equal to
        -ħ + a⟨x_n V'(x_n)⟩ at every interior site.
        """
        lat = self.lattice
        s = self.lattice.slices // 2 if site is None else site
        if lat.boundary != "periodic" and s - 1 < self._offset:
            raise ValueError("the commutator needs an interior site")
        forward = self.two_point([_x], [_x], [1], s)[0, 0, 0]
        backward = self.two_point([_x], [_x], [1], s - 1)[0, 0, 0]
        return float(lat.mass * (forward + backward - 2.0 * self.expect(_x2, s)) / lat.a)

    # ---------------------------------------------------------------- densities
    def density(self, y: Array, site: int | None = None) -> Array:
        """Exact lattice density of x_site at the points y (Nyström extension).

        Periodic: Σ_n λ_n^N φ_n(y)² / Σ λ^N (→ |φ_0|² as β → ∞). Open chain: (T^s u)(y)
        (T^{S-s} v)(y) / ⟨u|T^S|v⟩; on a half line the site 0 (y of Hashimoto eq. 5.2) has
        density ∝ (T^N 1)(y) → φ_0(y) as β → ∞.
        """
        r, n_bonds = self._r, self._bonds
        ext = self._extend(y)
        if self.lattice.boundary == "periodic":
            n = self.lattice.slices
            return (ext**2 @ r ** (n - 2)) / (np.sum(r**n) * self.h)
        s = self._chain_pos(site)
        u, v = self._ends(y)
        ug, vg = self._ends(self.x)
        ut, vt = self.vectors.T @ ug, self.vectors.T @ vg
        left = u if s == 0 else ext @ (r ** (s - 1) * ut)
        right = v if s == n_bonds else ext @ (r ** (n_bonds - s - 1) * vt)
        return left * right / (np.sum(ut * r**n_bonds * vt) * self.h)

    def ground_state(self, y: Array) -> Array:
        """Lattice ground state φ_0(y) (eigenfunction of T), normalised as a density: ∫φ_0 = 1."""
        return self._extend(y)[:, 0] / (self.h * np.sum(self.vectors[:, 0]))


def _x(x: Array) -> Array:
    return x


def _x2(x: Array) -> Array:
    return x**2


def transfer_matrix(
    lattice: Lattice,
    potential: Potential,
    *,
    spacing: float | None = None,
    box: tuple[float, float] | None = None,
) -> TransferMatrix:
    """Build and diagonalise the quadrature transfer matrix of a lattice path integral.

    Parameters
    ----------
    lattice : Lattice
    potential : Potential
    spacing : float, optional
        Quadrature spacing h. Default: min(σ/1.2, πħ/(3 p_max)) with σ = sqrt(ħa/m) the kernel
        width (trapezoid error ≈ 2 exp(-2π²σ²/h²) ≈ 1e-12) and p_max the largest momentum of the
        states that matter (:func:`~nnqm_ppl.exact.diagonalize.semiclassical_box`).
    box : (float, float), optional
        Grid ends. Default: the semiclassical box for the lowest 10 states and the thermal
        states at β (tunnelling depth 25), extended to contain x_ini and x_fin. A constant V
        (the free particle, fixed ends only) has no such box: its interior sites are the
        Brownian bridge between the ends, of standard deviation at most sqrt(ħβ/4m), and the
        grid reaches 12 of those beyond each end (tail e^{-72}), with h = σ/1.2.

    Returns
    -------
    TransferMatrix
    """
    lat = lattice
    if potential.confining:
        lo, hi, p_max = semiclassical_box(potential, lat.mass, lat.hbar, beta=lat.beta)
        default_spacing = quadrature_spacing(lat, p_max)
    elif lat.boundary == "fixed":
        reach = _BRIDGE_WIDTHS * math.sqrt(lat.hbar * lat.beta / (4.0 * lat.mass))
        lo, hi = min(lat.x_ini, lat.x_fin) - reach, max(lat.x_ini, lat.x_fin) + reach
        default_spacing = math.sqrt(lat.hbar * lat.a / lat.mass) / _SIGMA_PER_SPACING
    else:
        raise ValueError(f"transfer_matrix: a constant potential needs fixed ends, not {lat.boundary!r} "
                         "(its path integral does not exist)")
    if box is None:
        ends = [e for e in (lat.x_ini, lat.x_fin) if e is not None]
        box = (min([lo, *ends]), max([hi, *ends]))
    if spacing is None:
        spacing = default_spacing
    n = int(np.ceil((box[1] - box[0]) / spacing)) + 1
    x = np.linspace(box[0], box[1], n)
    h = x[1] - x[0]
    lam, vec = (np.asarray(a) for a in jnp.linalg.eigh(h * kernel(x, x, lat, potential)))
    lam, vec = lam[::-1], vec[:, ::-1]
    vec = vec * np.where(np.sum(vec, axis=0) < 0, -1.0, 1.0)
    return TransferMatrix(lat, potential, x, lam, vec)
