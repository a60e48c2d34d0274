"""n-point functions of neural fields from M sampled networks, streamed in chunks.

The M networks are drawn in ``n_chunks`` chunks of ``chunk`` networks inside one jit-compiled
``lax.map`` over chunk indices: each step draws its chunk exactly (network n has the key
``fold_in(key, n)``, as in :func:`nnqm_ppl.networks.neurons.sample_params`), evaluates the field
and reduces it to the chunk means of the monomials the correlators need (φ_i, φ_iφ_j,
φ1φ2φ3φ4, ...). Only one chunk of networks (``chunk × width × P`` numbers) is alive at a time, so
memory does not grow with M; what comes back is the ``(n_chunks, K)`` series of chunk means.

Two estimators (``estimator=`` of :func:`correlators`):

- ``plain``: the monomials of φ of each drawn network.
- ``conditional`` (Rao–Blackwellised): their exact expectations given the network's neuron
  parameters θ_h. Where the readout weights are i.i.d. N(0, s²) (``Network.readout_scale``),
  φ | θ_h ~ N(0, K) with K_pq = s² Σ_i h_i(x_p) h_i(x_q), so E[φ_p | θ_h] = 0,
  E[φ_p φ_q | θ_h] = K_pq and the 4- and 6-point monomials are Wick sums of K (a is never
  drawn). For cosine neurons with uniform phases (``Network.phases``) the phases are averaged
  analytically too, per neuron (:class:`~nnqm_ppl.networks.neurons.CosinePhases`), and only
  the frequencies are drawn. In general, for points T and neuron-factor moments
  M_i(B) = E[Π_{p∈B} h_i(x_p) | θ] (B a block of T; Π h_i(x_p) itself when only a is
  integrated out),

      E[Π_{p∈T} φ(x_p) | θ] = Σ_π Π_{B∈π} (|B|−1)!! s^{|B|} · Σ_{i_B distinct} Π_{B∈π} M_{i_B}(B),

  π running over the partitions of T into even blocks (the neurons that carry the same a_i);
  the sum over distinct neuron labels is the Möbius inversion over coarsenings σ of π,
  Σ_σ Π_{C∈σ} (−1)^{|C|−1} (|C|−1)! Σ_i Π_{B∈C} M_i(B), O(N) per network. By the tower rule
  each network's conditional expectation has the same mean as its monomial and no larger
  variance; the networks stay i.i.d. exact draws, so everything below applies unchanged.

Speed (XLA:CPU). The draws of a chunk are materialised (an ``optimization_barrier``) before
the estimator sees them, and for cosine neurons both estimators are written as cosines summed
over the neurons with nothing else consuming them (:func:`_cos_reduce`: the plain field
Σ_i a_i A_i cos(ω_i·x_p + c_i); the conditional order-≤4 sums Σ_i A_i^k cos(ω_i·y), see
:func:`_conditional_cos_stat`), the one shape in which XLA:CPU vectorises float64 ``cos``
(~1 ns instead of a ~10 ns scalar call). Drawing the parameters (threefry bits and
Box–Muller) is then most of the cost. With several local devices the chunks are spread over
them (:func:`_on_devices`); on a CPU that takes
``XLA_FLAGS=--xla_force_host_platform_device_count=<cores>`` before JAX starts.

Errors are batch means: the chunk means are i.i.d. draws (chain = 1, draw = chunk index) whose
mean's MCSE ArviZ computes (:func:`~nnqm_ppl.observables.estimate.mean_estimate`); connected
correlators are smooth functions of several means and get theirs by the delta method
(:func:`~nnqm_ppl.observables.estimate.derived_estimate`).

Connected parts assume vanishing odd moments (E[a^{2k+1}] = 0, the φ → −φ symmetry of
Halverson eq. 12, true of every architecture in :mod:`nnqm_ppl.networks.neurons`); ``G1`` is
returned so that this can be checked:

    G4c = G4 − (G12 G34 + G13 G24 + G14 G23),
    G6c = G6 − Σ_15 G4c(x_a..x_d) G2(x_e, x_f) − Σ_15 G2 G2 G2.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from nnqm_ppl.networks.neurons import Network, as_points
from nnqm_ppl.observables.conditional import _QUADS_6, _conditional_cos_stat, _conditional_stat
from nnqm_ppl.observables.estimate import Estimate, derived_estimate, mean_estimate
from nnqm_ppl.observables.streaming import (
    _cos_reduce,
    _map_chunks,
    _materialised,
    _on_devices,
    plan_chunks,
)

__all__ = [
    "CorrelatorResult",
    "FieldNeuronResult",
    "plan_chunks",
    "correlators",
    "field_neuron_correlators",
]

_PAIRS_4 = ((0, 1, 2, 3), (0, 2, 1, 3), (0, 3, 1, 2))
_PAIRS_6 = tuple(itertools.combinations(range(6), 2))


@dataclass(frozen=True)
class CorrelatorResult:
    """Correlators of a neural field at given points, each with its MCSE.

    Attributes
    ----------
    points : ndarray, shape (P, d)
        The points x_1..x_P.
    networks : int
        Number of networks drawn (``n_chunks * chunk``, at least the number asked for).
    chunk : int
        Networks per chunk.
    G1 : Estimate
        ⟨φ(x_p)⟩, shape (P,) (zero for the Z2-symmetric ensembles).
    G2 : Estimate
        ⟨φ(x_p) φ(x_q)⟩, shape (P, P).
    G4, G4c : Estimate or None
        Full and connected four-point functions of x_1..x_4 (scalars), if order 4 was asked.
    G6, G6c : Estimate or None
        Full and connected six-point functions of x_1..x_6 (scalars), if order 6 was asked.
    series : dict of str to ndarray
        The chunk means, each of shape (1, n_chunks, ...): ``phi`` (P,), ``phi2`` (P, P), and
        where asked ``phi4`` (), ``phi4_sub`` (15,) (the 4-subsets of x_1..x_6 in
        ``itertools.combinations`` order), ``phi6`` (). For the conditional estimator these are
        chunk means of the conditional expectations (``phi`` is then exactly 0).
    estimator : str
        ``"plain"`` or ``"conditional"``, the estimator used.
    integrated : tuple of str
        Sample sites averaged analytically per network: ``()`` (plain), ``("a",)`` or
        ``("a", <phase site>)``.
    """

    points: np.ndarray
    networks: int
    chunk: int
    G1: Estimate
    G2: Estimate
    G4: Estimate | None
    G4c: Estimate | None
    G6: Estimate | None
    G6c: Estimate | None
    series: dict[str, np.ndarray]
    estimator: str = "plain"
    integrated: tuple[str, ...] = ()

    @property
    def n_chunks(self) -> int:
        """Number of chunks (draws of the batch-means series)."""
        return int(self.series["phi"].shape[1])

    def to_datatree(self):
        """The chunk-mean series as an ArviZ DataTree (group ``posterior``, draw = chunk).

        Returns
        -------
        xarray.DataTree
            Variables as in :attr:`series`, dims ``point``/``point2`` and ``subset``.
        """
        from arviz_base import from_dict

        dims = {"phi": ["point"], "phi2": ["point", "point2"], "phi4_sub": ["subset"]}
        return from_dict({"posterior": self.series}, dims=dims)


@dataclass(frozen=True)
class FieldNeuronResult:
    """Mixed field-neuron correlators (Halverson's "predictions"), each with its MCSE.

    Attributes
    ----------
    neuron : int
        Index i of the neuron h_i.
    networks, chunk : int
        As in :class:`CorrelatorResult`.
    phi_h : Estimate
        ⟨φ(x_p) h_i(y_q)⟩, shape (P, Q).
    phi2_h2 : Estimate
        ⟨φ(x_p) φ(x_r) h_i(y_q) h_i(y_s)⟩, shape (P, P, Q, Q).
    series : dict of str to ndarray
        Chunk means ``phi_h`` (1, n_chunks, P, Q) and ``phi2_h2`` (1, n_chunks, P, P, Q, Q).
    """

    neuron: int
    networks: int
    chunk: int
    phi_h: Estimate
    phi2_h2: Estimate
    series: dict[str, np.ndarray]


def _field(net: Network, params: dict, x: jax.Array) -> jax.Array:
    """φ(x_p) of a chunk of networks, (chunk, P); fused for cosine neurons (``net.phases``)."""
    ph = net.phases
    if ph is None:
        return net.forward(params, x)
    w = net.readout(params)
    if ph.amplitude is not None:
        w = w * ph.amplitude(params)
    return _cos_reduce(*_materialised(ph.frequency(params), params[ph.site], w), y=x)


def _plain_stat(net: Network, x: jax.Array, order: int):
    """Chunk means of the monomials of φ itself."""

    def stat(params: dict) -> dict:
        # barrier: else XLA merges phi.mean(0) into the neuron sum, the cosines get a second
        # consumer and are no longer computed inside the (vectorised) reduction
        phi = jax.lax.optimization_barrier(_field(net, params, x))  # (chunk, P)
        out = {"phi": phi.mean(0), "phi2": jnp.einsum("bp,bq->pq", phi, phi) / phi.shape[0]}
        if order >= 4:
            out["phi4"] = jnp.mean(jnp.prod(phi[:, :4], axis=1))
        if order >= 6:
            quads = jnp.array(_QUADS_6)
            out["phi4_sub"] = jnp.mean(jnp.prod(phi[:, quads], axis=2), axis=0)
            out["phi6"] = jnp.mean(jnp.prod(phi[:, :6], axis=1))
        return out

    return stat


@partial(jax.jit, static_argnums=(0, 4, 5, 6, 7))
def _field_series(
    net: Network, key: jax.Array, x: jax.Array, first: jax.Array, chunk: int, n_chunks: int,
    order: int, estimator: str,
) -> dict:
    if estimator == "plain":
        make = _plain_stat
    elif net.phases is not None and order <= 4:
        make = _conditional_cos_stat
    else:
        make = _conditional_stat
    return _map_chunks(net, key, chunk, n_chunks, make(net, x, order), first)


def _series_call(net: Network, key: jax.Array, x: jax.Array, first: jax.Array, n: int, *,
                 chunk: int, order: int, estimator: str) -> dict:
    return _field_series(net, key, x, first, chunk, n, order, estimator)


def _g4c(y: jnp.ndarray) -> jnp.ndarray:
    """y = [G4, G12, G34, G13, G24, G14, G23] -> G4c."""
    return y[0] - (y[1] * y[2] + y[3] * y[4] + y[5] * y[6])


def _pair_cols(quad: tuple[int, ...]) -> list[tuple[int, int]]:
    """Pairs (i, j) of the three pairings of ``quad``, in the order of ``_g4c``."""
    out = []
    for i, j, k, l in _PAIRS_4:
        out += [(quad[i], quad[j]), (quad[k], quad[l])]
    return out


def _g6c(y: jnp.ndarray) -> jnp.ndarray:
    """y = [G6, G4(15 quads), G2(15 pairs)] -> G6c (Z2-symmetric sixth cumulant)."""
    g6, g4, g2 = y[0], y[1:16], y[16:31]

    def p(i: int, j: int) -> jnp.ndarray:
        return g2[_PAIRS_6.index((min(i, j), max(i, j)))]

    total = g6
    for q, quad in enumerate(_QUADS_6):
        pa = _pair_cols(quad)
        g4c = g4[q] - sum(p(*pa[2 * k]) * p(*pa[2 * k + 1]) for k in range(3))
        rest = tuple(k for k in range(6) if k not in quad)
        total = total - g4c * p(*rest)
    for m in _matchings6():
        total = total - p(*m[0]) * p(*m[1]) * p(*m[2])
    return total


def _matchings6() -> list[tuple[tuple[int, int], ...]]:
    """The 15 perfect matchings of {0, ..., 5}."""
    out = []
    for j in range(1, 6):
        rest = [k for k in range(1, 6) if k != j]
        a = rest[0]
        for b in rest[1:]:
            last = tuple(k for k in rest if k not in (a, b))
            out.append(((0, j), (a, b), last))
    return out


def correlators(
    net: Network,
    key: jax.Array,
    points: jax.typing.ArrayLike,
    networks: int,
    *,
    orders: tuple[int, ...] = (2, 4),
    chunk: int | None = None,
    min_chunks: int = 100,
    estimator: str = "auto",
) -> CorrelatorResult:
    """G^(n) and connected G^(n)_c of a neural field from M networks, with ArviZ MCSEs.

    G^(n)(x_1, ..., x_n) = E[φ(x_1) ... φ(x_n)] (Halverson eq. 2), estimated as the mean over M
    exactly drawn networks of the monomial (``plain``) or of its exact conditional expectation
    given the network's neuron parameters (``conditional``, Rao–Blackwell: same mean, smaller
    variance; see the module docstring); streamed in chunks (memory independent of M), errors
    from batch means over the chunks. With several local devices the chunks are split over them
    (network n is the same whatever the device count; only ``chunk`` may differ).

    Parameters
    ----------
    net : Network
        The architecture (e.g. :func:`nnqm_ppl.theories.neural_field.network_from_spec`).
    key : Array
        PRNG key; the same key gives the same numbers.
    points : array_like, shape (P, d)
        Points x_1..x_P (P >= 4 for order 4, P >= 6 for order 6).
    networks : int
        M, the number of networks (rounded up to a multiple of the chunk size).
    orders : tuple of int
        Among 2, 4, 6; G2 (and G1) are always returned.
    chunk : int, optional
        Maximum networks per chunk; default keeps each chunk near 4 MiB.
    min_chunks : int
        Minimum number of chunks (draws of the batch-means series) when M allows.
    estimator : {"auto", "conditional", "plain"}
        ``auto`` is ``conditional`` where the architecture has i.i.d. Gaussian readout weights
        (``net.readout_scale``), else ``plain``. ``conditional`` also integrates out uniform
        cosine phases (``net.phases``).

    Returns
    -------
    CorrelatorResult
        Estimates ``G1``, ``G2``, ``G4``, ``G4c``, ``G6``, ``G6c``, the chunk-mean ``series`` and
        the ``estimator`` used with the sites it ``integrated`` out. The conditional ``G1`` is
        exactly 0 (E[a] = 0) with MCSE 0.
    """
    x = as_points(points, net.dim)
    n_pts = x.shape[0]
    order = max(orders)
    if not set(orders) <= {2, 4, 6}:
        raise ValueError(f"orders must be among 2, 4, 6; got {orders}")
    if order > 2 and n_pts < order:
        raise ValueError(f"order {order} needs at least {order} points, got {n_pts}")
    if estimator == "auto":
        estimator = "plain" if net.readout_scale is None else "conditional"
    if estimator not in ("plain", "conditional"):
        raise ValueError(f"estimator must be auto, conditional or plain; got {estimator!r}")
    if estimator == "conditional" and net.readout_scale is None:
        raise ValueError(f"{net.name}: the conditional estimator needs i.i.d. Gaussian readout "
                         "weights (Network.readout_scale)")
    per_net = net.width * max(n_pts, net.dim + 2)
    chunk, n_chunks = plan_chunks(networks, per_net, chunk, min_chunks,
                                  multiple=jax.local_device_count())
    raw = _on_devices(partial(_series_call, net, chunk=chunk, order=order,
                              estimator=estimator), n_chunks, key, x)
    series = {k: v[None] for k, v in raw.items()}
    integrated: tuple[str, ...] = ()
    g1 = mean_estimate(series["phi"])
    if estimator == "conditional":
        integrated = ("a",) if net.phases is None else ("a", net.phases.site)
        g1 = Estimate(np.zeros(n_pts), np.zeros(n_pts))

    g4 = g4c = g6 = g6c = None
    phi2 = series["phi2"]
    if order >= 4:
        cols = [series["phi4"]] + [phi2[..., i, j] for pair in _PAIRS_4 for i, j in
                                   (pair[:2], pair[2:])]
        g4 = mean_estimate(series["phi4"])
        g4c = derived_estimate(_g4c, np.stack(cols, axis=-1))
    if order >= 6:
        cols6 = np.concatenate(
            [series["phi6"][..., None], series["phi4_sub"],
             np.stack([phi2[..., i, j] for i, j in _PAIRS_6], axis=-1)], axis=-1)
        g6 = mean_estimate(series["phi6"])
        g6c = derived_estimate(_g6c, cols6)
    return CorrelatorResult(
        points=np.asarray(x),
        networks=chunk * n_chunks,
        chunk=chunk,
        G1=g1,
        G2=mean_estimate(phi2),
        G4=g4,
        G4c=g4c,
        G6=g6,
        G6c=g6c,
        series=series,
        estimator=estimator,
        integrated=integrated,
    )


@partial(jax.jit, static_argnums=(0, 5, 6, 7))
def _mixed_series(
    net: Network, key: jax.Array, x: jax.Array, y: jax.Array, first: jax.Array, chunk: int,
    n_chunks: int, neuron: int,
) -> dict:
    def stat(params: dict) -> dict:
        phi = net.forward(params, x)  # (chunk, P)
        h = net.neurons(params, y)[:, neuron, :]  # (chunk, Q)
        b = phi.shape[0]
        return {
            "phi_h": jnp.einsum("bp,bq->pq", phi, h) / b,
            "phi2_h2": jnp.einsum("bp,br,bq,bs->prqs", phi, phi, h, h) / b,
        }

    return _map_chunks(net, key, chunk, n_chunks, stat, first)


def field_neuron_correlators(
    net: Network,
    key: jax.Array,
    x: jax.typing.ArrayLike,
    y: jax.typing.ArrayLike,
    networks: int,
    *,
    neuron: int = 0,
    chunk: int | None = None,
    min_chunks: int = 100,
) -> FieldNeuronResult:
    """Mixed field-neuron correlators ⟨φ(x) h_i(y)⟩ and ⟨φ(x) φ(x') h_i(y) h_i(y')⟩.

    For φ = Σ_j a_j h_j with i.i.d. neurons and even P(a), ⟨φ h_i⟩ = 0 and
    ⟨φ(x1) φ(x2) h_i(y1) h_i(y2)⟩ = (m2/N) H4(x1, x2, y1, y2) + (1 − 1/N) m2 H2(x1, x2) H2(y1, y2),
    which tells the neuron content of the field apart from its Gaussian limit (Halverson,
    Discussion: predictions from mixed field-neuron correlators). Streamed like
    :func:`correlators`.

    Parameters
    ----------
    net : Network
        The architecture.
    key : Array
        PRNG key.
    x : array_like, shape (P, d)
        Field points.
    y : array_like, shape (Q, d)
        Neuron points.
    networks : int
        M.
    neuron : int
        The neuron index i (all are identically distributed).
    chunk, min_chunks : int, optional
        As in :func:`correlators`.

    Returns
    -------
    FieldNeuronResult
    """
    xp, yp = as_points(x, net.dim), as_points(y, net.dim)
    per_net = net.width * max(xp.shape[0] + yp.shape[0], net.dim + 2)
    chunk, n_chunks = plan_chunks(networks, per_net, chunk, min_chunks,
                                  multiple=jax.local_device_count())
    raw = _on_devices(lambda k, a, b, first, n: _mixed_series(net, k, a, b, first, chunk, n,
                                                              int(neuron)),
                      n_chunks, key, xp, yp)
    series = {k: v[None] for k, v in raw.items()}
    return FieldNeuronResult(
        neuron=int(neuron),
        networks=chunk * n_chunks,
        chunk=chunk,
        phi_h=mean_estimate(series["phi_h"]),
        phi2_h2=mean_estimate(series["phi2_h2"]),
        series=series,
    )
