"""Bayesian inference from observed correlators: data, NumPyro models, posteriors, calibration.

Data are a Euclidean correlator G(τ_i) with a covariance (:class:`CorrelatorData`), read from a
CSV file (``tau,value,error``), an NPZ or netCDF file (``tau``, ``mean``, ``cov``) or the
directory of an earlier ``nnqm run`` of a path integral (its per-draw correlator gives the mean and
the covariance of the mean: Γ-method standard errors, correlations from blocked draws with
Schäfer–Strimmer shrinkage). Every model
whitens the data with the Cholesky factor L of the covariance, y_w = L⁻¹ G, so the likelihood is a
product of unit normals N(y_w,i | (L⁻¹ G_model)_i, 1): exactly the correlated Gaussian likelihood,
and pointwise terms for PSIS-LOO.

Three forward models (each a :class:`FitProblem`):

- **spectral**: G(τ) = Σ_{n=1..K} A_n (e^{−E_n τ} + e^{−E_n (β−τ)}), E_1 log-normal, the gaps
  E_{n+1} − E_n log-normal (so the energies are ordered), A_n log-normal (positive).
- **coupling**: coefficients c_k of V(x) = Σ c_k x^k through the lattice transfer matrix in JAX,
  G(ka) = Tr(x T^k x T^{N−k}) / Tr T^N (:func:`lattice_correlator`), differentiable for NUTS;
  it describes Monte Carlo data at the same a exactly.
- **network**: hyperparameters of neural-field ensembles from their closed forms
  (:func:`network_correlator`): Cos-net σ_a, σ_b and the width N (from G4c ∝ 1/N); mass and σ_a
  of the Cauchy net and of the d = 1 free scalar.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import xarray as xr
from jax.scipy.linalg import solve_triangular

from nnqm_ppl.diagnostics import gamma_method
from nnqm_ppl.exact.diagonalize import semiclassical_box
from nnqm_ppl.observables.estimate import mean_estimate
from nnqm_ppl.physics import Potential
from nnqm_ppl.spec import FitTask, NeuralFieldSpec, PathIntegralSpec, Prior, SpecError

__all__ = [
    "lbfgs",
    "CorrelatorData",
    "FitProblem",
    "validate_data",
    "load_data",
    "from_draws",
    "shrunk_covariance",
    "lattice_correlator",
    "coupling_grid",
    "network_correlator",
    "fit_problem",
    "posterior_summary",
    "flat_parameters",
    "posterior_modes",
    "mode_finder",
    "calibrate",
]

#: States the quadrature grid of a coupling fit must resolve (the test suite checks the grid's
#: correlator against the default transfer matrix to 1e-6 relative).
_FIT_STATES = 4

#: Power iterations for the scale of the transfer matrix (:func:`lattice_correlator`).
_POWER_STEPS = 20

#: Relative tolerance of the symmetry and positive-definiteness checks of a covariance.
_PSD_RTOL = 1e-10


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorrelatorData:
    """A measured correlator G(τ_i) with the covariance of its mean.

    Attributes
    ----------
    tau : ndarray (n,)
        Euclidean times (network data: separations |x − y|, or s of the G4c configuration).
    mean : ndarray (n,)
        G(τ_i).
    cov : ndarray (n, n)
        Covariance of ``mean`` (positive definite).
    source : str
        The file or run directory it came from.
    beta : float or None
        Euclidean extent, where the source knows it.
    info : dict
        How the covariance was made (draws, block size, shrinkage λ) for data from a run.
    """

    tau: np.ndarray
    mean: np.ndarray
    cov: np.ndarray
    source: str
    beta: float | None = None
    info: dict | None = None

    def select(self, tau_min: float | None, tau_max: float | None) -> CorrelatorData:
        """The points with tau_min ≤ τ ≤ tau_max (bounds ``None``: no cut)."""
        keep = np.ones(self.tau.shape, bool)
        if tau_min is not None:
            keep &= self.tau >= tau_min - 1e-12
        if tau_max is not None:
            keep &= self.tau <= tau_max + 1e-12
        return replace(self, tau=self.tau[keep], mean=self.mean[keep], cov=self.cov[np.ix_(keep, keep)])

    def to_dict(self) -> dict:
        """JSON-ready: τ, G, its standard errors, source and β."""
        return {
            "source": self.source,
            "beta": self.beta,
            "tau": self.tau.tolist(),
            "value": self.mean.tolist(),
            "error": np.sqrt(np.diag(self.cov)).tolist(),
        } | ({"covariance": self.info} if self.info else {})


def validate_data(
    tau: Any,
    mean: Any,
    cov: Any,
    *,
    source: str,
    beta: float | None = None,
    n_params: int = 0,
    fields: tuple[str, str, str] = ("tau", "mean", "cov"),
) -> CorrelatorData:
    """Check correlator data and wrap them; every problem is a :class:`SpecError` naming the field.

    Refused: arrays of the wrong shape, NaN or infinite values, τ < 0 or τ > β, repeated τ, a
    covariance that is not symmetric, has a variance ≤ 0 or is not positive definite (smallest
    eigenvalue of the correlation matrix ≤ 1e-10: a non-PSD or singular covariance admits no
    Gaussian likelihood), and fewer points than ``n_params``.

    Parameters
    ----------
    tau, mean, cov : array_like
        Shapes (n,), (n,), (n, n).
    source : str
        File (or directory) named in errors.
    beta : float, optional
        Upper bound of τ.
    n_params : int
        Number of parameters the fit will infer.
    fields : (str, str, str)
        Names of the three fields in the source (CSV: ``tau, value, error``).

    Returns
    -------
    CorrelatorData
    """
    f_tau, f_mean, f_cov = fields
    tau = np.asarray(tau, dtype=float)
    mean = np.asarray(mean, dtype=float)
    cov = np.asarray(cov, dtype=float)
    if tau.ndim != 1 or tau.size == 0:
        raise SpecError(source, f_tau, f"expected a non-empty 1-D array, got shape {tau.shape}")
    if mean.shape != tau.shape:
        raise SpecError(source, f_mean, f"has shape {mean.shape}, but {f_tau} has {tau.shape}")
    if cov.shape != (tau.size, tau.size):
        raise SpecError(source, f_cov, f"expected shape {(tau.size, tau.size)}, got {cov.shape}")
    for name, arr in ((f_tau, tau), (f_mean, mean), (f_cov, cov)):
        if not np.all(np.isfinite(arr)):
            raise SpecError(source, name, f"contains {int(np.sum(~np.isfinite(arr)))} NaN or infinite values")
    if np.any(tau < 0):
        raise SpecError(source, f_tau, f"τ must be >= 0, got {tau.min():.6g}")
    if beta is not None and np.any(tau > beta * (1 + 1e-12)):
        raise SpecError(source, f_tau, f"τ must be <= β = {beta:.6g}, got {tau.max():.6g}")
    if len(np.unique(tau)) != tau.size:
        raise SpecError(source, f_tau, "contains repeated τ values")
    scale = float(np.max(np.abs(cov))) or 1.0
    if np.max(np.abs(cov - cov.T)) > _PSD_RTOL * scale:
        raise SpecError(source, f_cov, "covariance is not symmetric")
    var = np.diag(cov)
    if np.any(var <= 0):
        raise SpecError(source, f_cov, f"variances must be > 0 (index {int(np.argmin(var))} has {var.min():.3g})")
    lam = np.linalg.eigvalsh(cov / np.sqrt(np.outer(var, var)))
    if lam[0] <= _PSD_RTOL:
        what = "not positive semidefinite" if lam[0] < -_PSD_RTOL else "singular"
        raise SpecError(source, f_cov, f"covariance is {what}: smallest correlation-matrix eigenvalue {lam[0]:.3g}")
    if tau.size < n_params:
        raise SpecError(source, f_tau, f"{tau.size} data points, but the fit has {n_params} parameters")
    order = np.argsort(tau)
    return CorrelatorData(tau[order], mean[order], cov[np.ix_(order, order)], source, beta)


def shrunk_covariance(blocks: np.ndarray) -> tuple[np.ndarray, float]:
    """Sample covariance of rows with Schäfer–Strimmer shrinkage of the correlations.

    R* = λ I + (1 − λ) R with λ = Σ_{i≠j} Var̂(r_ij) / Σ_{i≠j} r_ij² clipped to [0, 1]
    (Schäfer & Strimmer, Stat. Appl. Genet. Mol. Biol. 4 (2005) 32, target D); the variances are
    kept. λ → 0 when rows are plentiful, → 1 when they are too few to resolve correlations.

    Parameters
    ----------
    blocks : ndarray (B, n)
        B ≥ 2 observations of n quantities.

    Returns
    -------
    (cov, lam) : (ndarray (n, n), float)
    """
    b = blocks.shape[0]
    dev = blocks - blocks.mean(axis=0)
    sd = np.sqrt(np.sum(dev**2, axis=0) / (b - 1))
    z = dev / np.where(sd > 0, sd, 1.0)
    w = z[:, :, None] * z[:, None, :]
    r = w.sum(axis=0) / (b - 1)
    var_r = b / (b - 1) ** 3 * np.sum((w - w.mean(axis=0)) ** 2, axis=0)
    off = ~np.eye(blocks.shape[1], dtype=bool)
    denom = np.sum(r[off] ** 2)
    lam = float(np.clip(np.sum(var_r[off]) / denom, 0.0, 1.0)) if denom > 0 else 1.0
    corr = lam * np.eye(len(sd)) + (1 - lam) * r
    return corr * np.outer(sd, sd), lam


def from_draws(series: np.ndarray, tau: np.ndarray, *, source: str, beta: float | None) -> CorrelatorData:
    """Mean and covariance of the mean of a per-draw correlator from (possibly correlated) draws.

    The covariance is D R D. The standard errors D_jj = sqrt(Γ_j(0) · 2 τ_int,j / N) are Wolff's
    Γ-method errors of each G(τ_j) (τ_int,j with automatic windowing, N draws over all chains).
    The correlation matrix R is that of block means: each chain is cut into blocks of
    b = ⌈2 max_j τ_int,j⌉ draws, and their correlations get Schäfer–Strimmer shrinkage
    (:func:`shrunk_covariance`). Block variances alone are not used for D: blocks of ~2 τ_int
    draws are still correlated with their neighbours: for a correlator of NUTS paths
    (2 τ_int ≈ 2.25, blocks of 3) the variance of the mean came out 1.37x too small.

    Parameters
    ----------
    series : ndarray (chain, draw, n)
        Per-draw correlator.
    tau : ndarray (n,)
        Its Euclidean times.
    source, beta
        As in :class:`CorrelatorData`.

    Returns
    -------
    CorrelatorData
    """
    s = np.asarray(series, dtype=float)
    taus = [gamma_method(s[..., j]).tau_int for j in range(s.shape[-1])]
    tau_int = max(taus)
    size = max(1, math.ceil(2 * tau_int))
    n_blk = s.shape[1] // size
    if s.shape[0] * n_blk < 2:
        raise SpecError(source, "posterior.x", f"too few draws ({s.shape[1]}) for blocks of {size} draws")
    blocks = s[:, : n_blk * size].reshape(s.shape[0], n_blk, size, -1).mean(axis=2).reshape(-1, s.shape[-1])
    corr, lam = shrunk_covariance(blocks)
    sd_blk = np.sqrt(np.diag(corr))
    corr = corr / np.outer(sd_blk, sd_blk)
    n = s.shape[0] * s.shape[1]
    flat = s.reshape(n, -1)
    sd = np.sqrt(np.var(flat, axis=0) * 2 * np.asarray(taus) / n)
    info = {"draws": n, "tau_int_max": tau_int, "block": size, "blocks": int(blocks.shape[0]), "shrinkage": lam}
    data = validate_data(tau, flat.mean(axis=0), corr * np.outer(sd, sd), source=source, beta=beta)
    return replace(data, info=info)


def _load_run(path: Path, connected: bool) -> CorrelatorData:
    from nnqm_ppl.observables.lattice import correlator_series

    src = str(path)
    summary_file = path / "summary.json"
    if not summary_file.is_file():
        raise SpecError(src, "", "not a run directory (no summary.json)")
    try:
        summary = json.loads(summary_file.read_text())
        model = summary["spec"]["model"]
        beta, slices, boundary = float(model["beta"]), int(model["slices"]), model["boundary"]
    except (OSError, ValueError, KeyError, TypeError):
        raise SpecError(str(summary_file), "spec.model", "not the run of a path-integral (task 'sample') job") from None
    if boundary != "periodic":
        raise SpecError(str(summary_file), "spec.model.boundary", f"fits need a periodic run, got {boundary!r}")
    try:
        tree = xr.open_datatree(path / "samples.nc", engine="h5netcdf")
        x = np.asarray(tree["posterior"]["x"].values)
    except (OSError, KeyError, ValueError):
        raise SpecError(str(path / "samples.nc"), "posterior.x", "missing or unreadable paths") from None
    n_tau = slices // 2 + 1
    series = correlator_series(x, n_tau, boundary="periodic")
    tau = beta / slices * np.arange(n_tau)
    if not connected:
        return from_draws(series, tau, source=src, beta=beta)
    # G_c = E[c] − E[x̄]²: the delta method's per-draw series c − 2⟨x̄⟩ x̄ has the same fluctuations
    # to first order; its mean is then shifted by + ⟨x̄⟩² (exactly G_c at the sample means)
    path_mean = np.asarray(x, dtype=float).mean(axis=-1)
    m = float(path_mean.mean())
    data = from_draws(series - 2 * m * path_mean[..., None], tau, source=src, beta=beta)
    return replace(data, mean=data.mean + m**2, info=data.info | {"connected": True, "x_mean": m})


def load_data(path: str | Path, *, beta: float | None = None, connected: bool = False) -> CorrelatorData:
    """Read and check correlator data from a file or a run directory.

    Parameters
    ----------
    path : str or Path
        ``*.csv`` with a header ``tau,value,error`` (uncorrelated errors); ``*.npz`` or ``*.nc``
        with ``tau``, ``mean``, ``cov`` (and optionally ``beta``); or a directory written by
        ``nnqm run`` of a periodic path integral.
    beta : float, optional
        β the data must lie within (the model's); a β stored in the data must agree with it.
    connected : bool
        For a run directory: the connected correlator ⟨x_0 x_τ⟩ − ⟨x⟩² (what a spectral sum over
        the states n ≥ 1 describes), its covariance by the delta method; else the full
        ⟨x_0 x_τ⟩ (what the transfer matrix of a coupling fit gives). Files are read as they are.

    Returns
    -------
    CorrelatorData

    Raises
    ------
    SpecError
        Naming the file, the field and what is wrong.
    """
    path = Path(path)
    src = str(path)
    if path.is_dir():
        loaded = _load_run(path, connected)
    elif not path.is_file():
        raise SpecError(src, "", "data file not found")
    elif path.suffix == ".csv":
        try:
            table = np.genfromtxt(path, delimiter=",", names=True, dtype=float, ndmin=1)
        except ValueError as exc:
            raise SpecError(src, "", f"malformed CSV ({exc})") from None
        cols = table.dtype.names or ()
        for col in ("tau", "value", "error"):
            if col not in cols:
                raise SpecError(src, col, f"missing column (the header must be tau,value,error; got {','.join(cols)})")
        err = np.asarray(table["error"], dtype=float)
        if np.any(err <= 0):
            raise SpecError(src, "error", "errors must be > 0")
        return validate_data(table["tau"], table["value"], np.diag(err**2), source=src, beta=beta,
                             fields=("tau", "value", "error"))
    elif path.suffix in (".npz", ".nc"):
        arrays = _read_arrays(path)
        for name in ("tau", "mean", "cov"):
            if name not in arrays:
                raise SpecError(src, name, "missing array (need tau, mean, cov)")
        stored = arrays.get("beta")
        if stored is not None and beta is not None and not math.isclose(float(stored), beta, rel_tol=1e-9):
            raise SpecError(src, "beta", f"data have β = {float(stored):.6g} but the model has β = {beta:.6g}")
        b = beta if beta is not None else (None if stored is None else float(stored))
        return validate_data(arrays["tau"], arrays["mean"], arrays["cov"], source=src, beta=b)
    else:
        raise SpecError(src, "", "unknown data format: use .csv, .npz, .nc or a run directory")
    if beta is not None and loaded.beta is not None and not math.isclose(loaded.beta, beta, rel_tol=1e-9):
        raise SpecError(src, "spec.model.beta", f"the run has β = {loaded.beta:.6g} but the model has β = {beta:.6g}")
    return loaded


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        if path.suffix == ".npz":
            with np.load(path) as f:
                return {k: np.asarray(f[k]) for k in f.files}
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            out = {k: np.asarray(v.values) for k, v in ds.variables.items()}
            if "beta" in ds.attrs:
                out["beta"] = np.asarray(ds.attrs["beta"])
            return out
    except (OSError, ValueError) as exc:
        raise SpecError(str(path), "", f"cannot read ({exc.__class__.__name__}: {exc})") from None


# --------------------------------------------------------------------------------------------
# Forward models
# --------------------------------------------------------------------------------------------


def coupling_grid(lattice: Any, potentials: list[Potential], box_scale: float = 1.5) -> np.ndarray:
    """A fixed quadrature grid good for every potential of a prior's range.

    The box is the union of :func:`~nnqm_ppl.exact.diagonalize.semiclassical_box` (for the
    lowest four states, which is what a correlator at β resolves) over ``potentials`` widened by
    ``box_scale``; the spacing is that of
    :func:`~nnqm_ppl.exact.transfer.transfer_matrix`, min(σ/1.2, πħ/(3 p_max)), σ = sqrt(ħa/m),
    with the largest p_max.
    """
    boxes = [semiclassical_box(v, lattice.mass, lattice.hbar, n_states=_FIT_STATES, beta=lattice.beta)
             for v in potentials]
    lo = min(b[0] for b in boxes) * box_scale
    hi = max(b[1] for b in boxes) * box_scale
    p_max = max(b[2] for b in boxes)
    spacing = min(math.sqrt(lattice.hbar * lattice.a / lattice.mass) / 1.2, math.pi * lattice.hbar / (3 * p_max))
    return np.linspace(lo, hi, int(math.ceil((hi - lo) / spacing)) + 1)


def _perron_root(mat: jax.Array) -> jax.Array:
    """Rayleigh quotient v·Mv / v·v after :data:`_POWER_STEPS` power iterations from v = 1."""

    def step(v, _):
        w = mat @ v
        return w / jnp.linalg.norm(w), None

    v, _ = jax.lax.scan(step, jnp.ones(mat.shape[0]) / math.sqrt(mat.shape[0]), None, length=_POWER_STEPS)
    return v @ (mat @ v)


def lattice_correlator(coeffs: jax.Array, grid: np.ndarray, lattice: Any, ks: np.ndarray) -> jax.Array:
    """Exact lattice correlator ⟨x_0 x_k⟩ of a periodic chain, differentiable in the couplings.

    G(k) = Tr(X M^k X M^{N−k}) / Tr M^N with M_ij = h T(x_i, x_j) the quadrature transfer
    matrix of :mod:`nnqm_ppl.exact.transfer` (same kernel, trapezoid rule on ``grid``) and
    X = diag(x_i). Powers are accumulated by ``lax.scan`` (no eigenvectors, whose derivatives
    are ill-conditioned for the many near-zero eigenvalues). M is divided by a constant c, the
    Rayleigh quotient of its Perron vector after :data:`_POWER_STEPS` power iterations (close
    to the largest eigenvalue, so M^N neither overflows nor underflows), under
    ``stop_gradient``: any constant cancels in the ratio and its gradient. (``eigvalsh`` for c
    cost ~20x the rest of a gradient evaluation.)

    Parameters
    ----------
    coeffs : array (K,)
        c_k of V(x) = Σ c_k x^k.
    grid : ndarray (n,)
        Uniform quadrature grid (:func:`coupling_grid`).
    lattice : Lattice
        a, N = slices, m, ħ (periodic).
    ks : ndarray of int
        Separations 0 ≤ k ≤ N.

    Returns
    -------
    jax.Array (len(ks),)
    """
    a, m, hbar, n = lattice.a, lattice.mass, lattice.hbar, lattice.slices
    x = jnp.asarray(grid)
    h = grid[1] - grid[0]
    v = jnp.polyval(jnp.asarray(coeffs)[::-1], x)
    expo = m * (x[:, None] - x[None, :]) ** 2 / (2 * a) + 0.5 * a * (v[:, None] + v[None, :])
    mat = h * math.sqrt(m / (2 * math.pi * hbar * a)) * jnp.exp(-expo / hbar)
    mat = mat / jax.lax.stop_gradient(_perron_root(mat))

    def step(p, _):
        return p @ mat, p

    _, powers = jax.lax.scan(step, jnp.eye(len(grid)), None, length=n + 1)  # M^0 .. M^N
    ks = np.asarray(ks, dtype=int)
    xx = x[:, None] * x[None, :]
    num = jnp.einsum("ij,kij,kij->k", xx, powers[ks], powers[n - ks])
    return num / jnp.trace(powers[n])


def _legendre(upper: float, nodes: int = 400, panels: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss–Legendre nodes and weights on [0, upper]."""
    t, w = np.polynomial.legendre.leggauss(nodes // panels)
    edges = np.linspace(0.0, upper, panels + 1)
    half = 0.5 * np.diff(edges)
    k = (edges[:-1, None] + half[:, None] * (t[None, :] + 1)).ravel()
    return k, (half[:, None] * w[None, :]).ravel()


def network_correlator(
    architecture: str, observable: str, params: dict[str, jax.Array], tau: np.ndarray, dim: int, cutoff: float
) -> jax.Array:
    """Closed-form G2 or G4c of a neural-field ensemble, in JAX (for NUTS).

    - Cos-net G2(r) = (σ_a²/2) exp(−σ_b² r²/2d) (Halverson S11);
    - Cos-net G4c at x1 = x2 = 0, x3 = x4 = s ê_1 (Gaussian a, m2 = σ_a², m4 = 3σ_a⁴):
      [m4 (χ(2s) + 2)/8 − m2² (1/4 + χ(s)²/2)] / N with χ(v) = exp(−σ_b² v²/2d) (Halverson eq. 8
      with H4 of eq. 23; equals :func:`nnqm_ppl.exact.analytic.cosnet_g4c` there);
    - Cauchy G2(τ) = (σ_a²/2) e^{−m|τ|} (eqs. 31-33);
    - free scalar, d = 1: G2(r) = σ_a²/(4Λ) ∫_{−Λ}^{Λ} dk cos(kr)/(k² + m²) (eq. 29), by
      composite Gauss–Legendre quadrature.

    Parameters
    ----------
    architecture : {"cosnet", "cauchy", "free_scalar"}
    observable : {"G2", "G4c"}
    params : dict
        ``sigma_a``, ``sigma_b``, ``mass``, ``width`` as the formula needs.
    tau : ndarray
        Separations r (G4c: s).
    dim : int
        Input dimension d.
    cutoff : float
        Λ of the free scalar.

    Returns
    -------
    jax.Array
    """
    r = jnp.asarray(tau)
    m2 = params["sigma_a"] ** 2
    if architecture == "cosnet":

        def chi(v):
            return jnp.exp(-params["sigma_b"] ** 2 * v**2 / (2 * dim))

        if observable == "G4c":
            return (3 * m2**2 * (chi(2 * r) + 2) / 8 - m2**2 * (0.25 + 0.5 * chi(r) ** 2)) / params["width"]
        return 0.5 * m2 * chi(r)
    if architecture == "cauchy":
        return 0.5 * m2 * jnp.exp(-params["mass"] * r)
    k, w = _legendre(cutoff)
    integrand = jnp.cos(r[:, None] * k[None, :]) / (k[None, :] ** 2 + params["mass"] ** 2)
    return m2 / (4 * cutoff) * 2 * integrand @ w


# --------------------------------------------------------------------------------------------
# Problems: a NumPyro model per fit
# --------------------------------------------------------------------------------------------


def _prior_dist(p: Prior) -> dist.Distribution:
    if p.dist == "lognormal":
        return dist.LogNormal(math.log(p.loc), p.scale)
    return dist.Normal(p.loc, p.scale)


@dataclass(frozen=True)
class FitProblem:
    """One Bayesian fit: priors, a forward model and whitened data.

    Attributes
    ----------
    kind : str
        ``spectral``, ``coupling`` or ``network``.
    names : tuple of str
        Sample sites (spectral: ``E1``, ``dE`` (K − 1 gaps), ``A`` (K amplitudes)).
    priors : dict
        Site -> distribution (vector sites: expanded).
    predict : callable
        ``predict(params) -> G(τ)`` at the data's τ.
    data : CorrelatorData
    states : int
        K of a spectral fit (0 otherwise).
    """

    kind: str
    names: tuple[str, ...]
    priors: dict[str, dist.Distribution]
    predict: Callable[[dict], jax.Array]
    data: CorrelatorData
    states: int = 0

    @property
    def chol(self) -> np.ndarray:
        """Cholesky factor L of the data covariance."""
        return np.linalg.cholesky(self.data.cov)

    @property
    def y_w(self) -> np.ndarray:
        """Whitened data L⁻¹ G."""
        return np.linalg.solve(self.chol, self.data.mean)

    @property
    def n_params(self) -> int:
        """Number of scalar parameters."""
        return sum(int(np.prod(d.batch_shape)) if d.batch_shape else 1 for d in self.priors.values())

    def model(self, y_w: jax.Array | None = None) -> None:
        """The NumPyro model: priors, forward model and the whitened likelihood ``y``.

        With ``y_w=None`` it draws data from the prior predictive (used by :func:`calibrate`).
        """
        params = {name: numpyro.sample(name, d) for name, d in self.priors.items()}
        if self.kind == "spectral":
            numpyro.deterministic("E", _energies(params))
        pred = self.predict(params)
        pred_w = solve_triangular(jnp.asarray(self.chol), pred, lower=True)
        with numpyro.plate("data", len(self.data.tau)):
            numpyro.sample("y", dist.Normal(pred_w, 1.0), obs=y_w)


def _energies(params: dict) -> jax.Array:
    e1 = jnp.atleast_1d(params["E1"])
    if "dE" not in params:
        return e1
    return jnp.concatenate([e1, e1 + jnp.cumsum(params["dE"])])


def _spectral(task: FitTask, data: CorrelatorData, beta: float, k: int) -> FitProblem:
    tau = jnp.asarray(data.tau)

    def predict(params: dict) -> jax.Array:
        e = _energies(params)
        return jnp.sum(params["A"][:, None] * (jnp.exp(-e[:, None] * tau) + jnp.exp(-e[:, None] * (beta - tau))), 0)

    pri = task.priors
    priors = {"E1": _prior_dist(pri["energy"])}
    if k > 1:
        priors["dE"] = _prior_dist(pri["gap"]).expand([k - 1])
    priors["A"] = _prior_dist(pri["amplitude"]).expand([k])
    return FitProblem("spectral", tuple(priors), priors, predict, data, states=k)


def _coupling(task: FitTask, data: CorrelatorData, model: PathIntegralSpec) -> FitProblem:
    from nnqm_ppl.physics import Lattice

    lattice = Lattice.from_spec(model)
    ks = np.rint(data.tau / lattice.a).astype(int)
    if np.max(np.abs(ks * lattice.a - data.tau)) > 1e-9 * max(lattice.a, 1.0):
        raise SpecError(data.source, "tau", f"τ must be multiples of the model's lattice spacing a = {lattice.a:.6g}")
    base = list(model.potential) + [0.0] * max(0, 1 + max(int(n[1:]) for n in task.parameters) - len(model.potential))
    idx = [int(n[1:]) for n in task.parameters]
    corners = []
    for q in (0.01, 0.99):
        c = list(base)
        for name, i in zip(task.parameters, idx, strict=True):
            p = task.priors[name]
            c[i] = p.loc * math.exp(p.scale * 2.326 * (1 if q > 0.5 else -1)) if p.dist == "lognormal" else (
                p.loc + p.scale * 2.326 * (1 if q > 0.5 else -1))
        try:
            corners.append(Potential.from_coeffs(c))
        except SpecError:
            continue
    if not corners:
        raise SpecError(task.where, "fit.priors", "no potential in the prior's range is bounded below")
    grid = coupling_grid(lattice, corners, task.box_scale)
    base_arr = jnp.asarray(base)

    def predict(params: dict) -> jax.Array:
        coeffs = base_arr.at[jnp.asarray(idx)].set(jnp.stack([params[n] for n in task.parameters]))
        return lattice_correlator(coeffs, grid, lattice, ks)

    priors = {n: _prior_dist(task.priors[n]) for n in task.parameters}
    return FitProblem("coupling", tuple(priors), priors, predict, data)


def _network(task: FitTask, data: CorrelatorData, model: NeuralFieldSpec) -> FitProblem:
    fixed = {"sigma_a": model.sigma_a, "sigma_b": model.sigma_b, "mass": model.mass, "width": float(model.width)}

    def predict(params: dict) -> jax.Array:
        return network_correlator(model.architecture, task.observable, fixed | params, data.tau, model.dim,
                                  model.cutoff)

    priors = {n: _prior_dist(task.priors[n]) for n in task.parameters}
    return FitProblem("network", tuple(priors), priors, predict, data)


def fit_problem(task: FitTask, model: Any, data: CorrelatorData, states: int = 0) -> FitProblem:
    """The :class:`FitProblem` of a validated fit task on its model and data.

    Parameters
    ----------
    task : FitTask
    model : PathIntegralSpec or NeuralFieldSpec
    data : CorrelatorData
        Already cut to the fit range.
    states : int
        K for a spectral fit.

    Returns
    -------
    FitProblem
    """
    if task.kind == "spectral":
        return _spectral(task, data, model.beta, states)
    if task.kind == "coupling":
        return _coupling(task, data, model)
    return _network(task, data, model)


# --------------------------------------------------------------------------------------------
# Posterior summaries and calibration
# --------------------------------------------------------------------------------------------


def flat_parameters(posterior: xr.Dataset | xr.DataTree, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Scalar (chain, draw) series per parameter; vector sites become NAME1, NAME2, …"""
    out = {}
    for name in names:
        v = np.asarray(getattr(posterior[name], "values", posterior[name]))
        if v.ndim == 2:
            out[name] = v
        else:
            for i in range(v.shape[2]):
                out[f"{name}{i + 1}"] = v[:, :, i]
    return out


def posterior_summary(posterior: xr.Dataset | xr.DataTree, names: tuple[str, ...]) -> dict[str, dict]:
    """Mean (with ArviZ MCSE), sd and the 90% equal-tailed interval of every scalar parameter.

    Parameters
    ----------
    posterior : xarray.Dataset or DataTree node
        Draws with dims (chain, draw, ...).
    names : tuple of str
        Variables to summarise (vectors are split into NAME1, NAME2, …).

    Returns
    -------
    dict
        Name -> ``{"mean", "mcse", "sd", "eti_5", "eti_95", "ess_bulk"}``.
    """
    out = {}
    for name, v in flat_parameters(posterior, names).items():
        est = mean_estimate(v)
        lo, hi = np.quantile(v, [0.05, 0.95])
        out[name] = {"mean": float(est.value), "mcse": float(est.mcse), "sd": float(np.std(v, ddof=1)),
                     "eti_5": float(lo), "eti_95": float(hi), "ess_bulk": float(est.ess)}
    return out


def posterior_modes(problem: FitProblem, y_w: np.ndarray, key: jax.Array, starts: int) -> list[dict]:
    """Posterior modes found by L-BFGS from random starting points, best first.

    Each start is drawn as NumPyro's default initialisation draws it (uniform in (−2, 2) in the
    unconstrained space); L-BFGS (SciPy) minimises NumPyro's potential energy −log p(θ, y) with
    JAX gradients from there. NUTS chains started at these points skip the long transient that
    a sharply peaked likelihood (data far more precise than the prior) otherwise costs: started
    at random, warm-up can end before the chain reaches the posterior, which shows up as
    divergences and undercoverage (BENCHMARKS.md, simulation-based calibration).

    Parameters
    ----------
    problem : FitProblem
    y_w : ndarray
        Whitened data.
    key : jax.Array
    starts : int
        Number of starting points (one optimisation each).

    Returns
    -------
    list of dict
        Unconstrained parameters (site -> array), one per start, ordered by potential energy.
    """
    return mode_finder(problem)(y_w, key, starts)


def lbfgs(value_and_grad: Callable[[jax.Array], tuple[jax.Array, jax.Array]], v0: np.ndarray
          ) -> tuple[float, np.ndarray]:
    """Minimise a JAX ``v -> (f(v), ∇f(v))`` with SciPy's L-BFGS-B from ``v0``.

    Returns
    -------
    (float, ndarray)
        The minimum (``inf`` when it is not finite) and where it is.
    """
    from scipy.optimize import minimize

    def fun(v: np.ndarray) -> tuple[float, np.ndarray]:
        f, g = value_and_grad(jnp.asarray(v))
        return float(f), np.asarray(g, dtype=float)

    res = minimize(fun, np.asarray(v0, dtype=float), jac=True, method="L-BFGS-B")
    return (float(res.fun) if np.isfinite(res.fun) else np.inf), res.x


def mode_finder(problem: FitProblem) -> Callable[[np.ndarray, jax.Array, int], list[dict]]:
    """:func:`posterior_modes` for one problem with its energy compiled once (for many data sets)."""
    from jax.flatten_util import ravel_pytree
    from numpyro.infer.util import initialize_model, potential_energy

    init = initialize_model(jax.random.key(0), problem.model, model_kwargs={"y_w": problem.y_w})
    flat, unravel = ravel_pytree(init.param_info.z)

    @jax.jit
    def energy(v: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
        return jax.value_and_grad(lambda u: potential_energy(problem.model, (), {"y_w": y}, unravel(u)))(v)

    def find(y_w: np.ndarray, key: jax.Array, starts: int) -> list[dict]:
        y = jnp.asarray(y_w)

        found = [lbfgs(lambda v: energy(v, y), v0)
                 for v0 in np.asarray(jax.random.uniform(key, (starts, flat.size), minval=-2.0, maxval=2.0))]
        found.sort(key=lambda t: t[0])
        return [unravel(jnp.asarray(x)) for _, x in found]

    return find


def calibrate(
    problem: FitProblem,
    key: jax.Array,
    *,
    datasets: int = 50,
    warmup: int = 300,
    samples: int = 400,
    thin: int = 4,
    target_accept: float = 0.9,
    starts: int = 4,
) -> dict[str, Any]:
    """Simulation-based calibration (Talts et al. 2018) of a fit problem.

    For each of ``datasets`` draws θ* from the prior and data from the likelihood at θ*, NUTS
    samples the posterior: one chain started at the best of ``starts`` posterior modes
    (:func:`posterior_modes`, as the ``fit`` task starts its chains), with NumPyro's NUTS kernel
    and warm-up adaptation (``numpyro.infer.hmc.hmc``, as :class:`numpyro.infer.NUTS` uses them).
    The rank of θ* among ``samples // thin`` thinned draws and whether the central 90% interval
    covers θ* are recorded for every scalar parameter.

    The whole run of one data set (initialisation, warm-up, sampling) is one jit-compiled
    function of (key, start, data), compiled once: :class:`numpyro.infer.MCMC` recompiles its
    sampling loop on every ``run`` (a new closure each time), which cost ~1 s per data set and
    left each compiled program mapped (200 data sets exhausted ``vm.max_map_count``).

    Parameters
    ----------
    problem : FitProblem
        Its data supply τ and the covariance; the data values are replaced by simulations.
    key : jax.Array
    datasets, warmup, samples, thin : int
    target_accept : float
    starts : int
        Starting points of the mode search per data set.

    Returns
    -------
    dict
        ``ranks`` (name -> int array, values 0..samples // thin), ``coverage`` (name -> fraction
        of 90% intervals covering the truth), ``draws`` (L = samples // thin), ``divergences``
        (total) and, per data set, ``truth`` (name -> θ*), ``covered`` (name -> bool) and
        ``diverging`` (divergent transitions of its run).
    """
    from numpyro.infer import Predictive
    from numpyro.infer.hmc import hmc
    from numpyro.infer.util import initialize_model

    info = initialize_model(jax.random.key(0), problem.model, model_kwargs={"y_w": problem.y_w},
                            dynamic_args=True)
    init_kernel, sample_kernel = hmc(potential_fn_gen=info.potential_fn, algo="NUTS")

    @jax.jit
    def posterior(key: jax.Array, start: dict, y_w: jax.Array) -> tuple[dict, jax.Array]:
        kwargs = {"y_w": y_w}
        state = init_kernel(start, warmup, target_accept_prob=target_accept, model_kwargs=kwargs, rng_key=key)

        def step(s, _):
            s = sample_kernel(s, model_kwargs=kwargs)
            return s, (s.z, s.diverging)

        state, _ = jax.lax.scan(step, state, None, length=warmup)
        _, (zs, diverging) = jax.lax.scan(step, state, None, length=samples)
        return jax.vmap(info.postprocess_fn(**kwargs))(zs), diverging

    k_prior, k_fit = jax.random.split(key)
    sims = Predictive(problem.model, num_samples=datasets)(k_prior)
    truth = flat_parameters({n: np.asarray(sims[n])[None] for n in problem.names}, problem.names)
    truth = {name: v[0] for name, v in truth.items()}
    ranks: dict[str, list[int]] = {n: [] for n in truth}
    covered: dict[str, list[bool]] = {n: [] for n in truth}
    diverging: list[int] = []
    modes = mode_finder(problem)
    for i, k in enumerate(jax.random.split(k_fit, datasets)):
        k_start, k_run = jax.random.split(k)
        start = modes(sims["y"][i], k_start, starts)[0]
        post, div = posterior(k_run, start, jnp.asarray(sims["y"][i]))
        diverging.append(int(np.sum(div)))
        draws = flat_parameters({n: np.asarray(post[n])[None] for n in problem.names}, problem.names)
        for name, v in draws.items():
            t = float(truth[name][i])
            v = v.ravel()
            ranks[name].append(int(np.sum(v[::thin] < t)))
            lo, hi = np.quantile(v, [0.05, 0.95])
            covered[name].append(bool(lo <= t <= hi))
    return {
        "ranks": {n: np.asarray(r) for n, r in ranks.items()},
        "coverage": {n: float(np.mean(c)) for n, c in covered.items()},
        "draws": len(range(0, samples, thin)),
        "divergences": int(sum(diverging)),
        "truth": truth,
        "covered": {n: np.asarray(c) for n, c in covered.items()},
        "diverging": np.asarray(diverging),
    }
