r"""Karhunen–Loève networks: φ(t) = μ(t) + Σ_{k≤K} θ_k f_k(t) on [0, T] (Theorem 3).

Ferko & Halverson (2504.05462), Theorem 3 (Kosambi–Karhunen–Loève): every mean-square continuous
process with a finite two-point function is a network

.. math::

    \phi_\theta(t) = \langle x(t) \rangle + \sum_{k \ge 1} \theta_k f_k(t),

with ``f_k`` orthonormal in L²[0, T] — the eigenfunctions of the covariance operator,
``∫_0^T K(t, s) f_k(s) ds = λ_k f_k(t)`` — and pairwise uncorrelated ``θ_k`` with
``E θ_k = 0``, ``E θ_k θ_l = λ_k δ_kl``. Truncating at K modes gives the covariance
``K_K(t, s) = Σ_{k≤K} λ_k f_k(t) f_k(s)``; the mean-square truncation error is
``∫_0^T E|φ − φ_K|² dt = Σ_{k>K} λ_k``, reported as ``1 − captured``.

The eigenpairs come from

- the Nyström method: Gauss–Legendre nodes ``t_j`` with weights ``w_j`` on [0, T], the symmetric
  eigenproblem ``W^{1/2} K W^{1/2} u = λ u`` (``jnp.linalg.eigh``), ``f_k(t_j) = u_kj / sqrt(w_j)``,
  and off the nodes the Nyström interpolant ``f_k(t) = λ_k^{-1} Σ_j w_j K(t, t_j) f_k(t_j)``;
- closed forms (``basis="analytic"``) for Brownian motion (``λ_k = 2D T²/((k − ½)²π²)``,
  ``f_k = sqrt(2/T) sin((k − ½)πt/T)``), the Brownian bridge (``λ_k = 2D T²/(k²π²)``,
  ``f_k = sqrt(2/T) sin(kπt/T)``) and OU (``λ = 2σ²γ/(γ² + ω²)`` with ``ω tan(ωT/2) = γ``
  (even modes) or ``ω cot(ωT/2) = −γ`` (odd modes) about the midpoint).

The law of the θ_k (``prior``) only has to make them pairwise uncorrelated: ``gaussian``
(θ_k ~ N(0, λ_k): a Gaussian process), ``rademacher`` (θ_k = ±sqrt(λ_k)) and ``uniform``
(θ_k ~ U[−sqrt(3λ_k), sqrt(3λ_k)]) share every two-point function but differ at four points:
``G4c(t_1..t_4) = Σ_k κ_4(θ_k) Π_i f_k(t_i)`` with ``κ_4 = 0, −2λ_k², −(6/5)λ_k²``.

A truncated network has smooth paths whatever the kernel: ``φ_K`` combines K fixed eigenfunctions
(sinusoids, or Nyström sums of kernel sections ``K(t, t_j)``, smooth but at finitely many points),
so its quadratic variation ``Σ_n (φ(t_{n+1}) − φ(t_n))²`` vanishes as the grid is refined. In the
Euclidean reading ħ = m × (quadratic variation per unit time) = 0: the lattice commutator tends to
0, not to the kernel's ``−2mσ²γ`` (OU), which is reached only when K → ∞ before dt → 0.

Built-in kernels (:func:`kernel`): ``ou``, ``brownian``, ``bridge``, ``gaussian`` (Cos-net's
two-point function), ``matern32``, ``cauchy`` (the generalised Cauchy family), ``exp_sum``; or any
JAX callable ``K(t, s)`` broadcasting over its arguments. A kernel that is not positive
semidefinite on the quadrature grid is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from nnqm_ppl.kernels import KERNELS, Kernel, kernel, positive
from nnqm_ppl.networks.protocol import ExactSampler, record_output

__all__ = ["KERNELS", "PRIORS", "kernel", "KarhunenLoeve", "karhunen_loeve"]

PRIORS = ("gaussian", "rademacher", "uniform")
_KAPPA4 = {"gaussian": 0.0, "rademacher": -2.0, "uniform": -6.0 / 5.0}
_ANALYTIC = ("ou", "brownian", "bridge")


@dataclass(frozen=True)
class KarhunenLoeve:
    """A truncated Karhunen–Loève network on [0, T]; build with :func:`karhunen_loeve`.

    Attributes
    ----------
    name : str
        Kernel name (or ``"callable"``).
    horizon : float
        T.
    eigenvalues : jnp.ndarray, shape (K,)
        λ_1 ≥ … ≥ λ_K (the variances of θ_k).
    nodes, weights : jnp.ndarray, shape (n_quad,)
        Gauss–Legendre quadrature on [0, T].
    vectors : jnp.ndarray, shape (K, n_quad)
        f_k at the nodes (orthonormal under the quadrature).
    total_variance : float
        ``∫_0^T K(t, t) dt`` (quadrature) = Σ_k λ_k over all modes.
    captured : float
        ``Σ_{k≤K} λ_k / total_variance``; ``1 − captured`` is the relative mean-square
        truncation error.
    prior_kind : str
        Law of the θ_k, one of :data:`PRIORS`.
    covariance : callable
        The kernel ``K(t, s)``.
    mean : callable
        μ(t).
    analytic : callable or None
        Closed-form ``t ↦ f_k(t)`` (shape (K, n_t)) where one is used, else Nyström.
    """

    name: str
    horizon: float
    eigenvalues: jnp.ndarray
    nodes: jnp.ndarray
    weights: jnp.ndarray
    vectors: jnp.ndarray
    total_variance: float
    captured: float
    prior_kind: str
    covariance: Kernel
    mean: Callable[[jnp.ndarray], jnp.ndarray]
    analytic: Callable[[jnp.ndarray], jnp.ndarray] | None

    @property
    def n_modes(self) -> int:
        """K, the number of parameters θ_k."""
        return int(self.eigenvalues.shape[0])

    def basis(self, t: jnp.ndarray) -> jnp.ndarray:
        """``f_k(t)``, shape (K, n_t): closed form, or the Nyström interpolant off the nodes."""
        t = jnp.atleast_1d(jnp.asarray(t, dtype=jnp.float64))
        if self.analytic is not None:
            return self.analytic(t)
        kts = self.covariance(t[:, None], self.nodes[None, :]) * self.weights  # (n_t, n_quad)
        return (self.vectors @ kts.T) / self.eigenvalues[:, None]

    def prior(self) -> None:
        """NumPyro prior: the site ``theta`` (shape (K,)), pairwise uncorrelated, Var = λ_k.

        ``gaussian``: ``theta ~ N(0, λ_k)``; ``uniform``: ``theta ~ U[−√(3λ_k), √(3λ_k)]``;
        ``rademacher``: site ``sign ~ Bernoulli(½)`` and deterministic
        ``theta = (2 sign − 1) √λ_k``.
        """
        scale = jnp.sqrt(self.eigenvalues)
        if self.prior_kind == "gaussian":
            numpyro.sample("theta", dist.Normal(0.0, scale).to_event(1))
        elif self.prior_kind == "uniform":
            lim = jnp.sqrt(3.0) * scale
            numpyro.sample("theta", dist.Uniform(-lim, lim).to_event(1))
        else:
            sign = numpyro.sample("sign", dist.Bernoulli(0.5 * jnp.ones_like(scale)).to_event(1))
            numpyro.deterministic("theta", (2.0 * sign - 1.0) * scale)

    def forward(self, params: dict[str, jnp.ndarray], t: jnp.ndarray) -> jnp.ndarray:
        """Pure forward ``μ(t) + Σ_k θ_k f_k(t)``; ``params["theta"]`` of shape (..., K)."""
        t = jnp.atleast_1d(jnp.asarray(t, dtype=jnp.float64))
        return self.mean(t) + params["theta"] @ self.basis(t)

    def model(self, t: jnp.ndarray) -> None:
        """The :class:`~nnqm_ppl.networks.protocol.RandomNetwork` model: :meth:`prior`, and the path
        at the times ``t`` recorded as the site ``"x"``."""
        record_output(self.prior, self.forward, t)

    def exact_sampler(self) -> ExactSampler:
        """Exact draws of the parameters: ``{"theta": draw_theta(key, n)}``."""
        return lambda key, n: {"theta": self.draw_theta(key, n)}

    def draw_theta(self, key: jax.Array, n_paths: int) -> jnp.ndarray:
        """Exact i.i.d. draws of θ from the prior, shape (n_paths, K)."""
        shape = (int(n_paths), self.n_modes)
        scale = jnp.sqrt(self.eigenvalues)
        if self.prior_kind == "gaussian":
            return scale * jax.random.normal(key, shape)
        if self.prior_kind == "uniform":
            return jnp.sqrt(3.0) * scale * jax.random.uniform(key, shape, minval=-1.0, maxval=1.0)
        return scale * jax.random.rademacher(key, shape, dtype=jnp.float64)

    def draw(self, key: jax.Array, n_paths: int, t: jnp.ndarray) -> jnp.ndarray:
        """Exact paths ``φ_θ(t)`` for ``n_paths`` i.i.d. θ draws, shape (n_paths, n_t)."""
        if int(n_paths) < 1:
            raise ValueError(f"n_paths must be >= 1, got {n_paths}")
        return self.forward({"theta": self.draw_theta(key, n_paths)}, t)

    def truncated_covariance(self, t: jnp.ndarray, s: jnp.ndarray) -> jnp.ndarray:
        """``K_K(t, s) = Σ_{k≤K} λ_k f_k(t) f_k(s)``: the network's exact two-point function."""
        ft, fs = self.basis(t), self.basis(s)
        return (ft * self.eigenvalues[:, None]).T @ fs

    def connected_four_point(self, ts: jnp.ndarray) -> jnp.ndarray:
        """Exact ``G4c(t_1, t_2, t_3, t_4) = Σ_k κ_4(θ_k) Π_i f_k(t_i)``.

        Parameters
        ----------
        ts : array, shape (n, 4)
            n quadruples of times.

        Returns
        -------
        jnp.ndarray, shape (n,)
        """
        ts = jnp.asarray(ts, dtype=jnp.float64)
        f = self.basis(ts.reshape(-1)).reshape(self.n_modes, *ts.shape)
        kappa = _KAPPA4[self.prior_kind] * self.eigenvalues**2
        return kappa @ jnp.prod(f, axis=-1)


