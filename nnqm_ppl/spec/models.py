"""Model schemas: one frozen dataclass and one reader per model ``kind``, registered in
:data:`MODEL_KINDS`, with the vocabularies their fields are chosen from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nnqm_ppl.kernels import kernel
from nnqm_ppl.physics import BOUNDARIES, Potential, check_potential
from nnqm_ppl.spec.reader import MISSING, Table

__all__ = [
    "A_PRIORS",
    "DEEP_ACTIVATIONS",
    "DEEP_PARAMETERS",
    "KKL_BASES",
    "KKL_KERNELS",
    "KKL_PRIORS",
    "MLP_ACTIVATIONS",
    "MODEL_KINDS",
    "NETWORKS",
    "NEURAL_ARCHITECTURES",
    "PROCESS_SPECS",
    "DeepNNQMSpec",
    "KKLSpec",
    "NeuralFieldSpec",
    "OUSpec",
    "PATH_DIMENSIONS",
    "PathIntegralSpec",
    "ProcessGrid",
    "read_model",
]

NEURAL_ARCHITECTURES = (
    "cosnet",
    "gaussnet",
    "free_scalar",
    "cauchy",
    "mlp",
    "nnft_ho",
    "cos_theta",
    "ib_cosnet",
)
MLP_ACTIVATIONS = ("erf", "relu", "tanh")
A_PRIORS = ("gaussian", "mixture")


@dataclass(frozen=True)
class NeuralFieldSpec:
    """A neural-network field theory φ(x) = Σ_i a_i h_i(x) (Halverson, eq. 1).

    Attributes follow the model file; fields an architecture does not use keep their defaults.
    """

    architecture: str
    width: int
    dim: int = 1
    sigma_a: float = 1.0
    sigma_b: float = 1.0
    sigma_c: float = 0.0
    mass: float = 1.0
    cutoff: float = 10.0
    activation: str = "erf"
    sigma_w: float = 1.0
    epsilon: float = 0.0
    a_prior: str = "gaussian"
    a_modes: float = 1.0
    kind: str = "neural_field"


def _neural_field(t: Table) -> NeuralFieldSpec:
    arch = t.str("architecture", choices=NEURAL_ARCHITECTURES)
    dim = t.int("dim", 1, minimum=1)
    if arch in ("cauchy", "nnft_ho", "cos_theta") and dim != 1:
        raise t.error("dim", f"architecture {arch!r} is defined for dim = 1 only, got {dim}")
    if arch == "free_scalar" and dim > 3:
        raise t.error("dim", f"free_scalar closed forms exist for dim <= 3, got {dim}")
    spec = NeuralFieldSpec(
        architecture=arch,
        width=t.int("width", 1 if arch == "cos_theta" else MISSING, minimum=1),
        dim=dim,
        sigma_a=t.float("sigma_a", 1.0, positive=True),
        sigma_b=t.float("sigma_b", 1.0, positive=True),
        sigma_c=t.float("sigma_c", 0.0, nonneg=True),
        mass=t.float("mass", 1.0, positive=True),
        cutoff=t.float("cutoff", 10.0, positive=True),
        activation=t.str("activation", "erf", choices=MLP_ACTIVATIONS),
        sigma_w=t.float("sigma_w", 1.0, positive=True),
        epsilon=t.float("epsilon", 0.0, minimum=0.0, maximum=1.0),
        a_prior=t.str("a_prior", "gaussian", choices=A_PRIORS),
        a_modes=t.float("a_modes", 1.0, positive=True),
    )
    t.raw("kind")
    return spec


NETWORKS = ("position", "step", "relu", "fourier")
#: ``dimensions`` a path-integral model supports: a particle on a line, a particle in space.
PATH_DIMENSIONS = (1, 3)


@dataclass(frozen=True)
class PathIntegralSpec:
    """A lattice path integral whose parameter density is e^{-S_E[x_θ]/ħ} (Hashimoto et al. §3).

    ``potential`` holds the coefficients c_k of x^k; the lattice spacing is a = beta / slices.
    Three geometries share the fields: a particle on a line (``dimensions = 1``, ``sites = 1``);
    a particle in three dimensions (``dimensions = 3``: x(τ) ∈ R³, one network per coordinate,
    ``potential`` the coefficients of r^k, r = |x|; §3.4, Fig. 2 left); a scalar field on a
    periodic spatial lattice of ``sites`` = L points spaced ``dx`` (one network per site, on-site
    ``potential`` P(φ), gradient term (φ_{i+1} − φ_i)²/2Δx²; §3.4, eqs. 3.21–3.22).
    """

    network: str
    potential: tuple[float, ...]
    beta: float
    slices: int
    mass: float = 1.0
    hbar: float = 1.0
    boundary: str = "periodic"
    x_ini: float | None = None
    x_fin: float | None = None
    dimensions: int = 1
    sites: int = 1
    dx: float = 1.0
    kind: str = "path_integral"

    @property
    def a(self) -> float:
        """Lattice spacing a = beta / slices."""
        return self.beta / self.slices

    @property
    def geometry(self) -> str:
        """``"line"`` (a particle on a line), ``"space"`` (in three dimensions) or ``"field"`` (L sites)."""
        return "field" if self.sites > 1 else "space" if self.dimensions > 1 else "line"

    @property
    def components(self) -> int:
        """d, the number of components of x_n: ``dimensions`` for a particle, ``sites`` for a field."""
        return self.sites if self.sites > 1 else self.dimensions

    def domain_potential(self) -> Potential:
        """V: R^d → R of the geometry: the polynomial in x, in r = |x|, or the lattice field's
        Σ_i [(φ_{i+1} − φ_i)²/2Δx² + P(φ_i)]."""
        if self.geometry == "field":
            return Potential.lattice_field(self.potential, self.sites, self.dx)
        if self.geometry == "space":
            return Potential.radial_polynomial(self.potential, self.dimensions)
        return Potential.from_coeffs(self.potential, self.boundary)


def _path_geometry(t: Table, pot: tuple[float, ...], boundary: str) -> dict[str, Any]:
    """``dimensions``, ``sites`` and ``dx``, checked together with the potential and the boundary."""
    dimensions = t.int("dimensions", 1, minimum=1)
    if dimensions not in PATH_DIMENSIONS:
        raise t.error("dimensions", f"must be 1 (a particle on a line) or 3 (a particle in space), got {dimensions}")
    sites = t.int("sites", 1, minimum=1)
    if sites > 1 and dimensions > 1:
        raise t.error("sites", "a field of L > 1 sites is a scalar field: use sites > 1 with dimensions = 1")
    dx = t.float("dx", None, positive=True)
    if dx is not None and sites == 1:
        raise t.error("dx", "the spatial spacing is only used with sites > 1")
    if (sites > 1 or dimensions > 1) and boundary != "periodic":
        what = f"sites = {sites}" if sites > 1 else f"dimensions = {dimensions}"
        raise t.error("boundary", f"{what} is supported on the periodic lattice only, not {boundary!r}")
    odd = [k for k, c in enumerate(pot) if k % 2 and c != 0.0]
    if dimensions > 1 and odd:
        powers = ", ".join(f"r^{k}" for k in odd)
        raise t.error("potential", f"{powers}: odd powers of r = |x| are not smooth at r = 0, where NUTS needs "
                                   "the gradient of V; use even powers")
    return {"dimensions": dimensions, "sites": sites, "dx": 1.0 if dx is None else dx}


def _path_integral(t: Table) -> PathIntegralSpec:
    boundary = t.str("boundary", "periodic", choices=BOUNDARIES)
    network = t.str("network", "fourier", choices=NETWORKS)
    try:
        pot = check_potential(t.floats("potential", min_length=1), boundary)
    except ValueError as exc:
        raise t.error("potential", str(exc)) from None
    x_ini = t.float("x_ini", None)
    x_fin = t.float("x_fin", None)
    if boundary == "fixed":
        for name, v in (("x_ini", x_ini), ("x_fin", x_fin)):
            if v is None:
                raise t.error(name, "fixed boundary needs both x_ini and x_fin")
    elif x_ini is not None or x_fin is not None:
        raise t.error("x_ini" if x_ini is not None else "x_fin", f"only used with boundary = 'fixed', not {boundary!r}")
    if network == "relu" and boundary == "periodic":
        raise t.error("network", "the relu network parametrises open paths: use boundary 'fixed' or 'half_line'")
    spec = PathIntegralSpec(
        network=network,
        potential=pot,
        beta=t.float("beta", positive=True),
        slices=t.int("slices", minimum=4),
        mass=t.float("mass", 1.0, positive=True),
        hbar=t.float("hbar", 1.0, positive=True),
        boundary=boundary,
        x_ini=x_ini,
        x_fin=x_fin,
        **_path_geometry(t, pot, boundary),
    )
    try:
        spec.domain_potential()
    except ValueError as exc:
        raise t.error("potential", str(exc)) from None
    t.raw("kind")
    return spec


# --------------------------------------------------------------------------------------------
# Processes and deep NN-QM (Ferko & Halverson 2504.05462)
# --------------------------------------------------------------------------------------------

#: activations of the deep NN-QM network (:data:`nnqm_ppl.networks.deep.ACTIVATIONS`).
DEEP_ACTIVATIONS = ("tanh", "relu", "erf", "sin")
DEEP_PARAMETERS = ("fixed", "per_path")
#: kernel name -> the model fields it takes (:func:`nnqm_ppl.kernels.kernel`).
KKL_KERNELS: dict[str, tuple[str, ...]] = {
    "ou": ("variance", "rate"),
    "brownian": ("diffusion",),
    "bridge": ("diffusion",),
    "gaussian": ("variance", "length"),
    "matern32": ("variance", "length"),
    "cauchy": ("variance", "length", "alpha", "beta"),
    "exp_sum": ("weights", "rates"),
}
KKL_PRIORS = ("gaussian", "rademacher", "uniform")
KKL_BASES = ("nystrom", "analytic")


@dataclass(frozen=True)
class ProcessGrid:
    """Mixin data of every process model: paths on the uniform grid t_j = −T + j·2T/steps."""

    horizon: float
    steps: int

    @property
    def dt(self) -> float:
        """Grid spacing 2T/steps."""
        return 2.0 * self.horizon / self.steps


def _grid(t: Table) -> tuple[float, int]:
    horizon = t.float("horizon", positive=True)
    steps = t.int("steps", minimum=8)
    if steps % 2:
        raise t.error("steps", f"must be even (t = 0 on the grid), got {steps}")
    return horizon, steps


@dataclass(frozen=True)
class OUSpec(ProcessGrid):
    """Stationary Ornstein–Uhlenbeck paths ``dx = −γx dt + sqrt(2D) dW`` on [−T, T].

    With ``ħ = 2mD`` (Nelson) and ``ω = γ`` these are the Euclidean paths of the harmonic
    oscillator's ground state: gaps nγ, Δx·Δp = ħ/2, [x, p] = iħ.
    """

    rate: float = 1.0
    diffusion: float = 0.5
    mass: float = 1.0
    kind: str = "ou"

    @property
    def hbar(self) -> float:
        """ħ = 2 m D."""
        return 2.0 * self.mass * self.diffusion


def _ou(t: Table) -> OUSpec:
    horizon, steps = _grid(t)
    mass = t.float("mass", 1.0, positive=True)
    spec = OUSpec(
        horizon=horizon,
        steps=steps,
        rate=t.float("rate", positive=True),
        diffusion=t.float("diffusion", 0.5 / mass, positive=True),
        mass=mass,
    )
    t.raw("kind")
    return spec


@dataclass(frozen=True)
class DeepNNQMSpec(ProcessGrid):
    """Deep NN-QM: a random MLP on an OU input, ``y_t = φ_θ(x_t)`` (Theorem 4).

    ``parameters = "fixed"``: one network (drawn with ``network_seed``) for every path — one
    quantum theory, spectrum {nγ} with Hermite weights; ``"per_path"``: θ drawn per path (the
    θ-mixture). ``rates`` are the OU rates of the input components, ``diffusion`` their D.
    """

    depth: int = 1
    width: int = 8
    activation: str = "tanh"
    sigma_w: float = 1.0
    sigma_b: float = 1.0
    parameters: str = "fixed"
    network_seed: int = 0
    rates: tuple[float, ...] = (1.0,)
    diffusion: float = 0.5
    mass: float = 1.0
    kind: str = "deep_nnqm"


def _deep_nnqm(t: Table) -> DeepNNQMSpec:
    horizon, steps = _grid(t)
    inp = t.table("input")
    if inp.has("rate") and inp.has("rates"):
        raise inp.error("rates", "give either rate (scalar OU input) or rates (vector OU input), not both")
    if inp.has("rates"):
        rates = inp.floats("rates", min_length=1, positive=True)
        if len(rates) > 3:
            raise inp.error("rates", f"at most 3 input components are supported, got {len(rates)}")
    else:
        rates = (inp.float("rate", 1.0, positive=True),)
    diffusion = inp.float("diffusion", 0.5, positive=True)
    inp.finish()
    spec = DeepNNQMSpec(
        horizon=horizon,
        steps=steps,
        depth=t.int("depth", 1, minimum=1),
        width=t.int("width", minimum=1),
        activation=t.str("activation", "tanh", choices=DEEP_ACTIVATIONS),
        sigma_w=t.float("sigma_w", 1.0, positive=True),
        sigma_b=t.float("sigma_b", 1.0, nonneg=True),
        parameters=t.str("parameters", "fixed", choices=DEEP_PARAMETERS),
        network_seed=t.int("network_seed", 0, minimum=0),
        rates=rates,
        diffusion=diffusion,
        mass=t.float("mass", 1.0, positive=True),
    )
    t.raw("kind")
    return spec


@dataclass(frozen=True)
class KKLSpec(ProcessGrid):
    """A truncated Karhunen–Loève network φ(t) = Σ_{k≤K} θ_k f_k(t + T) of a kernel on [0, 2T].

    Kernel parameters are flat fields; each kernel uses those listed in :data:`KKL_KERNELS`
    (others keep their defaults and are ignored), so ``--set model.kernel="matern32"`` works on a
    file written for ``ou``. ``mass`` enters the [x, p] estimator; ħ is not a parameter: it is
    the paths' quadratic variation, 0 for a finite-K network (smooth paths), so ``hbar`` is refused.
    """

    kernel: str = "ou"
    n_modes: int = 64
    prior: str = "gaussian"
    basis: str = "nystrom"
    n_quad: int = 256
    variance: float = 0.5
    rate: float = 1.0
    length: float = 1.0
    alpha: float = 1.0
    beta: float = 1.0
    diffusion: float = 0.5
    weights: tuple[float, ...] = (0.5,)
    rates: tuple[float, ...] = (1.0,)
    mass: float = 1.0
    kind: str = "kkl"

    def kernel_params(self) -> dict[str, Any]:
        """The keyword arguments of :func:`nnqm_ppl.kernels.kernel` for this kernel."""
        return {name: getattr(self, name) for name in KKL_KERNELS[self.kernel]}


def _check_kernel_psd(spec: KKLSpec, t: Table) -> None:
    """Refuse kernel parameters the kernel rejects, and kernels not PSD on the model's grid."""
    import numpy as np

    params = spec.kernel_params()
    if spec.kernel == "bridge":  # pinned at both ends of [0, 2T], as karhunen_loeve builds it
        params["horizon"] = 2.0 * spec.horizon
    try:
        cov = kernel(spec.kernel, **params)
    except ValueError as exc:
        msg = str(exc)
        named = next((p for p in params if msg.startswith(p) or f"{p} " in msg or f"needs {p}" in msg), "kernel")
        raise t.error(named, msg) from None
    times = np.linspace(0.0, 2.0 * spec.horizon, spec.steps + 1)
    gram = np.asarray(cov(times[:, None], times[None, :]), dtype=float)
    if not np.all(np.isfinite(gram)):
        raise t.error("kernel", f"kernel {spec.kernel!r} is not finite on the grid")
    lam = np.linalg.eigvalsh(0.5 * (gram + gram.T))
    if lam[-1] <= 0 or lam[0] < -100.0 * gram.shape[0] * np.finfo(float).eps * lam[-1]:
        raise t.error(
            "kernel",
            f"kernel {spec.kernel!r} is not positive semidefinite on the grid: smallest eigenvalue "
            f"{lam[0]:.3g} (largest {lam[-1]:.3g})",
        )


