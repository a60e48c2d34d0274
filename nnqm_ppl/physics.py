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
- ``fixed``: x_0 = x_ini and x_N = x_fin; the N - 1 free sites x_1..x_{N-1}.
- ``half_line`` (eqs. 5.2-5.7): x_0 = y and the far end x_N are both free (N + 1 free sites);
  the marginal density of y is then ∝ (T^N 1)(y), the lattice ground-state wave function ψ0(y)
  (not |ψ0|²) once β is large.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["BOUNDARIES", "MAX_COEFFICIENT", "Potential", "Lattice", "check_potential", "full_path", "n_free", "action"]

Array = Any

#: the lattice boundaries (see the module docstring).
BOUNDARIES = ("periodic", "fixed", "half_line")

#: largest potential coefficient the exact solvers resolve (in units with m = hbar = 1).
MAX_COEFFICIENT = 1e6


def check_potential(coeffs: Sequence[float]) -> tuple[float, ...]:
    """Refuse (ValueError) potentials that are not bounded below; return the coefficients as floats.

    The highest non-zero coefficient must have an even power (>= 2) and be positive, and every
    coefficient at most :data:`MAX_COEFFICIENT` in size (beyond that the exact solvers' grids,
    whose spacing follows the potential's scales, cannot resolve the theory).
    """
    for k, v in enumerate(coeffs):
        if abs(v) > MAX_COEFFICIENT:
            raise ValueError(f"|c_{k}| = {abs(v):g} exceeds {MAX_COEFFICIENT:g}: rescale x (or hbar) instead")
    c = list(coeffs)
    while c and c[-1] == 0.0:
        c.pop()
    if len(c) < 3:
        raise ValueError("potential must have a positive leading coefficient of even degree >= 2")
    deg = len(c) - 1
    if deg % 2 == 1:
        raise ValueError(f"potential is unbounded below: leading degree {deg} is odd")
    if c[-1] <= 0:
        raise ValueError(f"potential is unbounded below: leading coefficient c_{deg} = {c[-1]} <= 0")
    return tuple(float(x) for x in coeffs)


@dataclass(frozen=True)
class Potential:
    """A potential V(x): polynomial coefficients c_k of x^k, or a JAX-traceable callable.

    Parameters
    ----------
    coeffs : tuple of float, optional
        V(x) = Σ_k c_k x^k. Exactly one of ``coeffs`` and ``fn`` is given.
    fn : callable, optional
        A scalar JAX function V(x); it is applied element-wise.

    Examples
    --------
    >>> V = Potential.from_coeffs([0.0, 0.0, 0.5, 0.0, 1.0])   # x²/2 + x⁴
    """

    coeffs: tuple[float, ...] | None = None
    fn: Callable[[Array], Array] | None = None

    def __post_init__(self) -> None:
        if (self.coeffs is None) == (self.fn is None):
            raise ValueError("Potential: give exactly one of coeffs and fn")

    @classmethod
    def from_coeffs(cls, coeffs: Sequence[float]) -> Potential:
        """A polynomial potential, refused (:class:`ValueError`) if it is unbounded below.

        Parameters
        ----------
        coeffs : sequence of float
            c_k of x^k; the leading non-zero coefficient must have even degree ≥ 2 and be > 0.
        """
        c = check_potential(coeffs)
        while c[-1] == 0.0:
            c = c[:-1]
        return cls(coeffs=c)

    @classmethod
    def from_callable(cls, fn: Callable[[Array], Array]) -> Potential:
        """A potential given by a scalar JAX function (assumed confining; not checked)."""
        return cls(fn=fn)

    @property
    def degree(self) -> int | None:
        """Polynomial degree, or ``None`` for a callable."""
        return None if self.coeffs is None else len(self.coeffs) - 1

    @property
    def is_even(self) -> bool:
        """True for a polynomial with only even powers (then ⟨x⟩ = 0 in every stationary state)."""
        return self.coeffs is not None and all(c == 0.0 for c in self.coeffs[1::2])

    def __call__(self, x: Array) -> Array:
        """V(x), element-wise (Horner's rule for polynomials)."""
        x = jnp.asarray(x, dtype=float)
        if self.coeffs is None:
            return jnp.vectorize(self.fn)(x)
        return jnp.polyval(jnp.asarray(self.coeffs[::-1]), x)

    def derivative(self, x: Array) -> Array:
        """V'(x), element-wise (exact polynomial derivative, else ``jax.grad``)."""
        x = jnp.asarray(x, dtype=float)
        if self.coeffs is None:
            return jnp.vectorize(jax.grad(self.fn))(x)
        d = [k * c for k, c in enumerate(self.coeffs)][1:]
        return jnp.polyval(jnp.asarray(d[::-1]), x)


