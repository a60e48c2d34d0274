"""Reading and validating job and model files (the suite's only TOML reader).

A job file names a task, a model (a path relative to the job file, or an inline ``[model]``
table), a ``[sampler]``, ``[observables]`` and ``[gates]``. ``--set KEY=VALUE`` overrides are
applied to the raw tables before validation, so an override is checked exactly like a value in a
file. Every problem raises :class:`SpecError`, whose one-line message names the file (or the
``--set`` option), the dotted field and the reason.

Adding a model kind or a task is one validator function here plus one entry in
:data:`MODEL_KINDS` or :data:`TASK_FIELDS`.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nnqm_ppl.kernels import kernel
from nnqm_ppl.physics import BOUNDARIES, check_potential

__all__ = [
    "SpecError",
    "Table",
    "Job",
    "SamplerSpec",
    "GatesSpec",
    "NeuralFieldSpec",
    "PathIntegralSpec",
    "CorrelatorsTask",
    "SampleTask",
    "OUSpec",
    "DeepNNQMSpec",
    "KKLSpec",
    "NNQMTask",
    "FitTask",
    "Prior",
    "load_job",
    "load_model",
    "load_file",
    "parse_override",
]

_MISSING: Any = object()


class SpecError(ValueError):
    """A job or model file, or a ``--set`` override, is invalid.

    Parameters
    ----------
    where : str
        The file (or ``--set KEY``) that holds the problem.
    field : str
        Dotted name of the offending field ("" for the whole file).
    reason : str
        What is wrong, in plain words.
    """

    def __init__(self, where: str, field: str, reason: str) -> None:
        self.where = where
        self.field = field
        self.reason = reason
        loc = f"{where}: {field}" if field else where
        super().__init__(f"{loc}: {reason}")


# --------------------------------------------------------------------------------------------
# Raw TOML and overrides
# --------------------------------------------------------------------------------------------


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning every I/O or syntax problem into a :class:`SpecError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(str(path), "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(str(path), "", f"cannot read file ({exc.__class__.__name__})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(str(path), "", f"malformed TOML: {exc}") from None


def parse_override(item: str) -> tuple[list[str], Any]:
    """Split ``KEY=VALUE`` into its dotted key and a TOML-parsed value.

    The value is parsed as a TOML value (``[0, 0, 0.5]``, ``4``, ``"fourier"``, ``true``); a bare
    word that is not valid TOML (``fourier``) is taken as a string.
    """
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise SpecError(f"--set {item}", "", "expected KEY=VALUE with a dotted KEY")
    value = value.strip()
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        if not value or any(c in value for c in "[]{}=\"'"):
            raise SpecError(f"--set {item}", key, f"cannot parse value {value!r}") from None
        parsed = value
    return key.split("."), parsed


def _apply_override(raw: dict[str, Any], keys: list[str], value: Any, item: str) -> None:
    node = raw
    for k in keys[:-1]:
        nxt = node.setdefault(k, {})
        if not isinstance(nxt, dict):
            raise SpecError(f"--set {item}", ".".join(keys), f"{k!r} is not a table")
        node = nxt
    node[keys[-1]] = value


# --------------------------------------------------------------------------------------------
# A table under validation
# --------------------------------------------------------------------------------------------


@dataclass
class _Origin:
    """Tells which file (or ``--set`` option) a dotted field came from."""

    job_file: str
    model_file: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)

    def __call__(self, path: str) -> str:
        for key, item in self.overrides.items():
            if path == key or path.startswith(key + ".") or key.startswith(path + "."):
                return f"--set {item}"
        if path.startswith("model.") and self.model_file is not None:
            return self.model_file
        return self.job_file


class Table:
    """A TOML table being validated.

    Typed getters check a value and raise :class:`SpecError` naming the origin and the dotted
    field. :meth:`finish` refuses keys that nobody read (typos).

    Parameters
    ----------
    data : dict
        The raw table.
    origin : callable
        Maps a dotted field to the file or option it came from.
    prefix : str
        Dotted prefix of this table ("" at top level).
    """

    def __init__(self, data: dict[str, Any], origin: Callable[[str], str], prefix: str = "") -> None:
        if not isinstance(data, dict):
            raise SpecError(origin(prefix), prefix, "expected a table")
        self.data = data
        self.origin = origin
        self.prefix = prefix
        self._used: set[str] = set()

    def path(self, key: str) -> str:
        """Dotted name of ``key`` in this table."""
        return f"{self.prefix}.{key}" if self.prefix else key

    def error(self, key: str, reason: str) -> SpecError:
        """A :class:`SpecError` for ``key`` of this table."""
        p = self.path(key)
        return SpecError(self.origin(p), p, reason)

    def has(self, key: str) -> bool:
        """Whether ``key`` is present."""
        return key in self.data

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        """The raw value of ``key`` (marks it read)."""
        self._used.add(key)
        if key not in self.data:
            if default is _MISSING:
                raise self.error(key, "required field is missing")
            return default
        return self.data[key]

    def float(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        positive: bool = False,
        nonneg: bool = False,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        """A finite real number, optionally range-checked."""
        v = self.raw(key, default)
        if v is None:
            return v
        return _check_float(v, lambda r: self.error(key, r), positive, nonneg, minimum, maximum)

    def int(self, key: str, default: Any = _MISSING, *, minimum: int | None = None) -> int:
        """An integer (a float such as 4.0 is refused), optionally bounded below."""
        v = self.raw(key, default)
        if v is None:
            return v
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.error(key, f"expected an integer, got {v!r}")
        if minimum is not None and v < minimum:
            raise self.error(key, f"must be >= {minimum}, got {v}")
        return v

    def bool(self, key: str, default: Any = _MISSING) -> bool:
        """A boolean."""
        v = self.raw(key, default)
        if not isinstance(v, bool):
            raise self.error(key, f"expected true or false, got {v!r}")
        return v

    def str(self, key: str, default: Any = _MISSING, *, choices: Sequence[str] | None = None) -> str:
        """A string, optionally one of ``choices``."""
        v = self.raw(key, default)
        if v is None:
            return v
        if not isinstance(v, str):
            raise self.error(key, f"expected a string, got {v!r}")
        if choices is not None and v not in choices:
            raise self.error(key, f"unknown value {v!r}; choose one of {', '.join(choices)}")
        return v

    def floats(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        min_length: int = 0,
        length: int | None = None,
        positive: bool = False,
        nonneg: bool = False,
    ) -> tuple[float, ...]:
        """A list of finite real numbers."""
        v = self.raw(key, default)
        if v is None:
            return v
        if not isinstance(v, list):
            raise self.error(key, f"expected a list of numbers, got {v!r}")
        if length is not None and len(v) != length:
            raise self.error(key, f"expected {length} numbers, got {len(v)}")
        if len(v) < min_length:
            raise self.error(key, f"expected at least {min_length} numbers, got {len(v)}")
        return tuple(
            _check_float(x, lambda r, i=i: self.error(f"{key}[{i}]", r), positive, nonneg, None, None)
            for i, x in enumerate(v)
        )

    def strs(self, key: str, default: Any = _MISSING, *, choices: Sequence[str] | None = None) -> tuple[str, ...]:
        """A list of strings, each optionally one of ``choices``."""
        v = self.raw(key, default)
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
            raise self.error(key, f"expected a list of strings, got {v!r}")
        if choices is not None:
            for s in v:
                if s not in choices:
                    raise self.error(key, f"unknown name {s!r}; choose from {', '.join(choices)}")
        return tuple(v)

    def table(self, key: str) -> Table:
        """A sub-table (empty if absent)."""
        return Table(self.raw(key, {}), self.origin, self.path(key))

    def finish(self) -> None:
        """Refuse any key that no getter read."""
        unknown = sorted(set(self.data) - self._used)
        if unknown:
            raise self.error(unknown[0], "unknown field (check the spelling)")


def _check_float(
    v: Any,
    err: Callable[[str], SpecError],
    positive: bool,
    nonneg: bool,
    minimum: float | None,
    maximum: float | None,
) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise err(f"expected a number, got {v!r}")
    v = float(v)
    if not math.isfinite(v):
        raise err(f"must be finite, got {v}")
    if positive and v <= 0:
        raise err(f"must be > 0, got {v}")
    if nonneg and v < 0:
        raise err(f"must be >= 0, got {v}")
    if minimum is not None and v < minimum:
        raise err(f"must be >= {minimum}, got {v}")
    if maximum is not None and v > maximum:
        raise err(f"must be <= {maximum}, got {v}")
    return v


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------

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
        width=t.int("width", 1 if arch == "cos_theta" else _MISSING, minimum=1),
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


@dataclass(frozen=True)
class PathIntegralSpec:
    """A lattice path integral whose parameter density is e^{-S_E[x_θ]/ħ} (Hashimoto et al.).

    ``potential`` holds the coefficients c_k of x^k; the lattice spacing is a = beta / slices.
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
    kind: str = "path_integral"

    @property
    def a(self) -> float:
        """Lattice spacing a = beta / slices."""
        return self.beta / self.slices