def _kkl(t: Table) -> KKLSpec:
    horizon, steps = _grid(t)
    kernel = t.str("kernel", "ou", choices=tuple(KKL_KERNELS))
    basis = t.str("basis", "nystrom", choices=KKL_BASES)
    if basis == "analytic" and kernel not in ("ou", "brownian", "bridge"):
        raise t.error("basis", f"'analytic' is available for ou, brownian, bridge, not {kernel!r}")
    n_modes = t.int("n_modes", minimum=1)
    n_quad = t.int("n_quad", max(256, n_modes), minimum=2)
    if n_quad < n_modes:
        raise t.error("n_quad", f"must be >= n_modes = {n_modes}, got {n_quad}")
    weights = t.floats("weights", [0.5], min_length=1, nonneg=True)
    rates = t.floats("rates", [1.0], min_length=1, nonneg=True)
    if len(weights) != len(rates):
        raise t.error("weights", f"needs as many weights as rates, got {len(weights)} and {len(rates)}")
    spec = KKLSpec(
        horizon=horizon,
        steps=steps,
        kernel=kernel,
        n_modes=n_modes,
        prior=t.str("prior", "gaussian", choices=KKL_PRIORS),
        basis=basis,
        n_quad=n_quad,
        variance=t.float("variance", 0.5, positive=True),
        rate=t.float("rate", 1.0, positive=True),
        length=t.float("length", 1.0, positive=True),
        alpha=t.float("alpha", 1.0, positive=True),
        beta=t.float("beta", 1.0, positive=True),
        diffusion=t.float("diffusion", 0.5, positive=True),
        weights=tuple(weights),
        rates=tuple(rates),
        mass=t.float("mass", 1.0, positive=True),
    )
    if t.has("hbar"):
        raise t.error("hbar", "a Karhunen-Loeve network's hbar is the quadratic variation of its paths "
                              "(0 at finite K), not a parameter: remove it")
    _check_kernel_psd(spec, t)
    t.raw("kind")
    return spec


#: model kind -> validator of its table (the table's ``kind`` field selects the entry).
MODEL_KINDS: dict[str, Callable[[Table], Any]] = {
    "neural_field": _neural_field,
    "path_integral": _path_integral,
    "ou": _ou,
    "deep_nnqm": _deep_nnqm,
    "kkl": _kkl,
}


def read_model(t: Table) -> Any:
    """Validate a model table: its ``kind`` selects the reader in :data:`MODEL_KINDS`."""
    kind = t.str("kind", choices=tuple(MODEL_KINDS))
    spec = MODEL_KINDS[kind](t)
    t.finish()
    return spec


#: the process models (task ``nnqm``).
PROCESS_SPECS = (OUSpec, DeepNNQMSpec, KKLSpec)
