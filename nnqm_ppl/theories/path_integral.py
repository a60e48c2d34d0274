"""Path-integral theories (Hashimoto et al.): a network with random parameters, its prior, an
optional weight e^{-S}, and whether it can be sampled exactly.

The pipeline (docs/ARCHITECTURE.md) goes spec -> :class:`Theory` -> NumPyro model -> draws. A theory holds
the NumPyro model of its network (parameters θ ~ prior, output ``"x"`` = forward(θ), and a
``numpyro.factor`` for the weight, built by the network module, e.g.
:meth:`nnqm_ppl.networks.paths.PathNetwork.model`) and, where the output law is known in closed
form, an exact sampler. "Can be sampled exactly" is a property of the theory, not of the sampler:
a path integral with a quadratic potential is Gaussian and is drawn exactly, any other is sampled
with NUTS/HMC (:mod:`nnqm_ppl.sampling`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax

from nnqm_ppl.networks.paths import PathNetwork, exact_path_sampler, path_network
from nnqm_ppl.physics import Lattice, Potential
from nnqm_ppl.spec import PathIntegralSpec

__all__ = ["Theory", "lattice_from_spec", "path_theory", "theory_from_spec"]

Array = Any


@dataclass(frozen=True)
class Theory:
    """A network with random parameters as a Euclidean quantum theory.

    Attributes
    ----------
    network : PathNetwork
        The parametrisation: prior of θ, pure forward map θ -> x, and the weight e^{-S_E/ħ}
        relative to the prior.
    exact_sampler : callable or None
        ``draw(key, n) -> {"x": (n, ...)}`` exact draws of the output, or ``None``.
    """

    network: PathNetwork
    exact_sampler: Callable[[jax.Array, int], dict[str, Array]] | None = None

    @property
    def model(self) -> Callable[[], None]:
        """The NumPyro model: θ ~ prior, ``numpyro.deterministic("x", forward(θ))``, factor e^{-S}."""
        return self.network.model

    @property
    def lattice(self) -> Lattice:
        """The Euclidean-time lattice of the path."""
        return self.network.lattice

    @property
    def potential(self) -> Potential:
        """The potential V(x)."""
        return self.network.potential

    @property
    def can_sample_exactly(self) -> bool:
        """Whether :meth:`draw_exact` is available (quadratic potentials)."""
        return self.exact_sampler is not None

    def draw_exact(self, key: jax.Array, n: int) -> dict[str, Array]:
        """``n`` independent exact draws ``{"x": array (n, len(full path)[, d])}``.

        Parameters
        ----------
        key : jax.Array
            PRNG key.
        n : int
            Number of draws.

        Raises
        ------
        ValueError
            If the theory cannot be sampled exactly.
        """
        if self.exact_sampler is None:
            raise ValueError(f"the {self.network.name} path theory with this potential has no exact sampler")
        return self.exact_sampler(key, n)


def lattice_from_spec(spec: PathIntegralSpec) -> Lattice:
    """The lattice of a validated path-integral model."""
    return Lattice(
        beta=spec.beta,
        slices=spec.slices,
        mass=spec.mass,
        hbar=spec.hbar,
        boundary=spec.boundary,
        x_ini=spec.x_ini,
        x_fin=spec.x_fin,
    )


def path_theory(lattice: Lattice, potential: Potential, network: str) -> Theory:
    """The theory of a lattice, a potential and a network name (scalar or vector-valued paths).

    Parameters
    ----------
    lattice : Lattice
        With ``components = d`` (paths x_n ∈ R^d).
    potential : Potential
        V: R^d -> R.
    network : {"position", "step", "relu", "fourier"}

    Returns
    -------
    Theory
        With an exact sampler when the potential is quadratic.
    """
    net = path_network(lattice, potential, network)
    return Theory(net, exact_path_sampler(lattice, potential))


def theory_from_spec(spec: PathIntegralSpec) -> Theory:
    """The theory of a validated path-integral model (network, lattice, potential from the spec).

    Parameters
    ----------
    spec : PathIntegralSpec

    Returns
    -------
    Theory
        With an exact sampler when the potential is quadratic.
    """
    return path_theory(lattice_from_spec(spec), Potential.from_coeffs(spec.potential, spec.boundary), spec.network)