def _path_integral(t: Table) -> PathIntegralSpec:
    boundary = t.str("boundary", "periodic", choices=BOUNDARIES)
    network = t.str("network", "fourier", choices=NETWORKS)
    try:
        pot = check_potential(t.floats("potential", min_length=1))
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
    )
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


def _model(t: Table) -> Any:
    kind = t.str("kind", choices=tuple(MODEL_KINDS))
    spec = MODEL_KINDS[kind](t)
    t.finish()
    return spec


# --------------------------------------------------------------------------------------------
# Jobs
# --------------------------------------------------------------------------------------------

SAMPLER_METHODS = ("nuts", "hmc", "exact")


@dataclass(frozen=True)
class SamplerSpec:
    """How draws are made: exact sampling or NumPyro NUTS/HMC.

    ``checkpoint_every`` (draws per chain, 0 = off) cuts MCMC sampling into segments of that many
    draws; after each one the sampler state and the draws so far are saved, so ``--resume`` can
    continue bit for bit. The draws depend on it (through the segment boundaries' compiled
    programs), so it is part of the resolved spec a checkpoint must match.
    """

    method: str = "nuts"
    chains: int = 4
    warmup: int = 1000
    samples: int = 1000
    seed: int = 0
    target_accept: float = 0.8
    max_tree_depth: int = 10
    step_size: float = 0.1
    num_steps: int = 16
    checkpoint_every: int = 500


