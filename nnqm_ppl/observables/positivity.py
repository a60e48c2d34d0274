"""Osterwalder–Schrader and minimal-quantum-model checks on sampled Euclidean paths.

Ferko & Halverson (2504.05462; talk slides "Requirements of quantum models" and "OS axioms"):
a process x(t) defines quantum mechanics when it is a minimal quantum model (mean-square
continuous, finite two-point function: Theorem 3) and satisfies the OS axioms — Euclidean
covariance (stationary and time-reflection symmetric), cluster decomposition, and reflection
positivity ``⟨F(x(t_1..t_n)) F(x(−t_1..−t_n))⟩ ≥ 0`` for t_i > 0 — with the 1-d Källén–Lehmann
representation ``G(τ) = ∫ ρ(m) e^{−m|τ|} dm``, ``ρ ≥ 0``.

Inputs: ``paths`` of shape ``(n_paths, n_times)`` (i.i.d. exact draws, treated as one chain) or
``(chain, draw, n_times)`` (MCMC), on a uniform grid ``times`` symmetric about 0 (``t ∈ [−T, T]``).

Every check returns a :class:`Check`: the statistic with its error, a signed significance ``z``
and a verdict at ``threshold`` σ (default 5). A null result is never reported as a proof:

- tests of a property that can only be refuted (stationarity, time reflection, reflection
  positivity, Källén–Lehmann): ``violated`` — the data show a violation at ≥ threshold σ — or
  ``no violation detected``, with ``detail["detectable"]``, the smallest violation the data could
  have seen (threshold σ in the check's natural normalisation);
- tests of an affirmative claim (clustering below a tolerance, mean-square continuity):
  ``satisfied`` when the claim holds at ≥ threshold σ, ``violated`` when its negation does,
  ``inconclusive`` otherwise; finite two-point (ArviZ's Pareto k̂): ``violated``,
  ``no violation detected`` or ``inconclusive``.

Errors: linear statistics (means) get the ArviZ MCSE
(:func:`~nnqm_ppl.observables.estimate.mean_estimate`); smooth non-linear ones (connected
correlators, ratios, normalised eigenvalues) the delta method
(:func:`~nnqm_ppl.observables.estimate.derived_estimate`, or its Hellmann–Feynman form for an
eigenvalue, ``dλ = vᵀ dM v``), so autocorrelated MCMC draws are handled by ArviZ's ESS. The
reflection-positivity verdict uses sample splitting (below) because the smallest eigenvalue of a
noisy matrix is biased low.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
from arviz_stats.base import array_stats
from scipy.optimize import nnls

from nnqm_ppl.observables.estimate import Estimate, derived_estimate, mean_estimate

__all__ = [
    "Check",
    "VERDICTS",
    "stationarity",
    "time_reflection",
    "cluster_decomposition",
    "mean_square_continuity",
    "finite_two_point",
    "reflection_positivity",
    "general_family",
    "kallen_lehmann",
]

VERDICTS = ("violated", "no violation detected", "satisfied", "inconclusive")


@dataclass(frozen=True)
class Check:
    """Result of one check.

    Attributes
    ----------
    name : str
        Which check.
    statistic : Estimate
        The reported statistic (value ± error, possibly arrays).
    z : float
        Significance of the strongest violation, in units of its error (≤ 0: none).
    verdict : str
        One of :data:`VERDICTS` (module docstring).
    threshold : float
        Significance demanded, in σ.
    error_method : str
        How the error bar was obtained.
    detail : dict
        Check-specific extras (times, matrices, fitted weights, ...).
    """

    name: str
    statistic: Estimate
    z: float
    verdict: str
    threshold: float
    error_method: str
    detail: dict = field(default_factory=dict)


def _null_verdict(z: float, threshold: float) -> str:
    """``violated`` at ≥ threshold σ, else ``no violation detected`` (never a proof of the property)."""
    return "violated" if z >= threshold else "no violation detected"


def _draws(paths: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(chain, draw, n_times) float array and the validated symmetric uniform grid."""
    x = np.asarray(paths, dtype=float)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"paths must have shape (n_paths, n_times) or (chain, draw, n_times), "
                         f"got {np.shape(paths)}")
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.shape[0] != x.shape[-1] or t.shape[0] < 5:
        raise ValueError(f"times must be 1-D with length n_times = {x.shape[-1]} (>= 5)")
    a = np.diff(t)
    scale = max(abs(t[0]), abs(t[-1]))
    if np.any(a <= 0) or np.ptp(a) > 1e-9 * scale or np.max(np.abs(t + t[::-1])) > 1e-9 * scale:
        raise ValueError("times must be a uniform grid symmetric about 0 (t in [-T, T])")
    if x.shape[1] < 8:
        raise ValueError(f"need at least 8 draws per chain, got {x.shape[1]}")
    return x, t