def _ou_analytic(
    variance: float, rate: float, horizon: float, n_modes: int
) -> tuple[np.ndarray, Callable[[jnp.ndarray], jnp.ndarray]]:
    """Eigenpairs of ``σ² e^{−γ|t−s|}`` on [0, T] by bisection of the transcendental equations."""
    a = 0.5 * horizon
    n = np.arange(n_modes)
    even = n % 2 == 0
    half = n // 2
    # even (cos) roots: ωa ∈ (mπ, mπ + π/2), g = ω tan(ωa) − γ increasing from −γ to +∞;
    # odd (sin) roots: ωa ∈ (mπ + π/2, (m + 1)π), g = −ω cot(ωa) − γ increasing from −γ to +∞.
    lo = np.where(even, half * np.pi, half * np.pi + 0.5 * np.pi) / a
    hi = np.where(even, half * np.pi + 0.5 * np.pi, (half + 1) * np.pi) / a
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        g = np.where(even, mid * np.tan(mid * a), -mid / np.tan(mid * a)) - rate
        lo, hi = np.where(g < 0, mid, lo), np.where(g < 0, hi, mid)
    omega = 0.5 * (lo + hi)
    lam = 2.0 * variance * rate / (rate**2 + omega**2)
    norm = np.sqrt(a + np.where(even, 1.0, -1.0) * np.sin(2.0 * omega * a) / (2.0 * omega))
    om, ev, nm = jnp.asarray(omega), jnp.asarray(even), jnp.asarray(norm)

    def f(t):
        u = om[:, None] * (t[None, :] - a)
        return jnp.where(ev[:, None], jnp.cos(u), jnp.sin(u)) / nm[:, None]

    return lam, f


