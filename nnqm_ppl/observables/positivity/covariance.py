"""Euclidean covariance, clustering and the minimal-quantum-model conditions (Ferko & Halverson,
2504.05462, Theorem 3): stationarity and time reflection of connected 2- and 4-point functions
(delta method on the raw moments), cluster decomposition, mean-square continuity, a finite
two-point function (ArviZ Pareto k̂).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from arviz_stats.base import array_stats

from nnqm_ppl.observables.estimate import Estimate, derived_estimate, mean_estimate
from nnqm_ppl.observables.positivity.check import Check, _anchors, _delta_rows, _draws, _lag_products, _null_verdict

__all__ = ["stationarity", "time_reflection", "cluster_decomposition", "mean_square_continuity", "finite_two_point"]


def _subsets(order: int) -> list[tuple[int, ...]]:
    return [s for r in range(1, order + 1) for s in itertools.combinations(range(order), r)]


def _moment_series(x: np.ndarray, tuples: np.ndarray) -> np.ndarray:
    """Raw moment series E[Π_{i∈S} x(t_i)] for every non-empty subset S: (chain, draw, n, 2^k−1)."""
    vals = x[..., tuples]  # (chain, draw, n, order)
    cols = [np.prod(vals[..., list(s)], axis=-1) for s in _subsets(tuples.shape[1])]
    return np.stack(cols, axis=-1)


def _cumulant(order: int) -> Callable[[jnp.ndarray], jnp.ndarray]:
    """Joint cumulant κ(x_1..x_k), k ∈ {2, 4}, from the raw subset moments (last axis)."""
    subs = _subsets(order)
    col = {s: i for i, s in enumerate(subs)}

    def central(m: jnp.ndarray, s: tuple[int, ...]) -> jnp.ndarray:
        mu = [m[..., col[(i,)]] for i in range(order)]
        out = 0.0
        for r in range(len(s) + 1):
            for sub in itertools.combinations(s, r):
                rest = [mu[i] for i in s if i not in sub]
                raw = m[..., col[sub]] if sub else 1.0
                out = out + (-1) ** len(rest) * raw * (jnp.prod(jnp.stack(rest), 0) if rest else 1.0)
        return out

    def kappa(m: jnp.ndarray) -> jnp.ndarray:
        if order == 2:
            return central(m, (0, 1))
        pairs = [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2))]
        return central(m, (0, 1, 2, 3)) - sum(central(m, p) * central(m, q) for p, q in pairs)

    return kappa


def _covariance_check(
    name: str,
    x: np.ndarray,
    base: np.ndarray,
    mapped: np.ndarray,
    threshold: float,
    detail: dict,
) -> Check:
    """Compare connected correlators at ``base`` and ``mapped`` tuples (delta method).

    ``detectable = threshold·max σ / scale``: the smallest difference, relative to the mean variance
    (order 2) or its square (order 4), that would have been seen at every tuple.
    """
    order = base.shape[1]
    kappa = _cumulant(order)
    series = np.concatenate([_moment_series(x, base), _moment_series(x, mapped)], axis=-1)
    nm = 2**order - 1
    est = _delta_rows(lambda y: kappa(y[nm:]) - kappa(y[:nm]), series)
    value, err = np.atleast_1d(est.value), np.atleast_1d(est.mcse)
    z = float(np.max(np.abs(value) / np.where(err > 0, err, np.inf)))
    var = float(np.mean(np.var(x, axis=(0, 1))))
    scale = var if order == 2 else var**2
    detail = {**detail, "order": order, "scale": scale, "detectable": threshold * float(np.max(err)) / scale}
    return Check(name, Estimate(value, err, est.ess), z, _null_verdict(z, threshold),
                 threshold, "delta method on ArviZ MCSE of the raw moments", detail)


def _tuples(anchors: np.ndarray, order: int) -> np.ndarray:
    return np.array(list(itertools.combinations_with_replacement(anchors, order)), dtype=int)


def stationarity(
    paths: np.ndarray,
    times: np.ndarray,
    *,
    order: int = 2,
    shift: float | None = None,
    n_points: int = 4,
    threshold: float = 5.0,
) -> Check:
    """Invariance of connected correlators under a common time shift (OS axiom 1).

    For tuples of ``n_points`` anchor times in ``[−T, −T + (2T − shift)]`` compares
    ``κ(x(t_1 + a), …, x(t_k + a)) − κ(x(t_1), …, x(t_k))`` (joint cumulant: the connected
    two-point function for ``order=2``, the connected four-point function for ``order=4``).

    Parameters
    ----------
    paths, times
        Draws and the symmetric grid (module docstring).
    order : int
        2 or 4.
    shift : float, optional
        The common shift a (snapped to the grid); default T.
    n_points : int
        Anchor times; all tuples with repetition are compared.
    threshold : float
        σ for a violation.

    Returns
    -------
    Check
        ``statistic``: the differences (one per tuple) ± delta-method MCSE; ``z`` the largest
        |difference|/σ; ``detail["detectable"]``: threshold·σ over the scale (mean variance for
        order 2, its square for order 4).
    """
    x, t = _draws(paths, times)
    if order not in (2, 4):
        raise ValueError(f"order must be 2 or 4, got {order}")
    a = t[1] - t[0]
    c = (t.shape[0] - 1) // 2
    k = c if shift is None else int(round(shift / a))
    if not 1 <= k <= t.shape[0] - 1:
        raise ValueError(f"shift must be within (0, 2T], got {shift}")
    base = _tuples(_anchors(0, t.shape[0] - 1 - k, n_points), order)
    return _covariance_check(f"stationarity_{order}pt", x, base, base + k, threshold,
                             {"times": t[base], "shift": k * a})


def time_reflection(
    paths: np.ndarray,
    times: np.ndarray,
    *,
    order: int = 2,
    n_points: int = 4,
    threshold: float = 5.0,
) -> Check:
    """Time-reflection symmetry ``κ(x(−t_1), …) = κ(x(t_1), …)`` for anchors in (0, T].

    Parameters and result as in :func:`stationarity` (no shift).
    """
    x, t = _draws(paths, times)
    if order not in (2, 4):
        raise ValueError(f"order must be 2 or 4, got {order}")
    n = t.shape[0]
    base = _tuples(_anchors((n - 1) // 2 + 1, n - 1, n_points), order)
    return _covariance_check(f"time_reflection_{order}pt", x, base, n - 1 - base, threshold,
                             {"times": t[base]})


def cluster_decomposition(
    paths: np.ndarray,
    times: np.ndarray,
    *,
    tolerance: float = 0.1,
    threshold: float = 5.0,
) -> Check:
    """Decay of connected correlators with separation (OS axiom 2, mixing).

    For A ∈ {x, x²} the stationary connected correlator ``C_A(τ) = ⟨A(t)A(t+τ)⟩ − ⟨A⟩²`` (averaged
    over t) is normalised, ``ρ_A(τ) = C_A(τ)/C_A(0)``, and summarised over the far window
    τ ∈ [T, 2T] by ``r_A = sqrt(mean_τ ρ_A(τ)²)`` (a ``p = q = 1`` and a ``p = q = 2`` split of
    ``G^{(p+q)} → G^{(p)}G^{(q)}``). On a finite grid "decayed" needs a stated ``tolerance``:
    ``violated`` if ``r_A − tolerance > threshold σ`` for some A, ``satisfied`` if
    ``r_A + threshold σ < tolerance`` for both, ``inconclusive`` otherwise.

    Returns
    -------
    Check
        ``statistic``: ``(r_x, r_x²)`` ± delta-method MCSE.
    """
    x, t = _draws(paths, times)
    n = t.shape[0]
    lags = np.arange((n - 1) // 2, n)
    window = len(lags)
    values, errors, zs = [], [], []
    for a in (x, x**2):
        series = np.concatenate(
            [_lag_products(a, np.concatenate([[0], lags])), a.mean(axis=-1, keepdims=True)], -1
        )

        def rms(y):
            c = y[:-1] - y[-1] ** 2
            return jnp.sqrt(jnp.mean((c[1:] / c[0]) ** 2))

        est = derived_estimate(jax.jit(rms), series)
        values.append(est.value)
        errors.append(est.mcse)
        zs.append((est.value - tolerance) / est.mcse)
    values, errors = np.array(values), np.array(errors)
    z = float(max(zs))
    verdict = "violated" if z > threshold else (
        "satisfied" if bool(np.all(values + threshold * errors < tolerance)) else "inconclusive")
    return Check("cluster_decomposition", Estimate(values, errors), z, verdict, threshold,
                 "delta method on ArviZ MCSE of time-averaged products",
                 {"operators": ("x", "x^2"), "window": (t[lags[0]] - t[0], t[-1] - t[0]),
                  "lags": window, "tolerance": tolerance})


def mean_square_continuity(
    paths: np.ndarray, times: np.ndarray, *, threshold: float = 5.0
) -> Check:
    """Mean-square continuity, ``E|x(t+h) − x(t)|² → 0`` as h → 0 (minimal quantum model 1).

    The structure function ``Δ(h) = mean_t E(x(t+h) − x(t))²`` at the two smallest steps gives
    ``R = Δ(a)/Δ(2a)`` (delta-method error): ``R ≈ 2^{−α}`` for ``Δ ∝ h^α`` (continuous; α = 1 for
    OU and Brownian paths), while a discontinuity (nugget d > 0) drives ``R → 1``. ``satisfied``:
    Δ shrinks significantly as h halves, ``1 − R > threshold σ``; ``violated``: it grows,
    ``R − 1 > threshold σ``; otherwise ``inconclusive`` — on a finite grid a jump can only show as
    the absence of decrease, which is reported as inconclusive, not as a violation.
    """
    x, t = _draws(paths, times)
    series = np.stack([np.mean((x[..., k:] - x[..., :-k]) ** 2, axis=-1) for k in (1, 2)], -1)
    est = derived_estimate(jax.jit(lambda y: y[0] / y[1]), series)
    z = float((est.value - 1.0) / est.mcse)
    verdict = "violated" if z > threshold else ("satisfied" if -z > threshold else "inconclusive")
    return Check("mean_square_continuity", est, z, verdict, threshold,
                 "delta method on ArviZ MCSE", {"structure_function": series.mean(axis=(0, 1)),
                                                "steps": (t[1] - t[0], 2 * (t[1] - t[0]))})


def finite_two_point(paths: np.ndarray, times: np.ndarray) -> Check:
    """Finite two-point function ``G(t, t) = E x(t)² < ∞`` (minimal quantum model 2).

    ``statistic``: ``E x(t)²`` at every grid time ± ArviZ MCSE. The tail of ``x(t)²`` is judged
    by ArviZ's Pareto k̂ (``array_stats.pareto_khat``, right tail), the largest over t, returned
    as ``z``: ``k̂ < 0.7`` (no heavy tail seen: reliable mean) → ``no violation detected``;
    ``k̂ ≥ 1`` (the mean ``E x²`` itself does not exist) → ``violated``; between → ``inconclusive``. This is ArviZ's
    tail diagnostic, not a σ test (``threshold`` is reported as 1.0, the k̂ bound).
    """
    x, t = _draws(paths, times)
    est = mean_estimate(x**2)
    varying = np.ptp(x, axis=(0, 1)) > 0  # a pinned x(t) (Brownian start) has no tail
    khat = float(np.max(array_stats.pareto_khat(x[..., varying] ** 2, chain_axis=0, draw_axis=1,
                                                tail="right"), initial=-np.inf))
    finite = bool(np.all(np.isfinite(est.value)))
    verdict = "violated" if (khat >= 1.0 or not finite) else (
        "no violation detected" if khat < 0.7 else "inconclusive")
    return Check("finite_two_point", est, khat, verdict, 1.0, "ArviZ MCSE; Pareto k-hat",
                 {"times": t})