def _sampler(t: Table) -> SamplerSpec:
    s = SamplerSpec(
        method=t.str("method", "nuts", choices=SAMPLER_METHODS),
        chains=t.int("chains", 4, minimum=1),
        warmup=t.int("warmup", 1000, minimum=0),
        samples=t.int("samples", 1000, minimum=2),
        seed=t.int("seed", 0, minimum=0),
        target_accept=t.float("target_accept", 0.8, minimum=0.05, maximum=0.999),
        max_tree_depth=t.int("max_tree_depth", 10, minimum=1),
        step_size=t.float("step_size", 0.1, positive=True),
        num_steps=t.int("num_steps", 16, minimum=1),
        checkpoint_every=t.int("checkpoint_every", 500, minimum=0),
    )
    t.finish()
    return s


@dataclass(frozen=True)
class GatesSpec:
    """Thresholds a run must meet for its results to be trusted (exit 0), else exit 3."""

    rhat_max: float = 1.01
    ess_min: float = 400.0
    divergences_max: int = 0
    tree_depth_max_fraction: float = 0.05
    fit_p_min: float = 0.01  # task fit: the χ² p-value below which the fit does not describe its data


def _gates(t: Table) -> GatesSpec:
    g = GatesSpec(
        rhat_max=t.float("rhat_max", 1.01, minimum=1.0),
        ess_min=t.float("ess_min", 400.0, nonneg=True),
        divergences_max=t.int("divergences_max", 0, minimum=0),
        tree_depth_max_fraction=t.float("tree_depth_max_fraction", 0.05, minimum=0.0, maximum=1.0),
        fit_p_min=t.float("fit_p_min", 0.01, nonneg=True),
    )
    if g.fit_p_min >= 1:
        raise t.error("fit_p_min", f"must be < 1, got {g.fit_p_min}")
    t.finish()
    return g


@dataclass(frozen=True)
class CorrelatorsTask:
    """Task ``correlators``: n-point functions of a neural field at given points."""

    points: tuple[tuple[float, ...], ...]
    networks: int
    chunk: int = 20000
    orders: tuple[int, ...] = (2, 4)