def _sine_analytic(
    scale: float, horizon: float, n_modes: int, shift: float
) -> tuple[np.ndarray, Callable[[jnp.ndarray], jnp.ndarray]]:
    """``λ_k = scale/ν_k²``, ``f_k = sqrt(2/T) sin(ν_k t)``, ``ν_k = (k − shift)π/T``, k ≥ 1."""
    freq = (np.arange(1, n_modes + 1) - shift) * np.pi / horizon
    lam = scale / freq**2
    fr = jnp.asarray(freq)
    return lam, lambda t: jnp.sqrt(2.0 / horizon) * jnp.sin(fr[:, None] * t[None, :])


def karhunen_loeve(
    kernel_spec: str | Kernel,
    horizon: float,
    n_modes: int,
    *,
    prior: str = "gaussian",
    basis: str = "nystrom",
    n_quad: int = 256,
    mean: Callable[[jnp.ndarray], jnp.ndarray] | None = None,
    **kernel_params: float | np.ndarray,
) -> KarhunenLoeve:
    """Build the K-mode Karhunen–Loève network of a covariance kernel on [0, T] (Theorem 3).

    Parameters
    ----------
    kernel_spec : str or callable
        A name in :data:`KERNELS` (parameters as keywords) or a JAX callable ``K(t, s)``.
    horizon : float
        T > 0.
    n_modes : int
        K ≥ 1 (at most ``n_quad``).
    prior : str
        Law of the θ_k: ``gaussian``, ``rademacher`` or ``uniform`` (all pairwise uncorrelated
        with Var θ_k = λ_k).
    basis : str
        ``nystrom`` (any kernel) or ``analytic`` (``ou``, ``brownian``, ``bridge``).
    n_quad : int
        Gauss–Legendre nodes for the Nyström eigenproblem and ``total_variance``.
    mean : callable, optional
        μ(t); zero by default.
    **kernel_params
        Parameters of a named kernel (``bridge`` gets ``horizon = T`` unless given).

    Returns
    -------
    KarhunenLoeve

    Raises
    ------
    ValueError
        For T ≤ 0, K < 1, K > n_quad, an unknown prior/basis/kernel, or a kernel that is not
        positive semidefinite on the grid (smallest Nyström eigenvalue below
        ``−100 n_quad ε λ_max``).
    """
    horizon = positive("horizon", horizon)
    if int(n_modes) < 1:
        raise ValueError(f"n_modes must be >= 1, got {n_modes}")
    if int(n_quad) < int(n_modes):
        raise ValueError(f"n_quad must be >= n_modes, got n_quad={n_quad}, n_modes={n_modes}")
    if prior not in PRIORS:
        raise ValueError(f"prior must be one of {PRIORS}, got {prior!r}")
    if basis not in ("nystrom", "analytic"):
        raise ValueError(f"basis must be 'nystrom' or 'analytic', got {basis!r}")
    if isinstance(kernel_spec, str):
        name = kernel_spec
        if name == "bridge":
            kernel_params.setdefault("horizon", horizon)
        cov = kernel(name, **kernel_params)
    elif callable(kernel_spec):
        name, cov = "callable", kernel_spec
    else:
        raise ValueError(f"kernel must be a name or a callable, got {kernel_spec!r}")
    if basis == "analytic" and name not in _ANALYTIC:
        raise ValueError(f"basis='analytic' is available for {_ANALYTIC}, not {name!r}")

    x, w = np.polynomial.legendre.leggauss(int(n_quad))
    nodes = jnp.asarray(0.5 * horizon * (x + 1.0))
    wts = jnp.asarray(0.5 * horizon * w)
    sw = jnp.sqrt(wts)
    gram = sw[:, None] * cov(nodes[:, None], nodes[None, :]) * sw[None, :]
    if not bool(jnp.all(jnp.isfinite(gram))):
        raise ValueError(f"kernel {name!r} is not finite on the grid")
    lam, u = jnp.linalg.eigh(0.5 * (gram + gram.T))
    lam, u = lam[::-1], u[:, ::-1]
    if float(lam[-1]) < -100.0 * n_quad * np.finfo(float).eps * float(lam[0]):
        raise ValueError(
            f"kernel {name!r} is not positive semidefinite on [0, {horizon}]: smallest Nyström "
            f"eigenvalue {float(lam[-1]):.3g} (largest {float(lam[0]):.3g})"
        )
    total = float(jnp.sum(wts * jnp.diagonal(cov(nodes[:, None], nodes[None, :]))))
    k = int(n_modes)
    analytic = None
    eig = lam[:k]
    if basis == "analytic":
        d = float(kernel_params.get("diffusion", 0.5))
        if name == "ou":
            eig_np, analytic = _ou_analytic(
                float(kernel_params.get("variance", 0.5)),
                float(kernel_params.get("rate", 1.0)),
                horizon,
                k,
            )
        else:
            shift = 0.5 if name == "brownian" else 0.0
            eig_np, analytic = _sine_analytic(2.0 * d, horizon, k, shift)
        eig = jnp.asarray(eig_np)
    vectors = u[:, :k].T / sw[None, :]
    return KarhunenLoeve(
        name=name,
        horizon=horizon,
        eigenvalues=eig,
        nodes=nodes,
        weights=wts,
        vectors=vectors if analytic is None else analytic(nodes),
        total_variance=total,
        captured=float(jnp.sum(eig)) / total,
        prior_kind=prior,
        covariance=cov,
        mean=mean if mean is not None else (lambda t: jnp.zeros_like(t)),
        analytic=analytic,
    )
