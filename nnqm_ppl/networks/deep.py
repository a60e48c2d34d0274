"""Deep NN-QM: random networks on reflection-positive inputs, and parameter splitting.

Two constructions of reflection-positive (RP) Euclidean quantum mechanics from Ferko & Halverson
(2504.05462; talk slides "Mechanisms for reflection positivity" and Theorem 4):

1. :class:`DeepNetwork` — ``y_t = φ_θ(x_t)``: a random MLP, parameters drawn once per path, applied
   pointwise in time to a symmetric Markov (hence RP) input, by default the stationary OU process
   (vector-valued with several rates for ``in_dim > 1``). Theorem 4: ``y`` is RP, though no
   longer Markov. For one θ and a scalar OU input the spectrum is ``{nγ}``
   (:func:`nnqm_ppl.exact.processes.hermite_spectrum`).
2. :class:`SplitNetwork` — parameter splitting, ``θ = θ⁰ ∪ θ⁺ ∪ θ⁻``:

   .. math::

       \\phi(t) = \\sum_k \\theta^0_k\\, g_k(|t|) + \\sum_k \\theta^{\\mathrm{sign}(t)}_k\\, h_k(|t|),
       \\qquad h_k(0) = 0.

   Why it is RP: for t > 0 φ depends on (θ⁰, θ⁺) only and φ(−t) is *the same function* of
   (θ⁰, θ⁻) (the θ⁰ part is even in t), and θ⁺, θ⁻ are i.i.d. given θ⁰. Hence for any F and
   positive times ``⟨F(φ(t_1..t_n)) F(φ(−t_1..−t_n))⟩ = E_{θ⁰} |E[F | θ⁰]|² ≥ 0``.
   :func:`ou_split` builds the instance in which this is the Markov property read as splitting:
   ``g(|t|) = e^{−γ|t|}``, θ⁰ = x(0) ~ N(0, σ²), and h_k the Karhunen–Loève basis of the OU
   process started at 0, ``K_0(u, v) = σ²(e^{−γ|u−v|} − e^{−γ(u+v)})``; as K → ∞ with Gaussian
   θ± this is the stationary OU process on [−T, T]. Non-Gaussian θ± (pairwise uncorrelated) keep
   the two-point function and RP, and change the four-point function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax.scipy.special import erf
from numpyro.infer import Predictive

from nnqm_ppl.networks.kkl import PRIORS, karhunen_loeve
from nnqm_ppl.networks.processes import vector_ou_paths
from nnqm_ppl.networks.protocol import ExactSampler, record_output

__all__ = ["ACTIVATIONS", "DeepNetwork", "SplitNetwork", "ou_split"]

ACTIVATIONS: dict[str, Callable[[jnp.ndarray], jnp.ndarray]] = {
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
    "erf": erf,
    "sin": jnp.sin,
}


def _uncorrelated(name: str, kind: str, scale: jnp.ndarray) -> dist.Distribution:
    """Zero-mean law with standard deviation ``scale``: Normal, Rademacher-like or uniform."""
    if kind == "gaussian":
        return dist.Normal(0.0, scale)
    if kind == "uniform":
        return dist.Uniform(-jnp.sqrt(3.0) * scale, jnp.sqrt(3.0) * scale)
    raise ValueError(f"{name}: no continuous law {kind!r}")


@dataclass(frozen=True)
class DeepNetwork:
    """A random MLP on an OU input process: ``y_t = φ_θ(x_t)`` (Theorem 4).

    Hidden layer ``l`` (``depth`` of them, ``width`` units): ``h ← act(W_l h + b_l)`` with
    ``W_l ~ N(0, σ_w²/fan_in)``, ``b_l ~ N(0, σ_b²)``; readout ``φ = w·h + b``
    (``w ~ N(0, σ_w²/width)``). ``sigma_b = 0`` removes every bias site (then an odd activation
    gives odd φ_θ, zero mean under the symmetric input, and a clustering output).

    Attributes
    ----------
    depth, width : int
        Hidden layers (≥ 1) and units per layer (≥ 1).
    activation : str
        One of :data:`ACTIVATIONS`.
    sigma_w, sigma_b : float
        Prior scales.
    rates : tuple of float
        OU rates γ_i of the ``in_dim = len(rates)`` independent input components.
    diffusion : float
        OU diffusion D (stationary variances D/γ_i).
    """

    depth: int = 1
    width: int = 8
    activation: str = "tanh"
    sigma_w: float = 1.0
    sigma_b: float = 1.0
    rates: tuple[float, ...] = (1.0,)
    diffusion: float = 0.5

    def __post_init__(self) -> None:
        if int(self.depth) < 1:
            raise ValueError(f"depth must be >= 1, got {self.depth}")
        if int(self.width) < 1:
            raise ValueError(f"width must be >= 1, got {self.width}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}")
        if not self.sigma_w > 0:
            raise ValueError(f"sigma_w must be positive, got {self.sigma_w}")
        if not self.sigma_b >= 0:
            raise ValueError(f"sigma_b must be >= 0, got {self.sigma_b}")
        if len(self.rates) < 1 or not all(r > 0 for r in self.rates):
            raise ValueError(f"rates must be a non-empty tuple of positive floats: {self.rates}")
        if not self.diffusion > 0:
            raise ValueError(f"diffusion must be positive, got {self.diffusion}")

    @property
    def in_dim(self) -> int:
        """Dimension of the input process."""
        return len(self.rates)

    def prior(self) -> None:
        """NumPyro prior: sites ``w0..w{depth-1}``, ``b0..``, ``w_out``, ``b_out``."""
        fan_in = self.in_dim
        for layer in range(self.depth):
            scale = self.sigma_w / np.sqrt(fan_in)
            numpyro.sample(f"w{layer}", dist.Normal(0.0, scale).expand((self.width, fan_in)))
            if self.sigma_b > 0:
                numpyro.sample(f"b{layer}", dist.Normal(0.0, self.sigma_b).expand((self.width,)))
            fan_in = self.width
        numpyro.sample("w_out", dist.Normal(0.0, self.sigma_w / np.sqrt(self.width)).expand(
            (self.width,)))
        if self.sigma_b > 0:
            numpyro.sample("b_out", dist.Normal(0.0, self.sigma_b))

    def forward(self, params: dict[str, jnp.ndarray], x: jnp.ndarray) -> jnp.ndarray:
        """Pure forward of one network, pointwise over ``x`` of shape (...) or (..., in_dim).

        Returns ``φ_θ(x)`` of shape ``x.shape`` without the trailing ``in_dim`` axis (scalar
        inputs may omit it).
        """
        x = jnp.asarray(x, dtype=jnp.float64)
        h = x[..., None] if self.in_dim == 1 and (x.ndim == 0 or x.shape[-1] != 1) else x
        act = ACTIVATIONS[self.activation]
        for layer in range(self.depth):
            h = h @ params[f"w{layer}"].T
            if self.sigma_b > 0:
                h = h + params[f"b{layer}"]
            h = act(h)
        y = h @ params["w_out"]
        return y + params["b_out"] if self.sigma_b > 0 else y

    def model(self, x: jnp.ndarray) -> None:
        """The :class:`~nnqm_ppl.networks.protocol.RandomNetwork` model: :meth:`prior`, and the output
        on the input values ``x`` recorded as the site ``"x"``."""
        record_output(self.prior, self.forward, x)

    def exact_sampler(self) -> ExactSampler:
        """Exact draws of the parameters: :meth:`draw_params`."""
        return self.draw_params

    def draw_params(self, key: jax.Array, n_paths: int) -> dict[str, jnp.ndarray]:
        """Exact prior draws, one network per path (leading axis ``n_paths``)."""
        return Predictive(self.prior, num_samples=int(n_paths))(key)

    def inputs(self, key: jax.Array, n_paths: int, times: jnp.ndarray) -> jnp.ndarray:
        """Exact OU input paths, shape (n_paths, n_times, in_dim)."""
        return vector_ou_paths(key, n_paths, times, rates=self.rates, diffusion=self.diffusion)

    def draw(self, key: jax.Array, n_paths: int, times: jnp.ndarray) -> jnp.ndarray:
        """Paths ``y_t = φ_θ(x_t)``: θ and the input drawn independently per path, (n_paths, n_t)."""
        kp, kx = jax.random.split(key)
        params = self.draw_params(kp, n_paths)
        return jax.vmap(self.forward)(params, self.inputs(kx, n_paths, times))


@dataclass(frozen=True)
class SplitNetwork:
    """Parameter-splitting network ``φ(t) = Σ θ⁰_k g_k(|t|) + Σ θ^{sign t}_k h_k(|t|)``.

    Reflection positive for any laws as long as θ⁺ and θ⁻ are i.i.d. given θ⁰ (module docstring).

    Attributes
    ----------
    g : callable
        ``u ↦ g_k(u)``, shape (K0, n_u), for u = |t| ≥ 0.
    h : callable
        ``u ↦ h_k(u)``, shape (K, n_u), with ``h_k(0) = 0`` (continuity at t = 0).
    scale0 : jnp.ndarray, shape (K0,)
        Standard deviations of θ⁰ (Gaussian).
    scale_pm : jnp.ndarray, shape (K,)
        Standard deviations of θ⁺_k and θ⁻_k.
    prior_pm : str
        Law of θ± (one of :data:`~nnqm_ppl.networks.kkl.PRIORS`), i.i.d. across + and −.
    """

    g: Callable[[jnp.ndarray], jnp.ndarray]
    h: Callable[[jnp.ndarray], jnp.ndarray]
    scale0: jnp.ndarray
    scale_pm: jnp.ndarray
    prior_pm: str = "gaussian"

    def __post_init__(self) -> None:
        if self.prior_pm not in PRIORS:
            raise ValueError(f"prior_pm must be one of {PRIORS}, got {self.prior_pm!r}")

    def prior(self) -> None:
        """NumPyro prior: ``theta0`` (K0,), ``theta_plus`` and ``theta_minus`` (K,), i.i.d. ±.

        For ``rademacher`` the ± sites are ``sign_plus``/``sign_minus`` ~ Bernoulli(½) with
        deterministic ``theta_± = (2 sign − 1) scale``.
        """
        numpyro.sample("theta0", dist.Normal(0.0, self.scale0).to_event(1))
        for side in ("plus", "minus"):
            if self.prior_pm == "rademacher":
                s = numpyro.sample(
                    f"sign_{side}", dist.Bernoulli(0.5 * jnp.ones_like(self.scale_pm)).to_event(1)
                )
                numpyro.deterministic(f"theta_{side}", (2.0 * s - 1.0) * self.scale_pm)
            else:
                law = _uncorrelated("prior_pm", self.prior_pm, self.scale_pm)
                numpyro.sample(f"theta_{side}", law.to_event(1))

    def forward(self, params: dict[str, jnp.ndarray], t: jnp.ndarray) -> jnp.ndarray:
        """Pure forward; params with any leading batch shape, output (..., n_t)."""
        t = jnp.atleast_1d(jnp.asarray(t, dtype=jnp.float64))
        u = jnp.abs(t)
        even = params["theta0"] @ self.g(u)
        plus = params["theta_plus"] @ self.h(u)
        minus = params["theta_minus"] @ self.h(u)
        return even + jnp.where(t > 0, plus, minus)

    def model(self, t: jnp.ndarray) -> None:
        """The :class:`~nnqm_ppl.networks.protocol.RandomNetwork` model: :meth:`prior`, and the path
        at the times ``t`` recorded as the site ``"x"``."""
        record_output(self.prior, self.forward, t)

    def exact_sampler(self) -> ExactSampler:
        """Exact draws of the parameters (``Predictive`` of :meth:`prior`)."""
        return lambda key, n: Predictive(self.prior, num_samples=int(n))(key)

    def draw(self, key: jax.Array, n_paths: int, t: jnp.ndarray) -> jnp.ndarray:
        """Exact paths for ``n_paths`` i.i.d. parameter draws, shape (n_paths, n_t)."""
        return self.forward(self.exact_sampler()(key, n_paths), t)


def ou_split(
    horizon: float,
    n_modes: int,
    *,
    rate: float = 1.0,
    variance: float = 0.5,
    prior_pm: str = "gaussian",
    n_quad: int = 256,
) -> SplitNetwork:
    """The OU process on [−T, T] written as a parameter-splitting network.

    ``φ(t) = θ⁰ e^{−γ|t|} + Σ_{k≤K} θ^{sign t}_k f_k(|t|)`` with ``θ⁰ ~ N(0, σ²)`` (the value
    x(0)) and ``f_k``, ``Var θ±_k = λ_k`` the Karhunen–Loève pairs of the OU process started at
    zero, ``K_0(u, v) = σ²(e^{−γ|u−v|} − e^{−γ(u+v)})`` on [0, T]
    (:func:`~nnqm_ppl.networks.kkl.karhunen_loeve`, Nyström). For Gaussian θ± and K → ∞ it is
    the stationary OU process (covariance ``σ² e^{−γ|t−s|}``); at finite K the pointwise variance
    misses ``Σ_{k>K} λ_k f_k(u)²`` (see :class:`~nnqm_ppl.networks.kkl.KarhunenLoeve`).

    Parameters
    ----------
    horizon : float
        T > 0.
    n_modes : int
        K ≥ 1 modes on each side.
    rate, variance : float
        γ > 0 and σ² > 0.
    prior_pm : str
        Law of θ±: ``gaussian``, ``rademacher`` or ``uniform``.
    n_quad : int
        Nyström nodes.

    Returns
    -------
    SplitNetwork
    """
    if not (rate > 0 and variance > 0):
        raise ValueError(f"rate and variance must be positive, got {rate}, {variance}")

    def pinned(u, v):
        return variance * (jnp.exp(-rate * jnp.abs(u - v)) - jnp.exp(-rate * (u + v)))

    kl = karhunen_loeve(pinned, horizon, n_modes, n_quad=n_quad)
    return SplitNetwork(
        g=lambda u: jnp.exp(-rate * u)[None, :],
        h=kl.basis,
        scale0=jnp.sqrt(jnp.asarray([variance])),
        scale_pm=jnp.sqrt(kl.eigenvalues),
        prior_pm=prior_pm,
    )
