"""Four neural-network parametrisations of one lattice path (Hashimoto et al., Table 1).

A Euclidean path on the lattice of :class:`nnqm_ppl.physics.Lattice` (N = ``slices`` steps of
a = β/N) is the output of a one-hidden-layer network x(τ) = Σ_n a_n σ(b_n τ + c_n) whose
first-layer parameters are fixed and whose output weights θ are random with density

.. math::

    p(\\theta) \\propto \\Big|\\det \\frac{\\partial x}{\\partial \\theta}\\Big|\\,
                       e^{-S_E[x_\\theta]/\\hbar},

the path-integral weight pulled back to θ (eqs. 3.9-3.11, 5.7). Every map θ → x here is affine,
so the Jacobian is a constant (:attr:`PathNetwork.log_jacobian`) and the density in θ is
e^{-S_E[x_θ]/ħ} up to normalisation. The networks (``network`` in the model file):

``position``
    θ = the free sites x_n themselves (the identity network; the usual lattice path integral).
``step`` (step activation, eqs. 4.1-4.4, 5.8-5.9)
    θ = velocities W_n = (x_n - x_{n-1})/a, x_n = x_0 + a Σ_{k≤n} W_k.
``relu`` (ReLU activation, eqs. 3.4-3.9, 4.5, 5.4-5.5)
    θ = accelerations (velocity changes) w_n, W_n = Σ_{k≤n} w_k, x_n = x_0 + a Σ_{k≤n} W_k,
    i.e. x_n = x_0 + a Σ_{k=1}^{n} (n - k + 1) w_k (eq. 3.7); w_n = (x_n - 2x_{n-1} + x_{n-2})/a
    (eq. 4.5, with x_{-1} ≡ x_0: the path starts at rest).
``fourier`` (cosine activation, eqs. 4.6-4.9)
    θ = z, the normal-mode amplitudes of a reference Gaussian action S_0 in units of their own
    width, so z ~ N(0, 1) under e^{-S_0/ħ} (see :class:`ReferenceGaussian`).

Boundaries (from the lattice): ``fixed`` (x_0 = x_ini, x_N = x_fin; N - 1 parameters; the last
velocity / acceleration is fixed by the end point, eqs. 3.8, 4.3), ``half_line`` (x_0 = y and x_N
free; N + 1 parameters, the first being the anchor y of eq. 5.4 / 5.8) and ``periodic``
(x_N ≡ x_0; N parameters). For the ``step`` network on a periodic lattice θ = (x_0, W_1..W_{N-1})
and the closing velocity W_N = -Σ_{k<N} W_k is implied by x_N ≡ x_0; the ``relu`` network is
refused on a periodic lattice (its paths start at rest at x_0 and are open).

**Fourier acceleration.** The ``fourier`` network writes the path in the eigenbasis of the
Hessian K of the Gaussian reference action

.. math::

    S_0[x] = \\sum_{n=0}^{N-1} \\Big[\\frac{m (x_{n+1}-x_n)^2}{2a}
             + \\frac{a}{2}\\big(V_0(x_n) + V_0(x_{n+1})\\big)\\Big],\\qquad
    V_0(x) = \\tfrac12 m\\omega_0^2 (x - \\bar x)^2,

the action's own trapezoid split with V replaced by V_0. Its eigenvalues are
λ_k = (4m/a) sin²(θ_k/2) + a m ω0² with θ_k = 2πk/N (periodic, real Fourier modes via rfft/irfft),
θ_k = πk/N, k = 1..N-1 (fixed ends, DST-I) and θ_k = πk/N, k = 0..N (free ends: DCT-I in the
metric diag(½, 1, …, 1, ½) of the trapezoid end weights). The path is

.. math::

    x = x_{\\rm cl} + B\\, \\mathrm{diag}(\\sqrt{\\hbar/\\lambda_k})\\, z,

with B the orthonormal (or metric-orthonormal) basis applied by FFT in O(N log N) and x_cl the
minimum of S_0 (x̄ for periodic and half-line paths, the lattice classical path between x_ini and
x_fin for fixed ends). Then S_0[x]/ħ = ½|z|² + S_0[x_cl]/ħ, so with z ~ N(0, 1) and the factor
e^{-(S_E - S_0)/ħ} the total density is e^{-S_E/ħ}: the Gaussian part of the action is whitened and
HMC sees a Hessian ≈ 1 in every mode, whatever a (Fourier acceleration). For a quadratic V with the
matched reference the factor is constant and z ~ N(0, 1) *is* the exact path measure
(:func:`exact_path_sampler`).

**Vector-valued paths** (``lattice.components = d`` > 1, x_n ∈ R^d): θ has shape
(..., n_params, d) and each component is the network above (each coordinate a network, as in
Hashimoto et al. §3.4, Fig. 2 left); the code is the scalar code on the component-major layout
(:func:`nnqm_ppl.physics.sites_last`). For ``fourier`` the reference is per normal mode of the
quadratic part (:func:`~nnqm_ppl.networks.modes.normal_modes`): z_{n,j} whitens mode j of the
frequency matrix, x = Q w with w_j the scalar Fourier path of frequency ω_j, so a quadratic V
(coupled oscillators, a free lattice field) is again sampled exactly.

All forward maps act on the site axis and broadcast over leading (draw) axes; they are pure,
jit- and vmap-friendly and have no Python loop over sites.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints

from nnqm_ppl.networks.modes import (
    ReferenceGaussian,
    _dct1_alpha,
    dct1,
    dst1,
    is_quadratic,
    mode_eigenvalues,
    normal_modes,
    reference_gaussian,
    rfft_synthesis,
)
from nnqm_ppl.physics import (
    Lattice,
    Potential,
    action,
    attach_ends,
    components_last,
    end_column,
    full_path,
    n_free,
    sites_last,
)
from nnqm_ppl.spec import NETWORKS

__all__ = [
    "NETWORKS",
    "ReferenceGaussian",
    "reference_gaussian",
    "mode_eigenvalues",
    "rfft_synthesis",
    "dst1",
    "dct1",
    "PathNetwork",
    "path_network",
    "path_model",
    "is_quadratic",
    "exact_path_sampler",
]

Array = Any


# --------------------------------------------------------------------------------------------
# The networks
# --------------------------------------------------------------------------------------------

_SITES = {"position": "q", "step": "v", "relu": "w", "fourier": "z"}


class PathNetwork:
    """One parametrisation of a lattice path, and the NumPyro model e^{-S_E[x_θ]/ħ} over it.

    Build with :func:`path_network`. The model has one sample site, :attr:`site`
    (``"q"`` positions, ``"v"`` velocities, ``"w"`` accelerations, ``"z"`` normal modes), of shape
    :attr:`param_shape`; the deterministic site ``"x"`` is the full path (:func:`nnqm_ppl.physics.full_path`
    layout: N sites for periodic, N + 1 with both ends otherwise); the factor ``"weight"`` is
    -S_E[x]/ħ minus the log prior density of θ.

    Attributes
    ----------
    name : str
        One of :data:`NETWORKS`.
    lattice : Lattice
    potential : Potential
    site : str
        Name of the parameter sample site.
    n_params : int
        Number of parameters per component (= n_free(lattice)).
    param_shape : tuple of int
        Shape of θ: (n_params,) for d = 1, (n_params, d) otherwise.
    reference : ReferenceGaussian or None
        The whitening reference (``fourier`` only).
    log_jacobian : float
        log |det ∂x_free/∂θ| (constant: every map here is affine).
    """

    def __init__(self, name: str, lattice: Lattice, potential: Potential, reference: ReferenceGaussian | None) -> None:
        if name not in NETWORKS:
            raise ValueError(f"path_network: unknown network {name!r}; choose from {', '.join(NETWORKS)}")
        if name == "relu" and lattice.boundary == "periodic":
            reason = "the relu network parametrises open paths: use boundary 'fixed' or 'half_line'"
            raise ValueError(f"path_network: {reason}")
        if potential.components != lattice.components:
            reason = f"the potential has {potential.components} components, the lattice {lattice.components}"
            raise ValueError(f"path_network: {reason}")
        self.name = name
        self.lattice = lattice
        self.potential = potential
        self.site = _SITES[name]
        self.n_params = n_free(lattice)
        self.param_shape = (self.n_params,) + lattice.value_shape
        self.reference = reference if name == "fourier" else None
        a, n = lattice.a, self.n_params
        if name == "position":
            self.log_jacobian = 0.0
        elif name in ("step", "relu"):
            # x_free is lower triangular in θ with a on the diagonal, except an anchor (unit entry).
            self.log_jacobian = lattice.components * (n - (lattice.boundary != "fixed")) * float(np.log(a))
        else:
            self._setup_fourier()

    def _setup_fourier(self) -> None:
        # In normal-mode coordinates w = Qᵀx (d > 1; w = x for d = 1) each mode j is the scalar
        # reference with ω_j and centre (Qᵀx̄)_j; the arrays carry a leading mode axis, (d, 1).
        lat, ref = self.lattice, self.reference
        omega, center, self._basis = ref.omega0, ref.center, None
        if lat.components > 1:
            w, self._basis = normal_modes(ref)
            omega, center = w[:, None], self._modes(ref.center)
        self._center = center
        lam = mode_eigenvalues(lat, omega)
        self._sigma = jnp.asarray(np.sqrt(lat.hbar / lam))
        self.log_jacobian = float(np.sum(np.log(self._sigma)))
        if lat.boundary == "half_line":
            inv_alpha = 1.0 / _dct1_alpha(lat.slices)
            self._inv_alpha = jnp.asarray(inv_alpha)
            self.log_jacobian += lat.components * float(np.sum(np.log(inv_alpha)))
        if lat.boundary == "fixed":
            # Classical path of S_0: K u = J with J_n = a m ω0² x̄ + (m/a)(x_ini δ_{n,1} + x_fin δ_{n,N-1}).
            m, a = lat.mass, lat.a
            source = np.full(lam.shape, a * m * omega**2 * center)
            source[..., 0] += m / a * self._modes(lat.x_ini)[..., 0]
            source[..., -1] += m / a * self._modes(lat.x_fin)[..., 0]
            self._x_cl = dst1(dst1(jnp.asarray(source)) / jnp.asarray(lam))

    def _modes(self, value: float | tuple[float, ...]) -> np.ndarray:
        """A point in normal-mode coordinates as a column, (Qᵀ value)[:, None]; (1,) for d = 1."""
        column = np.reshape(np.asarray(value, dtype=float), self.lattice.value_shape + (1,))
        return column if self._basis is None else self._basis.T @ column

    # --- the pure forward map ----------------------------------------------------------------

    def forward(self, theta: Array) -> Array:
        """The full path x_θ from the parameters (last axis; leading axes are draws).

        Parameters
        ----------
        theta : array, shape (..., n_params)

        Returns
        -------
        array, shape (..., N) periodic or (..., N + 1) open
        """
        theta = jnp.asarray(theta, dtype=float)
        lat = self.lattice
        if self.name == "position":
            return full_path(theta, lat)
        theta = sites_last(theta, lat)  # component-major: the site axis is the last one
        if self.name == "fourier":
            x = self._fourier(theta)
        else:
            if lat.boundary == "fixed":
                anchor, rates = jnp.broadcast_to(end_column(lat.x_ini, lat), theta.shape[:-1] + (1,)), theta
            else:
                anchor, rates = theta[..., :1], theta[..., 1:]
            velocity = rates if self.name == "step" else jnp.cumsum(rates, axis=-1)  # W = Σ_{k≤n} w_k (3.15)
            steps = jnp.concatenate([jnp.zeros_like(anchor), jnp.cumsum(velocity, axis=-1)], axis=-1)
            x = anchor + lat.a * steps  # x_n = x_0 + a Σ_{k≤n} W_k (4.2, 5.9)
            x = x[..., 1:] if lat.boundary == "fixed" else x
        return components_last(attach_ends(x, lat) if lat.boundary == "fixed" else x, lat)

    def _fourier(self, z: Array) -> Array:
        """Free sites (component-major) from whitened mode amplitudes: x = Q w, w = centre + B σ z."""
        lat = self.lattice
        c = self._sigma * z
        if lat.boundary == "periodic":
            w = self._center + rfft_synthesis(c)
        elif lat.boundary == "half_line":
            w = self._center + self._inv_alpha * dct1(c)
        else:
            w = self._x_cl + dst1(c)
        return w if self._basis is None else jnp.einsum("cj,...jn->...cn", self._basis, w)

    # --- the density -------------------------------------------------------------------------

    def prior(self) -> dist.Distribution:
        """The base measure of θ: flat (Lebesgue, improper) except N(0, 1) for ``fourier``.

        The flat measure is :class:`numpyro.distributions.ImproperUniform` on the reals: it is
        exactly the path-integral measure Π dθ_n (eq. 3.9), adds nothing to the potential energy
        or its gradient, and needs no transform; NUTS initialises it uniformly in (-2, 2).
        """
        if self.name == "fourier":
            return dist.Normal(jnp.zeros(self.param_shape), 1.0).to_event(len(self.param_shape))
        return dist.ImproperUniform(constraints.real, (), event_shape=self.param_shape)

    def log_weight(self, theta: Array, x: Array) -> Array:
        """log of the factor: -S_E[x]/ħ minus the log prior density of θ (up to a constant).

        ``fourier``: -S_E[x]/ħ + ½|z|² = -(S_E - S_0)/ħ + const; the others: -S_E[x]/ħ.
        """
        log_w = -action(x, self.lattice, self.potential) / self.lattice.hbar
        if self.name == "fourier":
            event_axes = tuple(range(-len(self.param_shape), 0))
            log_w = log_w + 0.5 * jnp.sum(jnp.asarray(theta) ** 2, axis=event_axes)
        return log_w

    def model(self) -> None:
        """The NumPyro model: θ ~ prior, x = forward(θ) (site ``"x"``), factor e^{-S_E/ħ}/prior."""
        theta = numpyro.sample(self.site, self.prior())
        x = numpyro.deterministic("x", self.forward(theta))
        numpyro.factor("weight", self.log_weight(theta, x))

    def exact_sampler(self) -> Callable[[jax.Array, int], Array] | None:
        """Exact draws of θ (:class:`~nnqm_ppl.networks.protocol.RandomNetwork`), where they exist.

        The ``fourier`` network with the matched reference of a quadratic V has a constant weight,
        so θ ~ N(0, 1) is exact (as in :func:`exact_path_sampler`); None for every other case.
        """
        lat = self.lattice
        if self.name != "fourier" or not is_quadratic(self.potential) or (
                self.reference != reference_gaussian(self.potential, lat.mass, lat.hbar)):
            return None
        return lambda key, n: jax.random.normal(key, (n, self.n_params))


def path_network(
    lattice: Lattice,
    potential: Potential,
    network: str,
    *,
    reference: ReferenceGaussian | None = None,
) -> PathNetwork:
    """The path network of a lattice, a potential and a network name.

    Parameters
    ----------
    lattice : Lattice
    potential : Potential
    network : {"position", "step", "relu", "fourier"}
    reference : ReferenceGaussian, optional
        Override the whitening reference of ``fourier`` (default :func:`reference_gaussian`).

    Returns
    -------
    PathNetwork
    """
    if network == "fourier" and reference is None:
        reference = reference_gaussian(potential, lattice.mass, lattice.hbar)
    return PathNetwork(network, lattice, potential, reference)


def path_model(
    lattice: Lattice,
    potential: Potential,
    network: str,
    *,
    reference: ReferenceGaussian | None = None,
) -> Callable[[], None]:
    """The NumPyro model of :func:`path_network` (arguments as there): density e^{-S_E[x_θ]/ħ}."""
    return path_network(lattice, potential, network, reference=reference).model


def exact_path_sampler(lattice: Lattice, potential: Potential) -> Callable[[jax.Array, int], dict[str, Array]] | None:
    """Exact sampler of the lattice path measure e^{-S_E/ħ} for a quadratic V, else ``None``.

    With the matched reference (ω0 = √(2c2/m), x̄ = -c1/(2c2); for d > 1 Ω² = H/m, x̄ = -H⁻¹b)
    the Fourier network's weight is constant, so z ~ N(0, 1) pushed through its forward map is an
    exact draw: x = x_cl + B diag(√(ħ/λ_k)) z (per normal mode, rotated back by Q for d > 1),
    covariance ħ K^{-1} with K the Hessian of S_E.

    Parameters
    ----------
    lattice : Lattice
    potential : Potential

    Returns
    -------
    callable or None
        ``draw(key, n) -> {"x": array (n, len(full path)[, d])}``.
    """
    if not is_quadratic(potential):
        return None
    net = PathNetwork("fourier", lattice, potential, reference_gaussian(potential, lattice.mass, lattice.hbar))

    def draw(key: jax.Array, n: int) -> dict[str, Array]:
        z = jax.random.normal(key, (n,) + net.param_shape)
        return {"x": net.forward(z)}

    return draw
