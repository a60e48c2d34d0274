"""Streaming M sampled networks in chunks, and the reductions XLA:CPU vectorises.

The chunking behind :mod:`nnqm_ppl.observables.correlators` (see its docstring): chunk c holds
networks c·chunk, ..., (c + 1)·chunk − 1, drawn exactly inside one jit-compiled ``lax.map``
(:func:`_map_chunks`), the chunks spread over the local devices (:func:`_on_devices`);
:func:`plan_chunks` sizes them. :func:`_cos_reduce` is the one shape in which XLA:CPU vectorises a
float64 cosine summed over the neurons.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from nnqm_ppl.networks.neurons import Network, sample_params

__all__ = ["CHUNK_ELEMENTS", "plan_chunks"]

#: Default budget of float64 numbers per chunk for the largest per-chunk array (4 MiB: a chunk's
#: working set stays in cache; measured faster than 64 MiB chunks on the 2-core CI machine).
CHUNK_ELEMENTS = 1 << 19


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
        spread over, see :func:`~nnqm_ppl.observables.correlators.correlators`).

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
