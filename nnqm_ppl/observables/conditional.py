"""The conditional (Rao–Blackwellised) estimator of neural-field correlators.

Chunk means of E[monomial | θ_h], the readout weights a (and, for cosine neurons with uniform
phases, the phases) integrated out analytically per network: the Wick expansion over even-block
partitions and its Möbius inversion over distinct neurons are in the docstring of
:mod:`nnqm_ppl.observables.correlators`. :func:`_conditional_cos_stat` (cosine neurons, order ≤ 4)
writes every neuron sum as sums of cosines; :func:`_conditional_stat` is the general form.
"""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np

from nnqm_ppl.networks.neurons import Network, sincos
from nnqm_ppl.observables.streaming import _cos_reduce, _materialised

__all__: list[str] = []

_QUADS_6 = tuple(itertools.combinations(range(6), 4))


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

    Each block gives 2^{1−k} Σ_{s_1=+1, Σs=0} cos(ω·Σ_j s_j x_{B_j})
    (:class:`~nnqm_ppl.networks.neurons.CosinePhases`), and cos α cos β = (cos(α + β) +
    cos(α − β))/2 multiplies them out; v is an integer vector over the points, taken up to sign.
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
