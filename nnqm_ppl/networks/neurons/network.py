"""The shared :class:`Network` of every neuron architecture, P(a), input points and exact draws.

A :class:`Network` is a NumPyro ``prior``, a pure ``neurons(params, x)`` and a pure
``readout(params)``; :func:`sample_params` and :func:`sample_fields` draw networks exactly, network
``n`` from the key ``fold_in(key, n)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpyro.distributions as dist
from numpyro import handlers

from nnqm_ppl.networks.neurons.kernels import BoxMullerNormal
from nnqm_ppl.networks.protocol import ExactSampler, record_output

__all__ = [
    "Network",
    "CosinePhases",
    "MIXTURE_SPREAD",
    "a_distribution",
    "as_points",
    "sample_params",
    "sample_fields",
]

Params = dict[str, jax.Array]

#: Spread of each mode of the bimodal P(a), in units of σ_a / sqrt(N).
MIXTURE_SPREAD = 0.25


@dataclass(frozen=True)
class CosinePhases:
    """Cosine neurons h_i(x) = A_i cos(ω_i·x + c_i) with phases c_i ~ U[−π, π] i.i.d.

    The phases are independent of each other and of every other parameter, so the phase
    average of a product of one neuron at k points is, with z_p = exp(i ω_i·x_p),

        E_c[Π_p h_i(x_p)] = 2^{1−k} A_i^k Σ_{s ∈ {±1}^k, s_1 = +1, Σ s = 0} Re Π_p z_p^{s_p}

    (Halverson eqs. 23, 27 before the average over b).

    Attributes
    ----------
    site : str
        Name of the phase sample site.
    frequency : callable
        ``frequency(params) -> ω`` of shape (..., N, d).
    amplitude : callable or None
        ``amplitude(params) -> A`` of shape (..., N); None for A = 1.
    """

    site: str
    frequency: Callable[[Params], jax.Array]
    amplitude: Callable[[Params], jax.Array] | None = None


def _gaussian_scale(a_dist: dist.Distribution) -> float | None:
    """s if ``a_dist`` is a scalar N(0, s²) (concrete parameters), else None."""
    if not isinstance(a_dist, dist.Normal) or a_dist.batch_shape != ():
        return None
    try:
        loc, scale = float(a_dist.loc), float(a_dist.scale)
    except (TypeError, jax.errors.ConcretizationTypeError):
        return None
    return scale if loc == 0.0 else None


@dataclass(frozen=True)
class Network:
    """A field φ(x) = Σ_i a_i h_i(x) of ``width`` random neurons on R^dim.

    Attributes
    ----------
    name : str
        Architecture name.
    width : int
        Number of neurons N.
    dim : int
        Input dimension d.
    prior : callable
        NumPyro model with no arguments; its sample sites are the parameters of one network.
    neurons : callable
        ``neurons(params, x) -> h`` with ``x`` of shape (P, d) and ``h`` of shape
        (..., N, P) for parameters with leading batch shape (...).
    readout : callable
        ``readout(params) -> a`` of shape (..., N).
    readout_scale : float or None
        s where the readout is the sample site ``a`` with a_i i.i.d. N(0, s²), independent of the
        neurons (then φ | neurons is Gaussian, N(0, s² Σ_i h_i(x) h_i(y))); None otherwise.
    phases : CosinePhases or None
        Set for cosine neurons with uniform phases (see :class:`CosinePhases`).
    """

    name: str
    width: int
    dim: int
    prior: Callable[[], None]
    neurons: Callable[[Params, jax.Array], jax.Array]
    readout: Callable[[Params], jax.Array]
    readout_scale: float | None = None
    phases: CosinePhases | None = None

    def forward(self, params: Params, x: jax.Array) -> jax.Array:
        """The field φ(x) = Σ_i a_i h_i(x) (Halverson eq. 1).

        Parameters
        ----------
        params : dict of str to Array
            Parameter values, each with an optional leading batch shape (...).
        x : Array, shape (P, d)
            Input points (see :func:`as_points`).

        Returns
        -------
        Array, shape (..., P)
            The field of every network in the batch at every point.
        """
        return jnp.einsum("...n,...np->...p", self.readout(params), self.neurons(params, x))

    def model(self, x: jax.typing.ArrayLike) -> None:
        """The :class:`~nnqm_ppl.networks.protocol.RandomNetwork` model: ``prior``, and φ at the
        points ``x`` (:func:`as_points`) recorded as the site ``"x"``."""
        record_output(self.prior, self.forward, as_points(x, self.dim))

    def exact_sampler(self) -> ExactSampler:
        """Exact draws of the parameters: :func:`sample_params` with this network."""
        return partial(sample_params, self)


def a_distribution(
    width: int, sigma_a: float = 1.0, kind: str = "gaussian", modes: float = 1.0
) -> dist.Distribution:
    """The distribution of one output weight a_i.

    Parameters
    ----------
    width : int
        N; the scale of a is σ_a / sqrt(N), so E[a²] = O(1/N) as in Halverson eq. (6).
    sigma_a : float
        σ_a.
    kind : {"gaussian", "mixture"}
        ``gaussian``: N(0, σ_a²/N). ``mixture``: equal-weight mixture of
        N(±modes·σ_a/sqrt(N), (MIXTURE_SPREAD·σ_a)²/N), an even bimodal P(a) (Halverson's
        non-trivial classical configurations); bimodal when ``modes > MIXTURE_SPREAD``.
    modes : float
        Position of the modes in units of σ_a / sqrt(N) (``mixture`` only).

    Returns
    -------
    numpyro.distributions.Distribution
        A scalar distribution, even in a.
    """
    scale = sigma_a / math.sqrt(width)
    if kind == "gaussian":
        return BoxMullerNormal(0.0, scale)
    if kind == "mixture":
        loc = jnp.array([-modes * scale, modes * scale])
        comps = dist.Normal(loc, MIXTURE_SPREAD * scale)
        return dist.MixtureSameFamily(dist.Categorical(probs=jnp.array([0.5, 0.5])), comps)
    raise ValueError(f"unknown a prior {kind!r}; choose gaussian or mixture")


def as_points(x: jax.typing.ArrayLike, dim: int) -> jax.Array:
    """Input points as an array of shape (P, d).

    Parameters
    ----------
    x : array_like
        Shape (P, d); for d = 1 also a scalar or shape (P,).
    dim : int
        Input dimension d.

    Returns
    -------
    Array, shape (P, d), float64.
    """
    a = jnp.asarray(x, dtype=jnp.float64)
    if dim == 1 and (a.ndim < 2 or a.shape[-1] != 1):
        a = a.reshape(-1, 1)
    a = jnp.atleast_2d(a)
    if a.ndim != 2 or a.shape[-1] != dim:
        raise ValueError(f"points must have shape (P, {dim}), got {a.shape}")
    return a


# --------------------------------------------------------------------------------------------
# Exact draws
# --------------------------------------------------------------------------------------------


def _one_network(net: Network, key: jax.Array) -> Params:
    tr = handlers.trace(handlers.seed(net.prior, key)).get_trace()
    return {name: site["value"] for name, site in tr.items() if site["type"] == "sample"}


def sample_params(net: Network, key: jax.Array, num: int, start: int | jax.Array = 0) -> Params:
    """Draw ``num`` independent networks from the prior (vectorised, exact).

    Network ``n`` is drawn by ``seed(prior, fold_in(key, n))`` for n = start, ..., start+num−1,
    so the same key gives the same networks whatever the batching.

    Parameters
    ----------
    net : Network
        The architecture.
    key : Array
        PRNG key.
    num : int
        Number of networks M.
    start : int or Array
        Index of the first network.

    Returns
    -------
    dict of str to Array
        Every sample site, each with a leading axis of length ``num``.
    """
    keys = jax.vmap(lambda n: jax.random.fold_in(key, n))(start + jnp.arange(num))
    return jax.vmap(lambda k: _one_network(net, k))(keys)


def sample_fields(net: Network, key: jax.Array, x: jax.typing.ArrayLike, num: int) -> jax.Array:
    """Draw ``num`` networks and evaluate each at the points ``x``.

    Materialises all ``num`` networks; for large M use the streaming estimators of
    :mod:`nnqm_ppl.observables.correlators`.

    Parameters
    ----------
    net : Network
        The architecture.
    key : Array
        PRNG key (network n uses ``fold_in(key, n)``).
    x : array_like, shape (P, d)
        Input points.
    num : int
        Number of networks M.

    Returns
    -------
    Array, shape (M, P)
        φ of every network at every point.
    """
    pts = as_points(x, net.dim)
    return _fields_jit(net, key, pts, num)


@partial(jax.jit, static_argnums=(0, 3))
def _fields_jit(net: Network, key: jax.Array, x: jax.Array, num: int) -> jax.Array:
    return net.forward(sample_params(net, key, num), x)