def _correlators_task(t: Table, model: Any) -> CorrelatorsTask:
    if not isinstance(model, NeuralFieldSpec):
        raise t.error("model", f"task 'correlators' needs a neural_field model, got {model.kind!r}")
    raw = t.raw("points")
    if not isinstance(raw, list) or not raw:
        raise t.error("points", "expected a non-empty list of points")
    pts = []
    for i, p in enumerate(raw):
        if not isinstance(p, list):
            p = [p]
        if len(p) != model.dim:
            raise t.error(f"points[{i}]", f"has length {len(p)} but the network's dim is {model.dim}")
        err = lambda r, i=i: t.error(f"points[{i}]", r)  # noqa: E731
        pts.append(tuple(_check_float(x, err, False, False, None, None) for x in p))
    orders = tuple(sorted(set(t.raw("orders", [2, 4]))))
    for n in orders:
        if n not in (2, 4, 6):
            raise t.error("orders", f"orders must be among 2, 4, 6; got {n!r}")
    need = max(orders)
    if need > 2 and len(pts) < need:
        raise t.error("points", f"order {need} needs at least {need} points, got {len(pts)}")
    return CorrelatorsTask(
        points=tuple(pts),
        networks=t.int("networks", minimum=2),
        chunk=t.int("chunk", 20000, minimum=1),
        orders=orders,
    )


@dataclass(frozen=True)
class SampleTask:
    """Task ``sample``: sample a path integral and measure its observables."""

    histogram_bins: int = 40
    histogram_range: float = 2.5


def _sample_task(t: Table, model: Any) -> SampleTask:
    if not isinstance(model, PathIntegralSpec):
        raise t.error("model", f"task 'sample' needs a path_integral model, got {model.kind!r}")
    return SampleTask(
        histogram_bins=t.int("histogram_bins", 40, minimum=2),
        histogram_range=t.float("histogram_range", 2.5, positive=True),
    )


PROCESS_SPECS = (OUSpec, DeepNNQMSpec, KKLSpec)
RP_FAMILIES = ("linear", "general")


@dataclass(frozen=True)
class NNQMTask:
    """Task ``nnqm``: exact draws of a process model's paths and its quantum-mechanical checks.

    Attributes
    ----------
    powers : tuple of int
        Operators ``x^p`` of the GEVP (``(1, 2, 3)``: gaps E1, E2, E3 of the oscillator).
    t0 : int
        GEVP reference time in grid steps.
    max_lag : int or None
        Largest correlator separation in grid steps (default steps // 2).
    max_rel_error : float
        Signal-to-noise cut of the plateau window.
    rp_family : str
        Test functions of reflection positivity: ``linear`` or ``general``.
    rp_times : int
        Positive times in the reflection-positivity Gram matrix.
    threshold : float
        σ demanded by the verdicts (default 5).
    """

    powers: tuple[int, ...] = (1, 2, 3)
    t0: int = 1
    max_lag: int | None = None
    max_rel_error: float = 0.1
    rp_family: str = "general"
    rp_times: int = 6
    threshold: float = 5.0


def _nnqm_task(t: Table, model: Any) -> NNQMTask:
    if not isinstance(model, PROCESS_SPECS):
        raise t.error("model", f"task 'nnqm' needs an ou, deep_nnqm or kkl model, got {model.kind!r}")
    sampler = t.data.get("sampler", {})
    method = sampler.get("method", "nuts") if isinstance(sampler, dict) else None
    if method != "exact":
        raise t.error("sampler.method", f"task 'nnqm' draws paths exactly: set method = 'exact', got {method!r}")
    raw = t.raw("powers", [1, 2, 3])
    if not isinstance(raw, list) or not raw or any(isinstance(p, bool) or not isinstance(p, int) for p in raw):
        raise t.error("powers", f"expected a non-empty list of integers, got {raw!r}")
    if any(p < 1 for p in raw) or len(set(raw)) != len(raw):
        raise t.error("powers", f"powers must be distinct integers >= 1, got {raw!r}")
    max_lag = t.int("max_lag", None, minimum=3)
    if max_lag is not None and max_lag > model.steps // 2:
        raise t.error("max_lag", f"must be <= steps // 2 = {model.steps // 2}, got {max_lag}")
    t0 = t.int("t0", 1, minimum=0)
    if t0 > (max_lag or model.steps // 2) - 3:
        raise t.error("t0", f"leaves fewer than 3 separations after t0 (max_lag {max_lag or model.steps // 2})")
    return NNQMTask(
        powers=tuple(raw),
        t0=t0,
        max_lag=max_lag,
        max_rel_error=t.float("max_rel_error", 0.1, positive=True, maximum=1.0),
        rp_family=t.str("rp_family", "general", choices=RP_FAMILIES),
        rp_times=t.int("rp_times", 6, minimum=1),
        threshold=t.float("threshold", 5.0, minimum=1.0),
    )


FIT_KINDS = ("spectral", "coupling", "network")
PRIOR_DISTS = ("lognormal", "normal")
FIT_CRITERIA = ("loo",)

#: (architecture, observable) -> the hyperparameters a ``network`` fit may infer (closed forms in
#: :func:`nnqm_ppl.fitting.network_correlator`).
NETWORK_FIT_PARAMETERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("cosnet", "G2"): ("sigma_a", "sigma_b"),
    ("cosnet", "G4c"): ("width", "sigma_a", "sigma_b"),
    ("cauchy", "G2"): ("sigma_a", "mass"),
    ("free_scalar", "G2"): ("sigma_a", "mass"),
}


