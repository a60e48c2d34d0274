"""The one place that configures sampling: exact draws or NumPyro NUTS/HMC.

Both return an ArviZ DataTree (``posterior`` with dims ``(chain, draw, ...)``; MCMC runs also
carry ``sample_stats`` with ``diverging``, ``tree_depth``, ``reached_max_tree_depth``, ``energy``
and ``acceptance_rate`` via :func:`arviz_base.from_numpyro`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import arviz_base
import jax
import numpy as np
import xarray as xr
from numpyro.infer import HMC, MCMC, NUTS

from nnqm_ppl.spec import SamplerSpec

__all__ = ["run_mcmc", "exact_draws", "chain_method", "progress_enabled"]


def progress_enabled(requested: bool = True) -> bool:
    """Progress bars only on an interactive terminal, never in CI or when switched off."""
    return requested and sys.stderr.isatty() and not os.environ.get("CI")


def chain_method(chains: int) -> str:
    """``"parallel"`` when there is a device per chain (GPUs or XLA host devices), else ``"vectorized"``."""
    return "parallel" if chains > 1 and jax.local_device_count() >= chains else "vectorized"


def run_mcmc(
    model: Callable[..., Any],
    sampler: SamplerSpec,
    key: jax.Array,
    *,
    model_kwargs: dict[str, Any] | None = None,
    progress: bool = True,
    dims: dict[str, list[str]] | None = None,
) -> xr.DataTree:
    """Sample ``model`` with NUTS or HMC through :class:`numpyro.infer.MCMC`.

    Parameters
    ----------
    model : callable
        A NumPyro model (sample sites plus ``numpyro.factor`` for e^{-S}).
    sampler : SamplerSpec
        ``method`` ("nuts" or "hmc"), chains, warmup, samples, target_accept, max_tree_depth,
        and for HMC ``step_size`` / ``num_steps`` (trajectory length = step_size · num_steps).
    key : jax.Array
        PRNG key; the same key gives the same draws.
    model_kwargs : dict, optional
        Keyword arguments for the model.
    progress : bool
        Show NumPyro's progress bar (only on an interactive terminal).
    dims : dict, optional
        Dimension names of sites (e.g. ``{"x": ["site"]}``). Given explicitly because
        arviz-base 1.3's dimension inference fails on lazily imported NumPyro.

    Returns
    -------
    xarray.DataTree
        ``posterior`` and ``sample_stats`` groups from :func:`arviz_base.from_numpyro`.
    """
    if sampler.method == "nuts":
        kernel = NUTS(model, target_accept_prob=sampler.target_accept, max_tree_depth=sampler.max_tree_depth)
    elif sampler.method == "hmc":
        kernel = HMC(
            model,
            step_size=sampler.step_size,
            trajectory_length=sampler.step_size * sampler.num_steps,
            target_accept_prob=sampler.target_accept,
        )
    else:
        raise ValueError(f"run_mcmc needs method 'nuts' or 'hmc', got {sampler.method!r}")
    mcmc = MCMC(
        kernel,
        num_warmup=sampler.warmup,
        num_samples=sampler.samples,
        num_chains=sampler.chains,
        chain_method=chain_method(sampler.chains),
        progress_bar=progress_enabled(progress),
    )
    mcmc.run(key, extra_fields=("energy", "accept_prob", "diverging", "num_steps"), **(model_kwargs or {}))
    return arviz_base.from_numpyro(mcmc, dims=dims or {}, pred_dims={})


def exact_draws(
    draw: Callable[[jax.Array, int], dict[str, jax.Array]],
    sampler: SamplerSpec,
    key: jax.Array,
) -> xr.DataTree:
    """Independent exact draws arranged as ``(chain, draw, ...)``.

    Parameters
    ----------
    draw : callable
        ``draw(key, n)`` returns a dict of arrays with leading axis ``n``.
    sampler : SamplerSpec
        Only ``chains`` and ``samples`` are used.
    key : jax.Array
        PRNG key.

    Returns
    -------
    xarray.DataTree
        A ``posterior`` group of i.i.d. draws (R-hat ≈ 1 and ESS ≈ chains × samples by construction).
    """
    n = sampler.chains * sampler.samples
    values = draw(key, n)
    posterior = {k: np.asarray(v).reshape(sampler.chains, sampler.samples, *np.shape(v)[1:]) for k, v in values.items()}
    return arviz_base.from_dict({"posterior": posterior})