def _anchors(lo: int, hi: int, n_points: int) -> np.ndarray:
    return np.unique(np.round(np.linspace(lo, hi, n_points)).astype(int))


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


def _lag_products(a: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Per-draw time averages ``mean_i a_i a_{i+k}`` (zero-padded FFT), (chain, draw, len(lags))."""
    n = a.shape[-1]
    spec = np.fft.rfft(a, 2 * n, axis=-1)
    acf = np.fft.irfft(spec * np.conj(spec), 2 * n, axis=-1)[..., :n]
    return acf[..., lags] / (n - lags)


def _delta_rows(f: Callable[[jnp.ndarray], jnp.ndarray], series: np.ndarray) -> Estimate:
    """Delta method row by row: ``f`` maps one row of means (m,) to a scalar; series (c, d, n, m).

    The same construction as :func:`~nnqm_ppl.observables.estimate.derived_estimate` (linearised
    series ``∇f(ȳ)·(y_t − ȳ)``, ArviZ MCSE of its mean) for ``n`` independent rows, with the
    block-diagonal Jacobian evaluated row-wise.
    """
    ybar = series.mean(axis=(0, 1))
    value = np.asarray(jax.jit(jax.vmap(f))(ybar))
    jac = np.asarray(jax.jit(jax.vmap(jax.jacfwd(f)))(ybar))
    est = mean_estimate(np.einsum("cdnm,nm->cdn", series - ybar, jac))
    return Estimate(value, np.atleast_1d(est.mcse), np.atleast_1d(est.ess))


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


def general_family(u: np.ndarray) -> np.ndarray:
    """A test-function family for reflection positivity at positive times.

    For the (standardised) values ``u = (u_1..u_k)`` at k positive times: ``1``, the monomials
    ``u_j, u_j², u_j³``, the exponentials ``e^{u_j/2}`` and ``e^{−u_j²/2}``, and the products
    ``u_i u_j`` (i < j) and ``Π_j e^{u_j/4}`` over several times.

    Parameters
    ----------
    u : ndarray, shape (..., k)

    Returns
    -------
    ndarray, shape (..., 1 + 5k + k(k−1)/2 + 1)
    """
    k = u.shape[-1]
    i, j = np.triu_indices(k, 1)
    cols = [np.ones_like(u[..., :1]), u, u**2, u**3, np.exp(0.5 * u), np.exp(-0.5 * u**2),
            u[..., i] * u[..., j], np.exp(0.25 * u.sum(axis=-1, keepdims=True))]
    return np.concatenate(cols, axis=-1)


def reflection_positivity(
    paths: np.ndarray,
    times: np.ndarray,
    *,
    family: str | Callable[[np.ndarray], np.ndarray] = "linear",
    n_times: int = 6,
    t_min: float | None = None,
    threshold: float = 5.0,
) -> Check:
    """Reflection positivity: the Gram matrix ``M_ab = ⟨F_a(x(t_1..t_k)) F_b(x(−t_1..−t_k))⟩``
    over positive times must be positive semidefinite (OS axiom 3).

    - ``family="linear"``: ``F_a = x(t_a)``, the two-point level ``M_ab = G(t_a + t_b)``
      for a stationary process (``⟨x(t_a) x(−t_b)⟩``, not connected: RP holds for the full
      correlator).
    - ``family="general"``: :func:`general_family` of the paths standardised by their r.m.s.
      value (one fixed rescaling of the argument), or any callable ``(..., k) → (..., n_F)``.

    ``M`` is symmetrised and congruence-normalised, ``M → D^{-1} M D^{-1}`` with
    ``D_a = (⟨F_a(x_+)²⟩⟨F_a(x_−)²⟩)^{1/4}`` (Sylvester's law of inertia: the sign of the smallest
    eigenvalue is unchanged).

    ``statistic``: ``λ_min/λ_max`` of the full-data matrix with a delta-method (Hellmann–Feynman)
    MCSE from ArviZ. The smallest eigenvalue of a noisy matrix is biased low (and a rank-deficient
    M, e.g. OU's rank-one ``e^{−γ(t_a+t_b)}``, sits exactly at 0), so the verdict uses sample
    splitting: the direction ``v`` of the smallest eigenvalue is chosen on the first half of the
    draws and the Rayleigh quotient ``q = vᵀ M v / λ_max`` is estimated — a plain mean, unbiased,
    ArviZ MCSE — on the second half. Under RP ``E q ≥ 0``: ``violated`` iff ``q ≤ −threshold σ_q``,
    otherwise ``no violation detected`` with ``detail["detectable"] = threshold σ_q``: a violation
    deeper than ``detectable·λ_max`` along the tested direction would have been seen; a shallower
    one cannot be excluded.

    Parameters
    ----------
    paths, times
        Draws and the symmetric grid.
    family : str or callable
        ``linear`` | ``general`` | callable.
    n_times : int
        Number k of positive times (evenly spaced grid points in ``[t_min, T]``).
    t_min : float, optional
        Smallest positive time; default one grid step.
    threshold : float
        σ demanded for ``violated``.

    Returns
    -------
    Check
        ``detail``: the positive times, the normalised matrix, its eigenvalues, the held-out
        :class:`Estimate` ``q`` and ``detectable``.
    """
    x, t = _draws(paths, times)
    n = t.shape[0]
    c = (n - 1) // 2
    a = t[1] - t[0]
    first = c + 1 if t_min is None else c + max(1, int(round(t_min / a)))
    if first > n - 1 or n_times < 1:
        raise ValueError(f"need 1 <= n_times and t_min < T, got n_times={n_times}, t_min={t_min}")
    idx = _anchors(first, n - 1, n_times)
    xp, xm = x[..., idx], x[..., n - 1 - idx]
    if family == "linear":
        fp, fm = xp, xm
    else:
        f = general_family if family == "general" else family
        if not callable(f):
            raise ValueError(f"family must be 'linear', 'general' or a callable, got {family!r}")
        s = np.sqrt(np.mean(x**2))
        fp, fm = np.asarray(f(xp / s)), np.asarray(f(xm / s))
    d = (np.mean(fp**2, axis=(0, 1)) * np.mean(fm**2, axis=(0, 1))) ** 0.25
    keep = d > 0  # a function vanishing on one side adds a zero row: no effect on PSD-ness
    if not np.any(keep):
        raise ValueError("every test function vanishes identically on the sampled paths")
    fp, fm = fp[..., keep] / d[keep], fm[..., keep] / d[keep]

    def gram(p, m):
        g = np.einsum("cda,cdb->ab", p, m) / (p.shape[0] * p.shape[1])
        return 0.5 * (g + g.T)

    lam, vec = np.linalg.eigh(gram(fp, fm))
    v, u = vec[:, 0], vec[:, -1]
    ratio = lam[0] / lam[-1]
    lin = ((fp @ v) * (fm @ v) - ratio * (fp @ u) * (fm @ u)) / lam[-1]
    lin_est = mean_estimate(lin[..., None])
    stat = Estimate(float(ratio), float(np.atleast_1d(lin_est.mcse)[0]),
                    float(np.atleast_1d(lin_est.ess)[0]))
    half = x.shape[1] // 2
    lam_a, vec_a = np.linalg.eigh(gram(fp[:, :half], fm[:, :half]))
    va = vec_a[:, 0]
    q = mean_estimate(((fp[:, half:] @ va) * (fm[:, half:] @ va) / lam_a[-1])[..., None])
    qv, qs = float(np.atleast_1d(q.value)[0]), float(np.atleast_1d(q.mcse)[0])
    z = -qv / qs
    level = "two_point" if family == "linear" else "general"
    return Check(f"reflection_positivity_{level}", stat, z,
                 _null_verdict(z, threshold), threshold,
                 "ratio: delta method (Hellmann-Feynman) on ArviZ MCSE; verdict: held-out "
                 "Rayleigh quotient, ArviZ MCSE",
                 {"times": t[idx], "matrix": gram(fp, fm), "eigenvalues": lam / lam[-1],
                  "held_out": Estimate(qv, qs), "detectable": threshold * qs})


def kallen_lehmann(
    paths: np.ndarray,
    times: np.ndarray,
    *,
    rates: np.ndarray | None = None,
    max_lag: int | None = None,
    threshold: float = 5.0,
) -> Check:
    """Källén–Lehmann: is ``G_c(τ)`` a non-negative superposition ``Σ_j ρ_j e^{−m_j τ}``?

    ``G_c(τ) = ⟨x(t)x(t+τ)⟩ − ⟨x⟩²`` (stationary, averaged over t; delta-method MCSE) is fitted by
    non-negative least squares weighted by 1/σ_τ (``scipy.optimize.nnls``) on a grid of rates
    ``m_j ≥ 0`` (default 0 and 80 log-spaced rates from ``0.1/(2T)`` to ``4/a``; the ``m = 0``
    column carries a non-clustering constant). Residuals ``r_τ = G_c(τ) − fit`` are compared with
    their MCSE: ``violated`` iff ``max |r_τ|/σ_τ ≥ threshold``, otherwise ``no violation detected``
    with ``detail["detectable"] = threshold·max_τ σ_τ / G_c(0)`` (the smallest residual, relative to
    ``G_c(0)``, seen at every lag). The fit's own noise lowers residuals, so the test is
    conservative for violations.

    Returns
    -------
    Check
        ``statistic``: residuals ± MCSE per lag; ``detail``: lags, ``G_c`` (Estimate), rates,
        weights ρ_j, ``residual_norm`` = ``sqrt(mean (r/σ)²)``, ``detectable``.
    """
    x, t = _draws(paths, times)
    a = t[1] - t[0]
    n = t.shape[0]
    lmax = (n - 1) // 2 if max_lag is None else int(max_lag)
    if not 1 <= lmax <= n - 1:
        raise ValueError(f"max_lag must be in [1, {n - 1}], got {max_lag}")
    lags = np.arange(lmax + 1)
    if rates is None:
        rates = np.concatenate([[0.0], np.geomspace(0.05 / t[-1], 4.0 / a, 80)])
    rates = np.asarray(rates, dtype=float)
    if rates.ndim != 1 or np.any(rates < 0):
        raise ValueError("rates must be a 1-D array of non-negative numbers")
    series = np.concatenate([_lag_products(x, lags), x.mean(axis=-1, keepdims=True)], -1)
    g = derived_estimate(jax.jit(lambda y: y[:-1] - y[-1] ** 2), series)
    tau = lags * a
    design = np.exp(-np.outer(tau, rates))
    w = 1.0 / g.mcse
    rho, _ = nnls(design * w[:, None], g.value * w)
    resid = g.value - design @ rho
    pulls = resid / g.mcse
    z = float(np.max(np.abs(pulls)))
    return Check("kallen_lehmann", Estimate(resid, g.mcse), z, _null_verdict(z, threshold),
                 threshold, "delta method on ArviZ MCSE of time-averaged products; NNLS fit",
                 {"tau": tau, "G": g, "rates": rates, "weights": rho,
                  "residual_norm": float(np.sqrt(np.mean(pulls**2))),
                  "detectable": threshold * float(np.max(g.mcse)) / float(g.value[0])})