@dataclass(frozen=True)
class Lattice:
    """A Euclidean-time lattice: extent β, ``slices`` steps of a = β / N, mass, ħ and boundary.

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
    x_ini, x_fin : float, optional
        End points for ``fixed`` (required there, refused elsewhere).
    """

    beta: float
    slices: int
    mass: float = 1.0
    hbar: float = 1.0
    boundary: str = "periodic"
    x_ini: float | None = None
    x_fin: float | None = None

    def __post_init__(self) -> None:
        def err(field: str, reason: str) -> ValueError:
            return ValueError(f"Lattice {field}: {reason}")

        if self.boundary not in BOUNDARIES:
            raise err("boundary", f"unknown boundary {self.boundary!r}; choose from {BOUNDARIES}")
        if not (self.beta > 0 and self.mass > 0 and self.hbar > 0):
            raise err("beta", "beta, mass and hbar must be > 0")
        if int(self.slices) != self.slices or self.slices < 2:
            raise err("slices", f"slices must be an integer >= 2, got {self.slices}")
        fixed = self.boundary == "fixed"
        for name in ("x_ini", "x_fin"):
            if (getattr(self, name) is None) == fixed:
                raise err(name, "needed with boundary 'fixed' and only there")

    @property
    def a(self) -> float:
        """Lattice spacing a = β / N."""
        return self.beta / self.slices

    @property
    def taus(self) -> Array:
        """Euclidean times n·a of the full path: n = 0..N-1 (periodic) or 0..N (open)."""
        n = self.slices if self.boundary == "periodic" else self.slices + 1
        return self.a * jnp.arange(n, dtype=float)


def n_free(lattice: Lattice) -> int:
    """Number of free sites: N (periodic), N - 1 (fixed), N + 1 (half_line)."""
    return {"periodic": 0, "fixed": -1, "half_line": 1}[lattice.boundary] + lattice.slices


def full_path(free: Array, lattice: Lattice) -> Array:
    """The full path from the free sites (last axis; leading axes are batch axes).

    Parameters
    ----------
    free : array, shape (..., n_free(lattice))
        Free site values.
    lattice : Lattice

    Returns
    -------
    array, shape (..., N) for periodic, (..., N + 1) otherwise
        Periodic: x_0..x_{N-1}; fixed: (x_ini, x_1..x_{N-1}, x_fin); half_line: x_0..x_N.
    """
    free = jnp.asarray(free, dtype=float)
    if lattice.boundary != "fixed":
        return free
    shape = free.shape[:-1] + (1,)
    return jnp.concatenate(
        [jnp.full(shape, lattice.x_ini), free, jnp.full(shape, lattice.x_fin)], axis=-1
    )


def action(full_path: Array, lattice: Lattice, potential: Potential) -> Array:
    """Euclidean lattice action S_E of full paths (trapezoid split; batch over leading axes).

    .. math::

        S_E = \\sum_{n=0}^{N-1} \\Big[\\frac{m (x_{n+1} - x_n)^2}{2a}
              + \\frac{a}{2}\\big(V(x_n) + V(x_{n+1})\\big)\\Big],

    with x_N ≡ x_0 for the periodic lattice (then the potential term is a Σ_n V(x_n)).

    Parameters
    ----------
    full_path : array, shape (..., N) periodic or (..., N + 1) open
        As returned by :func:`full_path`.
    lattice : Lattice
    potential : Potential

    Returns
    -------
    array, shape (...)
        S_E (divide by ħ for the weight e^{-S_E/ħ}).
    """
    x = jnp.asarray(full_path, dtype=float)
    if lattice.boundary == "periodic":
        x = jnp.concatenate([x, x[..., :1]], axis=-1)
    a, m = lattice.a, lattice.mass
    kinetic = jnp.sum(jnp.diff(x, axis=-1) ** 2, axis=-1) * (m / (2.0 * a))
    v = potential(x)
    pot = a * (jnp.sum(v, axis=-1) - 0.5 * (v[..., 0] + v[..., -1]))
    return kinetic + pot