@dataclass(frozen=True)
class Prior:
    """A prior: ``lognormal`` (``loc`` is the median, ``scale`` the sd of the log) or ``normal``."""

    dist: str
    loc: float
    scale: float


@dataclass(frozen=True)
class FitTask:
    """Task ``fit``: a Bayesian fit of a correlator (see :mod:`nnqm_ppl.fitting`).

    Attributes
    ----------
    data : str
        Absolute path of the data (CSV, NPZ, netCDF or an ``nnqm run`` directory).
    kind : str
        ``spectral`` (Σ_n A_n cosh-like terms), ``coupling`` (potential coefficients through the
        transfer matrix) or ``network`` (neural-field hyperparameters from closed forms).
    where : str
        The file or option that named the data (for error messages).
    states : tuple of int
        Spectral: the candidate numbers of states K; the information criterion picks one.
    criterion : str
        ``loo``: PSIS-LOO expected log predictive density (ArviZ) of the whitened data.
    tau_min, tau_max : float or None
        Fit range in τ.
    observable : str
        Network: ``G2`` or ``G4c``.
    parameters : tuple of str
        Coupling: coefficients ``c<k>`` of x^k; network: hyperparameter names.
    priors : dict
        Name -> :class:`Prior` (spectral: ``energy``, ``gap``, ``amplitude``).
    box_scale : float
        Coupling: widening of the quadrature box beyond the prior range's semiclassical box.
    """

    data: str
    kind: str
    where: str
    states: tuple[int, ...] = (1,)
    criterion: str = "loo"
    tau_min: float | None = None
    tau_max: float | None = None
    observable: str = "G2"
    parameters: tuple[str, ...] = ()
    priors: dict[str, Prior] = field(default_factory=dict)
    box_scale: float = 1.5


def _prior(t: Table, default: Prior) -> Prior:
    d = t.str("dist", default.dist, choices=PRIOR_DISTS)
    loc = t.float("loc", default.loc)
    scale = t.float("scale", default.scale, positive=True)
    if d == "lognormal" and loc <= 0:
        raise t.error("loc", f"the median of a lognormal prior must be > 0, got {loc}")
    t.finish()
    return Prior(d, loc, scale)


