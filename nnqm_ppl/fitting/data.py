"""Correlator data for a fit: reading, checking, covariance of the mean.

A Euclidean correlator G(τ_i) with its covariance (:class:`CorrelatorData`) from a CSV file
(``tau,value,error``), an NPZ or netCDF file (``tau``, ``mean``, ``cov``) or the directory of an
earlier ``nnqm run`` of a path integral (Γ-method standard errors, correlations from blocked
draws with Schäfer–Strimmer shrinkage).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from nnqm_ppl.diagnostics import gamma_method
from nnqm_ppl.spec import SpecError

#: Relative tolerance of the symmetry and positive-definiteness checks of a covariance.
_PSD_RTOL = 1e-10




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

