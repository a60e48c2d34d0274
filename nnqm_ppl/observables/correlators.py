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
import math
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from nnqm_ppl.networks.neurons import Network, as_points, sample_params, sincos
from nnqm_ppl.observables.estimate import Estimate, derived_estimate, mean_estimate

__all__ = [
    "CorrelatorResult",
    "FieldNeuronResult",
    "plan_chunks",
    "correlators",
    "field_neuron_correlators",
]

#: Default budget of float64 numbers per chunk for the largest per-chunk array (4 MiB: a chunk's
#: working set stays in cache; measured faster than 64 MiB chunks on the 2-core CI machine).
CHUNK_ELEMENTS = 1 << 19

_PAIRS_4 = ((0, 1, 2, 3), (0, 2, 1, 3), (0, 3, 1, 2))
_PAIRS_6 = tuple(itertools.combinations(range(6), 2))
_QUADS_6 = tuple(itertools.combinations(range(6), 4))


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


def plan_chunks(
    networks: int, per_network: int, chunk: int | None = None, min_chunks: int = 100,
    multiple: int = 1,
) -> tuple[int, int]:
    """Split M networks into equal chunks.

    Parameters
    ----------
    networks : int
        M, the number of networks asked for (>= 2).
    per_network : int
        Numbers held per network in the largest per-chunk array (e.g. width × points).
    chunk : int, optional
        Upper bound on the chunk size; default fills :data:`CHUNK_ELEMENTS`.
    min_chunks : int
        At least this many chunks (all chunks of one network when M < min_chunks), so the
        batch-means MCSE has enough draws.
    multiple : int
        ``n_chunks`` is rounded up to a multiple of this (the number of devices the chunks are
        spread over, see :func:`correlators`).

    Returns
    -------
    (chunk, n_chunks) : tuple of int
        ``n_chunks * chunk >= networks`` with ``chunk`` as even as possible (the excess is
        below ``n_chunks``).
    """
    if networks < 2:
        raise ValueError(f"need at least 2 networks, got {networks}")
    cap = max(1, CHUNK_ELEMENTS // max(per_network, 1)) if chunk is None else int(chunk)
    cap = max(1, min(cap, networks // min_chunks))
    n_chunks = math.ceil(networks / cap)
    n_chunks = math.ceil(n_chunks / multiple) * multiple
    return math.ceil(networks / n_chunks), n_chunks


def _map_chunks(net: Network, key: jax.Array, chunk: int, n_chunks: int, stat,
                first: int | jax.Array = 0) -> dict:
    """``lax.map`` of ``stat(params)`` (a dict of chunk means) over chunks first, first + 1, ...

    Chunk c holds networks c·chunk, ..., (c + 1)·chunk − 1, network n drawn from
    ``fold_in(key, n)`` (:func:`~nnqm_ppl.networks.neurons.sample_params`).
    """

    def body(c: jax.Array) -> dict:
        return stat(sample_params(net, key, chunk, start=c * chunk))

    return jax.lax.map(body, first + jnp.arange(n_chunks))


def _on_devices(series, n_chunks: int, *args: jax.Array) -> dict[str, np.ndarray]:
    """``series(*args, first, n)`` over consecutive ranges of the chunks, one per local device.

    Each device gets its own call (inputs placed on it), dispatched before any result is
    awaited, so the devices run concurrently; the results are concatenated in chunk order, so
    they do not depend on the number of devices. XLA:CPU spreads only some fusions of one
    program over its threads (the reductions run on one), so on a CPU with several cores this
    can use them better; it needs ``XLA_FLAGS=--xla_force_host_platform_device_count=<cores>``
    before JAX starts (on the 2-vCPU machine of BENCHMARKS.md it measured neutral). One
    ``shard_map`` program over the devices, or these calls dispatched from a thread pool, did
    the same work but grew the resident memory by ~5 kB per chunk on XLA:CPU; separate calls
    from the calling thread stay flat.
    """
    devices = jax.local_devices()
    bounds = np.linspace(0, n_chunks, len(devices) + 1).round().astype(int)
    outs = []
    for dev, lo, hi in zip(devices, bounds[:-1], bounds[1:], strict=True):
        if hi > lo:
            placed = [jax.device_put(a, dev) for a in (*args, jnp.asarray(lo))]
            outs.append(series(*placed, int(hi - lo)))
    return {k: np.concatenate([np.asarray(o[k]) for o in outs]) for k in outs[0]}


def _materialised(*arrays: jax.Array) -> tuple[jax.Array, ...]:
    """The arrays, computed before anything that uses them (an ``optimization_barrier``).

    Keeps the sampler out of the cosine reductions: fused into them, its integer work is
    recomputed for every point and stops XLA:CPU vectorising the loop. Only what the
    estimator reads goes through it, so unused draws are still dropped by the compiler.
    """
    return jax.lax.optimization_barrier(arrays)


def _cos_reduce(omega: jax.Array, shift: jax.Array | None = None,
                weight: jax.Array | None = None, *, y: jax.Array) -> jax.Array:
    """Σ_i w_i cos(ω_i·y_k + c_i) over the neurons, for every network and every k.

    Written as one elementwise expression (ω·y unrolled over the d components) reduced over
    the last axis, so that XLA:CPU emits a single vectorised cosine-and-reduce loop; a
    ``dot_general`` for ω·y, or a cosine that several consumers share, makes it fall back to
    scalar ``cos`` calls (~10× slower). float64 throughout: XLA's vectorised ``cos`` agrees
    with NumPy's libm to the rounding of its argument (tested).

    Parameters
    ----------
    omega : Array, shape (B, N, d)
        Frequencies ω_i of each network's neurons.
    shift : Array, shape (B, N), optional
        Phases c_i (default 0).
    weight : Array, shape (B, N), optional
        Weights w_i (default 1).
    y : Array, shape (K, d)
        The vectors y_k (keyword).

    Returns
    -------
    Array, shape (B, K)
    """
    u = sum(omega[:, None, :, j] * y[None, :, None, j] for j in range(y.shape[-1]))
    if shift is not None:
        u = u + shift[:, None, :]
    c = jnp.cos(u)
    return jnp.sum(c if weight is None else weight[:, None, :] * c, axis=-1)


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


def _set_partitions(items: tuple) -> list[list[tuple]]:
    """All partitions of ``items`` into non-empty blocks."""
    if not items:
        return [[]]
    first, rest = items[0], items[1:]
    out = []
    for part in _set_partitions(rest):
        out.append([(first,), *part])
        for k in range(len(part)):
            out.append(part[:k] + [(first, *part[k])] + part[k + 1 :])
    return out


def _conditional_terms(pts: tuple[int, ...]) -> list[tuple[float, tuple]]:
    """E[Π_{p∈pts} φ(x_p) | θ] / s^{|pts|} as Σ coef Π_{group} Σ_i Π_{B∈group} M_i(B).

    Each term is ``(coef, groups)``, a group being a sorted tuple of blocks (sorted tuples of
    point indices); π runs over the even-block partitions of ``pts`` with weight
    Π_B (|B|−1)!!, and the sum over distinct neurons is the Möbius inversion over the
    coarsenings σ of π, Π_{C∈σ} (−1)^{|C|−1} (|C|−1)!.
    """
    terms = []
    for part in _set_partitions(pts):
        if any(len(b) % 2 for b in part):
            continue
        weight = math.prod(math.prod(range(1, len(b), 2)) for b in part)
        for sigma in _set_partitions(tuple(range(len(part)))):
            coef = math.prod((-1) ** (len(c) - 1) * math.factorial(len(c) - 1) for c in sigma)
            groups = tuple(sorted(tuple(sorted(part[j] for j in c)) for c in sigma))
            terms.append((weight * coef, groups))
    return terms


def _canonical(v: tuple[int, ...]) -> tuple[int, ...]:
    """v or −v, whichever has a positive first non-zero entry (cos is even)."""
    for e in v:
        if e:
            return v if e > 0 else tuple(-t for t in v)
    return v


def _cos_expansion(group: tuple, n_points: int) -> dict[tuple[int, ...], float]:
    """Π_{B∈group} E_c[Π_{p∈B} cos(ω·x_p + c)] as Σ_v coef_v cos(ω·Σ_p v_p x_p).

    Each block gives 2^{1−k} Σ_{s_1=+1, Σs=0} cos(ω·Σ_j s_j x_{B_j}) (:class:`CosinePhases`),
    and cos α cos β = (cos(α + β) + cos(α − β))/2 multiplies them out; v is an integer vector
    over the points, taken up to sign.
    """
    terms = {(0,) * n_points: 1.0}
    for block in group:
        k = len(block)
        factor: dict[tuple[int, ...], float] = {}
        for minus in itertools.combinations(range(1, k), k // 2):
            v = [0] * n_points
            for j, p in enumerate(block):
                v[p] += -1 if j in minus else 1
            key = _canonical(tuple(v))
            factor[key] = factor.get(key, 0.0) + 2.0 ** (1 - k)
        new: dict[tuple[int, ...], float] = {}
        for v1, c1 in terms.items():
            for v2, c2 in factor.items():
                for sign in (1, -1):
                    key = _canonical(tuple(a + sign * b for a, b in zip(v1, v2, strict=True)))
                    new[key] = new.get(key, 0.0) + 0.5 * c1 * c2
        terms = new
    return {v: c for v, c in terms.items() if c != 0.0}


def _conditional_cos_stat(net: Network, x: jax.Array, order: int):
    """Conditional chunk means for cosine neurons via sums of cosines (order ≤ 4).

    With a and the phases integrated out, every neuron sum the Wick expansion needs is linear
    in S(v, k) = Σ_i A_i^k cos(ω_i·y_v), y_v = Σ_p v_p x_p (:func:`_cos_expansion`; k is the
    number of points of the group): the pair sums need y = x_p − x_q and the four-point ones
    the three x_1 ± x_2 ∓ x_3 ... combinations, 9 cosines per neuron for four points instead of
    4 sin/cos pairs and their complex products, all in one vectorised reduction
    (:func:`_cos_reduce`). Same values as :func:`_conditional_stat` to rounding (tested).
    """
    s = net.readout_scale
    ph = net.phases
    n_pts = x.shape[0]
    pairs = list(itertools.combinations_with_replacement(range(n_pts), 2))
    target = (0, 1, 2, 3)
    expansion = _conditional_terms(target) if order >= 4 else []
    groups = sorted({g for _, gs in expansion for g in gs} | {((p, q),) for p, q in pairs})
    lin = {g: _cos_expansion(g, n_pts) for g in groups}
    power = {g: sum(len(b) for b in g) for g in groups}
    keys = sorted({(v, power[g]) for g in groups for v in lin[g]})
    index = {k: i for i, k in enumerate(keys)}
    by_power: dict[int, list[int]] = {}
    for i, (v, k) in enumerate(keys):
        if any(v):
            by_power.setdefault(k, []).append(i)
    ys = {k: jnp.asarray(np.array([keys[i][0] for i in idx], float)) @ x
          for k, idx in by_power.items()}
    weights = np.zeros((len(groups), len(keys)))
    for r, g in enumerate(groups):
        for v, c in lin[g].items():
            weights[r, index[(v, power[g])]] += c
    weights = jnp.asarray(weights)

    def stat(params: dict) -> dict:
        omega = ph.frequency(params)  # (chunk, N, d)
        amp = None if ph.amplitude is None else ph.amplitude(params)  # (chunk, N)
        if amp is None:
            (omega,) = _materialised(omega)
        else:
            omega, amp = _materialised(omega, amp)
        cols = [None] * len(keys)
        for k in sorted({k for _, k in keys}):
            w = None if amp is None else amp**k
            const = (jnp.full(omega.shape[:1], float(omega.shape[1])) if w is None
                     else jnp.sum(w, axis=-1))
            for i, (v, kk) in enumerate(keys):
                if kk == k and not any(v):
                    cols[i] = const
            if k in by_power:
                sums_k = _cos_reduce(omega, None, w, y=ys[k])
                for j, i in enumerate(by_power[k]):
                    cols[i] = sums_k[:, j]
        sums_all = jnp.stack(cols, axis=1) @ weights.T  # (chunk, groups)
        sums = {g: sums_all[:, r] for r, g in enumerate(groups)}
        pair = jnp.zeros((omega.shape[0], n_pts, n_pts))
        for p, q in pairs:
            pair = pair.at[:, p, q].set(sums[((p, q),)]).at[:, q, p].set(sums[((p, q),)])
        out = {"phi": jnp.zeros(n_pts), "phi2": s**2 * jnp.mean(pair, axis=0)}
        if order >= 4:
            val = sum(c * math.prod(sums[g] for g in gs) for c, gs in expansion)
            out["phi4"] = s**4 * jnp.mean(val)
        return out

    return stat


def _conditional_stat(net: Network, x: jax.Array, order: int):
    """Chunk means of E[monomial | θ_h] (a, and for cosine neurons the phases, integrated out).

    Every neuron sum Σ_i Π_{B∈group} M_i(B) the monomials need is formed once, and all of them
    in one stacked reduction over the neurons (pairs from the (P, P) matrix product).
    """
    s = net.readout_scale
    cos_ph = net.phases
    targets = [(0, 1, 2, 3)] if order >= 4 else []
    if order >= 6:
        targets += [*_QUADS_6, tuple(range(6))]
    expansions = [_conditional_terms(t) for t in targets]
    groups = sorted({g for terms in expansions for _, gs in terms for g in gs
                     if not (len(g) == 1 and len(g[0]) == 2)})

    def stat(params: dict) -> dict:
        # per-neuron factors are laid out (chunk, P, N): contiguous along the neurons
        if cos_ph is None:  # only a integrated out: M_i(B) = Π_{p∈B} h_i(x_p)
            h = jnp.swapaxes(net.neurons(params, x), -1, -2)  # (chunk, P, N)
            pair = jnp.einsum("bpn,bqn->bpq", h, h)

            def moment(block: tuple[int, ...]) -> jax.Array:
                return math.prod(h[:, p] for p in block)
        else:  # a and c: M_i(B) = 2^{1−k} A^k Σ_{s_1=+1, Σs=0} Re Π z_p^{s_p}
            sn, cs = sincos(jnp.einsum("pd,bnd->bpn", x, cos_ph.frequency(params)))
            if cos_ph.amplitude is not None:
                amp = cos_ph.amplitude(params)[:, None, :]
                sn, cs = amp * sn, amp * cs
            pair = 0.5 * (jnp.einsum("bpn,bqn->bpq", cs, cs) + jnp.einsum("bpn,bqn->bpq", sn, sn))
            z = jax.lax.complex(cs, sn)

            def moment(block: tuple[int, ...]) -> jax.Array:
                k = len(block)
                acc = 0.0
                for minus in itertools.combinations(block[1:], k // 2):
                    acc = acc + math.prod(
                        jnp.conj(z[:, p]) if p in minus else z[:, p] for p in block).real
                return acc * 2.0 ** (1 - k)

        sums = {}
        if groups:
            stacked = jnp.stack([math.prod(moment(b) for b in g) for g in groups], axis=1)
            sums = dict(zip(groups, jnp.unstack(jnp.sum(stacked, axis=-1), axis=1), strict=True))
        for p, q in itertools.combinations_with_replacement(range(x.shape[0]), 2):
            sums[((p, q),)] = pair[:, p, q]

        def expect(pts: tuple[int, ...], terms: list) -> jax.Array:
            val = sum(c * math.prod(sums[g] for g in gs) for c, gs in terms)
            return s ** len(pts) * jnp.mean(val)

        out = {"phi": jnp.zeros(x.shape[0]), "phi2": s**2 * jnp.mean(pair, axis=0)}
        vals = [expect(t, e) for t, e in zip(targets, expansions, strict=True)]
        if order >= 4:
            out["phi4"] = vals[0]
        if order >= 6:
            out["phi4_sub"] = jnp.stack(vals[1:16])
            out["phi6"] = vals[16]
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
        The architecture (e.g. :func:`nnqm_ppl.networks.neurons.network_from_spec`).
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
