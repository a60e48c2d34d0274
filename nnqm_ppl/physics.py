"""Potentials, lattices and the Euclidean lattice action of a particle on a line.

The path integral of Hashimoto et al. (eqs. 3.1-3.3, 5.1-5.7) on a Euclidean-time lattice of
``N = slices`` steps of size ``a = beta / N`` uses, in this suite, the symmetric (trapezoid) split

.. math::

    S_E[x] = \\sum_{n=0}^{N-1} \\Big[ \\frac{m (x_{n+1} - x_n)^2}{2a}
              + \\frac{a}{2} \\big( V(x_n) + V(x_{n+1}) \\big) \\Big],

whose transfer matrix is symmetric,

.. math::

    T(x, x') = \\sqrt{\\frac{m}{2\\pi\\hbar a}}
               \\exp\\Big(-\\frac{1}{\\hbar}\\Big[\\frac{m (x - x')^2}{2a}
               + \\frac{a}{2}\\big(V(x) + V(x')\\big)\\Big]\\Big)
             = e^{-aV/2\\hbar}\\, e^{-aK/\\hbar}\\, e^{-aV/2\\hbar},

so that :mod:`nnqm_ppl.exact.transfer` reproduces this action *exactly*. The boundaries:

- ``periodic``: x_N ≡ x_0; the N free sites x_0..x_{N-1}; the action is then
  Σ_n [m (x_{n+1} - x_n)² / (2a) + a V(x_n)] and the weight is Tr T^N.
- ``fixed``: x_0 = x_ini and x_N = x_fin; the N - 1 free sites x_1..x_{N-1}. Only here may V be
  constant (the free particle, the Brownian bridge between the ends; :func:`check_potential`).
- ``half_line`` (eqs. 5.2-5.7): x_0 = y and the far end x_N are both free (N + 1 free sites);
  the marginal density of y is then ∝ (T^N 1)(y), the lattice ground-state wave function ψ0(y)
  (not |ψ0|²) once β is large.

**Vector-valued paths.** A lattice of ``components = d`` > 1 carries paths x_n ∈ R^d, arrays of
shape (..., sites, d) (d = 1: shape (..., sites), as before). The action is the same formula with
(x_{n+1} - x_n)² read as |x_{n+1} - x_n|² and V: R^d -> R a function of the last axis (a
3-D particle: d = 3; a field on L periodic spatial sites: d = L, with the spatial gradient in
the quadratic form of :meth:`Potential.lattice_field`). The code is written once: the path is
turned component-major (:func:`sites_last`, (..., d, sites)) so that every operation along the
time axis is the scalar one on the last axis, batched over components; for d = 1 that move is the
identity, so the scalar case runs exactly the operations it always ran.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "BOUNDARIES",
    "MAX_COEFFICIENT",
    "Potential",
    "Lattice",
    "check_potential",
    "quadratic_form",
    "full_path",
    "n_free",
    "sites_last",
    "components_last",
    "attach_ends",
    "end_column",
    "action",
]

Array = Any

#: the lattice boundaries (see the module docstring).
BOUNDARIES = ("periodic", "fixed", "half_line")

#: largest potential coefficient the exact solvers resolve (in units with m = hbar = 1).
MAX_COEFFICIENT = 1e6


def check_potential(coeffs: Sequence[float], boundary: str = "periodic") -> tuple[float, ...]:
    """Refuse (ValueError) potentials whose path integral does not exist; return the coefficients as floats.

    Confining: the highest non-zero coefficient has an even power (>= 2) and is positive. A
    constant V (the free particle) confines nothing: a periodic path's weight is flat along the
    constant paths and a free end runs off, so it is accepted only with ``boundary = "fixed"``
    (the Brownian bridge between the pinned ends). A linear V (constant force) is refused: the
    Fourier network's reference ½mω0²(x − x̄)² cannot carry the force, so its exact sampler would be
    wrong. Every |c_k| must be at most :data:`MAX_COEFFICIENT` (the exact solvers' grids follow the
    potential's scales and cannot resolve more).
    """
    for k, v in enumerate(coeffs):
        if abs(v) > MAX_COEFFICIENT:
            raise ValueError(f"|c_{k}| = {abs(v):g} exceeds {MAX_COEFFICIENT:g}: rescale x (or hbar) instead")
    c = list(coeffs)
    while c and c[-1] == 0.0:
        c.pop()
    if len(c) <= 1:
        if boundary != "fixed":
            raise ValueError(f"a constant potential (free particle) does not confine: its path integral does not "
                             f"exist with boundary {boundary!r} (not normalisable); pin both ends with 'fixed'")
        return tuple(float(x) for x in coeffs)
    if len(c) < 3:
        raise ValueError("potential must be constant (fixed ends only) or have a positive leading coefficient "
                         "of even degree >= 2")
    deg = len(c) - 1
    if deg % 2 == 1:
        raise ValueError(f"potential is unbounded below: leading degree {deg} is odd")
    if c[-1] <= 0:
        raise ValueError(f"potential is unbounded below: leading coefficient c_{deg} = {c[-1]} <= 0")
    return tuple(float(x) for x in coeffs)


def _trimmed(coeffs: Sequence[float]) -> tuple[float, ...]:
    """Coefficients as floats without trailing zeros (at least one entry)."""
    c = [float(v) for v in coeffs]
    while len(c) > 1 and c[-1] == 0.0:
        c.pop()
    return tuple(c)


@dataclass(frozen=True)
class Potential:
    """A potential V: R^d -> R: a polynomial, a JAX-traceable callable, or a structured vector form.

    Exactly one of ``coeffs``, ``fn``, ``site`` and ``radial`` is given; build with the
    constructors. With ``components = d`` > 1, V acts on the last axis of (..., d) and returns
    (...); with d = 1 it acts element-wise.

    Parameters
    ----------
    coeffs : tuple of float, optional
        d = 1: V(x) = Σ_k c_k x^k.
    fn : callable, optional
        A JAX function: scalar -> scalar (d = 1, applied element-wise) or (d,) -> scalar.
    components : int
        d, the number of components of x.
    site : tuple of tuple of float, optional
        d > 1, with ``coupling``: V(x) = ½ xᵀ K x + Σ_c P_c(x_c), P_c(y) = Σ_k site[c][k] y^k.
    coupling : tuple of tuple of float, optional
        The symmetric d × d matrix K (only with ``site``; ``None`` means K = 0).
    radial : tuple of float, optional
        d > 1: V(x) = Σ_k c_k r^k with r = |x|, even k only (a polynomial in |x|²).

    Examples
    --------
    >>> V = Potential.from_coeffs([0.0, 0.0, 0.5, 0.0, 1.0])   # x²/2 + x⁴
    >>> W = Potential.radial_polynomial([0.0, 0.0, 0.5, 0.0, 0.1], components=3)   # r²/2 + r⁴/10
    """

    coeffs: tuple[float, ...] | None = None
    fn: Callable[[Array], Array] | None = None
    components: int = 1
    site: tuple[tuple[float, ...], ...] | None = None
    coupling: tuple[tuple[float, ...], ...] | None = None
    radial: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        given = [f for f in ("coeffs", "fn", "site", "radial") if getattr(self, f) is not None]
        if len(given) != 1:
            raise ValueError("Potential: give exactly one of coeffs, fn, site and radial")
        if int(self.components) != self.components or self.components < 1:
            raise ValueError(f"Potential: components must be an integer >= 1, got {self.components}")
        vector = self.site is not None or self.radial is not None
        if (self.coeffs is not None and self.components != 1) or (vector and self.components < 2):
            raise ValueError("Potential: coeffs is the d = 1 form; site and radial are for d >= 2")
        if self.coupling is not None and self.site is None:
            raise ValueError("Potential: coupling goes with site")

    @classmethod
    def from_coeffs(cls, coeffs: Sequence[float], boundary: str = "periodic") -> Potential:
        """A polynomial potential, refused (:class:`ValueError`) where its path integral does not exist.

        Parameters
        ----------
        coeffs : sequence of float
            c_k of x^k; the leading non-zero coefficient must have even degree ≥ 2 and be > 0,
            or V must be constant (the free particle) and ``boundary`` ``"fixed"``
            (:func:`check_potential`).
        boundary : {"periodic", "fixed", "half_line"}
            The boundary of the lattice the potential is used with.
        """
        return cls(coeffs=_trimmed(check_potential(coeffs, boundary)))

    @classmethod
    def from_callable(cls, fn: Callable[[Array], Array], components: int = 1) -> Potential:
        """A potential given by a JAX function (assumed confining; not checked).

        Parameters
        ----------
        fn : callable
            d = 1: a scalar function, applied element-wise; d > 1: (d,) -> scalar.
        components : int
            d.
        """
        return cls(fn=fn, components=components)

    @classmethod
    def separable(
        cls,
        coeffs: Sequence[float] | Sequence[Sequence[float]],
        components: int,
        coupling: Array | None = None,
    ) -> Potential:
        """V(x) = ½ xᵀ K x + Σ_c P_c(x_c): one polynomial per component plus a quadratic form.

        Refused (:class:`ValueError`) unless bounded below and confining: a P_c of degree > 2
        must pass :func:`check_potential` (it confines x_c whatever K does); the components
        without one must be confined by the quadratic part, whose Hessian
        H = K + diag(2 c_{c,2}) must be positive definite on them.

        Parameters
        ----------
        coeffs : sequence of float, or d sequences of float
            P_c's coefficients of y^k (one sequence: the same polynomial for every component).
        components : int
            d (d = 1 gives the scalar polynomial P + ½ K y²).
        coupling : array (d, d), optional
            The symmetric matrix K (default 0).

        Examples
        --------
        >>> Potential.separable([0.0, 0.0, 0.5], 2, coupling=[[0.0, 0.3], [0.3, 0.0]])  # coupled pair
        """
        d = int(components)
        rows = [coeffs] * d if all(np.ndim(c) == 0 for c in coeffs) else list(coeffs)
        if len(rows) != d:
            raise ValueError(f"Potential: {len(rows)} polynomials for {d} components")
        k = np.zeros((d, d)) if coupling is None else np.asarray(coupling, dtype=float)
        if k.shape != (d, d) or not np.allclose(k, k.T, rtol=0.0, atol=0.0):
            raise ValueError(f"Potential: the coupling must be a symmetric {d} x {d} matrix")
        if d == 1:
            c = list(rows[0]) + [0.0] * max(0, 3 - len(rows[0]))
            c[2] += 0.5 * float(k[0, 0])
            return cls.from_coeffs(c)
        site = tuple(_trimmed(r) for r in rows)
        for r in site:
            if len(r) > 3:
                check_potential(r)
            elif any(abs(v) > MAX_COEFFICIENT for v in r):
                raise ValueError(f"a coefficient exceeds {MAX_COEFFICIENT:g}: rescale x (or hbar) instead")
        loose = [c for c, r in enumerate(site) if len(r) <= 3]
        curvature = k + np.diag([2.0 * (r + (0.0, 0.0, 0.0))[2] for r in site])
        if loose and np.linalg.eigvalsh(curvature[np.ix_(loose, loose)])[0] <= 0.0:
            raise ValueError("potential is not confining: K + diag(2 c_2) is not positive definite on the "
                             "components without a higher even power")
        coupling_rows = None if coupling is None else tuple(tuple(float(v) for v in row) for row in k)
        return cls(components=d, site=site, coupling=coupling_rows)

    @classmethod
    def lattice_field(cls, coeffs: Sequence[float], sites: int, dx: float) -> Potential:
        """A scalar field on a periodic spatial lattice of ``sites`` points (the d = L components).

        .. math::

            V(\\phi) = \\sum_{s=0}^{L-1} \\Big[\\frac{(\\phi_{s+1} - \\phi_s)^2}{2\\,\\Delta x^2}
                        + P(\\phi_s)\\Big],\\qquad \\phi_L \\equiv \\phi_0,

        i.e. :meth:`separable` with K = (2·1 − S − Sᵀ)/Δx² (S the cyclic shift), the spatial
        gradient term of the φ⁴ theory in 1+1 dimensions (Hashimoto et al. eq. 3.22: P(φ) =
        m²φ²/2 + gφ⁴ is ``[0, 0, m²/2, 0, g]``). One site is quantum mechanics (K = 0).

        Parameters
        ----------
        coeffs : sequence of float
            P's coefficients of φ^k, the same at every site.
        sites : int
            L ≥ 1.
        dx : float
            Δx > 0.
        """
        if int(sites) != sites or sites < 1 or not dx > 0:
            raise ValueError(f"Potential: a lattice field needs sites >= 1 and dx > 0, got {sites}, {dx}")
        shift = np.roll(np.eye(int(sites)), 1, axis=1)
        laplacian = (2.0 * np.eye(int(sites)) - shift - shift.T) / dx**2
        return cls.separable(coeffs, int(sites), coupling=laplacian)

    @classmethod
    def radial_polynomial(cls, coeffs: Sequence[float], components: int) -> Potential:
        """An O(d)-symmetric potential V(x) = Σ_k c_k r^k, r = |x|, even powers only.

        Odd powers of r are refused: r^k with k odd is not a polynomial in x and is not smooth at
        the origin (|x| has a cone there), where the sampler needs ∇V. The polynomial in r must
        pass :func:`check_potential`. d = 1 gives the scalar polynomial.

        Parameters
        ----------
        coeffs : sequence of float
            c_k of r^k (c_k = 0 for odd k).
        components : int
            d.
        """
        c = check_potential(coeffs)
        if any(v != 0.0 for v in c[1::2]):
            raise ValueError("radial potential: odd powers of r = |x| are not smooth at the origin")
        if components == 1:
            return cls.from_coeffs(c)
        return cls(components=int(components), radial=_trimmed(c))

    @property
    def confining(self) -> bool:
        """False for a constant polynomial (the free particle: fixed ends only), True otherwise."""
        return self.coeffs is None or len(self.coeffs) > 1

    @property
    def degree(self) -> int | None:
        """Polynomial degree (d = 1), or ``None`` otherwise."""
        return None if self.coeffs is None else len(self.coeffs) - 1

    @property
    def is_even(self) -> bool:
        """True when V(-x) = V(x) is known from the coefficients (then ⟨x⟩ = 0 in every stationary state)."""
        if self.radial is not None:
            return True
        polys = (self.coeffs,) if self.coeffs is not None else (self.site or ())
        return bool(polys) and all(all(c == 0.0 for c in p[1::2]) for p in polys)

    def __call__(self, x: Array) -> Array:
        """V(x): element-wise for d = 1 (Horner's rule for polynomials), on the last axis for d > 1."""
        x = jnp.asarray(x, dtype=float)
        if self.fn is not None:
            signature = None if self.components == 1 else "(d)->()"
            return jnp.vectorize(self.fn, signature=signature)(x)
        if self.coeffs is not None:
            return jnp.polyval(jnp.asarray(self.coeffs[::-1]), x)
        if self.radial is not None:  # Σ_k c_{2k} (|x|²)^k
            return jnp.polyval(jnp.asarray(self.radial[::-2]), jnp.sum(x**2, axis=-1))
        width = max(len(p) for p in self.site)
        table = np.array([p + (0.0,) * (width - len(p)) for p in self.site])  # (d, degree + 1)
        v = jnp.zeros_like(x)
        for column in table.T[::-1]:
            v = v * x + jnp.asarray(column)
        v = jnp.sum(v, axis=-1)
        if self.coupling is not None:
            v = v + 0.5 * jnp.einsum("...i,ij,...j->...", x, jnp.asarray(self.coupling), x)
        return v

    def derivative(self, x: Array) -> Array:
        """V'(x) element-wise for d = 1 (exact polynomial derivative, else ``jax.grad``); ∇V for d > 1."""
        x = jnp.asarray(x, dtype=float)
        if self.components > 1:
            return jnp.vectorize(jax.grad(self.__call__), signature="(d)->(d)")(x)
        if self.coeffs is None:
            return jnp.vectorize(jax.grad(self.fn))(x)
        d = [k * c for k, c in enumerate(self.coeffs)][1:]
        return jnp.polyval(jnp.asarray(d[::-1]), x)


def quadratic_form(potential: Potential) -> tuple[np.ndarray, np.ndarray] | None:
    """(H, b) with V(x) = V(0) + bᵀx + ½ xᵀ H x when V is a known quadratic polynomial, else ``None``.

    Then the path measure is Gaussian. H is d × d (1 × 1 for d = 1) and positive definite, or
    zero for a constant V (the free particle, with fixed ends only; the constructors refuse the
    rest); callables are never taken for quadratic.
    """
    if potential.coeffs is not None:
        c = potential.coeffs
        if len(c) == 1:  # a constant: the free particle
            return np.zeros((1, 1)), np.zeros(1)
        return (np.array([[2.0 * c[2]]]), np.array([c[1]])) if len(c) == 3 else None
    if potential.radial is not None:
        r = potential.radial
        return (2.0 * r[2] * np.eye(potential.components), np.zeros(potential.components)) if len(r) == 3 else None
    if potential.site is None or any(len(p) > 3 for p in potential.site):
        return None
    padded = [p + (0.0, 0.0, 0.0) for p in potential.site]
    k = np.zeros((potential.components,) * 2) if potential.coupling is None else np.array(potential.coupling)
    return k + np.diag([2.0 * p[2] for p in padded]), np.array([p[1] for p in padded])


@dataclass(frozen=True)
class Lattice:
    """A Euclidean-time lattice: extent β, ``slices`` steps of a = β / N, mass, ħ, boundary, components.

    Parameters
    ----------
    beta : float
        Euclidean time extent (the weight of a closed path is Tr e^{-βH/ħ}).
    slices : int
        Number of steps N.
    mass, hbar : float
        m and ħ.
    boundary : {"periodic", "fixed", "half_line"}
        See the module docstring.
    x_ini, x_fin : float or sequence of d floats, optional
        End points for ``fixed`` (required there, refused elsewhere); with d > 1 a float is the
        same value in every component.
    components : int
        d, the number of components of x_n (default 1: a particle on a line).
    """

    beta: float
    slices: int
    mass: float = 1.0
    hbar: float = 1.0
    boundary: str = "periodic"
    x_ini: float | tuple[float, ...] | None = None
    x_fin: float | tuple[float, ...] | None = None
    components: int = 1

    def __post_init__(self) -> None:
        def err(field: str, reason: str) -> ValueError:
            return ValueError(f"Lattice {field}: {reason}")

        if self.boundary not in BOUNDARIES:
            raise err("boundary", f"unknown boundary {self.boundary!r}; choose from {BOUNDARIES}")
        if not (self.beta > 0 and self.mass > 0 and self.hbar > 0):
            raise err("beta", "beta, mass and hbar must be > 0")
        if int(self.slices) != self.slices or self.slices < 2:
            raise err("slices", f"slices must be an integer >= 2, got {self.slices}")
        if int(self.components) != self.components or self.components < 1:
            raise err("components", f"components must be an integer >= 1, got {self.components}")
        fixed = self.boundary == "fixed"
        for name in ("x_ini", "x_fin"):
            value = getattr(self, name)
            if (value is None) == fixed:
                raise err(name, "needed with boundary 'fixed' and only there")
            if value is not None and self.components > 1:
                if np.ndim(value) == 0:
                    value = (value,) * self.components
                if len(value) != self.components:
                    raise err(name, f"needs {self.components} components, got {len(value)}")
                object.__setattr__(self, name, tuple(float(v) for v in value))

    @property
    def a(self) -> float:
        """Lattice spacing a = β / N."""
        return self.beta / self.slices

    @property
    def value_shape(self) -> tuple[int, ...]:
        """Shape of one x_n: () for d = 1, (d,) otherwise."""
        return () if self.components == 1 else (self.components,)

    @property
    def taus(self) -> Array:
        """Euclidean times n·a of the full path: n = 0..N-1 (periodic) or 0..N (open)."""
        n = self.slices if self.boundary == "periodic" else self.slices + 1
        return self.a * jnp.arange(n, dtype=float)


def n_free(lattice: Lattice) -> int:
    """Number of free sites: N (periodic), N - 1 (fixed), N + 1 (half_line)."""
    return {"periodic": 0, "fixed": -1, "half_line": 1}[lattice.boundary] + lattice.slices


def sites_last(x: Array, lattice: Lattice) -> Array:
    """Component-major layout: (..., sites, d) -> (..., d, sites); the identity for d = 1.

    Every operation along Euclidean time then acts on the last axis, as for scalar paths.
    """
    return x if lattice.components == 1 else jnp.swapaxes(x, -1, -2)


def components_last(x: Array, lattice: Lattice) -> Array:
    """The path layout back from :func:`sites_last`: (..., d, sites) -> (..., sites, d)."""
    return x if lattice.components == 1 else jnp.swapaxes(x, -1, -2)


def end_column(value: float | tuple[float, ...], lattice: Lattice) -> Array:
    """An end point as a column of the component-major layout: shape (1,) for d = 1, (d, 1) else."""
    return jnp.reshape(jnp.asarray(value, dtype=float), lattice.value_shape + (1,))


def attach_ends(free: Array, lattice: Lattice) -> Array:
    """(x_ini, free, x_fin) along the last axis of a component-major path (``fixed`` boundary)."""
    shape = free.shape[:-1] + (1,)
    ini, fin = (jnp.broadcast_to(end_column(v, lattice), shape) for v in (lattice.x_ini, lattice.x_fin))
    return jnp.concatenate([ini, free, fin], axis=-1)


def full_path(free: Array, lattice: Lattice) -> Array:
    """The full path from the free sites (site axis; leading axes are batch axes).

    Parameters
    ----------
    free : array, shape (..., n_free(lattice)) for d = 1, (..., n_free(lattice), d) otherwise
        Free site values.
    lattice : Lattice

    Returns
    -------
    array, shape (..., N[, d]) for periodic, (..., N + 1[, d]) otherwise
        Periodic: x_0..x_{N-1}; fixed: (x_ini, x_1..x_{N-1}, x_fin); half_line: x_0..x_N.
    """
    free = jnp.asarray(free, dtype=float)
    if lattice.boundary != "fixed":
        return free
    return components_last(attach_ends(sites_last(free, lattice), lattice), lattice)


def action(full_path: Array, lattice: Lattice, potential: Potential) -> Array:
    """Euclidean lattice action S_E of full paths (trapezoid split; batch over leading axes).

    .. math::

        S_E = \\sum_{n=0}^{N-1} \\Big[\\frac{m\\,|x_{n+1} - x_n|^2}{2a}
              + \\frac{a}{2}\\big(V(x_n) + V(x_{n+1})\\big)\\Big],

    with x_N ≡ x_0 for the periodic lattice (then the potential term is a Σ_n V(x_n)) and
    x_n ∈ R^d (|·|² the squared Euclidean norm; for d = 1 the square).

    Parameters
    ----------
    full_path : array, shape (..., N[, d]) periodic or (..., N + 1[, d]) open
        As returned by :func:`full_path`.
    lattice : Lattice
    potential : Potential
        V: R^d -> R (``potential.components == lattice.components``).

    Returns
    -------
    array, shape (...)
        S_E (divide by ħ for the weight e^{-S_E/ħ}).
    """
    x = sites_last(jnp.asarray(full_path, dtype=float), lattice)
    if lattice.boundary == "periodic":
        x = jnp.concatenate([x, x[..., :1]], axis=-1)
    a, m = lattice.a, lattice.mass
    kinetic = jnp.sum(jnp.diff(x, axis=-1) ** 2, axis=-1) * (m / (2.0 * a))
    if lattice.components > 1:
        kinetic = jnp.sum(kinetic, axis=-1)
    v = potential(components_last(x, lattice))
    pot = a * (jnp.sum(v, axis=-1) - 0.5 * (v[..., 0] + v[..., -1]))
    return kinetic + pot