def _fit_parameters(f: Table, kind: str, model: Any) -> tuple[tuple[str, ...], dict[str, Prior]]:
    """Names of the inferred parameters and their default priors."""
    if kind == "spectral":
        return (), {"energy": Prior("lognormal", 1.0, 1.0), "gap": Prior("lognormal", 1.0, 1.0),
                    "amplitude": Prior("lognormal", 0.5, 2.0)}
    if kind == "coupling":
        names = f.strs("parameters", ["c4"])
        if not names:
            raise f.error("parameters", "name at least one coefficient")
        for name in names:
            if not (name[:1] == "c" and name[1:].isdigit() and 0 < int(name[1:]) <= 8):
                raise f.error("parameters", f"{name!r} is not a coefficient c1 .. c8 of the potential")
        pot = list(model.potential)
        defaults = {}
        for name in names:
            k = int(name[1:])
            value = pot[k] if k < len(pot) else 0.0
            defaults[name] = Prior("lognormal", value, 1.0) if value > 0 else Prior("normal", value, 1.0)
        return tuple(names), defaults
    observable = f.str("observable", "G2", choices=("G2", "G4c"))
    allowed = NETWORK_FIT_PARAMETERS.get((model.architecture, observable))
    if allowed is None:
        choices = ", ".join(f"{a} {o}" for a, o in NETWORK_FIT_PARAMETERS)
        raise f.error("observable", f"no closed form for {model.architecture} {observable}; choose from {choices}")
    names = f.strs("parameters", list(allowed[:1] if observable == "G4c" else allowed), choices=allowed)
    if not names:
        raise f.error("parameters", "name at least one hyperparameter")
    if model.architecture == "free_scalar" and model.dim != 1:
        raise SpecError(f.origin("model.dim"), "model.dim", "free_scalar fits use the d = 1 closed form")
    if model.a_prior != "gaussian":
        raise SpecError(f.origin("model.a_prior"), "model.a_prior", "network fits assume Gaussian output weights")
    values = {"sigma_a": model.sigma_a, "sigma_b": model.sigma_b, "mass": model.mass, "width": float(model.width)}
    return tuple(names), {n: Prior("lognormal", values[n], 1.0) for n in names}


def _fit_task(t: Table, model: Any) -> FitTask:
    from pathlib import Path as _Path

    where = t.origin("data")
    data_raw = t.str("data")
    base = _Path.cwd() if where.startswith("--set") else _Path(t.origin("")).resolve().parent
    data = (base / data_raw).resolve()
    if not data.exists():
        raise t.error("data", f"data {data_raw!r} not found (looked in {data})")
    f = t.table("fit")
    kind = f.str("kind", choices=FIT_KINDS)
    need, need_kind = (NeuralFieldSpec, "neural_field") if kind == "network" else (PathIntegralSpec, "path_integral")
    if not isinstance(model, need):
        raise t.error("model", f"a {kind} fit needs a {need_kind} model, got {model.kind!r}")
    if kind == "coupling" and model.boundary != "periodic":
        raise SpecError(t.origin("model.boundary"), "model.boundary", "coupling fits need a periodic lattice")
    states: tuple[int, ...] = ()
    criterion = "loo"
    if kind == "spectral":
        raw = f.raw("states", [1, 2])
        raw = raw if isinstance(raw, list) else [raw]
        if not raw or any(isinstance(k, bool) or not isinstance(k, int) for k in raw):
            raise f.error("states", f"expected a list of integers K >= 1, got {raw!r}")
        if min(raw) < 1:
            raise f.error("states", f"K (the number of states) must be >= 1, got {min(raw)}")
        states = tuple(sorted(set(raw)))
        criterion = f.str("criterion", "loo", choices=FIT_CRITERIA)
    names, defaults = _fit_parameters(f, kind, model)
    pt = f.table("priors")
    priors = {n: _prior(pt.table(n), d) if pt.has(n) else d for n, d in defaults.items()}
    pt.finish()
    if kind == "coupling":
        lead = max(int(n[1:]) for n in names)
        degree = max(k for k, c in enumerate(model.potential) if c != 0)
        if lead >= degree and priors[f"c{lead}"].dist != "lognormal":
            raise f.error(f"priors.c{lead}", "the leading coefficient needs a lognormal (positive) prior")
    tau_min = f.float("tau_min", None, nonneg=True)
    tau_max = f.float("tau_max", None, positive=True)
    if tau_min is not None and tau_max is not None and tau_min >= tau_max:
        raise f.error("tau_max", f"must be > tau_min = {tau_min}, got {tau_max}")
    spec = FitTask(
        data=str(data),
        kind=kind,
        where=where,
        states=states,
        criterion=criterion,
        tau_min=tau_min,
        tau_max=tau_max,
        observable=f.raw("observable", "G2") if kind == "network" else "G2",
        parameters=names,
        priors=priors,
        box_scale=f.float("box_scale", 1.5, minimum=1.0) if kind == "coupling" else 1.5,
    )
    f.finish()
    return spec


#: task name -> the observables a job of that task may name (the first tuple is the default).
TASK_OBSERVABLES: dict[str, tuple[str, ...]] = {
    "correlators": ("G2", "G4c", "G6c"),
    "sample": (
        "x2",
        "x4",
        "E0",
        "gap",
        "correlator",
        "effective_mass",
        "uncertainty",
        "commutator",
        "psi0",
        "psi0_squared",
    ),
    "nnqm": (
        "gaps",
        "reflection_positivity",
        "stationarity",
        "clustering",
        "uncertainty",
        "commutator",
        "correlator",
    ),
    "fit": ("posterior", "prediction"),
}

#: task name -> validator of the task's own top-level fields.
TASK_FIELDS: dict[str, Callable[[Table, Any], Any]] = {
    "correlators": _correlators_task,
    "sample": _sample_task,
    "nnqm": _nnqm_task,
    "fit": _fit_task,
}


@dataclass(frozen=True)
class Job:
    """A validated job: what to run, on which model, how to sample and what to trust."""

    file: str
    title: str
    task: str
    model: Any
    task_spec: Any
    sampler: SamplerSpec
    gates: GatesSpec
    observables: tuple[str, ...]
    model_file: str | None = None


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def _override_map(overrides: Iterable[str]) -> tuple[list[tuple[list[str], Any, str]], dict[str, str]]:
    parsed = []
    names: dict[str, str] = {}
    for item in overrides:
        keys, value = parse_override(item)
        parsed.append((keys, value, item))
        names[".".join(keys)] = item
    return parsed, names


def load_file(path: str | Path, overrides: Iterable[str] = ()) -> Job | Any:
    """Load a job file, or a model file (anything whose top level has ``kind``).

    Returns a :class:`Job` for a job and a model spec for a model file.
    """
    path = Path(path)
    raw = read_toml(path)
    if "kind" in raw and "task" not in raw:
        return load_model(path, overrides)
    return load_job(path, overrides)


def load_model(path: str | Path, overrides: Iterable[str] = ()) -> Any:
    """Load and validate a model file; overrides are given as ``model.FIELD=VALUE`` or ``FIELD=VALUE``."""
    path = Path(path)
    raw = read_toml(path)
    parsed, _ = _override_map(overrides)
    names: dict[str, str] = {}
    for keys, value, item in parsed:
        if keys[0] == "model":
            keys = keys[1:]
        if not keys:
            raise SpecError(f"--set {item}", "model", "cannot replace the whole model")
        _apply_override(raw, keys, value, item)
        names["model." + ".".join(keys)] = item
    origin = _Origin(str(path), str(path), names)
    return _model(Table(raw, origin, "model"))


def load_job(path: str | Path, overrides: Iterable[str] = ()) -> Job:
    """Load and validate a job file with its model and ``--set`` overrides.

    Parameters
    ----------
    path : str or Path
        The job TOML file.
    overrides : iterable of str
        ``KEY=VALUE`` items; model fields under ``model.``.

    Returns
    -------
    Job
        The validated job.

    Raises
    ------
    SpecError
        Naming the file (or option), the field and the reason.
    """
    path = Path(path)
    raw = read_toml(path)
    parsed, names = _override_map(overrides)
    model_file: str | None = None
    model_raw = raw.get("model")
    if isinstance(model_raw, str):
        mpath = (path.parent / model_raw).resolve()
        if not mpath.is_file():
            raise SpecError(str(path), "model", f"model file {model_raw!r} not found (looked in {mpath})")
        model_file = str(mpath)
        raw["model"] = read_toml(mpath)
    elif model_raw is not None and not isinstance(model_raw, dict):
        raise SpecError(str(path), "model", "expected a path to a model file or an inline [model] table")
    for keys, value, item in parsed:
        _apply_override(raw, keys, value, item)
    origin = _Origin(str(path), model_file, names)
    top = Table(raw, origin)
    title = top.str("title", path.stem)
    task = top.str("task", choices=tuple(TASK_FIELDS))
    if "model" not in raw:
        raise top.error("model", "required field is missing")
    model = _model(top.table("model"))
    task_spec = TASK_FIELDS[task](top, model)
    sampler = _sampler(top.table("sampler"))
    gates = _gates(top.table("gates"))
    obs_t = top.table("observables")
    known = TASK_OBSERVABLES[task]
    observables = obs_t.strs("names", list(known), choices=known)
    obs_t.finish()
    top.finish()
    return Job(
        file=str(path),
        title=title,
        task=task,
        model=model,
        task_spec=task_spec,
        sampler=sampler,
        gates=gates,
        observables=observables,
        model_file=model_file,
    )
